// Size-sweep records (docs/recorded/size-sweep/*.json): a synthetic record validates and plots (metric vs
// parameters on a log axis, the task's target dashed), each kind of bad field is one line naming the file and the
// field, and with no records the figure and the Markdown say so instead of inventing a curve.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  loadSizeRecords,
  NO_SIZE_SWEEP,
  sizeFigure,
  sizeMarkdown,
  sizeRecordsDir,
  SizeRecordError,
  validateSizeRecord,
} from "../../src/eval/size-records";

const sample = (k: number) => ({ input: `Subject: hello ${k}`, expected: `hello ${k}`, output: `hello ${k}!` });
// Synthetic numbers: the format under test, not results of any run.
const GOOD = () => ({
  format: "tunebook-size-record",
  version: 1,
  label: "synthetic",
  date: "2026-12-05",
  machine: { gpu: "none (synthetic)" },
  software: { torch: "0", transformers: "0", tunebook: "0" },
  method: "a test",
  recipe: { lr: 0.002, numSteps: 100, batchSize: 8, maxLength: 128, lora: null },
  models: [
    { name: "big", parameters: 20_000_000 },
    { name: "small", parameters: 2_000_000 },
  ],
  results: [
    {
      model: "big",
      task: "email-subject",
      testItems: 64,
      exactMatch: 0.5,
      f1: 0.7,
      accuracy: null,
      perplexity: 3.1,
      samples: [sample(1), sample(2), sample(3)],
    },
    {
      model: "small",
      task: "email-subject",
      testItems: 64,
      exactMatch: 0.1,
      f1: 0.3,
      accuracy: null,
      perplexity: 9.5,
      samples: [sample(4), sample(5), sample(6)],
    },
    {
      model: "small",
      task: "spam",
      testItems: 96,
      exactMatch: 0.8,
      f1: 0.8,
      accuracy: 0.8,
      perplexity: null,
      samples: [sample(7), sample(8), sample(9)],
    },
  ],
});

test("a good record validates; the figure plots metric vs parameters (log x), smallest first, with the target", () => {
  const r = validateSizeRecord(GOOD(), "r.json");
  const fig = sizeFigure([r], "email-subject");
  assert.equal((fig.layout.xaxis as any).type, "log");
  assert.deepEqual(fig.data[0].x, [2_000_000, 20_000_000]);
  assert.deepEqual(fig.data[0].y, [0.1, 0.5]);
  assert.deepEqual(fig.data[1].y, [0.6, 0.6], "extraction's target, 60 % exact match");
  assert.equal(
    sizeFigure([r], "email-subject", { metric: "perplexity" }).data.length,
    1,
    "no target line for another metric",
  );
  assert.deepEqual(sizeFigure([r], "spam").data[0].y, [0.8]);
  const md = sizeMarkdown([r]);
  assert.match(
    md,
    /\| email-subject \| small \| 2,000,000 \| 10\.0 % \| 0\.30 \| – \| 9\.50 \| hello 4! \(expected hello 4\) \|/,
  );
  assert.ok(md.indexOf("| email-subject | small") < md.indexOf("| email-subject | big"), "smallest first");
});

test("no records: an empty figure and Markdown that say so; the shipped folder holds only real records", () => {
  const fig = sizeFigure([], "docs-qa");
  assert.deepEqual(fig.data, []);
  assert.match((fig.layout.title as any).text, new RegExp(NO_SIZE_SWEEP));
  assert.match((fig.layout.annotations as any)[0].text, /^no recorded size sweep yet/);
  assert.match(sizeMarkdown([]), /^\*no recorded size sweep yet\*/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-size-"));
  try {
    assert.deepEqual(loadSizeRecords(path.join(dir, "absent")), []);
    assert.deepEqual(loadSizeRecords(dir), []);
    fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify(GOOD()));
    fs.writeFileSync(path.join(dir, "README.md"), "the format");
    const recs = loadSizeRecords(dir);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].file, path.join(dir, "a.json"));
    fs.writeFileSync(path.join(dir, "b.json"), "{ nope");
    assert.throws(() => loadSizeRecords(dir), /b\.json: not valid JSON/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  loadSizeRecords(sizeRecordsDir()); // whatever is committed there validates
});

test("each kind of bad field: one line naming the file and the field", () => {
  const cases: [(r: any) => void, RegExp][] = [
    [(r) => (r.format = "tunebook-scaling-record"), /^r\.json: format: expected "tunebook-size-record"/],
    [(r) => (r.version = 2), /^r\.json: version: expected 1, found 2$/],
    [(r) => (r.date = "soon"), /^r\.json: date: expected an ISO date string, found "soon"$/],
    [(r) => (r.machine = {}), /^r\.json: machine\.gpu: expected a non-empty string naming the accelerator/],
    [(r) => delete r.software.transformers, /^r\.json: software\.transformers: expected a version string/],
    [(r) => (r.recipe.lr = 2), /^r\.json: recipe\.lr: expected a learning rate in \(0, 1\), found 2$/],
    [(r) => (r.recipe.numSteps = 0), /^r\.json: recipe\.numSteps: expected an integer > 0, found 0$/],
    [(r) => (r.models[1].name = "big"), /^r\.json: models\[1\]\.name: expected a name not listed before/],
    [
      (r) => (r.models[0].parameters = "20M"),
      /^r\.json: models\[0\]\.parameters: expected an integer > 0, found "20M"$/,
    ],
    [
      (r) => (r.results[0].model = "huge"),
      /^r\.json: results\[0\]\.model: expected one of models\[\]\.name \(big, small\), found "huge"$/,
    ],
    [
      (r) => (r.results[0].task = "translation"),
      /^r\.json: results\[0\]\.task: expected one of email-subject, spam, docs-qa/,
    ],
    [(r) => (r.results[1].model = "big"), /^r\.json: results\[1\]: expected one result per model and task/],
    [(r) => (r.results[0].testItems = 0), /^r\.json: results\[0\]\.testItems: expected an integer > 0/],
    [(r) => (r.results[0].f1 = 1.5), /^r\.json: results\[0\]\.f1: expected a number in \[0, 1\] or null, found 1\.5$/],
    [
      (r) => (r.results[0].perplexity = 0),
      /^r\.json: results\[0\]\.perplexity: expected a number > 0 or null, found 0$/,
    ],
    [
      (r) => (r.results[2].accuracy = null),
      /^r\.json: results\[2\]\.accuracy: expected a number \(spam is judged by accuracy\), found null$/,
    ],
    [(r) => r.results[0].samples.pop(), /^r\.json: results\[0\]\.samples: expected three sample answers, found 2$/],
    [
      (r) => (r.results[0].samples[1].output = 7),
      /^r\.json: results\[0\]\.samples\[1\]\.output: expected a string, found 7$/,
    ],
    [(r) => (r.results = []), /^r\.json: results: expected a non-empty array/],
  ];
  for (const [edit, re] of cases) {
    const r = GOOD();
    edit(r);
    assert.throws(
      () => validateSizeRecord(r, "r.json"),
      (e: Error) => (
        assert.ok(e instanceof SizeRecordError), assert.match(e.message, re), assert.ok(!e.message.includes("\n")), true
      ),
    );
  }
});
