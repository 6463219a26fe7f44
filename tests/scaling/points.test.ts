import { test } from "node:test";
import * as assert from "node:assert/strict";
import { estimatePoints, fitThroughput, gpuRecordPoints, livePoints } from "../../src/scaling/points";
import { loadRecordings, type Recording } from "../../src/scaling/recorded";
import { gpuStepEstimates } from "../../src/scaling/fit";
import { getPreset } from "../../src/model/presets";
import { throughputPoint } from "../../src/scaling/throughput";
import type { ScalingResult, ScalingRow } from "../../src/scaling/measure";

const rec = (): Recording => ({
  format: "tunebook-scaling-record",
  version: 1,
  label: "PyTorch 2.0 on Test GPU",
  framework: "pytorch",
  date: "2026-11-26T00:00:00Z",
  machine: { gpu: "Test GPU" },
  software: { torch: "2.0" },
  method: "m",
  rows: [
    {
      model: "pythia-70m",
      params: 70426624,
      precision: "bf16-amp",
      batch: 8,
      seq: 512,
      stepSeconds: 0.02,
      stepSecondsAll: [0.01, 0.02, 0.04],
      tokensPerSecond: 204800,
      peakMemoryBytes: null,
    },
    {
      model: "pythia-160m",
      params: 162322944,
      precision: "bf16-amp",
      batch: 8,
      seq: 512,
      stepSeconds: 0.05,
      tokensPerSecond: 81920,
      peakMemoryBytes: null,
    },
    {
      model: "pythia-12b",
      params: null,
      precision: "bf16-amp",
      batch: 8,
      seq: 512,
      stepSeconds: null,
      tokensPerSecond: null,
      peakMemoryBytes: null,
      error: "out of memory",
    },
  ],
});

test("gpuRecordPoints: every kept step, else the median; labelled with GPU, framework, dtype, shape and date", () => {
  const pts = gpuRecordPoints(rec());
  assert.equal(pts.length, 2);
  assert.deepEqual(pts[0].seconds, { min: 0.01, median: 0.02, max: 0.04, n: 3 });
  assert.equal(pts[0].tokensPerSecond, 4096 / 0.02);
  assert.equal(pts[0].flopParams, 44670976);
  assert.equal(pts[1].seconds.n, 1);
  assert.equal(pts[0].series, "Test GPU · PyTorch 2.0 CUDA · bf16-amp · B×T 8×512 (recorded 2026-11-26)");
  const bad = rec();
  bad.rows[0].model = "my-model";
  assert.throws(() => gpuRecordPoints(bad), /rows\[0\]: model "my-model" is not a Pythia preset/);
});

test("the shipped GPU recordings become points whose tokens/s agree with the files' own", () => {
  for (const r of loadRecordings()) {
    for (const p of gpuRecordPoints(r)) {
      const row = r.rows.find((x) => x.model === p.model && x.precision === p.dtype)!;
      assert.ok(Math.abs(p.tokensPerSecond / row.tokensPerSecond! - 1) < 1e-9, `${r.label} ${p.model}`);
    }
  }
});

test("estimatePoints: the calculator's tokens/s, labelled as an estimate", () => {
  const ests = gpuStepEstimates([{ name: "pythia-70m", config: getPreset("70m") }], {
    gpus: ["h100-80gb"],
    batch: 8,
    seq: 512,
  });
  const [p] = estimatePoints(ests, { batch: 8, seq: 512, dtype: "bf16", mfu: 0.4 });
  assert.equal(p.source, "estimate");
  assert.ok(Math.abs(p.tokensPerSecond / ests[0].tokensPerSecond! - 1) < 1e-9);
  assert.match(p.series, /calculator at MFU 0\.4 · bf16 · B×T 8×512 \(estimate\)/);
});

test("livePoints and fitThroughput: one series per shape, a fit needs two sizes", () => {
  const row = (model: string, params: number, steps: number[]): ScalingRow =>
    ({
      model,
      params,
      flopParams: params / 2,
      batchSize: 4,
      seqLen: 128,
      stepSeconds: steps[1],
      stepSecondsAll: steps,
    }) as ScalingRow;
  const result = {
    backend: "wasm",
    rows: [row("a", 1e7, [1, 1, 2]), row("b", 4e7, [3, 4, 5]), { ...row("c", 1.6e8, []), stepSeconds: null }],
  } as unknown as ScalingResult;
  const pts = livePoints(result, "this machine", "wasm + OpenBLAS");
  assert.equal(pts.length, 2);
  assert.match(pts[0].series, /^this machine · tunebook wasm \+ OpenBLAS · fp32 · B×T 4×128 \(measured here\)$/);
  const q = fitThroughput(pts, "best");
  assert.ok(Math.abs(q.exponent - Math.log(512 / 3 / 512) / Math.log(4)) < 1e-12);
  assert.throws(
    () => fitThroughput(pts.slice(0, 1)),
    /need points at ≥ 2 model sizes, got 1 point\(s\) in "this machine/,
  );
  assert.throws(() => fitThroughput(pts, "mean" as "best"), /stat must be "median" or "best"/);
  const same = throughputPoint(
    { model: "a", params: 1e7, flopParams: 5e6, batch: 1, seq: 1, stepSeconds: [1] },
    { series: "s", source: "estimate", machine: "m", backend: "b", dtype: "fp32" },
  );
  assert.throws(() => fitThroughput([same, same]), /≥ 2 model sizes/);
});
