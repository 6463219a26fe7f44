// The public API's contract, read from the sources with TypeScript's own compiler API:
// - `src/index.ts` is the curated entry point: a bounded number of values, each with a doc comment and an `@example`;
// - package.json `exports` and `typesVersions` offer the same subpaths, each backed by a `src/<folder>/index.ts`
//   (Node reads `exports`; tslab's TypeScript 5.0 resolves with Node10 rules and reads `typesVersions`);
// - the notebooks import only from "tunebook" and the public subpaths, and only names those entry points export.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

const root = path.resolve(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

/** Public API size: about 80 values; past this the entry point stops being a curated list. */
const MAX_PUBLIC_VALUES = 100;
/** Subpaths that notebooks and user code must not import (no stability promise). */
const PRIVATE_SUBPATHS = new Set(["kernels"]);

let program: ts.Program | undefined;
function checker(): { program: ts.Program; checker: ts.TypeChecker } {
  if (!program) {
    const entries = Object.keys(subpaths()).map((s) => entrySource(s));
    program = ts.createProgram([path.join(root, "src", "index.ts"), ...entries], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      resolveJsonModule: true,
      noEmit: true,
    });
  }
  return { program, checker: program.getTypeChecker() };
}

function subpaths(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(pkg.exports ?? {})) {
    if (key === "." || key === "./package.json") continue;
    out[key.slice(2)] = key;
  }
  return out;
}

const entrySource = (subpath: string) => path.join(root, "src", subpath, "index.ts");

interface Exported {
  name: string;
  isValue: boolean;
  decl: ts.Declaration | undefined;
}

function exportsOf(file: string): Exported[] {
  const { program, checker: tc } = checker();
  const sf = program.getSourceFile(file);
  assert.ok(sf, `${path.relative(root, file)}: not part of the program`);
  const mod = tc.getSymbolAtLocation(sf);
  assert.ok(mod, `${path.relative(root, file)}: not a module`);
  return tc.getExportsOfModule(mod).map((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? tc.getAliasedSymbol(s) : s;
    const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
    return { name: s.name, isValue, decl: target.declarations?.[0] };
  });
}

function jsDocOf(decl: ts.Declaration): { text: string; tags: string[] } {
  // A `const x = ...` carries its JSDoc on the variable statement.
  const node: ts.Node = ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? "").join("\n");
  const tags = docs.flatMap((d) => (d.tags ?? []).map((t) => t.tagName.text));
  return { text, tags };
}

const where = (decl: ts.Declaration) => {
  const sf = decl.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(decl.getStart());
  return `${path.relative(root, sf.fileName)}:${line + 1}`;
};

test("index.ts: a curated list of values, each with a doc comment and an @example", () => {
  const values = exportsOf(path.join(root, "src", "index.ts")).filter((e) => e.isValue);
  assert.ok(values.length >= 40, `only ${values.length} public values: is index.ts wired?`);
  assert.ok(
    values.length <= MAX_PUBLIC_VALUES,
    `${values.length} public values exported from src/index.ts (at most ${MAX_PUBLIC_VALUES}): move the rest to a subpath`,
  );
  const problems: string[] = [];
  for (const v of values) {
    if (!v.decl) {
      problems.push(`${v.name}: no declaration found`);
      continue;
    }
    const doc = jsDocOf(v.decl);
    if (doc.text.trim().length < 10) problems.push(`${where(v.decl)} ${v.name}: no doc comment`);
    if (!doc.tags.includes("example")) problems.push(`${where(v.decl)} ${v.name}: no @example in its doc comment`);
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});

test("package.json: exports and typesVersions offer the same subpaths, each backed by src/<folder>/index.ts", () => {
  assert.deepEqual(pkg.exports["."], { types: "./dist/index.d.ts", default: "./dist/index.js" });
  const subs = subpaths();
  assert.ok(
    Object.keys(subs).length >= 5,
    "package.json exports: expected subpaths such as ./lora, ./sizing, ./course",
  );
  const typesMap = pkg.typesVersions?.["*"] ?? {};
  for (const [sub, key] of Object.entries(subs)) {
    assert.deepEqual(
      pkg.exports[key],
      { types: `./dist/${sub}/index.d.ts`, default: `./dist/${sub}/index.js` },
      `package.json exports["${key}"]`,
    );
    assert.deepEqual(typesMap[sub], [`dist/${sub}/index.d.ts`], `package.json typesVersions["*"]["${sub}"]`);
    assert.ok(fs.existsSync(entrySource(sub)), `exports["${key}"]: src/${sub}/index.ts does not exist`);
  }
  for (const sub of Object.keys(typesMap)) assert.ok(sub in subs, `typesVersions["*"]["${sub}"] has no exports entry`);
});

test("notebooks import only public entry points, and only names those export", () => {
  const dir = path.join(root, "notebooks");
  const books = fs.readdirSync(dir).filter((f) => /^\d\d_.*\.ipynb$/.test(f));
  assert.ok(books.length >= 7);
  const cache = new Map<string, Set<string>>();
  const namesOf = (spec: string): Set<string> | undefined => {
    if (!cache.has(spec)) {
      const sub = spec === "tunebook" ? "" : spec.slice("tunebook/".length);
      if (sub && (!(sub in subpaths()) || PRIVATE_SUBPATHS.has(sub))) return undefined;
      const file = sub ? entrySource(sub) : path.join(root, "src", "index.ts");
      cache.set(spec, new Set(exportsOf(file).map((e) => e.name)));
    }
    return cache.get(spec);
  };
  const problems: string[] = [];
  for (const f of books) {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    nb.cells.forEach((cell: { cell_type: string; source: string | string[] }, i: number) => {
      if (cell.cell_type !== "code") return;
      const src = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
      const sf = ts.createSourceFile("cell.ts", src, ts.ScriptTarget.ES2022);
      for (const st of sf.statements) {
        if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
        const spec = st.moduleSpecifier.text;
        if (spec !== "tunebook" && !spec.startsWith("tunebook/")) continue;
        const names = namesOf(spec);
        if (!names) {
          problems.push(`${f} cell ${i + 1}: imports "${spec}", which is not a public entry point`);
          continue;
        }
        const bindings = st.importClause?.namedBindings;
        if (!bindings || !ts.isNamedImports(bindings)) continue;
        for (const el of bindings.elements) {
          const name = (el.propertyName ?? el.name).text;
          if (!names.has(name)) problems.push(`${f} cell ${i + 1}: "${name}" is not exported by "${spec}"`);
        }
      }
    });
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});
