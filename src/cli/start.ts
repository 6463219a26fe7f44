/**
 * `tunebook start [--lab | --classic] [--dry-run] [-- JUPYTER_ARGS...]` (`npm start`): registers the tslab
 * kernel for the current user (no root) and starts Jupyter on notebooks/. JupyterLab is used when
 * installed, else the classic Notebook. Where Jupyter is missing it prints exactly what to install
 * (apt, pip, conda) and exits 1. `--dry-run` prints the command instead of running it.
 */
import * as path from "node:path";
import { spawn } from "node:child_process";
import { parseArgs, bool, UsageError } from "./args";
import { projectRoot } from "../tools/notebooks/paths";
import { findJupyterPython, jupyterInstallHint } from "../tools/notebooks/jupyter";
import { installUserKernel } from "../tools/notebooks/kernelspec";

const USAGE = "usage: tunebook start [--lab | --classic] [--dry-run] [-- JUPYTER_ARGS...]";

/** Entry point for `tunebook start`. */
export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ["lab", "classic", "dry-run", "help"] }, "tunebook start");
  if (bool(p, "help")) return (console.log(USAGE), 0);
  if (bool(p, "lab") && bool(p, "classic")) throw new UsageError("tunebook start: choose one of --lab and --classic");
  const found = findJupyterPython("start");
  if (!found) {
    console.error(jupyterInstallHint("start"));
    return 1;
  }
  const hasLab = !!found.modules.jupyterlab;
  const hasClassic = !!found.modules.notebook;
  if (bool(p, "lab") && !hasLab) {
    console.error(
      `tunebook start: JupyterLab is not installed for ${found.python}; install it (pip install jupyterlab) or drop --lab`,
    );
    return 1;
  }
  if (bool(p, "classic") && !hasClassic) {
    console.error(
      `tunebook start: the classic Notebook is not installed for ${found.python}; install it (pip install notebook) or drop --classic`,
    );
    return 1;
  }
  const app = bool(p, "classic") || !hasLab ? "notebook" : "jupyterlab";
  const root = projectRoot();
  const nbDir = path.join(root, "notebooks");
  // Jupyter refuses to run as root without --allow-root (containers, CI images).
  const root0 = typeof process.getuid === "function" && process.getuid() === 0 ? ["--allow-root"] : [];
  const args = ["-m", app, `--notebook-dir=${nbDir}`, ...root0, ...p.positional];
  if (bool(p, "dry-run")) {
    console.log(`would register the tslab kernel for this user with ${found.python}`);
    console.log(`would run: ${found.python} ${args.join(" ")}`);
    return 0;
  }
  const where = installUserKernel(found.python);
  console.log(`tunebook: tslab kernel registered for this user in ${where}`);
  console.log(
    `tunebook: starting ${app === "jupyterlab" ? "JupyterLab" : "Jupyter Notebook"} on ${nbDir} (Ctrl-C to stop)`,
  );
  return new Promise<number>((resolve) => {
    const child = spawn(found.python, args, { stdio: "inherit", cwd: nbDir });
    child.on("error", (e) => {
      console.error(`tunebook start: cannot run ${found.python}: ${e.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 0 : 1)));
  });
}
