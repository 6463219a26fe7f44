/**
 * The layers of ../shared/DESIGN.md, enforced: every src file belongs to a layer (its top-level folder), a file
 * may import its own layer or a lower one, `display` is a leaf that only the course, the tools, the CLI and
 * index.ts may import, no import cycle joins files, and no CLI command file imports another command's file.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { cycles, importEdges, type ImportEdge, ROOT, SRC, sourceFiles } from "./imports";

/**
 * Lowest first; a layer may import itself and anything before it. Why this order where the drawing is silent:
 * - sizing sits above model: the calculator reads the model presets and configs (sizing/models.ts, shape.ts).
 * - export sits above pipeline: the job it writes is the task `loadTask` builds (export/export.ts), and nothing
 *   in the library imports export.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["types"], // shared types and constants every layer may use
  ["runtime", "kernels"],
  ["tokenizer", "hub"],
  ["data"],
  ["model"],
  ["sizing"],
  ["train"],
  ["lora"],
  ["eval", "scaling"],
  ["pipeline"],
  ["export"],
  ["course"],
  ["tools"],
  ["cli", "cli.ts"],
];

/** The leaf that draws: it imports nothing of the library, and only these may import it. */
const DISPLAY = "display";
const DISPLAY_USERS = new Set(["course", "tools", "cli", "cli.ts", "index.ts"]);
/** The curated public API: may import anything, nothing imports it. */
const INDEX = "index.ts";

/**
 * Imports allowed to break a rule, each with the reason it must (none today). The check skips each listed
 * import, and fails when one no longer breaks a rule (or no longer exists): delete it from here then.
 */
const KNOWN_VIOLATIONS: readonly { from: string; to: string; removedBy: string }[] = [];

/** A file's layer: its top-level folder under src/, or its own name for src/index.ts and src/cli.ts. */
function layerOf(file: string): string {
  return path.relative(SRC, path.join(ROOT, file)).split(path.sep)[0];
}

const RANK = new Map<string, number>(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as [string, number])));

function known(e: ImportEdge): boolean {
  return KNOWN_VIOLATIONS.some((k) => k.from === e.from && k.to === e.to);
}

/** Why `e` breaks a layer rule, or undefined when it keeps them. */
function layerOffence(e: ImportEdge): string | undefined {
  const a = layerOf(e.from);
  const b = layerOf(e.to!);
  if (a === INDEX || a === b) return undefined;
  if (b === INDEX) return `${a} -> index.ts (import the module itself)`;
  if (b === DISPLAY)
    return DISPLAY_USERS.has(a) ? undefined : `${a} -> display (only ${[...DISPLAY_USERS].join(", ")} draw)`;
  if (a === DISPLAY) return b === "types" ? undefined : `display -> ${b} (display is a leaf)`;
  return RANK.get(a)! < RANK.get(b)! ? `${a} -> ${b} (upward)` : undefined;
}

const FILES = sourceFiles();
const EDGES = importEdges(FILES);

test("every top-level entry of src/ has a place in the layer table", () => {
  const placed = new Set([...RANK.keys(), DISPLAY, INDEX]);
  const unknown = fs
    .readdirSync(SRC)
    .filter((n) => !placed.has(n))
    .map((n) => `src/${n}: not in the layer table of tests/architecture/layers.test.ts; place it there`);
  assert.deepEqual(unknown, []);
});

test("every relative import in src/ resolves to a file", () => {
  const lost = EDGES.filter((e) => e.to === undefined).map((e) => `${e.from}:${e.line}: "${e.specifier}" is no file`);
  assert.deepEqual(lost, []);
});

test("no import goes up a layer, and display is imported only by course, tools, cli and index.ts", () => {
  const offences = EDGES.filter((e) => e.to !== undefined && !known(e)).flatMap((e) => {
    const why = layerOffence(e);
    return why ? [`${e.from}:${e.line}: ${why}: imports ${e.to}`] : [];
  });
  assert.deepEqual(offences, [], `\n${offences.join("\n")}`);
});

test("no import cycle joins files of src/", () => {
  const graph = new Map<string, Set<string>>();
  for (const e of EDGES) {
    if (e.to === undefined || known(e)) continue;
    if (!graph.has(e.from)) graph.set(e.from, new Set());
    graph.get(e.from)!.add(e.to);
  }
  const found = cycles(FILES, graph).map((c) => `cycle: ${c.join(" -> ")}`);
  assert.deepEqual(found, [], `\n${found.join("\n")}`);
});

test("every KNOWN_VIOLATIONS entry still breaks a rule (else delete it)", () => {
  const all = new Map<string, Set<string>>();
  for (const e of EDGES) {
    if (e.to === undefined) continue;
    if (!all.has(e.from)) all.set(e.from, new Set());
    all.get(e.from)!.add(e.to);
  }
  // An import from a to b closes a cycle exactly when b reaches a.
  const stale = KNOWN_VIOLATIONS.filter((k) => {
    const edge = EDGES.find((e) => e.from === k.from && e.to === k.to);
    return edge === undefined || (layerOffence(edge) === undefined && !reaches(all, k.to, k.from));
  }).map((k) => `${k.from} -> ${k.to} (${k.removedBy}): no longer imported or no longer an offence`);
  assert.deepEqual(stale, []);
});

/** Whether `to` is reachable from `from`. */
function reaches(graph: Map<string, Set<string>>, from: string, to: string): boolean {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length) {
    const v = queue.shift()!;
    if (v === to) return true;
    for (const w of graph.get(v) ?? []) if (!seen.has(w)) seen.add(w), queue.push(w);
  }
  return false;
}

test("no CLI command file imports another command's file (shared bits live in cli/args.ts, cli/common.ts, ...)", () => {
  const cli = fs.readFileSync(path.join(SRC, "cli.ts"), "utf8");
  const commands = new Set([...cli.matchAll(/import\("\.\/cli\/([\w-]+)"\)/g)].map((m) => `src/cli/${m[1]}.ts`));
  assert.ok(commands.size > 5, 'src/cli.ts lists its commands as import("./cli/<name>")');
  const offences = EDGES.filter((e) => commands.has(e.from) && e.to !== e.from && commands.has(e.to!)).map(
    (e) =>
      `${e.from}:${e.line}: a command imports another command's file ${e.to}; move the shared part to cli/common.ts`,
  );
  assert.deepEqual(offences, []);
});
