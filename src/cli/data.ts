/**
 * `tunebook data <subcommand>`: check and describe JSONL datasets.
 *
 *   tunebook data validate FILE... [--schema qa|instruction|classification|extraction|auto] [--labels a,b]
 *                          [--lenient] [--max-line-bytes N] [--json]
 *   tunebook data stats FILE [--schema S] [--json]
 *   tunebook data list [--json]
 *
 * `validate` exits 1 when a file has an error: strict mode (the default) reports the first, `--lenient` every
 * one; each message is `FILE:LINE: field "x": expected …`. When every file is clean it prints the counts.
 */
import { parseArgs, str, int, bool, UsageError } from "./args";
import { readJsonl, formatIssue, JsonlError, type JsonlResult } from "../data/jsonl";
import { isSchemaName, SCHEMA_NAMES, type SchemaName } from "../data/schema";
import { datasetStats } from "../data/stats";
import { DATASETS, dataDir } from "../data/datasets";
import * as fs from "node:fs";
import * as path from "node:path";

const USAGE = `usage: tunebook data validate FILE... [--schema ${SCHEMA_NAMES.join("|")}|auto] [--labels a,b] [--lenient] [--max-line-bytes N] [--json]
       tunebook data stats FILE [--schema S] [--json]
       tunebook data list [--json]`;

/** Print at most this many issues per file (the JSON output has them all). */
const MAX_PRINTED = 50;

function schemaFlag(v: string | undefined): SchemaName | "auto" {
  if (v === undefined || v === "auto") return "auto";
  if (!isSchemaName(v))
    throw new UsageError(
      `tunebook data: --schema must be one of ${SCHEMA_NAMES.join(", ")}, auto; got ${JSON.stringify(v)}`,
    );
  return v;
}

async function validate(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { values: ["schema", "labels", "max-line-bytes"], booleans: ["lenient", "json", "help"] },
    "tunebook data validate",
  );
  if (bool(p, "help")) return (console.log(USAGE), 0);
  if (!p.positional.length) throw new UsageError(`tunebook data validate: give a FILE\n${USAGE}`);
  const schema = schemaFlag(str(p, "schema"));
  const labels = str(p, "labels")
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const maxLineBytes = int(p, "max-line-bytes");
  const mode = bool(p, "lenient") ? "lenient" : "strict";
  const results: {
    file: string;
    ok: boolean;
    result?: JsonlResult;
    issues: ReturnType<typeof formatIssue>[];
    raw: JsonlError["issues"];
  }[] = [];
  for (const file of p.positional) {
    try {
      const r = await readJsonl(file, { schema, labels, mode, ...(maxLineBytes ? { maxLineBytes } : {}) });
      const errors = r.issues.filter((i) => i.severity === "error");
      results.push({ file, ok: errors.length === 0, result: r, issues: r.issues.map(formatIssue), raw: r.issues });
    } catch (e) {
      if (!(e instanceof JsonlError)) throw e;
      results.push({
        file,
        ok: false,
        issues: e.issues.map((i) => (i.line > 0 ? formatIssue(i) : `${i.file}: ${i.message}`)),
        raw: e.issues,
      });
    }
  }
  if (bool(p, "json")) {
    console.log(
      JSON.stringify(
        results.map((x) => ({
          file: x.file,
          ok: x.ok,
          mode,
          schema: x.result?.schema,
          records: x.result?.records.length,
          totalLines: x.result?.totalLines,
          badLines: x.result?.badLines,
          blankLines: x.result?.blankLines,
          crlfLines: x.result?.crlfLines,
          bom: x.result?.bom,
          issues: x.raw,
        })),
        null,
        2,
      ),
    );
  } else {
    for (const x of results) {
      const errs = x.raw.filter((i) => i.severity === "error");
      x.issues.slice(0, MAX_PRINTED).forEach((line) => console.error(line));
      if (x.issues.length > MAX_PRINTED)
        console.error(`${x.file}: … and ${x.issues.length - MAX_PRINTED} more (use --json for all)`);
      const r = x.result;
      if (x.ok && r) {
        const notes = [
          r.crlfLines ? `${r.crlfLines} CRLF line endings normalised` : "",
          r.bom ? "BOM ignored" : "",
          r.blankLines ? `${r.blankLines} blank lines skipped` : "",
        ].filter(Boolean);
        console.log(
          `${x.file}: OK — ${r.records.length} records, schema ${r.schema ?? "none"}${notes.length ? ` (${notes.join(", ")})` : ""}`,
        );
      } else if (r) {
        console.error(
          `${x.file}: ${r.badLines} bad line(s) of ${r.totalLines}; ${r.records.length} good record(s) kept (lenient mode)`,
        );
      } else if (errs.length) {
        console.error(`${x.file}: invalid (strict mode stops at the first error; --lenient reports every bad line)`);
      }
    }
  }
  return results.every((x) => x.ok) ? 0 : 1;
}

async function stats(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { values: ["schema"], booleans: ["json", "help"] }, "tunebook data stats");
  if (bool(p, "help")) return (console.log(USAGE), 0);
  if (p.positional.length !== 1) throw new UsageError(`tunebook data stats: give one FILE\n${USAGE}`);
  const r = await readJsonl(p.positional[0], { schema: schemaFlag(str(p, "schema")), mode: "lenient" });
  const s = datasetStats(r.records as Record<string, unknown>[], r.schema);
  const bad = r.issues.filter((i) => i.severity === "error").length;
  if (bool(p, "json")) console.log(JSON.stringify({ file: r.file, badLines: r.badLines, ...s }, null, 2));
  else {
    console.log(
      `${r.file}: ${s.records} records, schema ${s.schema ?? "none"}${bad ? ` (${r.badLines} bad lines skipped: run data validate --lenient)` : ""}`,
    );
    for (const [f, l] of Object.entries(s.chars))
      console.log(
        `  ${f.padEnd(12)} chars min ${l.min}  mean ${l.mean.toFixed(1)}  p50 ${l.p50}  p90 ${l.p90}  max ${l.max}`,
      );
    if (s.labels)
      console.log(
        `  labels: ${Object.entries(s.labels)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}; majority-class rate ${((s.majorityRate ?? 0) * 100).toFixed(1)} %`,
      );
  }
  return r.badLines ? 1 : 0;
}

function list(argv: string[]): number {
  const p = parseArgs(argv, { booleans: ["json", "help"] }, "tunebook data list");
  if (bool(p, "help")) return (console.log(USAGE), 0);
  const rows = Object.values(DATASETS).map((d) => {
    const metaFile = path.join(dataDir(d.name), "meta.json");
    const meta = fs.existsSync(metaFile) ? JSON.parse(fs.readFileSync(metaFile, "utf8")) : undefined;
    return {
      name: d.name,
      kind: d.kind,
      schema: d.schema,
      train: meta?.counts?.train,
      test: meta?.counts?.test,
      dir: dataDir(d.name),
      description: d.description,
    };
  });
  if (bool(p, "json")) console.log(JSON.stringify(rows, null, 2));
  else
    for (const r of rows)
      console.log(
        `${r.name.padEnd(14)} ${r.kind.padEnd(8)} ${r.schema.padEnd(15)} train ${r.train ?? "?"} test ${r.test ?? "?"}  ${r.description}`,
      );
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "validate":
      return validate(rest);
    case "stats":
      return stats(rest);
    case "list":
      return list(rest);
    case undefined:
    case "--help":
    case "-h":
    case "help":
      console.log(USAGE);
      return sub ? 0 : 2;
    default:
      throw new UsageError(`tunebook data: unknown subcommand ${JSON.stringify(sub)}\n${USAGE}`);
  }
}
