/**
 * A small Markdown reader for building Q&A from documentation: sections by heading, prose paragraphs (code
 * blocks, tables and lists kept apart), pipe tables as rows, and "first sentences" of a paragraph. It handles
 * the Markdown that API reference pages use; it is not a full CommonMark parser.
 */

/** One section: the text under a heading, up to the next heading of any level. */
export interface MdSection {
  /** Heading level (1 for `#`); 0 for text before the first heading. */
  level: number;
  title: string;
  /** Prose paragraphs, each joined into one line, inline Markdown simplified (links → their text). */
  paragraphs: string[];
  /** Bodies of fenced code blocks. */
  code: string[];
  /** Pipe tables, each as rows of cells (header row first, the `---` row dropped). */
  tables: string[][][];
  /** List items (one line each). */
  items: string[];
}

/** Inline Markdown → plain text: links and images to their text, HTML entities for `|` decoded, escapes removed. */
export function inlineText(s: string): string {
  return s
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, "$1")
    .replace(/&#124;/g, "|")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\\(['"|*_\\])/g, "$1")
    .replace(/<\/?[a-z][^>]*>/gi, "")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * Split a Markdown document into sections.
 * @example
 * parseMarkdown("# A\n\nHello there.\n\n## B\n\n```js\nx()\n```").map((s) => s.title); // ["A", "B"]
 */
export function parseMarkdown(md: string): MdSection[] {
  const lines = md
    .replace(/\r\n?/g, "\n")
    .replace(/<!--[\s\S]*?-->/g, "")
    .split("\n");
  const sections: MdSection[] = [];
  let cur: MdSection = { level: 0, title: "", paragraphs: [], code: [], tables: [], items: [] };
  let para: string[] = [];
  let table: string[][] | undefined;
  const flush = () => {
    if (para.length) cur.paragraphs.push(inlineText(para.join(" ")));
    para = [];
    if (table) cur.tables.push(table);
    table = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence[1]); i++) body.push(lines[i]);
      cur.code.push(body.join("\n"));
      continue;
    }
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      flush();
      if (cur.level > 0 || cur.paragraphs.length || cur.code.length || cur.tables.length || cur.items.length)
        sections.push(cur);
      cur = { level: h[1].length, title: inlineText(h[2]), paragraphs: [], code: [], tables: [], items: [] };
      continue;
    }
    if (line.includes("|") && /^\s*\|?[^|]*\|/.test(line) && (table || /^\s*\|?\s*:?-{2,}/.test(lines[i + 1] ?? ""))) {
      if (!table) {
        if (para.length) cur.paragraphs.push(inlineText(para.join(" ")));
        para = [];
        table = [];
      }
      if (/^\s*\|?\s*:?-{2,}/.test(line)) continue;
      const cells = line
        .trim()
        .replace(/^\|/, "")
        .replace(/\|$/, "")
        .split(/(?<!\\)\|/)
        .map(inlineText);
      table.push(cells);
      continue;
    }
    const item = /^\s*(?:[-*+]|\d+\.)\s+(.*)$/.exec(line);
    if (item) {
      flush();
      cur.items.push(inlineText(item[1]));
      continue;
    }
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (table) flush();
    para.push(line.trim());
  }
  flush();
  sections.push(cur);
  return sections;
}

/**
 * The first sentences of a text, at most `maxSentences` and (when more than one) at most `maxChars`
 * characters. A sentence ends at `.`, `!` or `?` followed by a space and a capital, backtick or digit
 * (so "e.g. x" and "1.5" do not end one).
 * @example
 * firstSentences("It adds. It also subtracts. And more.", 2); // "It adds. It also subtracts."
 */
export function firstSentences(text: string, maxSentences = 3, maxChars = 320): string {
  const parts = text.split(/(?<=[.!?])\s+(?=[A-Z`0-9"(])/);
  let out = "";
  for (const p of parts.slice(0, maxSentences)) {
    const next = out ? `${out} ${p}` : p;
    if (out && next.length > maxChars) break;
    out = next;
  }
  return out.trim();
}
