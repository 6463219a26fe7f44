import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { Adafactor, type AdafactorOptions } from "../../src/train/adafactor";

// Reference: transformers.optimization.Adafactor.step written out in float64 for an R×C matrix (factored)
// or a vector, independent of the code under test.
function hfAdafactor(p0: number[], shape: number[], grads: number[][], lrs: number[], o: AdafactorOptions) {
  const p = p0.slice();
  const n = p.length;
  const [R, C] = shape.length === 2 ? shape : [1, n];
  let row = new Array(R).fill(0),
    col = new Array(C).fill(0),
    vec = new Array(n).fill(0),
    m = new Array(n).fill(0);
  const rms = (x: number[]) => Math.sqrt(x.reduce((s, a) => s + a * a, 0) / x.length);
  grads.forEach((g, k) => {
    const t = k + 1;
    let lr = o.relativeStep ? Math.min(o.warmupInit ? 1e-6 * t : 1e-2, 1 / Math.sqrt(t)) : lrs[k];
    if (o.scaleParameter) lr *= Math.max(o.eps[1], rms(p));
    const rho = 1 - t ** o.decayRate;
    const u0 = g.map((x) => x * x + o.eps[0]);
    let u: number[];
    if (shape.length === 2) {
      row = row.map((r, i) => rho * r + ((1 - rho) * u0.slice(i * C, i * C + C).reduce((a, b) => a + b, 0)) / C);
      col = col.map(
        (c, j) =>
          rho * c + ((1 - rho) * Array.from({ length: R }, (_, i) => u0[i * C + j]).reduce((a, b) => a + b, 0)) / R,
      );
      const rowMean = row.reduce((a, b) => a + b, 0) / R;
      u = g.map((x, idx) => x / Math.sqrt(row[Math.floor(idx / C)] / rowMean) / Math.sqrt(col[idx % C]));
    } else {
      vec = vec.map((v, i) => rho * v + (1 - rho) * u0[i]);
      u = g.map((x, i) => x / Math.sqrt(vec[i]));
    }
    const d = Math.max(1, rms(u) / o.clipThreshold);
    u = u.map((x) => (x / d) * lr);
    if (o.beta1 !== null) {
      m = m.map((a, i) => o.beta1! * a + (1 - o.beta1!) * u[i]);
      u = m.slice();
    }
    for (let i = 0; i < n; i++) {
      if (o.weightDecay !== 0 && shape.length === 2) p[i] += p[i] * (-o.weightDecay * lr);
      p[i] -= u[i];
    }
  });
  return p;
}

const DEF: AdafactorOptions = {
  eps: [1e-30, 1e-3],
  clipThreshold: 1,
  decayRate: -0.8,
  beta1: null,
  weightDecay: 0,
  scaleParameter: false,
  relativeStep: false,
  warmupInit: false,
  noDecayPattern: "(^|\\.)bias$|norm",
};

const near = (got: ArrayLike<number>, want: number[], tol: number, what: string) => {
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
};

const W0 = [0.3, -0.7, 1.2, 0.05, -1.5, 0.9];
const gW = [
  [0.2, -0.1, 0.05, 0.3, -0.4, 0.01],
  [-0.3, 0.2, 0.1, -0.05, 0.2, 0.4],
  [0.01, 0.02, -0.5, 0.6, 0.1, -0.2],
];
const b0 = [0.1, -0.2, 0.3];
const gb = [
  [0.5, -0.5, 0.1],
  [0.3, 0.1, -0.2],
  [-0.1, 0.4, 0.2],
];
const lrs = [1e-2, 5e-3, 2e-3];

function run(opts: Partial<AdafactorOptions>) {
  const W = tf.variable(tf.tensor2d(W0, [2, 3]));
  const b = tf.variable(tf.tensor1d(b0));
  const opt = new Adafactor(
    new Map([
      ["fc.weight", W],
      ["fc.bias", b],
    ]),
    opts,
  );
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++)
    tf.tidy(() =>
      opt.apply(
        new Map([
          ["fc.weight", tf.tensor2d(gW[k], [2, 3])],
          ["fc.bias", tf.tensor1d(gb[k])],
        ]),
        lrs[k],
      ),
    );
  assert.equal(tf.memory().numTensors, before, "no tensors leak across steps");
  const out = { W: [...W.dataSync()], b: [...b.dataSync()], state: [...opt.stateVariables().keys()].sort() };
  opt.dispose();
  W.dispose();
  b.dispose();
  return out;
}

test("first Adafactor step on a vector by hand: p - lr·g/sqrt(g² + eps1) ≈ p - lr·sign(g)", async () => {
  await useTestBackend();
  const v = tf.variable(tf.tensor1d([1, 2]));
  const opt = new Adafactor(new Map([["v", v]]));
  tf.tidy(() => opt.apply(new Map([["v", tf.tensor1d([0.5, -0.25])]]), 0.01));
  near(v.dataSync(), [0.99, 2.01], 1e-7, "v");
  opt.dispose();
  v.dispose();
});

test("three steps match HF Adafactor with the HF Trainer's settings (factored matrix, unfactored vector)", async () => {
  await useTestBackend();
  const got = run({});
  near(got.W, hfAdafactor(W0, [2, 3], gW, lrs, DEF), 2e-6, "W");
  near(got.b, hfAdafactor(b0, [3], gb, lrs, DEF), 2e-6, "b");
  assert.deepEqual(got.state, ["fc.bias.exp_avg_sq", "fc.weight.exp_avg_sq_col", "fc.weight.exp_avg_sq_row"]);
});

test("scaleParameter, beta1 and weight decay (matrices only) match HF", async () => {
  await useTestBackend();
  const o = { ...DEF, scaleParameter: true, beta1: 0.9, weightDecay: 0.1 };
  const got = run({ scaleParameter: true, beta1: 0.9, weightDecay: 0.1 });
  near(got.W, hfAdafactor(W0, [2, 3], gW, lrs, o), 2e-6, "W");
  near(got.b, hfAdafactor(b0, [3], gb, lrs, o), 2e-6, "b");
  assert.ok(got.state.includes("fc.weight.exp_avg"));
});

test("relativeStep ignores lr and uses min(1e-2, 1/sqrt(t)) (with update clipping at 0.5)", async () => {
  await useTestBackend();
  const o = { ...DEF, relativeStep: true, scaleParameter: true, clipThreshold: 0.5 };
  const got = run({ relativeStep: true, scaleParameter: true, clipThreshold: 0.5 });
  near(got.W, hfAdafactor(W0, [2, 3], gW, [99, 99, 99], o), 2e-6, "W");
});

test("inconsistent options are refused", async () => {
  await useTestBackend();
  const w = tf.variable(tf.zeros([2, 2]));
  assert.throws(() => new Adafactor(new Map([["w", w]]), { warmupInit: true }), /warmupInit requires relativeStep/);
  assert.throws(() => new Adafactor(new Map([["w", w]]), { decayRate: 0.8 }), /decayRate/);
  w.dispose();
});
