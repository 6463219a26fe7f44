/**
 * `tunebook notebooks run [NAME...] [--out DIR] [--timeout S] [--startup-timeout S] [--dir DIR]`
 *   executes notebooks headless through real Jupyter (tslab kernel) and writes executed copies to DIR
 *   (default notebooks/executed/); stops at the first failing cell, prints it, exits 1.
 * `tunebook notebooks strip [NAME...] [--check]`
 *   removes outputs and execution counts in place; with --check only reports, exit 1 when any remain.
 * `tunebook notebooks render [NAME...] [--out DIR] [--executed DIR] [--dir DIR] [--timeout S] [--startup-timeout S]`
 *   executes the notebooks (or takes the executed copies in --executed DIR) and writes the static course
 *   site to DIR (default .tunebook/site/); a failing notebook is named with its cell, exit 1, DIR untouched.
 * NAME: `01`, `01_task_definition`, a file name or a path. TUNEBOOK_BACKEND passes through to the kernel.
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs, str, num, bool, UsageError } from "./args";
import { projectRoot, resolveNotebooks } from "../tools/notebooks/paths";
import { runNotebooks, formatFailure, DEFAULT_RUN_OPTIONS, type NotebookResult } from "../tools/notebooks/runner";
import { JupyterMissingError } from "../tools/notebooks/jupyter";
import { notebookDirt, readNotebook, stripFile } from "../tools/notebooks/strip";
import { renderSite, SiteRenderError, DEFAULT_SITE_OPTIONS } from "../tools/site/render";

const USAGE = `usage: tunebook notebooks run [NAME...] [--out DIR] [--timeout SECONDS] [--startup-timeout SECONDS] [--dir DIR]
       tunebook notebooks strip [NAME...] [--check] [--dir DIR]
       tunebook notebooks render [NAME...] [--out DIR] [--executed DIR] [--dir DIR] [--timeout SECONDS]

  run     execute notebooks (all in notebooks/, in order, or the NAMEs) in Jupyter with the tslab kernel;
          executed copies go to --out (default notebooks/executed); stops at the first failing cell
  strip   remove outputs and execution counts (--check: only report; exit 1 if any)
  render  the course as a static website in --out (default ${DEFAULT_SITE_OPTIONS.outDir}): executes the notebooks,
          or renders the executed copies in --executed DIR (e.g. notebooks/executed); open DIR/index.html
  NAME    01 | 01_task_definition | 01_task_definition.ipynb | a path`;

function positiveSeconds(p: ReturnType<typeof parseArgs>, name: string, def: number): number {
  return num(p, name, def, { min: 0, exclusiveMin: true })!;
}

async function runCmd(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { values: ["out", "timeout", "startup-timeout", "dir"], booleans: ["help"] },
    "tunebook notebooks run",
  );
  if (bool(p, "help")) return (console.log(USAGE), 0);
  const root = projectRoot();
  const dir = path.resolve(str(p, "dir") ?? path.join(root, "notebooks"));
  const files = resolveNotebooks(p.positional, dir);
  if (!files.length) {
    console.error(`tunebook notebooks run: no notebooks in ${dir}`);
    return 1;
  }
  const outDir = path.resolve(str(p, "out") ?? path.join(root, DEFAULT_RUN_OPTIONS.outDir));
  const timeoutS = positiveSeconds(p, "timeout", DEFAULT_RUN_OPTIONS.timeoutS);
  const startupTimeoutS = positiveSeconds(p, "startup-timeout", DEFAULT_RUN_OPTIONS.startupTimeoutS);
  let results: NotebookResult[];
  try {
    results = await runNotebooks(files, { outDir, timeoutS, startupTimeoutS, env: process.env });
  } catch (e) {
    if (e instanceof JupyterMissingError) return (console.error(e.message), 1);
    throw e;
  }
  const failed = results.find((r) => !r.ok);
  if (failed) {
    console.error(formatFailure(failed));
    return 1;
  }
  console.log(`${results.length} notebook(s) executed; copies in ${path.relative(process.cwd(), outDir) || outDir}`);
  return 0;
}

async function stripCmd(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { values: ["dir"], booleans: ["check", "help"] }, "tunebook notebooks strip");
  if (bool(p, "help")) return (console.log(USAGE), 0);
  const dir = path.resolve(str(p, "dir") ?? path.join(projectRoot(), "notebooks"));
  const files = resolveNotebooks(p.positional, dir);
  let dirty = 0;
  for (const f of files) {
    const rel = path.relative(process.cwd(), f) || f;
    if (bool(p, "check")) {
      const d = notebookDirt(readNotebook(f));
      if (d.length) dirty++, console.error(`${rel}: ${d.join("; ")}`);
    } else if (stripFile(f)) console.log(`stripped ${rel}`);
  }
  if (bool(p, "check")) {
    if (dirty) console.error(`${dirty} notebook(s) carry outputs: run \`npx tunebook notebooks strip\``);
    else console.log(`${files.length} notebook(s) clean`);
    return dirty ? 1 : 0;
  }
  return 0;
}

async function renderCmd(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { values: ["out", "executed", "dir", "timeout", "startup-timeout"], booleans: ["help"] },
    "tunebook notebooks render",
  );
  if (bool(p, "help")) return (console.log(USAGE), 0);
  const root = projectRoot();
  const executed = str(p, "executed");
  if (executed !== undefined && str(p, "dir") !== undefined)
    throw new UsageError("tunebook notebooks render: give --executed DIR or --dir DIR, not both");
  const dir = path.resolve(executed ?? str(p, "dir") ?? path.join(root, "notebooks"));
  const files = resolveNotebooks(p.positional, dir);
  if (!files.length) {
    console.error(`tunebook notebooks render: no notebooks in ${dir}`);
    return 1;
  }
  const outDir = path.resolve(str(p, "out") ?? path.join(root, DEFAULT_SITE_OPTIONS.outDir));
  const timeoutS = positiveSeconds(p, "timeout", DEFAULT_RUN_OPTIONS.timeoutS);
  const startupTimeoutS = positiveSeconds(p, "startup-timeout", DEFAULT_RUN_OPTIONS.startupTimeoutS);
  try {
    const site = await renderSite({
      notebooks: files,
      executed: executed !== undefined,
      outDir,
      run: { timeoutS, startupTimeoutS, env: process.env },
    });
    const plots = site.pages.reduce((n, x) => n + x.plots, 0);
    console.log(`${site.pages.length} chapter(s), ${plots} chart(s) → ${site.index}`);
    console.log(`open it in a browser: ${pathToFileURL(site.index).href}`);
    return 0;
  } catch (e) {
    if (e instanceof SiteRenderError || e instanceof JupyterMissingError) return (console.error(e.message), 1);
    throw e;
  }
}

/** Entry point for `tunebook notebooks ...`. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "run") return runCmd(rest);
  if (sub === "strip") return stripCmd(rest);
  if (sub === "render") return renderCmd(rest);
  if (!sub || sub === "--help" || sub === "-h" || sub === "help") return (console.log(USAGE), sub ? 0 : 2);
  throw new UsageError(`tunebook notebooks: unknown subcommand "${sub}" (known: run, strip, render)\n\n${USAGE}`);
}
