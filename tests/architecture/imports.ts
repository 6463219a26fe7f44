/**
 * The import graph of src/: every file's imports of other src files, read with the TypeScript parser (so an
 * import inside a comment or a string is not one): static `import`/`export ... from`, `import x = require()`,
 * `require(...)`, dynamic `import(...)` and `import("...")` types. Package imports are left out.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

export const ROOT = path.resolve(__dirname, "..", "..");
export const SRC = path.join(ROOT, "src");

/** One import of a src file by a src file. Paths are relative to the project root, with `/`. */
export interface ImportEdge {
  from: string;
  /** The imported file, or undefined when the specifier resolves to no file. */
  to: string | undefined;
  specifier: string;
  line: number;
}

const SOURCE = /\.(ts|tsx|js|cjs|mjs)$/;

/** Every source file under `dir`, relative to the root, sorted. */
export function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (SOURCE.test(e.name) && !e.name.endsWith(".d.ts")) out.push(rel(p));
  }
  return out.sort();
}

function rel(p: string): string {
  return path.relative(ROOT, p).split(path.sep).join("/");
}

/** Resolve a relative specifier the way Node's CommonJS loader and tsc do (file, then extensions, then index). */
function resolve(fromFile: string, spec: string): string | undefined {
  const base = path.resolve(ROOT, path.dirname(fromFile), spec);
  const candidates = [
    base,
    ...[".ts", ".tsx", ".js", ".json"].map((x) => base + x),
    ...["index.ts", "index.js"].map((x) => path.join(base, x)),
  ];
  const hit = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  return hit === undefined ? undefined : rel(hit);
}

function specifiers(file: string): { spec: string; pos: number }[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { spec: string; pos: number }[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ spec: node.text, pos: node.getStart(sf) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === "require";
      if ((isRequire || callee.kind === ts.SyntaxKind.ImportKeyword) && node.arguments.length > 0)
        add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found.map((f) => ({ spec: f.spec, pos: sf.getLineAndCharacterOfPosition(f.pos).line + 1 }));
}

/** Every relative import in src/, in file order. */
export function importEdges(files = sourceFiles()): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files)
    for (const { spec, pos } of specifiers(from))
      if (spec.startsWith(".")) edges.push({ from, to: resolve(from, spec), specifier: spec, line: pos });
  return edges;
}

/**
 * The strongly connected components with more than one file (or a file importing itself), each as one cycle
 * path `a -> b -> ... -> a` through the component (Tarjan's algorithm, then a walk inside the component).
 */
export function cycles(nodes: string[], edges: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const comps: string[][] = [];
  const strong = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || edges.get(v)?.has(v)) comps.push(comp.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) strong(v);
  return comps.map((comp) => cyclePath(comp, edges));
}

/** A shortest path from the component's first file back to itself, staying inside the component. */
function cyclePath(comp: string[], edges: Map<string, Set<string>>): string[] {
  const inside = new Set(comp);
  const start = comp[0];
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of [...(edges.get(v) ?? [])].sort()) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path: string[] = [];
        for (let u = v; u !== start; u = prev.get(u)!) path.unshift(u);
        return [start, ...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...comp, start];
}
