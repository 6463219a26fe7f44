/**
 * Executed notebooks as the static site reads them: the nbformat 4 shapes it uses, multi-line text
 * joined, the chapter's title and first paragraph (for the course outline), and the check that an
 * executed copy is complete and error-free before anything is rendered from it.
 *
 * An executed copy is refused, naming the notebook and the cell, when a code cell has an `error` output,
 * wrote an error to stderr (tslab reports errors only as stderr text), or was never executed (a copy cut
 * short by a failure: the last executed cell and its stderr are named).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** One output of a code cell (nbformat 4). */
export interface NbOutput {
  output_type: "stream" | "display_data" | "execute_result" | "error" | string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** One cell (nbformat 4). */
export interface NbCell {
  cell_type: "markdown" | "code" | "raw" | string;
  source: string | string[];
  outputs?: NbOutput[];
  execution_count?: number | null;
  metadata?: Record<string, unknown>;
}

/** The parts of a notebook the site uses. */
export interface SiteNotebook {
  cells: NbCell[];
  metadata?: Record<string, unknown>;
}

/** Why an executed copy cannot be rendered. */
export interface NotebookProblem {
  /** 1-based cell number among all cells. */
  cell: number;
  /** 1-based number among code cells. */
  codeCell: number;
  source: string;
  message: string;
}

/** nbformat stores multi-line strings as string arrays. */
export function joinText(x: unknown): string {
  if (Array.isArray(x)) return x.map((s) => String(s)).join("");
  return typeof x === "string" ? x : "";
}

/** Terminal colour codes (tslab colours some messages) removed. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "");
}

/**
 * Read and shape-check an .ipynb file (clear errors naming the file).
 *
 * @example
 * const nb = readSiteNotebook("notebooks/executed/01_task_definition.ipynb");
 */
export function readSiteNotebook(file: string): SiteNotebook {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read the notebook (${(e as Error).message})`);
  }
  let nb: SiteNotebook;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not a notebook, the JSON does not parse (${(e as Error).message})`);
  }
  if (!nb || typeof nb !== "object" || !Array.isArray(nb.cells))
    throw new Error(`${file}: not a notebook (no "cells" array)`);
  nb.cells.forEach((c, i) => {
    if (!c || typeof c !== "object" || typeof c.cell_type !== "string")
      throw new Error(`${file}: cell ${i + 1} has no cell_type`);
    if (c.outputs !== undefined && !Array.isArray(c.outputs))
      throw new Error(`${file}: cell ${i + 1}: "outputs" must be an array`);
  });
  return nb;
}

/** Text a tslab kernel writes to stderr when a cell fails (thrown errors, compile errors, async errors). */
const ERROR_TEXT =
  /(^|\n)\s*(?:Uncaught\s+)?(?:[A-Z]\w*(?:Error|Exception)\b|UncaughtException:|UnhandledPromiseRejection:|\d+:\d+ - )/;

/**
 * True when stderr text reads like a failed cell (not just a warning).
 *
 * @example
 * looksLikeError("TypeError: x is not a function\n    at <cell>"); // true
 * looksLikeError("warning: slow backend");                         // false
 */
export function looksLikeError(stderr: string): boolean {
  return ERROR_TEXT.test(stripAnsi(stderr));
}

function stderrOf(cell: NbCell): string {
  return (cell.outputs ?? [])
    .filter((o) => o.output_type === "stream" && o.name === "stderr")
    .map((o) => stripAnsi(joinText(o.text)))
    .join("");
}

function errorOutputText(o: NbOutput): string {
  const tb = (o.traceback ?? []).map(stripAnsi).join("\n");
  return tb || `${o.ename ?? "Error"}: ${o.evalue ?? ""}`;
}

/**
 * The first reason an executed copy cannot be rendered, or null when it is complete and error-free.
 *
 * @example
 * const p = executedProblem(nb);
 * if (p) throw new Error(`cell ${p.cell}: ${p.message}`);
 */
export function executedProblem(nb: SiteNotebook): NotebookProblem | null {
  let codeCell = 0;
  let lastRun: { cell: number; codeCell: number; c: NbCell } | undefined;
  for (let i = 0; i < nb.cells.length; i++) {
    const c = nb.cells[i];
    if (c.cell_type !== "code") continue;
    codeCell++;
    const source = joinText(c.source);
    const at = { cell: i + 1, codeCell, source };
    const err = (c.outputs ?? []).find((o) => o.output_type === "error");
    if (err) return { ...at, message: errorOutputText(err) };
    const stderr = stderrOf(c);
    if (looksLikeError(stderr)) return { ...at, message: stderr.trim() };
    if (!source.trim()) continue;
    if (c.execution_count === null || c.execution_count === undefined) {
      if (lastRun && stderrOf(lastRun.c).trim())
        return {
          cell: lastRun.cell,
          codeCell: lastRun.codeCell,
          source: joinText(lastRun.c.source),
          message: `execution stopped after this cell, which wrote to stderr:\n${stderrOf(lastRun.c).trim()}`,
        };
      return { ...at, message: "this cell was never executed (the copy is incomplete: execute the notebook again)" };
    }
    lastRun = { cell: i + 1, codeCell, c };
  }
  return null;
}

/** Title and first paragraph (markdown source) of a chapter. */
export interface ChapterOutline {
  /** The first `# ` heading (markdown inline source), else the file name. */
  title: string;
  /** The first paragraph of the markdown cells (markdown source), or "". */
  summary: string;
}

/**
 * The chapter's title (first level-1 heading) and first paragraph, as markdown source.
 *
 * @example
 * notebookOutline(nb, "01_task_definition.ipynb"); // { title: "01 · Define the task", summary: "Fine-tuning starts …" }
 */
export function notebookOutline(nb: SiteNotebook, file: string): ChapterOutline {
  let title = "";
  let summary = "";
  for (const c of nb.cells) {
    if (c.cell_type !== "markdown") continue;
    const blocks = joinText(c.source)
      .replace(/\r\n?/g, "\n")
      .split(/\n\s*\n/);
    for (const block of blocks) {
      const b = block.trim();
      if (!b) continue;
      const h1 = b.match(/^#\s+(.+)$/m);
      if (!title && h1 && b.startsWith("#")) {
        title = h1[1].trim();
        const rest = b.slice(b.indexOf(h1[0]) + h1[0].length).trim();
        if (!summary && rest && !/^[#>|`<-]/.test(rest)) summary = rest;
        continue;
      }
      if (!summary && !/^(#|>|\||```|<|[-*+] |\d+\. |!\[)/.test(b)) summary = b;
    }
    if (title && summary) break;
  }
  return { title: title || path.basename(file, ".ipynb"), summary };
}
