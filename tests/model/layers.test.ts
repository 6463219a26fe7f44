// The building blocks against independent references: embedding gradient (no UnsortedSegmentSum on wasm),
// Linear/bmm custom gradients vs tfjs's own matmul gradients, activations vs their formulas, LayerNorm.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { activation, embedding, LayerNorm, Linear } from "../../src/model/layers";
import { bmm } from "../../src/kernels";
import { Rng } from "../../src/runtime/seed";
import { maxAbsDiff } from "./helpers/neox-fixtures";

function randn(shape: number[], rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => rng.normal()),
    shape,
  );
}

test("embedding: values are rows of W; the gradient sums repeated ids (dense reference)", async () => {
  await useTestBackend();
  const rng = new Rng(1);
  const V = 11,
    C = 3;
  const W = tf.variable(randn([V, C], rng));
  const ids = [
    [4, 2, 4],
    [10, 4, 0],
  ];
  const R = randn([2, 3, C], rng); // d loss / d output
  const before = tf.memory().numTensors;
  const idsT = tf.tensor2d(ids, [2, 3], "int32");
  const out = tf.tidy(() => embedding(W, idsT));
  const w = W.arraySync() as number[][];
  assert.deepEqual(
    out.arraySync(),
    ids.map((r) => r.map((i) => w[i])),
  );
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(embedding(W, idsT), R)) as tf.Scalar, [W]);
  value.dispose();
  const r = R.arraySync() as number[][][];
  const ref = Array.from({ length: V }, () => new Array(C).fill(0));
  ids.forEach((row, b) => row.forEach((id, t) => r[b][t].forEach((x, c) => (ref[id][c] += x))));
  assert.ok(maxAbsDiff(grads[W.name].dataSync(), ref.flat()) < 1e-6);
  out.dispose();
  grads[W.name].dispose();
  idsT.dispose();
  assert.equal(tf.memory().numTensors, before);
  W.dispose();
  R.dispose();
});

test("embedding gradient at Pythia's vocabulary size (50304 rows, 512 tokens) is correct", async () => {
  await useTestBackend();
  const rng = new Rng(2);
  const V = 50304,
    C = 32,
    N = 512;
  const W = tf.variable(tf.zeros([V, C]));
  const idList = Array.from({ length: N }, (_, i) => (i % 7 === 0 ? 50303 : rng.int(V)));
  const ids = tf.tensor2d(idList, [1, N], "int32");
  const R = randn([1, N, C], rng);
  const t0 = Date.now();
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(embedding(W, ids), R)) as tf.Scalar, [W]);
  const g = grads[W.name].dataSync();
  value.dispose();
  const ms = Date.now() - t0;
  const r = R.dataSync();
  const ref = new Float32Array(V * C);
  idList.forEach((id, t) => {
    for (let c = 0; c < C; c++) ref[id * C + c] += r[t * C + c];
  });
  assert.ok(maxAbsDiff(g, ref) < 1e-4);
  console.log(`embedding backward [${V}, ${C}]: ${ms} ms`); // speed is measured in benchmarks, not asserted
  tf.dispose([W, ids, R, grads[W.name]]);
});

test("Linear (with and without bias) matches x·Wᵀ + b and tfjs's own matmul gradients", async () => {
  await useTestBackend();
  const rng = new Rng(3);
  for (const withBias of [true, false]) {
    const W = tf.variable(randn([5, 4], rng));
    const b = withBias ? tf.variable(randn([5], rng)) : null;
    const lin = new Linear("test", W, b);
    const x = randn([2, 3, 4], rng);
    const R = randn([2, 3, 5], rng);
    const ref = (xx: tf.Tensor) => {
      const y = tf.reshape(tf.matMul(tf.reshape(xx, [6, 4]), W, false, true), [2, 3, 5]);
      return b ? tf.add(y, b) : y;
    };
    const vars = b ? [W, b] : [W];
    const mine = tf.variableGrads(() => tf.sum(tf.mul(lin.apply(x), R)) as tf.Scalar, vars);
    const theirs = tf.variableGrads(() => tf.sum(tf.mul(ref(x), R)) as tf.Scalar, vars);
    assert.ok(Math.abs(mine.value.dataSync()[0] - theirs.value.dataSync()[0]) < 1e-4);
    for (const v of vars)
      assert.ok(maxAbsDiff(mine.grads[v.name].dataSync(), theirs.grads[v.name].dataSync()) < 1e-5, `grad ${withBias}`);
    const dxMine = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(lin.apply(xx), R)))(x);
    const dxRef = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(ref(xx), R)))(x);
    assert.ok(maxAbsDiff(dxMine.dataSync(), dxRef.dataSync()) < 1e-5);
    tf.dispose([
      W,
      x,
      R,
      dxMine,
      dxRef,
      mine.value,
      theirs.value,
      ...Object.values(mine.grads),
      ...Object.values(theirs.grads),
    ]);
    b?.dispose();
  }
  const bad = new Linear("blk.qkv", tf.variable(tf.zeros([3, 2])), null);
  assert.throws(() => bad.apply(tf.zeros([1, 5])), /blk\.qkv: input has 5 features, expected 2/);
  bad.weight.dispose();
});

test("bmm matches tf.matMul in value and gradients", async () => {
  await useTestBackend();
  const rng = new Rng(4);
  const a = randn([6, 4, 5], rng);
  const b = randn([6, 5, 6], rng);
  const R = randn([6, 4, 6], rng);
  const f = (g: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) =>
    tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(g(x, y), R)));
  assert.ok(maxAbsDiff(bmm(a, b).dataSync(), tf.matMul(a, b).dataSync()) < 1e-5);
  const [da, db] = f(bmm)([a, b]);
  const [ra, rb] = f((x, y) => tf.matMul(x, y))([a, b]);
  assert.ok(maxAbsDiff(da.dataSync(), ra.dataSync()) < 1e-5);
  assert.ok(maxAbsDiff(db.dataSync(), rb.dataSync()) < 1e-5);
  tf.dispose([a, b, R, da, db, ra, rb]);
  const [a1, b1, r1] = [randn([1, 3, 2], rng), randn([1, 2, 4], rng), randn([1, 3, 4], rng)];
  const [g1] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(bmm(x, b1), r1)))([a1]);
  const [h1] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, b1), r1)))([a1]);
  assert.ok(maxAbsDiff(g1.dataSync(), h1.dataSync()) < 1e-5, "batch of one");
  assert.throws(() => bmm(a1, a1), /bmm: expected \[n, M, K\]·\[n, K, N\], got \[1,3,2\]·\[1,3,2\]/);
  tf.dispose([a1, b1, r1, g1, h1]);
});

test("activations follow their formulas; unknown names are refused", async () => {
  await useTestBackend();
  const xs = [-3, -1, -0.5, 0, 0.3, 1, 2.5];
  const erf = (x: number) => {
    // Abramowitz-Stegun 7.1.26 is too coarse; use a series good to 1e-12 for |x| ≤ 3.
    let sum = 0,
      term = x;
    for (let n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const tanhGelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const refs: Record<string, (x: number) => number> = {
    gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    gelu_new: tanhGelu,
    gelu_pytorch_tanh: tanhGelu,
    gelu_fast: tanhGelu,
    quick_gelu: (x) => x * sig(1.702 * x),
    relu: (x) => Math.max(0, x),
    silu: (x) => x * sig(x),
    swish: (x) => x * sig(x),
    tanh: Math.tanh,
    sigmoid: sig,
    linear: (x) => x,
  };
  for (const [name, ref] of Object.entries(refs)) {
    const y = tf.tidy(() => activation(name)(tf.tensor1d(xs)).dataSync());
    assert.ok(maxAbsDiff(y, xs.map(ref)) < 2e-6, name);
  }
  // exact and tanh GELU really differ (so a mix-up would be caught by the parity tests)
  assert.ok(Math.abs(refs.gelu(-1) - tanhGelu(-1)) > 1e-4);
  assert.throws(() => activation("gelu_10"), /hidden_act "gelu_10" is not supported; use one of: gelu, /);
});

test("LayerNorm normalises over the last axis with biased variance", async () => {
  await useTestBackend();
  const x = [
    [1, 2, 3, 6],
    [0, 0, 0, 1],
  ];
  const w = [1, 2, 0.5, -1],
    b = [0, 0.1, 0.2, 0.3],
    eps = 1e-5;
  const ln = new LayerNorm("ln", tf.variable(tf.tensor1d(w)), tf.variable(tf.tensor1d(b)), eps);
  const y = tf.tidy(() => ln.apply(tf.tensor2d(x)).dataSync());
  const ref = x.flatMap((r) => {
    const m = r.reduce((s, v) => s + v, 0) / r.length;
    const v = r.reduce((s, u) => s + (u - m) ** 2, 0) / r.length;
    return r.map((u, i) => ((u - m) / Math.sqrt(v + eps)) * w[i] + b[i]);
  });
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  tf.dispose([ln.weight, ln.bias]);
});

test("LayerNorm and exact GELU: their custom gradients equal autodiff through the formulas", async () => {
  await useTestBackend();
  const rng = new Rng(9);
  const x = tf.variable(randn([2, 3, 8], rng));
  const w = tf.variable(randn([8], rng));
  const b = tf.variable(randn([8], rng));
  const dy = randn([2, 3, 8], rng);
  const ln = new LayerNorm("ln", w, b, 1e-5);
  const formula = (t: tf.Tensor) => {
    const { mean, variance } = tf.moments(t, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, 1e-5))), w), b);
  };
  const before = tf.memory().numTensors;
  const grads = (f: () => tf.Tensor) =>
    tf.tidy(() =>
      Object.values(tf.variableGrads(() => tf.sum(tf.mul(f(), dy)) as tf.Scalar, [x, w, b]).grads).map((g) =>
        g.dataSync(),
      ),
    );
  const mine = grads(() => ln.apply(x));
  const ref = grads(() => formula(x));
  for (let i = 0; i < 3; i++)
    assert.ok(
      maxAbsDiff(mine[i], ref[i]) < 1e-4,
      `LayerNorm gradient ${["dx", "dw", "db"][i]}: ${maxAbsDiff(mine[i], ref[i])}`,
    );
  const gelu = activation("gelu");
  const geluFormula = (t: tf.Tensor) => tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.mul(t, Math.SQRT1_2)), 1));
  const gx = (f: (t: tf.Tensor) => tf.Tensor) =>
    tf.tidy(() =>
      tf
        .grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), dy)))(x)
        .dataSync(),
    );
  assert.ok(maxAbsDiff(gx(gelu), gx(geluFormula)) < 1e-5, "GELU gradient");
  // the fused wasm kernel (src/kernels/gelu.ts) rounds once from float64, the formula after each float32 op
  assert.ok(
    maxAbsDiff(
      tf.tidy(() => gelu(x).dataSync()),
      tf.tidy(() => geluFormula(x).dataSync()),
    ) < 1e-6,
    "GELU values",
  );
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w, b, dy]);
});
