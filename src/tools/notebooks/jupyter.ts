/**
 * Finding a Python that has Jupyter, and saying exactly what to install when there is none.
 * Candidates: `$TUNEBOOK_PYTHON` alone when set, else `/usr/bin/python3` (Debian's Jupyter), then
 * `python3` and `python` on PATH. A candidate counts when it starts and can import every module asked.
 */
import { spawnSync } from "node:child_process";

/** What Jupyter is needed for: opening the course (`start`) or executing notebooks (`run`). */
export type JupyterPurpose = "start" | "run";

/** Python modules each purpose needs (any one of `anyOf`). */
export const JUPYTER_MODULES: Record<JupyterPurpose, { all: string[]; anyOf: string[] }> = {
  start: { all: ["jupyter_client"], anyOf: ["jupyterlab", "notebook"] },
  run: { all: ["jupyter_client", "nbclient", "nbformat"], anyOf: [] },
};

export interface PythonFound {
  python: string;
  /** Module → importable. */
  modules: Record<string, boolean>;
}

/** Error with the install hint as its message (the CLI prints it and exits non-zero). */
export class JupyterMissingError extends Error {
  override name = "JupyterMissingError";
}

/** The Python candidates, in order. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.TUNEBOOK_PYTHON?.trim()) return [env.TUNEBOOK_PYTHON.trim()];
  return ["/usr/bin/python3", "python3", "python"];
}

/** Which of `modules` `python` can import; null when it does not run. */
export function probePython(
  python: string,
  modules: string[],
  env: NodeJS.ProcessEnv = process.env,
): Record<string, boolean> | null {
  const code =
    "import importlib.util, json, sys\nprint(json.dumps({m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}))";
  const r = spawnSync(python, ["-c", code, ...modules], { encoding: "utf8", env, timeout: 30000 });
  if (r.error || r.status !== 0) return null;
  try {
    const line = r.stdout.trim().split("\n").pop() ?? "";
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/**
 * The first candidate Python that has what `purpose` needs, or null.
 *
 * @example
 * const py = findJupyterPython("run"); // { python: "/usr/bin/python3", modules: {...} }
 */
export function findJupyterPython(purpose: JupyterPurpose, env: NodeJS.ProcessEnv = process.env): PythonFound | null {
  const need = JUPYTER_MODULES[purpose];
  const mods = [...need.all, ...need.anyOf];
  for (const python of pythonCandidates(env)) {
    const modules = probePython(python, mods, env);
    if (!modules) continue;
    if (need.all.every((m) => modules[m]) && (need.anyOf.length === 0 || need.anyOf.some((m) => modules[m])))
      return { python, modules };
  }
  return null;
}

/**
 * What to install, for apt, pip and conda (the exact commands).
 *
 * @example
 * console.error(jupyterInstallHint("start"));
 */
export function jupyterInstallHint(purpose: JupyterPurpose, env: NodeJS.ProcessEnv = process.env): string {
  const tried = pythonCandidates(env).join(", ");
  const what =
    purpose === "start"
      ? "Jupyter (Notebook or JupyterLab)"
      : "Jupyter's notebook runner (nbclient, nbformat, jupyter_client)";
  const cmds =
    purpose === "start"
      ? [
          "apt:   sudo apt-get install jupyter-notebook python3-ipykernel",
          "pip:   pip install notebook",
          "conda: conda install -c conda-forge notebook",
        ]
      : [
          "apt:   sudo apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel",
          "pip:   pip install nbclient nbformat ipykernel",
          "conda: conda install -c conda-forge nbclient nbformat ipykernel",
        ];
  return [
    `tunebook: ${what} was not found (Python tried: ${tried}).`,
    "Install it with one of:",
    ...cmds.map((c) => "  " + c),
    "then run the command again (set TUNEBOOK_PYTHON=/path/to/python to pick the Python that has it).",
  ].join("\n");
}

/** `findJupyterPython` or a JupyterMissingError carrying the install hint. */
export function requireJupyterPython(purpose: JupyterPurpose, env: NodeJS.ProcessEnv = process.env): PythonFound {
  const found = findJupyterPython(purpose, env);
  if (!found) throw new JupyterMissingError(jupyterInstallHint(purpose, env));
  return found;
}
