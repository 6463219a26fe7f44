// The fused exact GELU (src/kernels/gelu.ts): its float32 arithmetic against float64 references over a dense range,
// the kernel against the tfjs formula (values and gradients), the split across the heap workers against one thread
// bit for bit, and a GPT-NeoX training step that uses it without leaking a tensor.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { gelu, geluPlain } from "../../src/kernels";
import { geluBackwardSlice, geluForwardSlice } from "../../src/kernels/gelu";
import { geluModule } from "../../src/kernels/gelu-wasm";
import { heapWorkerStats, MIN_SPLIT, runOnHeap } from "../../src/kernels/heap-workers";
import { wasmMemory } from "../../src/kernels/wasm-heap";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Trainer } from "../../src/train/trainer";
import { Rng } from "../../src/runtime/seed";

/**
 * erf in float64 by the series erf(z) = 2/√π · e^{−z²} · Σ (2z²)ⁿ z / (1·3·…·(2n+1)): every term positive (no
 * cancellation), so the result is good to ≈ 1e-15 for the z used here (≤ 7.1). Independent of the kernel's formula.
 */
function erf64(z: number): number {
  const a = Math.abs(z);
  let term = a,
    sum = a;
  for (let n = 1; n < 500 && term > sum * 1e-17; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  const r = Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum);
  return z < 0 ? -r : r;
}
const Phi64 = (x: number) => 0.5 * (1 + erf64(x / Math.SQRT2));
const phi64 = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
/** float32's unit roundoff. */
const EPS32 = 2 ** -24;

/**
 * The float32 arithmetic's share of the error on Φ(x) (on top of A&S 7.1.26's own): q = Φ(−|x|) is a product of
 * e^{−z²}, t and A&S's polynomial P(t). Horner's rule on P's alternating coefficients has a condition number up to ≈ 4
 * here, so its 8 roundings can cost ≈ 32ε, and t, e^{−z²}'s polynomial and the products ≈ 16ε more: 48ε relative on
 * q. z² carries ≈ 2ε relative (z's rounding, then the square), i.e. ε·x² relative on e^{−z²}. For x > 0 the
 * rounding of 1 − q adds ε/2.
 */
function phiArith32(x: number): number {
  const q = Phi64(-Math.abs(x));
  return q * EPS32 * (48 + x * x) + (x > 0 ? EPS32 / 2 : 0);
}

/** Half a float32 ulp at |v| (the rounding of the one float32 store). */
function halfUlp32(v: number): number {
  const a = Math.abs(v);
  if (a < 1.1754943508222875e-38) return 2 ** -150;
  return 2 ** (Math.floor(Math.log2(a)) - 24);
}

/** Run a slice kernel alone, on one thread, over a fresh shared memory of its own: the one-thread reference. */
function sliceOnce(slice: typeof geluForwardSlice, inputs: Float32Array[]): Float32Array {
  const n = inputs[0].length;
  const pages = Math.ceil((4 * n * (inputs.length + 1)) / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  inputs.forEach((a, i) => new Float32Array(memory.buffer, 4 * n * i, n).set(a));
  const offsets = inputs.map((_, i) => 4 * n * i).concat(4 * n * inputs.length);
  runOnHeap(slice, offsets, n, [], memory);
  return new Float32Array(memory.buffer, 4 * n * inputs.length, n).slice();
}

/** Whether `gelu` runs the fused kernels here (wasm with a shared heap). */
function fusedHere(): boolean {
  return wasmMemory()?.buffer instanceof SharedArrayBuffer;
}

test("forward: x·Φ(x) within the A&S 7.1.26 bound (|erf error| ≤ 1.5e-7) and float32 arithmetic of a float64 reference, x in [-10, 10]", () => {
  const n = 400_001; // step 5e-5
  const x = Float32Array.from({ length: n }, (_, i) => -10 + i * 5e-5);
  const y = sliceOnce(geluForwardSlice, [x]);
  let worstErf = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]; // the float32 input, exactly
    const ref = v * Phi64(v);
    const err = Math.abs(y[i] - ref);
    // erf error e on Φ is e/2, on y it is |x|·e/2; plus the float32 arithmetic on Φ and the float32 store
    const arith = Math.abs(v) * phiArith32(v) + halfUlp32(ref);
    assert.ok(err <= Math.abs(v) * 0.5 * 1.5e-7 + arith + 1e-12, `x=${v}: y=${y[i]} ref=${ref}`);
    if (Math.abs(v) > 0.5) worstErf = Math.max(worstErf, (2 * Math.max(0, err - arith)) / Math.abs(v));
  }
  assert.ok(worstErf <= 1.5e-7, `worst implied erf error ${worstErf}`);
});

test("backward: dy·(Φ(x) + x·φ(x)) within the same bound of a float64 reference, x in [-10, 10]", () => {
  const n = 400_001;
  const x = Float32Array.from({ length: n }, (_, i) => -10 + i * 5e-5);
  const dy = Float32Array.from({ length: n }, (_, i) => (i % 7) - 3); // small integers: dy·(…) rounds once
  const dx = sliceOnce(geluBackwardSlice, [x, dy]);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const ref = dy[i] * (Phi64(v) + v * phi64(v));
    // A&S on Φ; float32 arithmetic on Φ, on x·φ (its e^{−z²}: ≈ 8ε plus ε·x², as in phiArith32) and on the sum and
    // the product by dy (ε each, relative to |Φ| + |x·φ|: the two nearly cancel around x ≈ −0.75); the store
    const xphi = Math.abs(v) * phi64(v);
    const arith = phiArith32(v) + xphi * EPS32 * (8 + v * v) + 2 * EPS32 * (Phi64(v) + xphi);
    const tol = Math.abs(dy[i]) * (0.5 * 1.5e-7 + arith) + halfUlp32(ref) + 1e-12;
    assert.ok(Math.abs(dx[i] - ref) <= tol, `x=${v} dy=${dy[i]}: dx=${dx[i]} ref=${ref}`);
  }
});

test("the SIMD loop (four float32 lanes) gives the scalar loop's bits exactly", () => {
  assert.ok(geluModule, "the module compiles here");
  const n = 100_001;
  const rng = new Rng(21);
  const x = Float32Array.from({ length: n }, () => rng.normal() * 4);
  const dy = Float32Array.from({ length: n }, () => rng.normal());
  x.set([0, -0, Infinity, -Infinity, Number.NaN, 3e38, -3e38, 1e-30, -1e-30, 38, -38], 0);
  const pages = Math.ceil((4 * n * 5) / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const f = new Float32Array(memory.buffer);
  f.set(x, 0);
  f.set(dy, n);
  const wasm = new WebAssembly.Instance(geluModule!, { env: { memory } }).exports as Record<
    string,
    (...a: number[]) => void
  >;
  const [X, DY, A, B] = [0, 4 * n, 8 * n, 12 * n];
  const quads = n - (n % 4);
  assert.ok(quads < n, "the scalar loop finishes the last 1–3 values");
  wasm.geluForward(X, A, n); // scalar, all n
  wasm.geluForward4(X, B, quads); // quads
  wasm.geluForward(X + 4 * quads, B + 4 * quads, n - quads);
  assert.deepEqual(f.subarray(2 * n, 3 * n), f.subarray(3 * n, 4 * n), "forward");
  wasm.geluBackward(X, DY, A, n);
  wasm.geluBackward4(X, DY, B, quads);
  wasm.geluBackward(X + 4 * quads, DY + 4 * quads, B + 4 * quads, n - quads);
  assert.deepEqual(f.subarray(2 * n, 3 * n), f.subarray(3 * n, 4 * n), "backward");
});

test("special values: 0, −0, ±Infinity, NaN and huge inputs", () => {
  const x = Float32Array.from([0, -0, Infinity, -Infinity, Number.NaN, 3e38, -3e38, 20, -20]);
  const y = sliceOnce(geluForwardSlice, [x]);
  assert.deepEqual([...y.slice(0, 3)], [0, -0, Infinity]);
  assert.ok(Number.isNaN(y[3]) && Number.isNaN(y[4]), "−Infinity·0 and NaN are NaN, as x/2·(1 + erf(x/√2)) gives them");
  assert.deepEqual([...y.slice(5)], [Math.fround(3e38), -0, 20, -0]);
  const dx = sliceOnce(geluBackwardSlice, [x, new Float32Array(x.length).fill(1)]);
  assert.deepEqual([dx[0], dx[1], dx[5], dx[7]], [0.5, 0.5, 1, 1]);
  assert.ok(dx[6] === 0 && dx[8] === 0, "far left the gradient is 0");
  assert.ok(
    !Number.isFinite(dx[2]) && !Number.isFinite(dx[3]),
    "at ±Infinity, x·φ(x) is not finite (NaN in the tfjs formula)",
  );
  assert.ok(Number.isNaN(dx[4]));
});

test("gelu equals the tfjs formula in values and gradients (random inputs, shapes below and above MIN_SPLIT)", async () => {
  await useTestBackend();
  const rng = new Rng(7);
  for (const shape of [
    [3, 5],
    [37, 1771],
    [41, 1771],
  ]) {
    const size = shape[0] * shape[1];
    const xs = Float32Array.from({ length: size }, () => rng.normal() * 3);
    const ws = Float32Array.from({ length: size }, () => rng.normal());
    const before = tf.memory().numTensors;
    const [x, w] = [tf.tensor(xs, shape), tf.tensor(ws, shape)];
    const run = (f: (t: tf.Tensor) => tf.Tensor) => {
      const y = tf.tidy(() => f(x));
      const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), w)) as tf.Scalar)(x));
      const out = [y.dataSync().slice(), g.dataSync().slice()];
      tf.dispose([y, g]);
      return out;
    };
    const [yf, gf] = run(gelu);
    const [yp, gp] = run(geluPlain);
    tf.dispose([x, w]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    let dy = 0,
      dg = 0;
    for (let i = 0; i < size; i++) {
      // the tfjs path rounds to float32 after each of its ≈ 5 (forward) and ≈ 12 (backward) ops (seen: ≤ 1.3e-7)
      dy = Math.max(dy, Math.abs(yf[i] - yp[i]) / (1 + Math.abs(xs[i])));
      dg = Math.max(dg, Math.abs(gf[i] - gp[i]) / (1 + Math.abs(xs[i])) / (1 + Math.abs(ws[i])));
    }
    assert.ok(dy <= 3e-7, `[${shape}] values differ by ${dy}`);
    assert.ok(dg <= 3e-7, `[${shape}] gradients differ by ${dg}`);
  }
});

test("the fused kernels run on the shared wasm heap, split or not, bit for bit equal to one thread", async () => {
  await useTestBackend();
  if (!fusedHere()) return; // other backends and the single-threaded build run the tfjs formula (tested above)
  const rng = new Rng(11);
  const threads = require("@tensorflow/tfjs-backend-wasm").getThreadsCount?.() ?? 1;
  const splitting = threads > 1 && process.env.TUNEBOOK_HEAP_WORKERS !== "0";
  for (const n of [1, 4099, MIN_SPLIT - 3, MIN_SPLIT + 1, 3 * MIN_SPLIT + 5]) {
    const xs = Float32Array.from({ length: n }, () => rng.normal() * 4);
    const dys = Float32Array.from({ length: n }, () => rng.normal());
    const x = tf.tensor1d(xs);
    const dy = tf.tensor1d(dys);
    const splitsBefore = heapWorkerStats().splits;
    let dx: tf.Tensor | undefined;
    const prof = await tf.profile(() => {
      const y = gelu(x);
      dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), dy)) as tf.Scalar)(x);
      return y;
    });
    const names = prof.kernels.map((k) => k.name);
    assert.ok(names.includes("GeluExact") && names.includes("GeluExactGrad"), `kernels run: ${names.join(", ")}`);
    assert.ok(!names.includes("Erf"), "no tfjs Erf on the fused path");
    const y = prof.result as tf.Tensor;
    assert.deepEqual(y.dataSync(), sliceOnce(geluForwardSlice, [xs]), `forward, n=${n}`);
    assert.deepEqual(dx!.dataSync(), sliceOnce(geluBackwardSlice, [xs, dys]), `backward, n=${n}`);
    // forward twice (the value and inside tf.grad), backward once: all split when large enough
    if (splitting) assert.equal(heapWorkerStats().splits - splitsBefore, n >= MIN_SPLIT ? 3 : 0, `splits, n=${n}`);
    tf.dispose([x, dy, y, dx!]);
  }
});

test("a GPT-NeoX training step through the fused GELU leaks no tensor", async () => {
  await useTestBackend();
  // an MLP input of 2·16 tokens × 2304 = 73,728 values: above MIN_SPLIT, so the split kernels run
  const cfg = makeConfig({
    vocabSize: 64,
    hiddenSize: 64,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    intermediateSize: 2304,
  });
  const rng = new Rng(3);
  const data = Array.from({ length: 8 }, () => ({
    inputIds: Array.from({ length: 16 }, () => Math.floor(rng.next() * 64)),
  }));
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 1 });
  const trainer = new Trainer(causalLMTrainable(model), data, {
    lr: 1e-3,
    batchSize: 2,
    maxLength: 16,
    numSteps: 4,
    shuffle: false,
    warmupSteps: 0,
    schedule: "constant",
    logEvery: 4,
  });
  const splitsBefore = heapWorkerStats().splits;
  trainer.trainStep();
  const after1 = tf.memory().numTensors;
  const threads = fusedHere() ? (require("@tensorflow/tfjs-backend-wasm").getThreadsCount?.() ?? 1) : 1;
  if (threads > 1 && process.env.TUNEBOOK_HEAP_WORKERS !== "0")
    assert.ok(heapWorkerStats().splits - splitsBefore >= 8, "GELU forward/backward (2 layers) and AdamW were split");
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) losses.push(trainer.trainStep().loss);
  assert.equal(tf.memory().numTensors, after1, "three more steps leak no tensor");
  assert.ok(losses.every(Number.isFinite));
  trainer.dispose();
  model.dispose();
});
