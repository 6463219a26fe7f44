/**
 * Escaping for the HTML that display bundles carry: text into HTML, and JSON or JavaScript into an
 * inline `<script>` (where `</script>` or `<!--` inside a string would end or break the element).
 */

/**
 * Escape text for HTML element content and attribute values.
 *
 * @example
 * escapeHtml('<script>alert("x")</script>'); // "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
 */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * JSON that is safe inside an inline `<script>`: `<`, `>`, `&` and the JS line separators are
 * written as `\u` escapes (still valid JSON and JavaScript, same value).
 *
 * @example
 * scriptJson({ s: "</script>" }); // '{"s":"\\u003c/script\\u003e"}'
 */
export function scriptJson(value: unknown): string {
  const json = JSON.stringify(value ?? null);
  return json
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * JavaScript source made safe to inline in `<script>`: `</script` becomes `<\/script` and `<!--`
 * becomes `\x3C!--`, which JavaScript strings, templates and regular expressions read the same.
 *
 * @example
 * scriptSource('var s = "</script>";'); // 'var s = "<\\/script>";'
 */
export function scriptSource(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "\\x3C!--");
}
