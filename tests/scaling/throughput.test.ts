import { test } from "node:test";
import * as assert from "node:assert/strict";
import { flopParamCount, stepSpread, throughputPoint } from "../../src/scaling/throughput";
import { countParameters, getPreset } from "../../src/model/presets";

const about = { series: "s", source: "recorded" as const, machine: "m", backend: "b", dtype: "fp32" };

test("flopParamCount: every parameter except the input embedding (the bench's MFU convention)", () => {
  const cfg = getPreset("70m");
  assert.equal(flopParamCount(cfg), countParameters(cfg).total - 50304 * 512);
  assert.equal(flopParamCount(cfg), 44670976);
});

test("stepSpread: min, median and max of the timed steps; bad steps are named", () => {
  assert.deepEqual(stepSpread([0.9, 1.2, 1.0]), { min: 0.9, median: 1.0, max: 1.2, n: 3 });
  assert.deepEqual(stepSpread([4, 1, 3, 2]), { min: 1, median: 2.5, max: 4, n: 4 });
  assert.throws(() => stepSpread([]), /non-empty/);
  assert.throws(() => stepSpread([1, 0]), /seconds\[1\] must be a number > 0/);
  assert.throws(() => stepSpread([1, Number.NaN]), /seconds\[1\]/);
});

test("throughputPoint: tokens/s and 6·N·tokens/s from the median, fastest and slowest step", () => {
  const p = throughputPoint(
    { model: "pythia-70m", params: 70426624, flopParams: 44670976, batch: 8, seq: 512, stepSeconds: [40, 32, 64] },
    about,
  );
  assert.equal(p.tokensPerStep, 4096);
  assert.equal(p.seconds.median, 40);
  assert.equal(p.tokensPerSecond, 4096 / 40);
  assert.equal(p.tokensPerSecondBest, 128);
  assert.equal(p.tokensPerSecondWorst, 64);
  assert.equal(p.flopsPerSecond, (6 * 44670976 * 4096) / 40);
  assert.equal(p.flopsPerSecondBest, (6 * 44670976 * 4096) / 32);
  assert.equal(p.series, "s");
});

test("throughputPoint names the bad field", () => {
  const base = { model: "m", params: 10, flopParams: 5, batch: 2, seq: 4, stepSeconds: [1] };
  assert.throws(
    () => throughputPoint({ ...base, batch: 0 }, about),
    /throughputPoint\(m\): batch must be a number > 0/,
  );
  assert.throws(() => throughputPoint({ ...base, flopParams: 11 }, about), /flopParams \(11\) must not exceed params/);
  assert.throws(() => throughputPoint({ ...base, stepSeconds: [] }, about), /non-empty/);
});
