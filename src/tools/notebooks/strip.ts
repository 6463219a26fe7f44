/**
 * Committed notebooks carry no outputs: `stripNotebook` clears outputs and execution counts of code
 * cells and the execution timing metadata that nbclient records; `notebookDirt` says what a notebook
 * still carries (the test over notebooks/ uses it).
 */
import { writeFileAtomic } from "../../runtime/atomic";
import { FileAccessError, readRegularFileSync } from "../../runtime/files";

/** The parts of an .ipynb we touch. */
export interface NotebookJson {
  cells: {
    cell_type: string;
    source: string | string[];
    outputs?: unknown[];
    execution_count?: number | null;
    metadata?: Record<string, unknown>;
  }[];
  metadata?: Record<string, unknown>;
  nbformat?: number;
  nbformat_minor?: number;
}

const describeValue = (v: unknown): string =>
  v === null
    ? "null"
    : Array.isArray(v)
      ? "an array"
      : typeof v === "object"
        ? "an object"
        : `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);

/**
 * Check the parts of a parsed notebook that strip and run rely on; one line naming the file and the cell
 * (1-based, as Jupyter numbers cells, and its index in `cells`) when something is off.
 */
export function validateNotebook(nb: unknown, file: string): NotebookJson {
  if (nb === null || typeof nb !== "object" || Array.isArray(nb))
    throw new Error(`${file}: not a notebook (expected a JSON object, found ${describeValue(nb)})`);
  const cells = (nb as { cells?: unknown }).cells;
  if (!Array.isArray(cells))
    throw new Error(
      `${file}: not a notebook (no "cells" array${cells === undefined ? "" : `; found ${describeValue(cells)}`})`,
    );
  cells.forEach((c: unknown, i) => {
    const where = `${file}: cell ${i + 1} (cells[${i}])`;
    if (c === null || typeof c !== "object" || Array.isArray(c))
      throw new Error(`${where} is ${describeValue(c)}, expected an object with "cell_type" and "source"`);
    const cell = c as Record<string, unknown>;
    if (typeof cell.cell_type !== "string")
      throw new Error(
        `${where}: "cell_type" must be a string ("code", "markdown" or "raw"), found ${describeValue(cell.cell_type)}`,
      );
    const src = cell.source;
    if (!(typeof src === "string" || (Array.isArray(src) && src.every((l) => typeof l === "string"))))
      throw new Error(`${where}: "source" must be a string or a list of strings, found ${describeValue(src)}`);
    if (cell.outputs !== undefined && !Array.isArray(cell.outputs))
      throw new Error(`${where}: "outputs" must be a list, found ${describeValue(cell.outputs)}`);
    if (
      cell.metadata !== undefined &&
      (cell.metadata === null || typeof cell.metadata !== "object" || Array.isArray(cell.metadata))
    )
      throw new Error(`${where}: "metadata" must be an object, found ${describeValue(cell.metadata)}`);
  });
  return nb as NotebookJson;
}

/** Parse and check an .ipynb file; errors are one line naming the file (and the cell). */
export function readNotebook(file: string): NotebookJson {
  let nb: unknown;
  try {
    nb = JSON.parse(readRegularFileSync(file, "the notebook").toString("utf8"));
  } catch (e) {
    if (e instanceof FileAccessError) throw new Error(e.message);
    throw new Error(`${file}: not a readable notebook (${(e as Error).message})`);
  }
  return validateNotebook(nb, file);
}

/**
 * What still needs stripping: one line per problem (empty when clean).
 *
 * @example
 * notebookDirt(readNotebook("notebooks/01_task_definition.ipynb")); // []
 */
export function notebookDirt(nb: NotebookJson): string[] {
  const out: string[] = [];
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== "code") return;
    if (c.outputs?.length) out.push(`cell ${i + 1} has ${c.outputs.length} output(s)`);
    if (c.execution_count !== null && c.execution_count !== undefined)
      out.push(`cell ${i + 1} has execution_count ${c.execution_count}`);
    if (c.metadata && "execution" in c.metadata) out.push(`cell ${i + 1} has execution timing metadata`);
  });
  return out;
}

/**
 * A copy without outputs, execution counts or execution timings.
 *
 * @example
 * const clean = stripNotebook(readNotebook(file));
 */
export function stripNotebook(nb: NotebookJson): NotebookJson {
  return {
    ...nb,
    cells: nb.cells.map((c) => {
      if (c.cell_type !== "code") return c;
      const metadata = { ...(c.metadata ?? {}) };
      delete metadata.execution;
      return { ...c, outputs: [], execution_count: null, metadata };
    }),
  };
}

/**
 * Strip a notebook file in place (atomically; untouched when already clean). Returns true if it changed.
 *
 * @example
 * stripFile("notebooks/01_task_definition.ipynb");
 */
export function stripFile(file: string): boolean {
  const nb = readNotebook(file);
  if (!notebookDirt(nb).length) return false;
  writeFileAtomic(file, JSON.stringify(stripNotebook(nb), null, 1) + "\n");
  return true;
}
