import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  extrapolate,
  fitPowerLaw,
  fitStepTime,
  gpuStepEstimates,
  measuredMfu,
  predictPowerLaw,
  fitPowerLawQuality,
  predictWithInterval,
  t95,
} from "../../src/scaling/fit";
import { getPreset } from "../../src/model/presets";
import { Rng } from "../../src/runtime/seed";

test("fitPowerLaw recovers the exponent and coefficient of noisy power-law data", () => {
  const rng = new Rng(3);
  for (const k of [0.5, 1.0, 1.3]) {
    const a = 2e-9;
    const pts = [1e7, 3e7, 7e7, 1.6e8, 4e8, 1e9].map((x) => ({ x, y: a * x ** k * Math.exp(0.02 * rng.normal()) }));
    const f = fitPowerLaw(pts);
    assert.ok(Math.abs(f.exponent - k) < 0.03, `k=${k}: fitted ${f.exponent}`);
    assert.ok(Math.abs(Math.log(f.coefficient / a)) < 0.6, `a: fitted ${f.coefficient}`);
    assert.ok(f.r2 > 0.99 && f.r2 <= 1, `r2 ${f.r2}`);
    assert.equal(f.n, 6);
  }
});

test("fitPowerLaw: exact data gives R² 1; scattered data gives a low R²", () => {
  const exact = fitPowerLaw([1, 10, 100].map((x) => ({ x, y: 3 * x ** 2 })));
  assert.ok(Math.abs(exact.exponent - 2) < 1e-12 && Math.abs(exact.r2 - 1) < 1e-12);
  assert.ok(Math.abs(predictPowerLaw(exact, 1000) - 3e6) / 3e6 < 1e-9);
  const rng = new Rng(1);
  const noisy = fitPowerLaw(Array.from({ length: 20 }, (_, i) => ({ x: 1 + (i % 2), y: Math.exp(rng.normal()) })));
  assert.ok(noisy.r2 < 0.5, `scattered data should not fit well: r2 ${noisy.r2}`);
});

test("fitPowerLaw rejects bad points with the point named", () => {
  assert.throws(() => fitPowerLaw([{ x: 1, y: 1 }]), /at least 2 points/);
  assert.throws(
    () =>
      fitPowerLaw([
        { x: 1, y: 1 },
        { x: 0, y: 2 },
      ]),
    /point 1 .* > 0/,
  );
  assert.throws(
    () =>
      fitPowerLaw([
        { x: 5, y: 1 },
        { x: 5, y: 2 },
      ]),
    /same x/,
  );
});

test("extrapolate marks points outside the measured range; fitStepTime skips unmeasured rows", () => {
  const f = fitStepTime([
    { params: 1e7, stepSeconds: 1 },
    { params: 1e8, stepSeconds: 10 },
    { params: 1e9, stepSeconds: null },
  ]);
  assert.ok(Math.abs(f.exponent - 1) < 1e-12);
  const e = extrapolate(f, [5e7, 1e9]);
  assert.deepEqual(
    e.map((p) => p.extrapolated),
    [false, true],
  );
  assert.ok(Math.abs(e[1].y - 100) < 1e-6);
});

test("gpuStepEstimates follow 6·P·tokens / (TFLOPS × MFU) and are labelled estimates", () => {
  const cfg = getPreset("pythia-160m");
  const [h100, t4] = gpuStepEstimates([{ name: "pythia-160m", config: cfg }], {
    gpus: ["h100-80gb", "t4-16gb"],
    batch: 8,
    seq: 512,
    dtype: "bf16",
    mfu: 0.5,
  });
  const expected = (6 * 162322944 * 4096) / (989e12 * 0.5);
  assert.equal(h100.kind, "estimate");
  assert.ok(Math.abs(h100.stepSeconds! - expected) / expected < 1e-9, `${h100.stepSeconds} vs ${expected}`);
  assert.ok(t4.stepSeconds! > h100.stepSeconds!);
  assert.equal(h100.fits, true);
  assert.throws(
    () => gpuStepEstimates([{ name: "x", config: cfg }], { gpus: ["gtx-9000"] }),
    /unknown GPU id "gtx-9000"; known: .*h100-80gb/,
  );
  assert.ok(Math.abs(measuredMfu(1e9, 1000, 1, 6) - 1) < 1e-12);
});

test("fitPowerLawQuality recovers the exponent of synthetic power-law data inside its 95% interval", () => {
  const rng = new Rng(11);
  const xs = [1.4e7, 3e7, 7e7, 1.6e8];
  for (const k of [-0.8, -0.5]) {
    const q = fitPowerLawQuality(xs.map((x) => ({ x, y: 5e7 * x ** k * Math.exp(0.03 * rng.normal()) })));
    assert.ok(Math.abs(q.exponent - k) < 0.1, `k=${k}: fitted ${q.exponent}`);
    const [lo, hi] = q.exponentInterval!;
    assert.ok(lo < k && k < hi, `k=${k} outside [${lo}, ${hi}]`);
    assert.ok(q.exponentSE! > 0 && q.sigma! > 0);
    assert.equal(q.residuals.length, 4);
    for (const r of q.residuals) assert.ok(Math.abs(Math.log(r.ratio)) < 0.15 && r.leaveOneOut !== null);
    assert.ok(q.leaveOneOutWorstFactor! >= 1 && q.leaveOneOutWorstFactor! < 1.3);
    const [a, b] = q.leaveOneOutExponents!;
    assert.ok(a <= b && Math.abs(a - k) < 0.2 && Math.abs(b - k) < 0.2, `leave-one-out exponents ${a}, ${b}`);
  }
});

test("fitPowerLawQuality: goodness of fit falls, and the interval widens, as noise grows", () => {
  const xs = [1e7, 2e7, 4e7, 8e7, 1.6e8, 3.2e8];
  const fits = [0.01, 0.1, 0.5].map((noise) => {
    const rng = new Rng(5); // the same draws, scaled: only the noise level changes
    return fitPowerLawQuality(xs.map((x) => ({ x, y: 1e6 * x ** -0.7 * Math.exp(noise * rng.normal()) })));
  });
  assert.ok(fits[0].r2 > fits[1].r2 && fits[1].r2 > fits[2].r2, fits.map((f) => f.r2).join(" "));
  const width = (f: (typeof fits)[number]) => f.exponentInterval![1] - f.exponentInterval![0];
  assert.ok(width(fits[0]) < width(fits[1]) && width(fits[1]) < width(fits[2]));
  assert.ok(fits[0].leaveOneOutWorstFactor! < fits[2].leaveOneOutWorstFactor!);
});

test("predictWithInterval: exact inside the data, wider the further it extrapolates; 2 points give no interval", () => {
  const rng = new Rng(2);
  const q = fitPowerLawQuality([1e7, 3e7, 1e8, 3e8].map((x) => ({ x, y: x ** -0.5 * Math.exp(0.05 * rng.normal()) })));
  const [inside, near, far] = predictWithInterval(q, [5e7, 1e9, 1e11]);
  assert.equal(inside.extrapolated, false);
  assert.ok(near.extrapolated && far.extrapolated);
  assert.ok(inside.factor! < near.factor! && near.factor! < far.factor!);
  assert.ok(near.low! < near.y && near.y < near.high!);
  const two = fitPowerLawQuality([
    { x: 1, y: 1 },
    { x: 10, y: 5 },
  ]);
  assert.equal(two.sigma, null);
  assert.equal(two.exponentInterval, null);
  assert.equal(predictWithInterval(two, [100])[0].factor, null);
  assert.throws(() => predictWithInterval(q, [0]), /x must be a number > 0/);
  assert.equal(t95(2), 4.303);
  assert.equal(t95(100), 1.96);
  assert.throws(() => t95(0), /df must be an integer ≥ 1/);
});
