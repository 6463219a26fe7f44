/**
 * A small syntax highlighter for the TypeScript in notebook code cells: comments, strings (including
 * template literals), numbers, keywords and literals become `<span class="tok-…">`; everything else is
 * escaped text. It is a single left-to-right scan with one regular expression, so it never executes
 * or parses the code and always returns the whole input, escaped, in order (colours may be off on rare
 * constructs such as regular-expression literals; the text never is).
 */
import { escapeHtml } from "../../display/escape";

/** The token classes written into the HTML (`tok-kw`, `tok-str`, ...); the site's CSS colours them. */
export type TokenKind = "com" | "str" | "num" | "kw" | "lit" | "type" | "fn";

/** TypeScript / JavaScript keywords. */
export const TS_KEYWORDS: ReadonlySet<string> = new Set(
  (
    "abstract as async await break case catch class const continue debugger declare default delete do else enum " +
    "export extends finally for from function get if implements import in infer instanceof interface is keyof let " +
    "namespace new of private protected public readonly return satisfies set static super switch this throw try " +
    "type typeof var void while with yield"
  ).split(" "),
);

/** Literal-like words. */
export const TS_LITERALS: ReadonlySet<string> = new Set(["true", "false", "null", "undefined", "NaN", "Infinity"]);

// One alternative per token kind, tried at each position; the first that matches wins.
const TOKEN = new RegExp(
  [
    String.raw`(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))`, // 1 comment (an unterminated block comment runs to the end)
    String.raw`("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|\x60(?:[^\x60\\]|\\[\s\S])*\x60?)`, // 2 string / template
    String.raw`(\b(?:0[xX][\da-fA-F_]+|0[bB][01_]+|\d[\d_]*(?:\.[\d_]+)?(?:[eE][+-]?\d+)?)n?\b|\B\.\d[\d_]*(?:[eE][+-]?\d+)?\b)`, // 3 number
    String.raw`([A-Za-z_$][\w$]*)`, // 4 identifier or keyword
  ].join("|"),
  "g",
);

function span(kind: TokenKind, text: string): string {
  return `<span class="tok-${kind}">${escapeHtml(text)}</span>`;
}

/**
 * Highlight TypeScript source as HTML (escaped; put it inside `<pre><code>`).
 *
 * @example
 * highlightTs('const n = 3; // three');
 * // '<span class="tok-kw">const</span> n = <span class="tok-num">3</span>; <span class="tok-com">// three</span>'
 */
export function highlightTs(code: string): string {
  let out = "";
  let last = 0;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(code); m !== null; m = TOKEN.exec(code)) {
    if (m[0] === "") {
      TOKEN.lastIndex++;
      continue;
    }
    out += escapeHtml(code.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[1] !== undefined) out += span("com", m[1]);
    else if (m[2] !== undefined) out += span("str", m[2]);
    else if (m[3] !== undefined) out += span("num", m[3]);
    else {
      const word = m[4];
      const call = /^\s*\(/.test(code.slice(last, last + 64));
      const prevChar = code[m.index - 1];
      if (prevChar === "." || prevChar === "#") out += call ? span("fn", word) : escapeHtml(word);
      else if (TS_KEYWORDS.has(word)) out += span("kw", word);
      else if (TS_LITERALS.has(word)) out += span("lit", word);
      else if (/^[A-Z]/.test(word) && /[a-z]/.test(word)) out += span("type", word);
      else if (call) out += span("fn", word);
      else out += escapeHtml(word);
    }
  }
  return out + escapeHtml(code.slice(last));
}
