// The fused LayerNorm (src/kernels/layer-norm.ts): values against a float64 reference, values and gradients against
// the tfjs-ops path, the row split across the heap workers against one thread bit for bit, and a GPT-NeoX training
// step through it without a leaked tensor.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { layerNorm, layerNormPlain } from "../../src/kernels";
import {
  layerNormBackwardJs,
  layerNormBackwardSlice,
  layerNormForwardJs,
  layerNormForwardSlice,
} from "../../src/kernels/layer-norm";
import { heapWorkerStats, MIN_SPLIT, runOnHeap } from "../../src/kernels/heap-workers";
import { wasmMemory } from "../../src/kernels/wasm-heap";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Trainer } from "../../src/train/trainer";
import { Rng } from "../../src/runtime/seed";

const EPS = 1e-5;

function randArray(n: number, rng: Rng, scale = 1, shift = 0): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale + shift);
}

function variable(values: Float32Array): tf.Variable {
  const t = tf.tensor1d(values);
  const v = tf.variable(t);
  t.dispose();
  return v;
}

/** Run a row kernel alone over a fresh memory of its own (one thread): arrays in order, outputs after inputs. */
function rowsOnce(
  slice: typeof layerNormForwardSlice,
  arrays: Float32Array[],
  outSizes: number[],
  rows: number,
  args: number[],
): Float32Array[] {
  const sizes = [...arrays.map((a) => a.length), ...outSizes];
  const offsets: number[] = [];
  let at = 0;
  for (const s of sizes) {
    offsets.push(at);
    at += 4 * s;
  }
  const pages = Math.ceil(at / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  arrays.forEach((a, i) => new Float32Array(memory.buffer, offsets[i], a.length).set(a));
  if (slice === layerNormForwardJs || slice === layerNormBackwardJs) slice(memory.buffer, offsets, 0, rows, args);
  else runOnHeap(slice, offsets, rows, args, memory, args[0]);
  return outSizes.map((s, i) => new Float32Array(memory.buffer, offsets[arrays.length + i], s).slice());
}

test("forward: within a few float32 roundings of a float64 LayerNorm", () => {
  const rng = new Rng(5);
  const [rows, C] = [64, 512];
  const x = randArray(rows * C, rng, 3, 1.5);
  const w = randArray(C, rng, 0.5, 1);
  const b = randArray(C, rng, 0.1);
  const [y, xh, rs] = rowsOnce(layerNormForwardSlice, [x, w, b], [rows * C, rows * C, rows], rows, [C, EPS]);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < C; j++) s += x[r * C + j];
    const mean = s / C;
    let v = 0;
    for (let j = 0; j < C; j++) v += (x[r * C + j] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / C + EPS);
    assert.ok(Math.abs(rs[r] - rstd) <= 2 ** -23 * rstd, `row ${r}: 1/σ ${rs[r]} vs ${rstd}`);
    for (let j = 0; j < C; j++) {
      const h = (x[r * C + j] - mean) * rstd;
      const ref = h * w[j] + b[j];
      assert.ok(Math.abs(xh[r * C + j] - h) <= 2 ** -24 * Math.abs(h) + 1e-12, `x̂[${r}, ${j}]`);
      assert.ok(
        Math.abs(y[r * C + j] - ref) <= 2 ** -24 * Math.abs(ref) + 1e-12,
        `y[${r}, ${j}]: ${y[r * C + j]} vs ${ref}`,
      );
    }
  }
});

test("the WebAssembly loops give the JavaScript reference loops' bits exactly (odd C, odd rows)", () => {
  const rng = new Rng(6);
  for (const [rows, C] of [
    [1, 1],
    [7, 13],
    [129, 512],
  ]) {
    const x = randArray(rows * C, rng, 3, -1);
    const w = randArray(C, rng, 0.5, 1);
    const b = randArray(C, rng, 0.1);
    const dy = randArray(rows * C, rng);
    const sizes = [rows * C, rows * C, rows];
    const fw = rowsOnce(layerNormForwardSlice, [x, w, b], sizes, rows, [C, EPS]);
    const fj = rowsOnce(layerNormForwardJs, [x, w, b], sizes, rows, [C, EPS]);
    fw.forEach((a, i) => assert.deepEqual(a, fj[i], `forward output ${i}, [${rows}, ${C}]`));
    const bw = rowsOnce(layerNormBackwardSlice, [dy, fw[1], fw[2], w], [rows * C, rows * C], rows, [C]);
    const bj = rowsOnce(layerNormBackwardJs, [dy, fw[1], fw[2], w], [rows * C, rows * C], rows, [C]);
    bw.forEach((a, i) => assert.deepEqual(a, bj[i], `backward output ${i}, [${rows}, ${C}]`));
  }
});

test("layerNorm equals the tfjs-ops path in values and all three gradients (rows×C below and above MIN_SPLIT)", async () => {
  await useTestBackend();
  const rng = new Rng(8);
  for (const shape of [
    [2, 3, 8],
    [1, 127, 512], // 65,024 values: below MIN_SPLIT
    [3, 43, 512], // 66,048 values, 129 rows: above, an odd row count
  ]) {
    const C = shape[2];
    const size = shape[0] * shape[1] * C;
    const before = tf.memory().numTensors;
    const x = tf.tensor(randArray(size, rng, 2, 0.5), shape);
    const w = variable(randArray(C, rng, 0.3, 1));
    const b = variable(randArray(C, rng, 0.2));
    const dy = tf.tensor(randArray(size, rng), shape);
    const run = (f: typeof layerNorm) => {
      const y = tf.tidy(() => f(x, w, b, EPS));
      const g = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(f(x, w, b, EPS), dy)) as tf.Scalar, [w, b]);
        const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t, w, b, EPS), dy)) as tf.Scalar)(x);
        return [gx, grads[w.name], grads[b.name]];
      });
      const out = [y, ...g].map((t) => t.dataSync().slice());
      tf.dispose([y, ...g]);
      return out;
    };
    const fused = run(layerNorm);
    const plain = run(layerNormPlain);
    tf.dispose([x, w, b, dy]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    ["y", "dx", "dw", "db"].forEach((name, k) => {
      let worst = 0,
        scale = 0;
      for (let i = 0; i < fused[k].length; i++) {
        worst = Math.max(worst, Math.abs(fused[k][i] - plain[k][i]));
        scale = Math.max(scale, Math.abs(plain[k][i]));
      }
      // float32 sums over C (and over rows for dw, db) in the tfjs path vs float64 row sums here (seen: ≤ 4.3e-7)
      assert.ok(worst <= 1e-6 * Math.max(1, scale), `[${shape}] ${name}: differs by ${worst} (scale ${scale})`);
    });
  }
});

test("the fused kernels run on the shared wasm heap, rows split or not, bit for bit equal to one thread", async () => {
  await useTestBackend();
  if (!(wasmMemory()?.buffer instanceof SharedArrayBuffer)) return; // elsewhere the tfjs ops run (tested above)
  const rng = new Rng(12);
  const threads = require("@tensorflow/tfjs-backend-wasm").getThreadsCount?.() ?? 1;
  const splitting = threads > 1 && process.env.TUNEBOOK_HEAP_WORKERS !== "0";
  const C = 384;
  for (const rows of [
    1,
    7,
    Math.floor(MIN_SPLIT / C) - 1,
    Math.ceil(MIN_SPLIT / C) + 3,
    3 * Math.ceil(MIN_SPLIT / C) + 1,
  ]) {
    const xs = randArray(rows * C, rng, 2);
    const ws = randArray(C, rng, 0.3, 1);
    const bs = randArray(C, rng, 0.2);
    const dys = randArray(rows * C, rng);
    const [x, w, b, dy] = [tf.tensor2d(xs, [rows, C]), tf.tensor1d(ws), tf.tensor1d(bs), tf.tensor2d(dys, [rows, C])];
    const splitsBefore = heapWorkerStats().splits;
    let dx: tf.Tensor | undefined;
    const prof = await tf.profile(() => {
      const y = layerNorm(x, w, b, EPS);
      dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layerNorm(t, w, b, EPS), dy)) as tf.Scalar)(x);
      return y;
    });
    const names = prof.kernels.map((k) => k.name);
    assert.ok(names.includes("LayerNormFused") && names.includes("LayerNormFusedGrad"), `kernels: ${names.join(", ")}`);
    const [y1, xh1, rs1] = rowsOnce(layerNormForwardSlice, [xs, ws, bs], [rows * C, rows * C, rows], rows, [C, EPS]);
    const [dx1] = rowsOnce(layerNormBackwardSlice, [dys, xh1, rs1, ws], [rows * C, rows * C], rows, [C]);
    const y = prof.result as tf.Tensor;
    assert.deepEqual(y.dataSync(), y1, `forward, ${rows} rows`);
    assert.deepEqual(dx!.dataSync(), dx1, `backward, ${rows} rows`);
    if (splitting)
      assert.equal(heapWorkerStats().splits - splitsBefore, rows * C >= MIN_SPLIT ? 3 : 0, `splits, ${rows} rows`);
    tf.dispose([x, w, b, dy, y, dx!]);
  }
});

test("a GPT-NeoX training step runs the fused LayerNorm and leaks no tensor", async () => {
  await useTestBackend();
  const cfg = makeConfig({
    vocabSize: 64,
    hiddenSize: 64,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    intermediateSize: 256,
  });
  const rng = new Rng(4);
  const data = Array.from({ length: 8 }, () => ({
    inputIds: Array.from({ length: 16 }, () => Math.floor(rng.next() * 64)),
  }));
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 2 });
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
  trainer.trainStep();
  const after1 = tf.memory().numTensors;
  const prof = await tf.profile(() => {
    trainer.trainStep();
  });
  if (wasmMemory()?.buffer instanceof SharedArrayBuffer) {
    const count = (n: string) => prof.kernels.filter((k) => k.name === n).length;
    // 2 per block (ln1, ln2) + the final one, each forward and backward
    assert.equal(count("LayerNormFused"), 5);
    assert.equal(count("LayerNormFusedGrad"), 5);
  }
  for (let i = 0; i < 2; i++) trainer.trainStep();
  assert.equal(tf.memory().numTensors, after1, "three more steps leak no tensor");
  trainer.dispose();
  model.dispose();
});
