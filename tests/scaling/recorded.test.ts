import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadRecordings, recordedDir, RecordingError, validateRecording } from "../../src/scaling/recorded";

const good = () => ({
  format: "tunebook-scaling-record",
  version: 1,
  label: "PyTorch on Test GPU",
  framework: "pytorch",
  date: "2026-01-02T03:04:05Z",
  machine: { gpu: "Test GPU" },
  software: { torch: "2.0" },
  method: "median of 3",
  rows: [
    {
      model: "pythia-70m",
      params: 70426624,
      precision: "fp32",
      batch: 8,
      seq: 512,
      stepSeconds: 0.03,
      tokensPerSecond: 1e5,
      peakMemoryBytes: 4e9,
    },
    {
      model: "pythia-12b",
      params: null,
      precision: "fp32",
      batch: 8,
      seq: 512,
      stepSeconds: null,
      tokensPerSecond: null,
      peakMemoryBytes: null,
      error: "out of memory",
    },
  ],
});

test("validateRecording accepts a good file and names the bad field otherwise", () => {
  assert.equal(validateRecording(good(), "g.json").label, "PyTorch on Test GPU");
  const cases: [(x: any) => void, RegExp][] = [
    [(x) => (x.format = "other"), /g\.json: format: expected "tunebook-scaling-record"/],
    [(x) => (x.version = 2), /version: expected 1/],
    [(x) => delete x.machine.gpu, /machine\.gpu: expected a non-empty string/],
    [(x) => (x.date = "yesterday"), /date: expected an ISO date/],
    [(x) => (x.rows = []), /rows: expected a non-empty array/],
    [(x) => (x.rows[0].stepSeconds = -1), /rows\[0\]\.stepSeconds: expected a number ≥ 0 or null/],
    [(x) => (x.rows[0].stepSeconds = null), /rows\[0\]\.stepSeconds: expected a number > 0 \(or an `error`/],
    [(x) => (x.rows[1].batch = 0), /rows\[1\]\.batch: expected an integer ≥ 1/],
    [(x) => (x.software = { torch: 2 }), /software: expected an object of version strings/],
  ];
  for (const [mutate, re] of cases) {
    const x = good();
    mutate(x);
    assert.throws(
      () => validateRecording(x, "g.json"),
      (e: any) => e instanceof RecordingError && re.test(e.message),
      String(re),
    );
  }
});

test("loadRecordings: a missing folder gives [], a broken file names itself", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rec-"));
  try {
    assert.deepEqual(loadRecordings(path.join(dir, "none")), []);
    fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify(good()));
    const recs = loadRecordings(dir);
    assert.equal(recs.length, 1);
    assert.equal(recs[0].file, path.join(dir, "a.json"));
    fs.writeFileSync(path.join(dir, "b.json"), "{ not json");
    assert.throws(() => loadRecordings(dir), /b\.json: not valid JSON/);
    const bad = good() as any;
    bad.rows[0].model = "";
    fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify(bad));
    assert.throws(() => loadRecordings(dir), /b\.json: rows\[0\]\.model/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the recordings shipped in docs/recorded are valid", () => {
  for (const r of loadRecordings(recordedDir())) assert.ok(r.rows.length > 0 && r.machine.gpu, r.file);
});
