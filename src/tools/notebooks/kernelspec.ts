/**
 * The tslab kernelspec: `kernel.json` that starts the project's own tslab with the absolute path of
 * the running node, so Jupyter needs neither `tslab` nor `node` on its PATH.
 * - `writeKernelSpec(dir)` writes it into a project-local Jupyter data folder (`.tunebook/jupyter`,
 *   gitignored) that the runner passes through `JUPYTER_PATH`: tests and CI never depend on the
 *   user's own Jupyter setup.
 * - `installUserKernel(python, dir)` copies it into the user's kernels (no root), for `npm start`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { projectRoot } from "./paths";
import { writeFileAtomic } from "../../runtime/atomic";

export const KERNEL_NAME = "tslab";

/** The project-local Jupyter data folder (pass it as `JUPYTER_PATH`). */
export function localJupyterDir(root: string = projectRoot()): string {
  return path.join(root, ".tunebook", "jupyter");
}

/** The tslab entry script (`node_modules/tslab/bin/tslab`). */
export function tslabBin(root: string = projectRoot()): string {
  let pkg: string;
  try {
    pkg = require.resolve("tslab/package.json", { paths: [root] });
  } catch {
    throw new Error(`tslab is not installed in ${root}/node_modules; run \`npm install\``);
  }
  return path.join(path.dirname(pkg), "bin", "tslab");
}

/** The kernel.json content. */
export function kernelJson(node: string = process.execPath, bin: string = tslabBin()): Record<string, unknown> {
  return {
    argv: [node, bin, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript",
    language: "typescript",
  };
}

/**
 * Write `<jupyterDir>/kernels/tslab/kernel.json` (atomically); returns the kernel folder.
 *
 * @example
 * writeKernelSpec(localJupyterDir()); // then JUPYTER_PATH=.tunebook/jupyter finds kernel "tslab"
 */
export function writeKernelSpec(
  jupyterDir: string = localJupyterDir(),
  spec: Record<string, unknown> = kernelJson(),
): string {
  const dir = path.join(jupyterDir, "kernels", KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "kernel.json");
  writeFileAtomic(file, JSON.stringify(spec, null, 1) + "\n");
  return dir;
}

/**
 * Register the kernel for the current user with `python`'s jupyter_client (`~/.local/share/jupyter`).
 *
 * @example
 * installUserKernel("/usr/bin/python3");
 */
export function installUserKernel(python: string, jupyterDir: string = localJupyterDir()): string {
  const dir = writeKernelSpec(jupyterDir);
  const code =
    "import sys\nfrom jupyter_client.kernelspec import KernelSpecManager\n" +
    "print(KernelSpecManager().install_kernel_spec(sys.argv[1], sys.argv[2], user=True))";
  const r = spawnSync(python, ["-c", code, dir, KERNEL_NAME], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || "").trim().split("\n").pop();
    throw new Error(`could not register the tslab kernel with ${python}: ${why}`);
  }
  return r.stdout.trim();
}
