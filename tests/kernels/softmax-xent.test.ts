// The softmax cross-entropy heap kernel (src/kernels/softmax-xent.ts) and the fused output layer + loss that calls it
// (src/kernels/head-loss.ts): its float32 exp against Math.exp over a dense range, the rows' losses and
// softmax − onehot against float64 references (extreme, −∞ and NaN logits included), the split across the heap
// workers against one thread bit for bit, and fusedHeadLoss's loss and gradients through the kernel against the
// tfjs-ops path, with and without gradients, leaking no tensor; and the model's fused loss against Hugging Face's.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { fusedHeadLoss } from "../../src/kernels";
import { heapWorkerStats, MIN_SPLIT, runOnHeap } from "../../src/kernels/heap-workers";
import { softmaxCrossEntropyRows, softmaxXentSlice } from "../../src/kernels/softmax-xent";
import { softmaxXentModule } from "../../src/kernels/softmax-xent-wasm";
import { wasmMemory } from "../../src/kernels/wasm-heap";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { Rng } from "../../src/runtime/seed";
import { loadCases, maxAbsDiff, modelDir, tensorOf } from "../model/helpers/neox-fixtures";

/** Whether the kernel runs here (wasm with a shared heap); elsewhere the callers run the tfjs ops. */
function kernelHere(): boolean {
  return softmaxXentModule !== undefined && wasmMemory()?.buffer instanceof SharedArrayBuffer;
}

/** A shared memory of its own with `bytes` free, and the module's exports on it. */
function ownMemory(bytes: number) {
  const pages = Math.ceil(bytes / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const wasm = new WebAssembly.Instance(softmaxXentModule!, { env: { memory } }).exports as Record<
    string,
    (...a: number[]) => void
  >;
  return { memory, wasm };
}

/**
 * The kernel's rows run alone, on one thread, over a memory of its own: z afterwards (softmax − onehot with `grads`)
 * and each row's loss as the wasm kernel makes it (log s + (m − z[label]) in float64, stored as float32).
 */
function rowsOnce(z: Float32Array, labels: Int32Array, V: number, grads: boolean) {
  const R = labels.length;
  const { memory } = ownMemory(4 * R * V + 4 * R + 32 * R);
  const [Z, L, S] = [0, 4 * R * V, 4 * R * V + 4 * R];
  new Float32Array(memory.buffer, Z, R * V).set(z);
  new Int32Array(memory.buffer, L, R).set(labels);
  runOnHeap(softmaxXentSlice, [Z, L, S], R, [V, grads ? 1 : 0], memory, V);
  const st = new DataView(memory.buffer, S, 32 * R);
  const loss = Float32Array.from(
    { length: R },
    (_, r) => Math.log(st.getFloat64(32 * r, true)) + st.getFloat64(32 * r + 8, true),
  );
  return { z: new Float32Array(memory.buffer, Z, R * V).slice(), loss };
}

/** Float64 references: each row's −log softmax(z)[label] and softmax − onehot. */
function reference(z: Float32Array, labels: Int32Array, V: number) {
  const R = labels.length;
  const loss = new Float64Array(R);
  const grad = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    const row = z.subarray(r * V, (r + 1) * V);
    const m = row.reduce((a, b) => Math.max(a, b), -Infinity);
    let s = 0;
    for (const v of row) s += Math.exp(v - m);
    loss[r] = Math.log(s) + m - row[labels[r]];
    for (let v = 0; v < V; v++) grad[r * V + v] = Math.exp(row[v] - m) / s - (v === labels[r] ? 1 : 0);
  }
  return { loss, grad };
}

/** Half a float32 ulp at |v| (one float32 rounding). */
function halfUlp32(v: number): number {
  const a = Math.abs(v);
  return a < 2 ** -126 ? 2 ** -150 : 2 ** (Math.floor(Math.log2(a)) - 24);
}

/** Logits of unit scale with, in some rows, ±80 (max-subtraction matters) and −∞ (a masked token). */
function logits(R: number, V: number, rng: Rng): Float32Array {
  const z = Float32Array.from({ length: R * V }, () => rng.normal() * 3);
  for (let r = 0; r < R; r += 3) {
    z[r * V + ((r * 7) % V)] = 80;
    if (V > 2) z[r * V + ((r * 7 + 1) % V)] = -80;
  }
  if (V > 2) for (let r = 1; r < R; r += 4) z[r * V + ((r * 5) % V)] = Number.NEGATIVE_INFINITY; // never at a label below
  return z;
}

test("exp: e^x within 3e-7 relative of Math.exp wherever it is a normal float32, 0 below, x in [−750, 0]", () => {
  assert.ok(softmaxXentModule, "the module compiles here");
  const n = 3_000_000; // step 2.5e-4, a multiple of 4
  const x = Float32Array.from({ length: n }, (_, i) => -750 + (750 * i) / (n - 1));
  x.set([Number.NEGATIVE_INFINITY, -3.4e38, -1e30, -0, -87.3365, -87.3366, -103.9, Number.NaN], 0);
  const { memory, wasm } = ownMemory(8 * n);
  new Float32Array(memory.buffer, 0, n).set(x);
  wasm.expF32x4(0, 4 * n, n);
  const y = new Float32Array(memory.buffer, 4 * n, n);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(x[i])) {
      assert.ok(Number.isNaN(y[i]), "NaN stays NaN");
      continue;
    }
    const ref = Math.exp(x[i]); // of the float32 input, exactly
    if (ref >= 2 ** -126) worst = Math.max(worst, Math.abs(y[i] - ref) / ref);
    else assert.equal(y[i], 0, `x=${x[i]}: e^x = ${ref} is below the normal float32s: 0, never NaN (got ${y[i]})`);
  }
  // the degree-6 Taylor polynomial's truncation (|r|⁷/7! ≤ 1.2e-7 at |r| = ln2/2) and about 1.5 float32 roundings
  assert.ok(worst <= 3e-7, `worst relative error ${worst}`);
  assert.deepEqual([y[0], y[1], y[2], y[3]], [0, 0, 0, 1]);
});

test("rows: the losses and softmax − onehot against float64 (±80, −∞, V below and not a multiple of 4)", () => {
  assert.ok(softmaxXentModule, "the module compiles here");
  const rng = new Rng(3);
  for (const [R, V] of [
    [4, 1],
    [3, 4],
    [5, 7],
    [9, 101],
    [6, 1031],
  ]) {
    const z = logits(R, V, rng);
    const labels = Int32Array.from({ length: R }, (_, r) => (r * 7 + (r % 2)) % V); // the +80 logit in some rows, the −80 in others
    const ref = reference(z, labels, V);
    const loss = rowsOnce(z, labels, V, false);
    const grad = rowsOnce(z, labels, V, true);
    assert.deepEqual(loss.z, z, "without gradients the logits stay as they were");
    assert.deepEqual(loss.loss, grad.loss, "the same losses with and without gradients");
    for (let r = 0; r < R; r++) {
      const err = Math.abs(loss.loss[r] - ref.loss[r]);
      assert.ok(
        err <= 1e-6 * Math.max(1, ref.loss[r]),
        `[${R}, ${V}] row ${r}: loss ${loss.loss[r]} vs ${ref.loss[r]}`,
      );
    }
    let worst = 0;
    for (let i = 0; i < R * V; i++) {
      const p = ref.grad[i] + (i % V === labels[Math.floor(i / V)] ? 1 : 0); // the softmax itself
      // the float32 store of p − 1 at the label rounds at |p − 1|'s scale, not p's
      const err = Math.max(0, Math.abs(grad.z[i] - ref.grad[i]) - halfUlp32(ref.grad[i]));
      worst = Math.max(worst, err / Math.max(p, 1e-6));
    }
    // relative to p where p ≥ 1e-6 (the exp's 3e-7, the rounding of z − m to float32, the scaling's two roundings)
    assert.ok(worst <= 1e-6, `[${R}, ${V}] softmax − onehot: worst error ${worst} (relative to max(p, 1e-6))`);
  }
});

test("rows: a NaN logit makes its row's loss and gradient NaN, and only its row's", () => {
  const V = 9;
  const z = Float32Array.from({ length: 2 * V }, (_, i) => (i % 5) - 2);
  z[V + 4] = Number.NaN;
  const out = rowsOnce(z, Int32Array.of(1, 2), V, true);
  assert.ok(Number.isFinite(out.loss[0]) && Number.isNaN(out.loss[1]), `${out.loss}`);
  assert.ok(out.z.subarray(0, V).every(Number.isFinite), "row 0 untouched by row 1's NaN");
  assert.ok(out.z.subarray(V).every(Number.isNaN), "row 1 all NaN");
});

test("the kernel on the wasm heap, split across the heap workers or not, equals one thread bit for bit", async () => {
  await useTestBackend();
  if (!kernelHere()) return; // other backends and the single-threaded build run the tfjs ops (tested below)
  const rng = new Rng(5);
  const threads = require("@tensorflow/tfjs-backend-wasm").getThreadsCount?.() ?? 1;
  const splitting = threads > 1 && process.env.TUNEBOOK_HEAP_WORKERS !== "0";
  for (const [R, V] of [
    [3, 11],
    [37, 2053], // 75,961 values: above MIN_SPLIT
  ]) {
    const zs = logits(R, V, rng);
    const labels = Int32Array.from({ length: R }, () => Math.floor(rng.next() * V));
    for (const grads of [false, true]) {
      const before = tf.memory().numTensors;
      const z = tf.tensor2d(zs, [R, V]);
      const splitsBefore = heapWorkerStats().splits;
      const nll = softmaxCrossEntropyRows(z, labels, grads)!;
      const splits = heapWorkerStats().splits - splitsBefore;
      const want = rowsOnce(zs, labels, V, grads);
      assert.deepEqual(nll.dataSync(), want.loss, `[${R}, ${V}] losses, grads ${grads}`);
      assert.deepEqual(z.dataSync(), want.z, `[${R}, ${V}] z afterwards, grads ${grads}`);
      if (splitting) assert.equal(splits, R * V >= MIN_SPLIT ? 1 : 0, "split when large enough");
      tf.dispose([z, nll]);
      assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    }
  }
});

test("the kernel refuses to write over logits whose buffer is shared, and checks the labels", async () => {
  await useTestBackend();
  if (!kernelHere()) return;
  const z = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const alias = tf.reshape(z, [3, 2]); // the same buffer (on wasm a clone is a copy)
  assert.equal(softmaxCrossEntropyRows(z, Int32Array.of(0, 1), true), null);
  assert.deepEqual([...z.dataSync()], [1, 2, 3, 4, 5, 6]);
  const nll = softmaxCrossEntropyRows(z, Int32Array.of(0, 1), false)!; // reads only
  assert.deepEqual([...alias.dataSync()], [1, 2, 3, 4, 5, 6]);
  assert.throws(() => softmaxCrossEntropyRows(z, Int32Array.of(0, 3), false), /label 3 is not in \[0, 3\)/);
  assert.throws(() => softmaxCrossEntropyRows(z, Int32Array.of(0), false), /1 labels for 2 rows/);
  tf.dispose([z, alias, nll]);
});

/** A head case: hidden states h `[N, C]`, weight W `[V, C]` (unit scale), scored rows and their labels. */
function headCase(N: number, C: number, V: number, seed: number) {
  const rng = new Rng(seed);
  const hs = Float32Array.from({ length: N * C }, () => rng.normal());
  const ws = Float32Array.from({ length: V * C }, () => rng.normal());
  // two rows scaled so that their logits reach about ±80
  for (const r of [1, 4]) {
    let big = 0;
    for (let v = 0; v < V; v++) {
      let d = 0;
      for (let c = 0; c < C; c++) d += hs[r * C + c] * ws[v * C + c];
      big = Math.max(big, Math.abs(d));
    }
    for (let c = 0; c < C; c++) hs[r * C + c] *= 80 / big;
  }
  const rows = Int32Array.from({ length: N }, (_, i) => i).filter((i) => i % 5 !== 3); // some rows not scored
  const ids = Int32Array.from(rows, () => Math.floor(rng.next() * V));
  return { h: tf.variable(tf.tensor2d(hs, [N, C])), w: tf.variable(tf.tensor2d(ws, [V, C])), rows, ids };
}

test("fusedHeadLoss through the kernel equals the tfjs-ops path: loss, dH and dW (several chunks, odd V, ±80)", async () => {
  await useTestBackend();
  for (const [N, C, V, chunkRows] of [
    [12, 8, 101, 3],
    [10, 16, 37, 256],
    [30, 8, 2053, 7], // chunks of 7 × 2053 values: below MIN_SPLIT; [24, 2053] in one chunk: above
    [30, 8, 2053, 40],
  ]) {
    const { h, w, rows, ids } = headCase(N, C, V, N + V);
    const run = (softmaxKernel: boolean, trainWeight: boolean) => {
      const before = tf.memory().numTensors;
      const f = () => fusedHeadLoss(h, w, rows, ids, { trainWeight, chunkRows, softmaxKernel });
      const { value, grads } = tf.variableGrads(f, trainWeight ? [h, w] : [h]);
      const out = {
        loss: value.dataSync()[0],
        dH: grads[h.name].dataSync() as Float32Array,
        dW: trainWeight ? (grads[w.name].dataSync() as Float32Array) : null,
      };
      tf.dispose([value, ...Object.values(grads)]);
      const evalLoss = tf.tidy(() => f().dataSync()[0]); // no gradients: only the losses
      assert.equal(tf.memory().numTensors, before, `no tensor leaks (kernel ${softmaxKernel})`);
      return { ...out, evalLoss };
    };
    for (const trainWeight of [true, false]) {
      const what = `[N ${N}, C ${C}, V ${V}, chunkRows ${chunkRows}, trainWeight ${trainWeight}]`;
      const got = run(true, trainWeight);
      const want = run(false, trainWeight);
      assert.ok(Math.abs(got.loss - want.loss) <= 1e-6 * want.loss, `${what} loss ${got.loss} vs ${want.loss}`);
      assert.ok(Math.abs(got.evalLoss - want.evalLoss) <= 1e-6 * want.evalLoss, `${what} evaluation loss`);
      assert.equal(got.evalLoss, got.loss, `${what} the same loss with and without gradients`);
      for (const [name, a, b] of [
        ["dH", got.dH, want.dH],
        ["dW", got.dW, want.dW],
      ] as const) {
        if (!a || !b) continue;
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        assert.ok(worst <= 1e-6, `${what} ${name}: max difference ${worst}`);
      }
    }
    tf.dispose([h, w]);
  }
});

test("on the shared wasm heap fusedHeadLoss runs SoftmaxCrossEntropy instead of Softmax, Max and GatherNd", async () => {
  await useTestBackend();
  if (!kernelHere()) return;
  const { h, w, rows, ids } = headCase(12, 8, 101, 9);
  for (const withGrads of [false, true]) {
    const prof = await tf.profile(() => {
      const f = () => fusedHeadLoss(h, w, rows, ids, { trainWeight: true, chunkRows: 4 });
      if (!withGrads) return f();
      const { value, grads } = tf.variableGrads(f, [h, w]);
      tf.dispose(Object.values(grads));
      return value;
    });
    const names = prof.kernels.map((k) => k.name);
    assert.equal(names.filter((n) => n === "SoftmaxCrossEntropy").length, 3, `3 chunks: ${names.join(", ")}`);
    for (const n of ["Softmax", "Max", "GatherNd", "Log"]) assert.ok(!names.includes(n), `no ${n}`);
    (prof.result as tf.Tensor).dispose();
  }
  tf.dispose([h, w]);
});

for (const name of ["A", "B"] as const) {
  test(`model ${name}: the fused loss (the kernel where it runs) matches HF's losses and seq1's embed_out gradient`, async () => {
    await useTestBackend();
    const fx = loadCases(name);
    const model = await GPTNeoXForCausalLM.fromPretrained(modelDir(name));
    try {
      const before = tf.memory().numTensors;
      for (const c of fx.cases) {
        const opts = { attentionMask: c.attention_mask ?? undefined, positionIds: c.position_ids ?? undefined };
        const l = tf.tidy(() => model.causalLMLoss(c.input_ids, c.labels, opts).dataSync()[0]);
        assert.ok(Math.abs(l - c.loss) <= 1e-5 * Math.abs(c.loss), `${c.name}: loss ${l} vs HF ${c.loss}`);
      }
      const c = fx.cases.find((x) => x.name === fx.grads.case)!;
      const w = model.parameters().get("embed_out.weight")!;
      const { value, grads } = tf.variableGrads(() => model.causalLMLoss(c.input_ids, c.labels), [w]);
      const loss = value.dataSync()[0];
      assert.ok(Math.abs(loss - Math.fround(fx.grads.loss)) <= 1e-5 * fx.grads.loss, `seq1 loss ${loss}`);
      const d = maxAbsDiff(grads[w.name].dataSync(), tensorOf(fx.grads["embed_out.weight"]).data);
      assert.ok(d <= 1e-4, `embed_out.weight: max |grad − HF| = ${d}`);
      tf.dispose([value, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    } finally {
      model.dispose();
    }
  });
}
