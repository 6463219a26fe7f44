// `tunebook data validate|stats|list` (src/cli/data.ts), called through its `run` with console output captured.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "../../src/cli/data";
import { UsageError } from "../../src/cli/args";
import { dataDir } from "../../src/data/datasets";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await run(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test("validate passes the shipped datasets and prints counts", async () => {
  const files = ["spam", "docs-qa", "email-subject"].map((n) => path.join(dataDir(n), "test.jsonl"));
  const r = await cli("validate", ...files);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, "");
  assert.match(r.out, /spam\/test\.jsonl: OK — \d+ records, schema classification/);
  assert.match(r.out, /docs-qa\/test\.jsonl: OK — \d+ records, schema qa/);
  assert.match(r.out, /email-subject\/test\.jsonl: OK — \d+ records, schema extraction/);
});

test("validate on a broken copy names the bad line and field, and exits 1", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-cli-data-"));
  const lines = fs.readFileSync(path.join(dataDir("docs-qa"), "test.jsonl"), "utf8").split("\n");
  const rec = JSON.parse(lines[6]);
  delete rec.answer;
  lines[6] = JSON.stringify(rec); // line 7: missing answer
  lines[11] = lines[11].slice(0, 20); // line 12: cut JSON
  const file = path.join(dir, "broken.jsonl");
  fs.writeFileSync(file, lines.join("\r\n")); // CRLF too: accepted
  const strict = await cli("validate", file, "--schema", "qa");
  assert.equal(strict.code, 1);
  assert.match(strict.err, /broken\.jsonl:7: missing field "answer"/);
  assert.doesNotMatch(strict.err, /broken\.jsonl:12:/); // strict stops at the first
  const lenient = await cli("validate", file, "--lenient");
  assert.equal(lenient.code, 1);
  assert.match(lenient.err, /broken\.jsonl:7: missing field "answer"/);
  assert.match(lenient.err, /broken\.jsonl:12: invalid JSON/);
  assert.match(lenient.err, /2 bad line\(s\) of \d+; \d+ good record\(s\) kept/);
  const json = await cli("validate", file, "--lenient", "--json");
  const [res] = JSON.parse(json.out);
  assert.equal(res.ok, false);
  assert.deepEqual(
    res.issues.filter((i: any) => i.severity === "error").map((i: any) => [i.line, i.field ?? null]),
    [
      [7, "answer"],
      [12, null],
    ],
  );
  assert.ok(res.crlfLines > 0);
  // a wrong label set
  const spamFile = path.join(dataDir("spam"), "test.jsonl");
  const labels = await cli("validate", spamFile, "--schema", "classification", "--labels", "ham,junk");
  assert.equal(labels.code, 1);
  assert.match(labels.err, /test\.jsonl:\d+: field "label": expected one of "ham", "junk", found "spam"/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("stats and list; usage errors", async () => {
  const s = await cli("stats", path.join(dataDir("spam"), "train.jsonl"));
  assert.equal(s.code, 0);
  assert.match(s.out, /labels: ham \d+, spam \d+; majority-class rate 50\.0 %/);
  const l = await cli("list", "--json");
  assert.deepEqual(
    JSON.parse(l.out).map((d: any) => d.name),
    ["spam", "docs-qa", "email-subject"],
  );
  await assert.rejects(cli("validate"), UsageError);
  await assert.rejects(cli("validate", "x.jsonl", "--schema", "poem"), /--schema must be one of/);
  await assert.rejects(cli("frobnicate"), /unknown subcommand "frobnicate"/);
  const missing = await cli("validate", "/nonexistent/file.jsonl");
  assert.equal(missing.code, 1);
  assert.match(missing.err, /\/nonexistent\/file\.jsonl: cannot read the file/);
});
