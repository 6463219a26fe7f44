/**
 * Cleaning for the pretraining corpus: one function per kind of markup the sources ship (HTML, reStructuredText,
 * Markdown, roff, the GCIDE dictionary's own format), and one whitespace normaliser that every source ends with.
 * Each function is plain string work (no parser dependency) and keeps the prose and the code examples: the model
 * should learn both, since the course's docs Q&A task asks about code.
 */

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  mdash: "—",
  ndash: "–",
  hellip: "…",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  copy: "©",
  reg: "®",
  trade: "™",
  times: "×",
  minus: "−",
  laquo: "«",
  raquo: "»",
  middot: "·",
  bull: "•",
  rarr: "→",
  larr: "←",
  para: "¶",
  sect: "§",
  deg: "°",
};

/** `&amp;`, `&#39;`, `&#x2014;` → characters; unknown named entities are left as they are. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e[0] === "#") {
      const cp = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e] ?? m;
  });
}

/**
 * Trims each line's end, turns tabs and non-breaking spaces into spaces, drops control characters, and leaves at
 * most one blank line between paragraphs. Leading indentation is kept (it carries code structure).
 */
export function normalizeWhitespace(s: string): string {
  return (
    s
      .normalize("NFC")
      .replace(/\r\n?/g, "\n")
      .replace(/[\u00a0\u2007\u202f]/g, " ")
      .replace(/\t/g, "    ")
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\ufeff]/g, "")
      .split("\n")
      .map((l) => l.replace(/\s+$/, ""))
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim()
  );
}

/** HTML → text: scripts, styles, navigation and comments dropped; block elements become line breaks. */
export function htmlToText(html: string): string {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(script|style|head|nav)\b[\s\S]*?<\/\1>/gi, "")
    .replace(/<ul class="docnav[\s\S]*?<\/ul>/gi, "") // DocBook's Prev/Home/Next bar
    .replace(/<div class="nav(header|footer)"[\s\S]*?<\/table>/gi, "") // the PostgreSQL manual's Prev/Up/Home/Next tables
    .replace(/<div id="banner"[\s\S]*?<\/div>/gi, "");
  // <pre> lines are marked so that their indentation survives the trimming of the page's source indentation.
  s = s.replace(
    /<pre\b[^>]*>([\s\S]*?)<\/pre>/gi,
    (_, body: string) =>
      `\n\n${body
        .replace(/<[^>]+>/g, "")
        .split("\n")
        .map((l) => PRE + l)
        .join("\n")}\n\n`,
  );
  s = s
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/?(p|div|h[1-6]|li|ul|ol|dl|dt|dd|tr|table|section|article|blockquote|title)\b[^>]*>/gi, "\n\n")
    .replace(/<\/?(td|th)\b[^>]*>/gi, " ")
    .replace(/<[^>]+>/g, "");
  s = s
    .split("\n")
    .map((l) => (l.startsWith(PRE) ? l.slice(1) : l.trim().replace(/\s{2,}/g, " ")))
    .join("\n");
  return normalizeWhitespace(decodeEntities(s));
}

const PRE = "\u0001";

/**
 * reStructuredText (Sphinx sources) → text: heading underlines, comments, directive lines and their `:option:`
 * lines dropped; roles (`:func:\`len\``) and inline literals (` ``x`` `) reduced to their text; the body of code
 * directives is kept, indented, as written.
 */
const KEEP_DIRECTIVE_TITLE =
  /^(function|method|classmethod|staticmethod|class|data|attribute|exception|module|decorator|describe|opcode|envvar|option|cmdoption|c:\w+|py:\w+)$/;

export function rstToText(rst: string): string {
  const out: string[] = [];
  const lines = rst.replace(/\r\n?/g, "\n").split("\n");
  let inComment = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (inComment) {
      if (line.trim() === "" || /^\s/.test(line)) continue;
      inComment = false;
    }
    if (/^([=\-~^"'`#*+_.:])\1{2,}\s*$/.test(line)) continue; // heading over/underline
    const directive = line.match(/^\s*\.\.\s+([\w:-]+)::\s*(.*)$/);
    if (directive) {
      // an API description keeps its signature as a line; any other directive goes
      if (KEEP_DIRECTIVE_TITLE.test(directive[1]) && directive[2].trim()) out.push(directive[2].trim());
      continue;
    }
    if (/^\s*\.\.(\s|$)/.test(line)) {
      inComment = true;
      continue;
    } // a comment or a link target
    if (/^\s+:[\w-]+:(\s|$)/.test(line) && i > 0 && /::|^\s+:[\w-]+:/.test(lines[i - 1])) continue; // directive options
    out.push(line);
  }
  const s = out
    .join("\n")
    .replace(/:[\w:.+-]+:`~?!?([^`<]*?)\s*(?:<[^>`]*>)?`/g, "$1") // :role:`text <target>` → text
    .replace(/``([^`]+)``/g, "$1")
    .replace(/`([^`<]+?)\s*<[^>]+>`_{1,2}/g, "$1") // `text <url>`_
    .replace(/`([^`]+)`_{1,2}/g, "$1")
    .replace(/\|([\w -]+)\|/g, "$1")
    .replace(/(\S)::$/gm, "$1:")
    .replace(/^::$/gm, "");
  return normalizeWhitespace(s);
}

/**
 * Markdown (Node.js API docs) → text: HTML comments (which hold the docs' YAML metadata), reference-link
 * definitions and heading hashes dropped; links reduced to their text; code kept.
 */
export function markdownToText(md: string): string {
  const s = md
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/^\s*\[[^\]]+\]:\s*\S+.*$/gm, "")
    .replace(/^#{1,6}\s+/gm, "")
    .replace(/^```\w*\s*$/gm, "")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, "$1")
    .replace(/<\/?[a-zA-Z][^>]*>/g, "")
    .replace(/`([^`\n]+)`/g, "$1")
    .replace(/\*\*([^*\n]+)\*\*/g, "$1")
    .replace(/^\s*>\s?(Stability:.*)$/gm, "$1");
  return normalizeWhitespace(decodeEntities(s));
}

/** roff (man pages) → text: requests dropped, section headings and font macros reduced to their words. */
export function roffToText(roff: string): string {
  const out: string[] = [];
  for (const raw of roff.replace(/\r\n?/g, "\n").split("\n")) {
    let line = raw;
    if (/^\.\\"/.test(line) || /^'\\"/.test(line)) continue; // comment
    const m = line.match(/^\.\s*([A-Za-z]{1,3})\b\s*(.*)$/);
    if (m) {
      const [, req, rest] = m;
      if (/^(SH|SS)$/.test(req)) {
        out.push("", unquote(rest), "");
        continue;
      }
      if (/^(B|I|BI|BR|IB|IR|RB|RI|SM|SB)$/.test(req)) {
        line = unquote(rest).replace(/" "/g, " ");
      } else if (
        /^(PP|LP|P|TP|IP|HP|sp|br|RS|RE|in|ti|nf|fi|ad|na|ne|TH|UE|ME|EE|EX|PD|hy|nh|ft|ps|ll|ta|TQ|ce|UR|MT|SY|YS|OP)$/.test(
          req,
        )
      ) {
        if (/^(PP|LP|P|TP|sp|br)$/.test(req)) out.push("");
        if (req === "IP" && rest.trim()) out.push(unquote(rest).split(/\s+/)[0]);
        continue;
      } else continue; // any other request
    }
    line = line
      .replace(/\\f(\[[^\]]*\]|\(..|.)/g, "")
      .replace(/\\\*?\((em|en)/g, "—")
      .replace(/\\\*\(lq|\\\(lq/g, "“")
      .replace(/\\\*\(rq|\\\(rq/g, "”")
      .replace(/\\\(aq/g, "'")
      .replace(/\\\(dq/g, '"')
      .replace(/\\\(bu/g, "•")
      .replace(/\\\(co/g, "©")
      .replace(/\\\[[^\]]*\]/g, "")
      .replace(/\\\(../g, "")
      .replace(/\\[-e]/g, (x) => (x === "\\-" ? "-" : "\\"))
      .replace(/\\[&|^~0 ]/g, (x) => (x === "\\~" || x === "\\0" || x === "\\ " ? " " : ""))
      .replace(/\\s[-+]?\d/g, "")
      .replace(/\\c$/g, "");
    out.push(line);
  }
  return normalizeWhitespace(out.join("\n"));
}

function unquote(s: string): string {
  return s
    .replace(/^"|"$/g, "")
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, "")
    .trim();
}

/**
 * One GCIDE entry (the dictd text of Webster's 1913 + later additions) → text: the `[1913 Webster]`-style
 * source tags, the pronunciation between backslashes and the `[=a]`-style character codes dropped, `{cross
 * references}` unbraced, and each definition's wrapped lines joined.
 */
export function gcideEntryToText(entry: string): string {
  const s = entry
    .replace(
      /^\s*\[(1913 Webster|PJC|WordNet[^\]]*|Century Dict\.|Webster 1913 Suppl\.|Chambers 1881|RN|Webster[^\]]*)\]\s*$/gm,
      "",
    )
    .replace(/\s*\[(1913 Webster|PJC)\]/g, "")
    .replace(/\s*\\[^\\\n]{1,80}\\/g, "") // \Af*fat"u*ate\ pronunciation
    .replace(/\[=?[a-zA-Z]{1,3}\]|\[\^[a-z]\]|\[\?\]/g, "") // [=a] [=e] ... character codes
    .replace(/\{([^{}]*)\}/g, "$1")
    .replace(/\?(?=[a-z])/g, "");
  // Join wrapped lines: a line that starts with more indentation than a definition number continues the previous one.
  const paras = normalizeWhitespace(s)
    .split(/\n\s*\n/)
    .map((p) =>
      p
        .split("\n")
        .map((l) => l.trim())
        .join(" "),
    );
  return normalizeWhitespace(
    paras
      .filter((p) => p.trim())
      .join("\n\n")
      .replace(/ {2,}/g, " "),
  );
}
