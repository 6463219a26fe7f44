/**
 * Just enough of RFC 5322 / MIME to turn a raw e-mail (as in the SpamAssassin corpus) into readable text:
 * headers (unfolded, RFC 2047 encoded words decoded), the best text part of a multipart body (text/plain
 * before text/html), base64 and quoted-printable bodies decoded with their charset, HTML reduced to text.
 * It is a cleaner for building datasets, not a mail client: anything it cannot decode is kept as it is.
 */

/** A parsed e-mail. */
export interface ParsedEmail {
  /** Headers in order, names as written, values unfolded and decoded. */
  headers: { name: string; value: string }[];
  /** The readable body: the best text part, decoded, HTML stripped, whitespace collapsed. */
  body: string;
  /** Content type of the part `body` came from (e.g. "text/plain"); "" when none was found. */
  bodyType: string;
}

/** The first header with this name (case-insensitive), or undefined. */
export function header(email: ParsedEmail, name: string): string | undefined {
  const n = name.toLowerCase();
  return email.headers.find((h) => h.name.toLowerCase() === n)?.value;
}

function splitHeadBody(raw: string): [string, string] {
  const m = /\n[ \t]*\n/.exec(raw);
  return m ? [raw.slice(0, m.index), raw.slice(m.index + m[0].length)] : [raw, ""];
}

function parseHeaders(block: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const line of block.split("\n")) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1].value += " " + line.trim();
    else {
      const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line); // RFC 5322 field name: printable ASCII without ':'
      if (m) out.push({ name: m[1], value: m[2].trim() });
    }
  }
  for (const h of out) h.value = decodeEncodedWords(h.value).replace(/\s+/g, " ").trim();
  return out;
}

/** Bytes → string in a charset, falling back to windows-1252 (a superset of latin-1) for unknown labels. */
function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  for (const label of [charset, "utf-8"]) {
    if (!label) continue;
    try {
      return new TextDecoder(label.trim().toLowerCase(), { fatal: label !== charset }).decode(bytes);
    } catch {
      /* unknown label or invalid for utf-8: try the next */
    }
  }
  return new TextDecoder("windows-1252").decode(bytes);
}

function decodeQuotedPrintable(s: string): Uint8Array {
  const text = s.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = text.charCodeAt(i);
      if (code < 256) bytes.push(code);
      else bytes.push(...Buffer.from(c, "utf8"));
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * Decode RFC 2047 encoded words (`=?charset?Q?...?=`, `=?charset?B?...?=`); undecodable ones stay as written.
 * @example
 * decodeEncodedWords("=?iso-8859-1?Q?Caf=E9?= au lait"); // "Café au lait"
 */
export function decodeEncodedWords(s: string): string {
  return s
    .replace(/(\?=)\s+(=\?)/g, "$1$2") // whitespace between adjacent encoded words is not displayed
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (all, charset: string, enc: string, data: string) => {
      try {
        const bytes =
          enc.toUpperCase() === "B"
            ? Uint8Array.from(Buffer.from(data, "base64"))
            : decodeQuotedPrintable(data.replace(/_/g, " "));
        return decodeBytes(bytes, charset.split("*")[0]);
      } catch {
        return all;
      }
    });
}

interface ContentType {
  type: string;
  params: Record<string, string>;
}

function parseContentType(v: string | undefined): ContentType {
  if (!v) return { type: "text/plain", params: {} };
  const [type, ...rest] = v.split(";");
  const params: Record<string, string> = {};
  for (const p of rest) {
    const m = /^\s*([^=\s]+)\s*=\s*"?([^"]*)"?\s*$/.exec(p);
    if (m) params[m[1].toLowerCase()] = m[2];
  }
  return { type: type.trim().toLowerCase(), params };
}

const ENTITIES: Record<string, string> = {
  nbsp: " ",
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  copy: "©",
  reg: "®",
  euro: "€",
  pound: "£",
  mdash: "—",
  ndash: "–",
  hellip: "…",
  rsquo: "’",
  lsquo: "‘",
  rdquo: "”",
  ldquo: "“",
};

/**
 * HTML → plain text: drop head, style, script and comments; line breaks for block tags; entities decoded.
 * @example
 * htmlToText("<p>Hello&nbsp;<b>world</b></p>"); // "Hello world"
 */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<(br|p|div|tr|li|h[1-6]|table)\b[^>]*>/gi, "\n")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
      if (e[0] === "#") {
        const code = e[1].toLowerCase() === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : " ";
      }
      return ENTITIES[e.toLowerCase()] ?? all;
    })
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/\s*\n\s*/g, "\n")
    .trim();
}

function decodeBody(body: string, headers: { name: string; value: string }[], ct: ContentType): string {
  const enc = (headers.find((h) => h.name.toLowerCase() === "content-transfer-encoding")?.value ?? "")
    .toLowerCase()
    .trim();
  let bytes: Uint8Array;
  if (enc === "base64") bytes = Uint8Array.from(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64"));
  else if (enc === "quoted-printable") bytes = decodeQuotedPrintable(body);
  else return body; // 7bit / 8bit / binary: the corpus text is already a string
  return decodeBytes(bytes, ct.params.charset);
}

/** Find the best text part: depth-first, text/plain wins over text/html. */
function bestPart(
  head: { name: string; value: string }[],
  body: string,
  depth = 0,
): { text: string; type: string } | undefined {
  const ct = parseContentType(head.find((h) => h.name.toLowerCase() === "content-type")?.value);
  if (ct.type.startsWith("multipart/") && ct.params.boundary && depth < 8) {
    const b = "--" + ct.params.boundary;
    const parts = body
      .split(b)
      .slice(1)
      .filter((p) => !p.startsWith("--"));
    const found = parts
      .map((p) => {
        const [h, bd] = splitHeadBody(p.replace(/^[ \t]*\n/, ""));
        return bestPart(parseHeaders(h), bd, depth + 1);
      })
      .filter((x): x is { text: string; type: string } => !!x && x.text.trim() !== "");
    return found.find((f) => f.type === "text/plain") ?? found[0];
  }
  if (ct.type === "text/plain" || ct.type === "text/html" || ct.type === "text" || ct.type === "") {
    const decoded = decodeBody(body, head, ct);
    return {
      text: ct.type === "text/html" || /^\s*<(!doctype|html)/i.test(decoded) ? htmlToText(decoded) : decoded,
      type: ct.type === "text/html" ? "text/html" : "text/plain",
    };
  }
  return undefined;
}

/**
 * Parse a raw e-mail (an mbox "From " first line is skipped).
 * @example
 * const e = parseEmail("Subject: Hi\nContent-Type: text/plain\n\nSee you  at\n noon.");
 * header(e, "subject"); // "Hi"
 * e.body;               // "See you at noon."
 */
export function parseEmail(raw: string): ParsedEmail {
  const text = raw.replace(/\r\n?/g, "\n").replace(/^From [^\n]*\n/, "");
  const [head, body] = splitHeadBody(text);
  const headers = parseHeaders(head);
  const part = bestPart(headers, body);
  const clean = (part?.text ?? "").replace(/\s+/g, " ").trim();
  return { headers, body: clean, bodyType: part?.type ?? "" };
}

/**
 * Cut text to at most `maxChars` characters at a word boundary (no ellipsis added).
 * @example
 * truncateWords("one two three", 9); // "one two"
 */
export function truncateWords(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars + 1);
  const i = cut.lastIndexOf(" ");
  return (i > maxChars * 0.5 ? cut.slice(0, i) : text.slice(0, maxChars)).trim();
}
