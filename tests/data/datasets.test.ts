// The shipped datasets in data/: they validate, their counts and schemas are what meta.json and the
// datasheets say, the splits are disjoint, and the build script reproduces them byte for byte.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import {
  loadDataset,
  loadDatasetSync,
  dataDir,
  DATASETS,
  DATASET_NAMES,
  datasetTemplate,
} from "../../src/data/datasets";
import { readJsonl } from "../../src/data/jsonl";
import { datasetStats } from "../../src/data/stats";
import { tokenizeDataset } from "../../src/data/prepare";
import { loadTokenizer } from "../../src/tokenizer";
import { FIXTURES } from "../helpers/backend";

const ROOT = path.resolve(__dirname, "..", "..");
const FILES = ["train.jsonl", "test.jsonl", "meta.json", "datasheet.md"];

test("every shipped dataset validates strictly, with no warnings, and matches meta.json", async () => {
  for (const name of DATASET_NAMES) {
    const info = DATASETS[name];
    const dir = dataDir(name);
    for (const f of FILES) assert.ok(fs.existsSync(path.join(dir, f)), `${name}/${f} exists`);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8"));
    for (const split of ["train", "test"] as const) {
      const r = await readJsonl(path.join(dir, `${split}.jsonl`), { schema: info.schema, labels: info.labels });
      assert.equal(r.issues.length, 0, `${name}/${split}: ${r.issues.map((i) => i.message).join("; ")}`);
      assert.equal(r.records.length, meta.counts[split], `${name}/${split} count`);
      assert.equal(r.totalLines, r.records.length);
    }
    assert.equal(meta.schema, info.schema);
    const total = meta.counts.train + meta.counts.test;
    assert.ok(Math.abs(meta.counts.test / total - 0.1) < 0.01, `${name}: a 90/10 split`);
    const sheet = fs.readFileSync(path.join(dir, "datasheet.md"), "utf8");
    assert.ok(sheet.includes("npx tsx scripts/build-datasets.ts"), `${name}: the datasheet names the build command`);
    assert.ok(sheet.includes(String(meta.counts.train)), `${name}: the datasheet gives the train count`);
    assert.match(sheet, /## Source and license[\s\S]*(Apache-2\.0|PDDL)/);
  }
});

test("train and test are disjoint, and ids are unique", async () => {
  for (const name of DATASET_NAMES) {
    const ds = await loadDataset(name);
    const ids = [...ds.train, ...ds.test].map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, `${name}: unique ids`);
    const key = (r: Record<string, unknown>) => JSON.stringify([r.question ?? r.text, r.answer ?? r.label]);
    const train = new Set(ds.train.map(key));
    assert.equal(ds.test.filter((r) => train.has(key(r))).length, 0, `${name}: no test item is also in train`);
  }
});

test("spam: balanced ham/spam in both splits, texts short enough for a small model", async () => {
  const ds = loadDatasetSync("spam");
  for (const part of [ds.train, ds.test]) {
    const s = datasetStats(part, "classification");
    assert.deepEqual(Object.keys(s.labels!).sort(), ["ham", "spam"]);
    assert.equal(s.majorityRate, 0.5);
    assert.ok(s.chars.text.max <= 400);
  }
  assert.ok(ds.train.length + ds.test.length >= 3000);
  assert.equal(datasetTemplate("spam").render(ds.test[0]).completion, ds.test[0].label);
});

test("docs-qa: at least 1,000 pairs, short answers, provenance on every pair", async () => {
  const ds = await loadDataset<{ question: string; answer: string; provenance: { file: string; rule: string } }>(
    "docs-qa",
  );
  assert.ok(ds.train.length + ds.test.length >= 1000);
  for (const r of [...ds.train, ...ds.test]) {
    assert.ok(r.answer.length <= 360, r.question);
    assert.match(r.provenance.file, /^mathjs\/docs\/.+\.md$/);
    assert.ok(r.provenance.rule);
  }
  assert.match(ds.template.render(ds.train[0]).prompt, /^### Question:\n[\s\S]+\n\n### Answer:\n$/);
});

test("email-subject: every answer is read verbatim from its input, and inputs are short", async () => {
  const ds = await loadDataset<{ text: string; answer: string }>("email-subject");
  for (const r of [...ds.train, ...ds.test]) {
    assert.ok(
      r.text.split("\n").includes(`Subject: ${r.answer}`) ||
        r.text.split("\n").some((l) => /^subject: /i.test(l) && l.slice(9) === r.answer),
      r.answer,
    );
    assert.ok(r.text.length < 600, `input of ${r.answer} is ${r.text.length} chars`);
  }
  const trainSubjects = new Set(ds.train.map((r) => r.answer.toLowerCase()));
  assert.equal(
    ds.test.filter((r) => trainSubjects.has(r.answer.toLowerCase())).length,
    0,
    "no test subject is seen in training",
  );
});

test("email-subject and docs-qa test items fit a small model's context: under 200 Pythia tokens with the template", async () => {
  const tok = await loadTokenizer(path.join(FIXTURES, "pythia", "20B_tokenizer.json"));
  for (const name of ["email-subject", "docs-qa"]) {
    const ds = loadDatasetSync(name);
    const { examples, stats } = tokenizeDataset(ds.template, tok, ds.test);
    assert.ok(stats.maxTokens < 200, `${name}: longest test item is ${stats.maxTokens} tokens`);
    assert.ok(
      examples.every((e) => e.completionLength >= 2),
      `${name}: every answer has a token besides EOS`,
    );
  }
});

test("data/ (the datasets) stays under 12 MB", () => {
  let bytes = 0;
  for (const name of DATASET_NAMES) for (const f of FILES) bytes += fs.statSync(path.join(dataDir(name), f)).size;
  assert.ok(bytes < 12 * 1024 * 1024, `${(bytes / 1e6).toFixed(1)} MB`);
});

test("the build script reproduces the committed files byte for byte", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-datasets-"));
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "scripts", "build-datasets.ts"), "--out", out],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  for (const name of DATASET_NAMES)
    for (const f of FILES)
      assert.ok(
        fs.readFileSync(path.join(out, name, f)).equals(fs.readFileSync(path.join(dataDir(name), f))),
        `${name}/${f} differs from a fresh build`,
      );
  fs.rmSync(out, { recursive: true, force: true });
});
