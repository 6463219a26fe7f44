import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  cpuRecordPoints,
  cpuRecordedDir,
  CpuRecordError,
  loadCpuRecords,
  validateCpuRecord,
} from "../../src/scaling/cpu-records";

const good = () => ({
  format: "tunebook-cpu-scaling-record",
  version: 1,
  label: "tunebook on Test CPU",
  date: "2026-12-05T16:00:00Z",
  machine: { cpu: "Test CPU (TestVendor family 1 model 2), 2 CPUs", cores: 2 },
  backend: "wasm",
  matmul: "OpenBLAS 0.3.21 (Cooperlake), 2 threads",
  precision: "fp32",
  software: { node: "20.20.2", tfjs: "4.22.0" },
  method: "measureScaling, 1 warm-up, 3 timed",
  loadAverage: { before: [1, 1, 1], after: [2, 1.5, 1.2] },
  rows: [
    {
      model: "pythia-14m",
      params: 14067712,
      flopParams: 7628800,
      batch: 8,
      seq: 512,
      warmupSteps: 1,
      stepSecondsAll: [8, 6, 7],
      loadAverage1m: [2, 2.1, 2.2],
      firstLoss: 10.9,
    },
    {
      model: "pythia-160m",
      params: 162322944,
      flopParams: 123689472,
      batch: 8,
      seq: 512,
      warmupSteps: 1,
      stepSecondsAll: [],
      loadAverage1m: [],
      firstLoss: null,
      error: "out of memory",
    },
  ],
});

function withDir(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cpu-rec-"));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("a good CPU record loads; its measured rows become points (the error row left out)", () => {
  withDir({ "a.json": JSON.stringify(good()), "README.md": "# not a record" }, (dir) => {
    const recs = loadCpuRecords(dir);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].file, path.join(dir, "a.json"));
    const pts = cpuRecordPoints(recs[0]);
    assert.equal(pts.length, 1);
    assert.equal(pts[0].tokensPerSecond, 4096 / 7);
    assert.equal(pts[0].tokensPerSecondBest, 4096 / 6);
    assert.equal(pts[0].source, "recorded");
    assert.match(pts[0].series, /Test CPU \(family 1 model 2\), 2 cores · tunebook wasm \+ OpenBLAS 0\.3\.21/);
    assert.match(pts[0].series, /B×T 8×512 \(recorded 2026-12-05\)/);
  });
});

test("a malformed CPU record is one error naming the file and the field", () => {
  const cases: [(r: any) => void, RegExp][] = [
    [(r) => (r.format = "x"), /bad\.json: format: expected "tunebook-cpu-scaling-record"/],
    [(r) => delete r.machine.cpu, /bad\.json: machine\.cpu: expected a string naming the CPU/],
    [(r) => (r.loadAverage.after = [1]), /bad\.json: loadAverage\.after: expected three numbers/],
    [(r) => (r.rows[0].stepSecondsAll[2] = -1), /bad\.json: rows\[0\]\.stepSecondsAll\[2\]: expected a number > 0/],
    [(r) => (r.rows[0].loadAverage1m = [1]), /bad\.json: rows\[0\]\.loadAverage1m: expected an array as long as/],
    [(r) => (r.rows[0].flopParams = 2e8), /bad\.json: rows\[0\]\.flopParams: expected at most params/],
    [(r) => (r.rows[1].error = undefined), /bad\.json: rows\[1\]\.stepSecondsAll: expected at least one step/],
    [(r) => (r.rows[0].batch = 1.5), /bad\.json: rows\[0\]\.batch: expected an integer ≥ 1/],
  ];
  for (const [spoil, msg] of cases) {
    const r = good();
    spoil(r);
    withDir({ "bad.json": JSON.stringify(r) }, (dir) => {
      assert.throws(
        () => loadCpuRecords(dir),
        (e: Error) => e instanceof CpuRecordError && msg.test(e.message),
      );
    });
  }
  withDir({ "bad.json": "{ nope" }, (dir) => assert.throws(() => loadCpuRecords(dir), /bad\.json: not valid JSON/));
  assert.throws(() => validateCpuRecord([], "x.json"), /x\.json: expected a JSON object/);
});

test("the shipped CPU records load (an absent folder gives none)", () => {
  assert.deepEqual(loadCpuRecords(path.join(os.tmpdir(), "no-such-cpu-records")), []);
  for (const rec of loadCpuRecords(cpuRecordedDir())) {
    assert.ok(rec.rows.length > 0);
    for (const p of cpuRecordPoints(rec)) assert.ok(p.tokensPerSecond > 0 && p.seconds.n >= 1);
  }
});
