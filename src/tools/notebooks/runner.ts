/**
 * Headless notebook execution: each notebook runs top to bottom in a real Jupyter kernel (tslab) through
 * nbclient (`scripts/run_notebook.py`), and its executed copy goes to an output folder — never over
 * the source. The run stops at the first failing cell; the failure names the notebook, the cell number,
 * the head of the cell's source and the error text (tslab reports errors only as stderr text and an
 * execute_reply with status "error"; the Python side checks both).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { projectRoot } from "./paths";
import { requireJupyterPython } from "./jupyter";
import { KERNEL_NAME, localJupyterDir, writeKernelSpec } from "./kernelspec";
import { readNotebook } from "./strip";
import { unsupportedClaims } from "./claims";

export interface RunOptions {
  /** Folder for executed copies (created). */
  outDir: string;
  /** Seconds one cell may run. */
  timeoutS: number;
  /** Seconds the kernel may take to start. */
  startupTimeoutS: number;
  /** Python with nbclient (default: found by `findJupyterPython("run")`). */
  python?: string;
  /** Environment for the kernel (TUNEBOOK_BACKEND etc. pass through). */
  env: NodeJS.ProcessEnv;
  /** Progress lines (default: stderr). */
  log: (line: string) => void;
  /** Source lines of the failing cell to show. */
  sourceHeadLines: number;
  /** Fail a notebook whose markdown states a number its run does not support (`./claims.ts`). */
  checkClaims: boolean;
}

export const DEFAULT_RUN_OPTIONS: RunOptions = {
  outDir: path.join("notebooks", "executed"),
  timeoutS: 900,
  startupTimeoutS: 120,
  env: process.env,
  log: (line) => process.stderr.write(line + "\n"),
  sourceHeadLines: 8,
  checkClaims: true,
};

/** The outcome of one notebook. */
export interface NotebookResult {
  notebook: string;
  out: string;
  ok: boolean;
  seconds: number;
  /** On failure: 1-based cell number in the notebook (all cells), and among code cells. */
  cell?: number;
  codeCell?: number;
  source?: string;
  error?: string;
  kind?: "error" | "timeout" | "dead" | "start" | "read" | "write" | "missing" | "runner" | "claims";
}

/** The executed copy's path; refuses a path that is the source itself. */
export function executedPath(src: string, outDir: string): string {
  const out = path.resolve(outDir, path.basename(src));
  const same = path.resolve(src) === out || (fs.existsSync(out) && fs.realpathSync(out) === fs.realpathSync(src));
  if (same)
    throw new Error(
      `the output folder ${outDir} holds the source notebook ${src}: choose another --out (executed copies never overwrite sources)`,
    );
  return out;
}

/** Stack frames of the kernel's own machinery (tslab, node's vm) say nothing about the cell. */
const INTERNAL_FRAME = /^\s*at .*(node:vm:|node:internal|[\\/]tslab[\\/]dist[\\/]|sigintHandlersWrap)/;

/** The error text without internal stack frames, at most `maxLines` lines. */
export function cleanError(text: string, maxLines = 40): string[] {
  const lines = text
    .trimEnd()
    .split("\n")
    .filter((l) => !INTERNAL_FRAME.test(l));
  return lines.length > maxLines ? [...lines.slice(0, maxLines), `… (${lines.length - maxLines} more lines)`] : lines;
}

/**
 * A readable failure report: notebook, cell, source head, error.
 *
 * @example
 * console.error(formatFailure(result));
 */
export function formatFailure(r: NotebookResult, headLines = DEFAULT_RUN_OPTIONS.sourceHeadLines): string {
  const lines = [
    `notebook ${r.notebook} FAILED${r.cell ? ` at cell ${r.cell}${r.codeCell ? ` (code cell ${r.codeCell})` : ""}` : ""}${r.kind && r.kind !== "error" ? ` [${r.kind}]` : ""}`,
  ];
  if (r.source !== undefined) {
    const src = r.source.split("\n");
    lines.push(
      "--- cell source" + (src.length > headLines ? ` (first ${headLines} of ${src.length} lines)` : "") + " ---",
    );
    lines.push(...src.slice(0, headLines).map((l) => "  " + l));
  }
  lines.push("--- error ---");
  lines.push(...cleanError(r.error ?? "(no message)").map((l) => "  " + l));
  if (r.out && fs.existsSync(r.out)) lines.push(`(the executed copy up to that cell is in ${r.out})`);
  return lines.join("\n");
}

/**
 * Execute one notebook; resolves to its result (failures are results, not exceptions).
 *
 * @example
 * const r = await runNotebook("notebooks/01_task_definition.ipynb", { outDir: "/tmp/out" });
 * if (!r.ok) console.error(formatFailure(r));
 */
export async function runNotebook(src: string, opts: Partial<RunOptions> = {}): Promise<NotebookResult> {
  const o: RunOptions = { ...DEFAULT_RUN_OPTIONS, ...opts };
  const root = projectRoot();
  const out = executedPath(src, o.outDir);
  try {
    readNotebook(src); // a malformed notebook is named with its cell here, not by a Python traceback
  } catch (e: any) {
    return { notebook: src, out, ok: false, seconds: 0, kind: "read", error: e?.message ?? String(e) };
  }
  const python = o.python ?? requireJupyterPython("run", o.env).python;
  const jupyterDir = localJupyterDir(root);
  writeKernelSpec(jupyterDir);
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    JUPYTER_PATH: [jupyterDir, o.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    PYTHONUNBUFFERED: "1",
  };
  const args = [
    path.join(root, "scripts", "run_notebook.py"),
    "--in",
    path.resolve(src),
    "--out",
    out,
    "--kernel",
    KERNEL_NAME,
    "--timeout",
    String(o.timeoutS),
    "--startup-timeout",
    String(o.startupTimeoutS),
  ];
  const t0 = Date.now();
  return new Promise<NotebookResult>((resolve) => {
    const child = spawn(python, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let errTail = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => {
      const s = d.toString("utf8");
      errTail = (errTail + s).slice(-4000);
      for (const line of s.split("\n")) if (line.trim()) o.log(line);
    });
    const base = { notebook: src, out, seconds: 0 };
    child.on("error", (e) =>
      resolve({ ...base, ok: false, kind: "runner", error: `cannot start ${python}: ${e.message}` }),
    );
    child.on("close", (code) => {
      const seconds = (Date.now() - t0) / 1000;
      const last = stdout.trim().split("\n").pop() ?? "";
      let parsed: Partial<NotebookResult> | undefined;
      try {
        parsed = JSON.parse(last);
      } catch {
        parsed = undefined;
      }
      if (!parsed) {
        resolve({
          ...base,
          seconds,
          ok: false,
          kind: "runner",
          error: `the notebook runner (${python} scripts/run_notebook.py) exited with code ${code} and no result; its last message: ${errTail.trim().split("\n").pop() ?? "(none)"} (full output above)`,
        });
        return;
      }
      const ok = parsed.ok === true && code === 0;
      if (ok && o.checkClaims) {
        // the executed copy is the evidence: prose numbers are checked against this run's outputs
        const bad = unsupportedClaims(readNotebook(out), path.basename(src));
        if (bad.length) {
          resolve({
            ...base,
            seconds,
            notebook: src,
            out,
            ok: false,
            kind: "claims",
            error: `${bad.length} number(s) in the markdown are not backed by this run:\n${bad.join("\n")}`,
          });
          return;
        }
      }
      resolve({ ...base, seconds, ...parsed, notebook: src, out, ok });
    });
  });
}

/**
 * Execute notebooks in order, stopping at the first failure.
 *
 * @example
 * const results = await runNotebooks(resolveNotebooks([], "notebooks"), { outDir: "notebooks/executed" });
 */
export async function runNotebooks(files: string[], opts: Partial<RunOptions> = {}): Promise<NotebookResult[]> {
  const o: RunOptions = { ...DEFAULT_RUN_OPTIONS, ...opts };
  const python = o.python ?? requireJupyterPython("run", o.env).python;
  for (const f of files) {
    // refuse before running anything
    executedPath(f, o.outDir);
    readNotebook(f);
  }
  const results: NotebookResult[] = [];
  for (const f of files) {
    o.log(`running ${path.relative(process.cwd(), f) || f}`);
    const r = await runNotebook(f, { ...o, python });
    results.push(r);
    if (!r.ok) break;
    o.log(`  ok in ${r.seconds.toFixed(1)}s → ${path.relative(process.cwd(), r.out) || r.out}`);
  }
  return results;
}
