// Data-size records (docs/recorded/data-size/*.json): a synthetic record validates, loads and plots (mean per
// size with min–max bars, every seed a dot, the baseline dashed, live points on top); each kind of bad field is
// one line naming the file and the field; curveStats computes mean, sample std, min and max per size.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  curveStats,
  dataSizeFigure,
  dataSizeRecordsDir,
  DataSizeRecordError,
  loadDataSizeRecords,
  validateDataSizeRecord,
} from "../../src/eval/data-size-records";

// Synthetic numbers: the format under test, not results of any run.
const row = (examples: number, seed: number, value: number) => ({
  examples,
  seed,
  steps: 60,
  value,
  trainLoss: 0.1,
  evalLoss: 0.5,
  seconds: 12.5,
});
const GOOD = () => ({
  format: "tunebook-data-size-record",
  version: 1,
  label: "synthetic",
  date: "2026-12-05",
  machine: { cpu: "Test CPU, 2 CPUs", cpus: 2, backend: "wasm (2 threads)", matmul: "OpenBLAS" },
  software: { node: "20", tfjs: "4", tunebook: "0" },
  method: "a test",
  task: "spam",
  model: "tiny",
  metric: "accuracy",
  testItems: 10,
  baseline: { name: "majority class", value: 0.5 },
  recipe: { lr: 0.002, batchSize: 8, maxLength: 128, warmupSteps: 6, epochs: 4, minSteps: 60, maxSteps: 400 },
  rows: [row(16, 0, 0.5), row(16, 1, 0.7), row(16, 2, 0.6), row(160, 0, 0.9), row(160, 1, 0.8), row(160, 2, 0.85)],
});

test("curveStats: mean, sample std, min and max per size, smallest size first", () => {
  const s = curveStats([
    { examples: 160, value: 0.9 },
    { examples: 16, value: 0.5 },
    { examples: 16, value: 0.7 },
    { examples: 16, value: 0.6 },
  ]);
  assert.deepEqual(
    s.map((p) => [p.examples, p.runs, p.min, p.max]),
    [
      [16, 3, 0.5, 0.7],
      [160, 1, 0.9, 0.9],
    ],
  );
  assert.ok(Math.abs(s[0].mean - 0.6) < 1e-12);
  assert.ok(Math.abs(s[0].std - 0.1) < 1e-12); // sqrt(((-0.1)² + 0.1² + 0²) / 2)
  assert.equal(s[1].std, 0); // one run: no spread
  assert.throws(() => curveStats([{ examples: 16, value: NaN }]), /rows\[0\]\.value/);
  assert.throws(() => curveStats([{ examples: 0, value: 1 }]), /rows\[0\]\.examples/);
});

test("validateDataSizeRecord: a good record passes; each bad field is one line naming the file and field", () => {
  assert.equal(validateDataSizeRecord(GOOD(), "x.json").rows.length, 6);
  const cases: [string, (r: any) => void, RegExp][] = [
    ["format", (r) => (r.format = "other"), /^x\.json: format: expected "tunebook-data-size-record"/],
    ["version", (r) => (r.version = 2), /^x\.json: version: expected 1/],
    ["date", (r) => (r.date = "yesterday"), /^x\.json: date: expected an ISO date/],
    ["machine.cpu", (r) => delete r.machine.cpu, /^x\.json: machine\.cpu: expected a non-empty string/],
    ["machine.cpus", (r) => (r.machine.cpus = 0), /^x\.json: machine\.cpus: expected an integer > 0/],
    ["software.tfjs", (r) => delete r.software.tfjs, /^x\.json: software\.tfjs: expected a version string/],
    ["metric", (r) => (r.metric = "bleu"), /^x\.json: metric: expected one of accuracy, exactMatch, f1/],
    ["baseline", (r) => (r.baseline = { name: "x", value: 2 }), /^x\.json: baseline: expected null or/],
    ["recipe.lr", (r) => (r.recipe.lr = 0), /^x\.json: recipe\.lr: expected a learning rate/],
    ["recipe.maxSteps", (r) => (r.recipe.maxSteps = 10), /^x\.json: recipe\.maxSteps: expected at least/],
    ["rows", (r) => (r.rows = []), /^x\.json: rows: expected a non-empty array/],
    ["rows[2].value", (r) => (r.rows[2].value = 1.5), /^x\.json: rows\[2\]\.value: expected a number in \[0, 1\]/],
    ["rows[1].seed", (r) => (r.rows[1].seed = 0), /^x\.json: rows\[1\]: expected one row per size and seed/],
    ["rows[0].evalLoss", (r) => (r.rows[0].evalLoss = -1), /^x\.json: rows\[0\]\.evalLoss: expected a number/],
  ];
  for (const [name, spoil, re] of cases) {
    const r = GOOD();
    spoil(r);
    assert.throws(
      () => validateDataSizeRecord(r, "x.json"),
      (e: Error) => e instanceof DataSizeRecordError && re.test(e.message) && !e.message.includes("\n"),
      name,
    );
  }
});

test("loadDataSizeRecords: reads a folder; a malformed file is one error naming the file and the field", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-ds-"));
  try {
    assert.deepEqual(loadDataSizeRecords(path.join(dir, "absent")), []);
    fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify(GOOD()));
    const [rec] = loadDataSizeRecords(dir);
    assert.equal(rec.file, path.join(dir, "a.json"));
    const bad = GOOD() as any;
    bad.rows[3].steps = 1.5;
    fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify(bad));
    assert.throws(
      () => loadDataSizeRecords(dir),
      (e: Error) =>
        e instanceof DataSizeRecordError &&
        e.message.startsWith(`${path.join(dir, "b.json")}: rows[3].steps: expected an integer > 0`) &&
        !e.message.includes("\n"),
    );
    fs.writeFileSync(path.join(dir, "b.json"), "{ not json");
    assert.throws(() => loadDataSizeRecords(dir), /b\.json: not valid JSON/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the shipped records (if any) follow the format", () => {
  for (const r of loadDataSizeRecords(dataSizeRecordsDir())) {
    assert.ok(new Set(r.rows.map((x) => x.seed)).size >= 1);
    assert.ok(r.rows.every((x) => x.examples <= 100_000));
  }
});

test("dataSizeFigure: seed dots, mean with min–max bars on a log x axis, baseline, live points", () => {
  const rec = validateDataSizeRecord(GOOD(), "x.json");
  const fig = dataSizeFigure(rec, { live: [{ examples: 16, value: 0.55 }], liveName: "mine" });
  assert.equal(fig.data.length, 4);
  const [dots, mean, base, live] = fig.data as any[];
  assert.deepEqual(dots.x, [16, 16, 16, 160, 160, 160]);
  assert.deepEqual(mean.x, [16, 160]);
  assert.ok(Math.abs(mean.y[0] - 0.6) < 1e-12 && Math.abs(mean.y[1] - 0.85) < 1e-12);
  assert.ok(Math.abs(mean.error_y.array[0] - 0.1) < 1e-12 && Math.abs(mean.error_y.arrayminus[1] - 0.05) < 1e-12);
  assert.match(mean.name, /recorded 2026-12-05 on Test CPU/);
  assert.deepEqual(base.y, [0.5, 0.5]);
  assert.deepEqual([live.name, live.x, live.y], ["mine", [16], [0.55]]);
  assert.equal((fig.layout as any).xaxis.type, "log");
  const noBase = dataSizeFigure({ ...rec, baseline: null });
  assert.equal(noBase.data.length, 2);
});
