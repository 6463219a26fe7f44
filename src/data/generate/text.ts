/**
 * Small text helpers for turning documents into generation material: markdown → sections (by heading, code
 * and markup removed), sentence splitting, and a stable string hash for per-item seeds (so an item's
 * expansion does not depend on which other items are in the run).
 */
import type { Section } from "./types";

/** FNV-1a 32-bit hash of a string (stable across runs and platforms). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Split prose into sentences: after `.`, `!` or `?` followed by white space and an upper-case letter, a digit,
 * a quote or a bracket. Abbreviations such as "e.g." and "i.e." do not end a sentence.
 *
 * @example
 * splitSentences("Install it first. Then run `npm test`, e.g. in CI. Done!"); // ["Install it first.", "Then run `npm test`, e.g. in CI.", "Done!"]
 */
export function splitSentences(text: string): string[] {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return [];
  const out: string[] = [];
  let start = 0;
  const re = /[.!?]["')\]]?\s+(?=["'([`*]?[A-Z0-9])/g;
  for (let m = re.exec(flat); m; m = re.exec(flat)) {
    const before = flat.slice(Math.max(0, m.index - 5), m.index + 1).toLowerCase();
    if (/\b(e\.g|i\.e|etc|vs|cf|approx)\.$/.test(before)) continue;
    out.push(flat.slice(start, m.index + m[0].trimEnd().length).trim());
    start = m.index + m[0].length;
  }
  const rest = flat.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}

/** Markdown inline markup → plain text: links keep their text, images and HTML tags go, emphasis and code ticks go. */
export function stripInlineMarkdown(s: string): string {
  return s
    .replace(/!\[[^\]]*\]\([^)]*\)/g, "")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(
      /&(amp|lt|gt|quot|#39|nbsp|mu);/g,
      (_m, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " ", mu: "\u03bc" })[e] ?? "",
    )
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/`([^`]+)`/g, "$1")
    .replace(/(\*\*|__)(.+?)\1/g, "$2")
    .replace(/(^|\W)[*_]([^*_\n]+)[*_](?=\W|$)/g, "$1$2")
    .replace(/[ \t]+/g, " ")
    .trim();
}

export interface MarkdownSectionOptions {
  /** Sections with less prose than this (characters) are skipped. */
  minChars?: number;
  /** Keep list items (as lines starting with "- "). */
  keepLists?: boolean;
}

export const DEFAULT_MARKDOWN_SECTIONS: Required<MarkdownSectionOptions> = {
  minChars: 80, // shorter sections rarely hold a full fact
  keepLists: true, // lists are what "which ... are there" questions read
};

/**
 * Cut a markdown document into sections at its headings (`#` … `######`), with fenced code blocks, tables,
 * link definitions and markup removed. Ids are `<sourceId>#<n>-<slug>`.
 *
 * @example
 * const sections = sectionsFromMarkdown(fs.readFileSync("README.md", "utf8"), "tfjs/README");
 */
export function sectionsFromMarkdown(
  markdown: string,
  sourceId: string,
  options: MarkdownSectionOptions = {},
): Section[] {
  const o = { ...DEFAULT_MARKDOWN_SECTIONS, ...options };
  if (typeof markdown !== "string")
    throw new TypeError(`sectionsFromMarkdown(${sourceId}): expected markdown text, got ${typeof markdown}`);
  const lines = markdown
    .replace(/\r\n?/g, "\n")
    .replace(/<!--[\s\S]*?-->/g, "")
    .split("\n");
  const sections: Section[] = [];
  let title = "";
  let body: string[] = [];
  let inFence = false;
  let inItem = false;
  let inTable = false;
  const flush = () => {
    // Prose lines of a paragraph are joined with spaces; list items stay one per line ("- item").
    const out: string[] = [];
    let prose: string[] = [];
    const endProse = () => {
      if (prose.length) out.push(prose.join(" "));
      prose = [];
    };
    for (const l of body) {
      const t = l.trim();
      if (!t) endProse();
      else if (t.startsWith("- ")) endProse(), out.push(t);
      else prose.push(t);
    }
    endProse();
    const text = out.join("\n");
    if (text.replace(/^- /gm, "").length >= o.minChars) {
      const slug =
        title
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, "-")
          .replace(/^-|-$/g, "")
          .slice(0, 40) || "intro";
      sections.push({ id: `${sourceId}#${sections.length}-${slug}`, title, text });
    }
    body = [];
  };
  for (const raw of lines) {
    if (/^\s*(```|~~~)/.test(raw)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (h) {
      flush();
      inItem = false;
      title = stripInlineMarkdown(h[1]);
      continue;
    }
    // tables, with or without outer pipes: the separator row drops the header row before it and starts a table
    if (/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$/.test(raw)) {
      if (body.length && body[body.length - 1].includes("|")) body.pop();
      inTable = true;
      continue;
    }
    if (inTable && raw.includes("|")) continue;
    inTable = false;
    if (/^\s*\|/.test(raw)) continue;
    if (/^\s*\[[^\]]+\]:\s/.test(raw) || /^\s*(-{3,}|={3,}|\*{3,})\s*$/.test(raw)) continue;
    const item = /^\s*(?:[-*+]|\d+[.)])\s+(.*)$/.exec(raw);
    if (item) {
      inItem = o.keepLists;
      if (o.keepLists) body.push(`- ${stripInlineMarkdown(item[1])}`);
      continue;
    }
    if (inItem && /^\s+\S/.test(raw)) {
      body[body.length - 1] += ` ${stripInlineMarkdown(raw)}`; // a wrapped list item continues
      continue;
    }
    inItem = false;
    body.push(stripInlineMarkdown(raw.replace(/^\s*>\s?/, "")));
  }
  flush();
  return sections;
}
