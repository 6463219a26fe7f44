/**
 * Where things are: the project root (found from this file, so it works from src/ under tsx and from
 * dist/), the course notebooks, and how a notebook NAME on the command line maps to a file
 * (`01`, `01_task_definition`, `01_task_definition.ipynb`, or a path).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The tunebook package root (the folder with tunebook's package.json).
 *
 * @example
 * path.join(projectRoot(), "notebooks");
 */
export function projectRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, "utf8")).name === "tunebook") return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find tunebook's package.json above ${from}`);
    dir = up;
  }
}

/** The course notebooks (`*.ipynb` directly in `dir`), sorted by name. */
export function listNotebooks(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new Error(`notebook folder ${dir} does not exist`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ipynb") && !e.name.startsWith("."))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/**
 * Map NAMEs to notebook files: a path to an existing file, or a name in `dir` given in full, without
 * `.ipynb`, or as its number prefix (`01` → `01_task_definition.ipynb`). No names → all notebooks.
 * Unknown or ambiguous names are errors listing what exists.
 *
 * @example
 * resolveNotebooks(["01"], "notebooks"); // ["notebooks/01_task_definition.ipynb"]
 */
export function resolveNotebooks(names: string[], dir: string): string[] {
  if (!names.length) return listNotebooks(dir);
  const all = fs.existsSync(dir) ? listNotebooks(dir) : [];
  const base = (p: string) => path.basename(p, ".ipynb");
  return names.map((name) => {
    if ((name.includes("/") || name.includes(path.sep) || name.endsWith(".ipynb")) && fs.existsSync(name)) {
      if (!fs.statSync(name).isFile()) throw new Error(`notebook ${name} is not a file`);
      return path.resolve(name);
    }
    const n = name.replace(/\.ipynb$/, "");
    const exact = all.filter((p) => base(p) === n);
    if (exact.length === 1) return exact[0];
    const prefixed = all.filter((p) => base(p).startsWith(n + "_"));
    if (prefixed.length === 1) return prefixed[0];
    const known = all.map(base).join(", ") || "(none)";
    if (prefixed.length > 1) throw new Error(`notebook name "${name}" is ambiguous: ${prefixed.map(base).join(", ")}`);
    throw new Error(`no notebook "${name}" in ${dir}; known: ${known}`);
  });
}
