/**
 * Numbers in a notebook's prose must be true where the learner runs it. A seeded run on another CPU gives
 * other results (kernels differ in the last bits), so prose that hard-codes a result goes stale silently.
 * The rule this checker enforces on an executed notebook:
 *
 * - a run-dependent number is rendered from the result by code (`show(markdown(...))`): it is an output,
 *   not static markdown, and is true by construction;
 * - every percentage, decimal or "N of M" count in static markdown is a *claim*, and each claim needs a
 *   reason to be true: it occurs in the notebook's outputs ("output"), it is a setting the code sets
 *   ("setting": the literal appears in a code cell, or a percentage's fraction does), its block (text
 *   between blank lines) is labelled as recorded elsewhere ("recorded": the word and an ISO date, with where
 *   and on what), quotes a published source ("cited": the block links to it over http(s)), or is marked as
 *   an illustration with `<!-- example numbers -->` ("example").
 * An output supports a claim when it holds the same number to the claim's precision: prose may round
 * ("18 %" for 18.4 %) but not disagree ("18.8 %" for 10.9 %, "8 %" for 18 %).
 *
 * A claim with none of these is reported; `tunebook notebooks run` fails a notebook that has one.
 */
import type { NotebookJson } from "./strip";

export type ClaimKind = "percent" | "decimal" | "count";
export type ClaimSupport = "output" | "setting" | "recorded" | "cited" | "example";

export interface Claim {
  /** 1-based cell number (as Jupyter numbers cells). */
  cell: number;
  kind: ClaimKind;
  /** The claim as written ("18.8 %", "0.26", "0 of 6"). */
  text: string;
  /** The numbers it states (a range gives two). */
  values: string[];
  /** The paragraph it sits in, trimmed to one line for messages. */
  context: string;
  /** Why it is true, or null when nothing supports it. */
  support: ClaimSupport | null;
}

/** The marker for a paragraph whose numbers are illustrations, not results. */
export const EXAMPLE_MARKER = "<!-- example numbers -->";

const joinSource = (s: string | string[]): string => (Array.isArray(s) ? s.join("") : s);

/** Prose without fenced code, inline code, link targets, HTML tags (the example marker stays visible to paragraphs). */
function proseOnly(md: string): string {
  return md
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/`[^`\n]*`/g, " ")
    .replace(/\]\([^)]*\)/g, "]")
    .replace(/https?:\/\/\S+/g, " ");
}

/** Paragraphs: blocks separated by blank lines; list items and table rows count as their own paragraphs. */
function paragraphs(md: string): string[] {
  const out: string[] = [];
  for (const block of md.split(/\n\s*\n/)) {
    const lines = block.split("\n");
    let cur: string[] = [];
    for (const l of lines) {
      if (/^\s*([-*+]|\d+\.)\s|^\s*\|/.test(l) && cur.length) out.push(cur.join("\n")), (cur = []);
      cur.push(l);
    }
    if (cur.length) out.push(cur.join("\n"));
  }
  return out;
}

const NUM = String.raw`\d+(?:[.,]\d+)?`;
// a number not glued to letters, digits or a version's further dots (0.3.21, v1.2, 5.3M are not claims here)
const PERCENT = new RegExp(String.raw`(?<![\w.])(${NUM})(?:\s*[–-]\s*(${NUM}))?\s?%`, "g");
const DECIMAL = /(?<![\w.-])(\d+\.\d+)(?![\w%]|\s?%|\.\d)/g;
const COUNT = /(?<![\w.])(\d+)\s+(?:[a-z-]+\s+){0,2}(?:of|out of)\s+(\d+)(?![\w]|\.\d)/g;

const RECORDED = /\brecorded\b[\s\S]*\b\d{4}-\d{2}-\d{2}\b|\b\d{4}-\d{2}-\d{2}\b[\s\S]*\brecorded\b/i;

/** Claims in one markdown source (cell numbers filled in by the caller). */
export function findClaims(markdownSource: string): Omit<Claim, "cell" | "support">[] {
  const out: Omit<Claim, "cell" | "support">[] = [];
  for (const para of paragraphs(markdownSource)) {
    const prose = proseOnly(para);
    const context = para.replace(/\s+/g, " ").trim().slice(0, 160);
    const taken: [number, number][] = [];
    const overlaps = (a: number, b: number) => taken.some(([x, y]) => a < y && b > x);
    for (const m of prose.matchAll(PERCENT)) {
      taken.push([m.index!, m.index! + m[0].length]);
      out.push({ kind: "percent", text: m[0], values: [m[1], m[2]].filter((v): v is string => !!v), context });
    }
    for (const m of prose.matchAll(COUNT)) {
      if (overlaps(m.index!, m.index! + m[0].length)) continue;
      taken.push([m.index!, m.index! + m[0].length]);
      out.push({ kind: "count", text: m[0], values: [m[1], m[2]], context });
    }
    for (const m of prose.matchAll(DECIMAL)) {
      if (overlaps(m.index!, m.index! + m[0].length)) continue;
      out.push({ kind: "decimal", text: m[0], values: [m[1]], context });
    }
  }
  return out;
}

/** Everything the code cells printed or displayed for a reader, as one text (HTML tags dropped). */
export function outputsText(nb: NotebookJson): string {
  const parts: string[] = [];
  for (const c of nb.cells) {
    if (c.cell_type !== "code") continue;
    for (const o of (c.outputs ?? []) as { text?: string | string[]; data?: Record<string, unknown> }[]) {
      if (o.text !== undefined) parts.push(joinSource(o.text));
      for (const mime of ["text/plain", "text/markdown", "text/html"]) {
        const v = o.data?.[mime];
        if (typeof v !== "string" && !Array.isArray(v)) continue;
        const text = joinSource(v as string | string[]);
        // scripts (plotly.js itself, a chart's data) are full of numbers no reader sees: they support nothing
        if (mime === "text/html" && /<script/i.test(text)) continue;
        parts.push(text.replace(/<[^>]*>/g, " "));
      }
    }
  }
  return parts.join("\n").replace(/&nbsp;|&#160;/g, " ");
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const standalone = (v: string, after = "") => new RegExp(String.raw`(?<![\w.])${escapeRe(v)}${after}(?![\w]|\.\d)`);

/** Numbers in a text (percentages only, when asked), as written. */
function numbersIn(text: string, percentOnly: boolean): string[] {
  const re = percentOnly ? /(?<![\w.])(\d+(?:\.\d+)?)\s?%/g : /(?<![\w.])(\d+(?:\.\d+)?)(?![\w]|\.\d)/g;
  return [...text.matchAll(re)].map((m) => m[1]);
}

/** `written` (e.g. "18.4") shown to `claimed`'s precision equals `claimed` ("18"), and is at least as precise. */
function sameToPrecision(claimed: string, written: string): boolean {
  const d = (claimed.split(".")[1] ?? "").length;
  if ((written.split(".")[1] ?? "").length < d) return false;
  return Number(written).toFixed(d) === Number(claimed).toFixed(d);
}

function inOutputs(
  c: Omit<Claim, "cell" | "support">,
  out: string,
  nums: { percent: string[]; any: string[] },
): boolean {
  if (c.kind === "percent")
    return c.values.every((v) => nums.percent.some((w) => sameToPrecision(v.replace(",", "."), w)));
  if (c.kind === "count") {
    const [n, m] = c.values;
    return new RegExp(
      String.raw`(?<![\w.])${n}\s+(?:[a-z-]+\s+){0,3}(?:of|out of|/)\s*${m}(?![\w.])|(?<![\w.])${n}\s*/\s*${m}(?![\w.])`,
      "i",
    ).test(out);
  }
  return nums.any.some((w) => sameToPrecision(c.values[0], w));
}

function inCode(c: Omit<Claim, "cell" | "support">, code: string): boolean {
  const literal = (v: string) => standalone(v.replace(",", ".")).test(code);
  if (c.kind === "percent")
    return c.values.every((v) => {
      const frac = String(Number(v.replace(",", ".")) / 100);
      return literal(v) || standalone(frac).test(code) || standalone(frac.replace(/^0\./, ".")).test(code);
    });
  return c.values.every(literal);
}

/**
 * Every claim in a notebook's static markdown, with what supports it.
 *
 * @example
 * const bad = notebookClaims(readNotebook("notebooks/executed/04_evaluate_and_iterate.ipynb")).filter((c) => !c.support);
 */
export function notebookClaims(nb: NotebookJson): Claim[] {
  const out = outputsText(nb);
  const nums = { percent: numbersIn(out, true), any: numbersIn(out, false) };
  const code = nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c) => joinSource(c.source))
    .join("\n");
  const claims: Claim[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "markdown") return;
    const src = joinSource(cell.source);
    for (const block of src.split(/\n\s*\n/)) {
      const example = block.includes(EXAMPLE_MARKER);
      const recorded = RECORDED.test(proseOnly(block));
      const cited = /\]\(https?:\/\/[^)]+\)/.test(block);
      for (const c of findClaims(block)) {
        const support: ClaimSupport | null = inOutputs(c, out, nums)
          ? "output"
          : inCode(c, code)
            ? "setting"
            : recorded
              ? "recorded"
              : cited
                ? "cited"
                : example
                  ? "example"
                  : null;
        claims.push({ ...c, cell: i + 1, support });
      }
    }
  });
  return claims;
}

/** The claims nothing supports, one line each (empty when the prose is true to the run). */
export function unsupportedClaims(nb: NotebookJson, file = "notebook"): string[] {
  return notebookClaims(nb)
    .filter((c) => c.support === null)
    .map(
      (c) =>
        `${file}: cell ${c.cell}: "${c.text}" is stated in markdown but appears in no output, no code setting, and is not labelled recorded (with a date), cited (a link) or ${EXAMPLE_MARKER}: "${c.context}"`,
    );
}
