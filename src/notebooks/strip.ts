/**
 * Committed notebooks carry no outputs: `stripNotebook` clears outputs and execution counts of code
 * cells and the execution timing metadata that nbclient records; `notebookDirt` says what a notebook
 * still carries (the test over notebooks/ uses it).
 */
import * as fs from "fs";
import * as path from "path";
import { writeFileAtomic } from "../runtime/atomic";

/** The parts of an .ipynb we touch. */
export interface NotebookJson {
  cells: { cell_type: string; source: string | string[]; outputs?: unknown[]; execution_count?: number | null; metadata?: Record<string, unknown> }[];
  metadata?: Record<string, unknown>;
  nbformat?: number;
  nbformat_minor?: number;
}

/** Parse an .ipynb file with a clear error. */
export function readNotebook(file: string): NotebookJson {
  let nb: NotebookJson;
  try {
    nb = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not a readable notebook (${(e as Error).message})`);
  }
  if (!nb || !Array.isArray(nb.cells)) throw new Error(`${file}: not a notebook (no "cells" array)`);
  return nb;
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
    if (c.outputs && c.outputs.length) out.push(`cell ${i + 1} has ${c.outputs.length} output(s)`);
    if (c.execution_count !== null && c.execution_count !== undefined) out.push(`cell ${i + 1} has execution_count ${c.execution_count}`);
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
