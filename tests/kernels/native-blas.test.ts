// Matmuls on a native BLAS behind the wasm backend (src/kernels/native-blas.ts): the kernel against a plain
// double-precision loop for every layout it handles (transposes, batches, broadcast batch, the fallbacks), and
// the model's native code paths (Linear, fused loss, rotary, attention, LoRA, generation) against the pure-wasm
// ones, value and every gradient. Where no BLAS is installed the native cases are skipped with the reason;
// CI installs OpenBLAS and sets TUNEBOOK_REQUIRE_BLAS=1, which turns a missing BLAS into a failure.
import { test, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { assertGradsClose, lossAndGrads } from "../helpers/grads";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import {
  installNativeMatMul,
  loadNativeBlas,
  columnSums,
  matMulAccumulate,
  matMulBias,
  nativeBlasStatus,
  nativeMatMulActive,
  sumOfSquares,
  uninstallNativeMatMul,
  BLAS_ENV,
  CORETYPE_ENV,
  OPENBLAS_CORE_VARS,
  coreTypePlan,
  loadOverrides,
  OPENBLAS_THREAD_TIMEOUT,
  withEnv,
} from "../../src/kernels/native-blas";
import { globalNormSquared } from "../../src/train/grad";
import { colSum } from "../../src/kernels/linear";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { generate } from "../../src/model/generate";
import { applyLora } from "../../src/pipeline/adapters";
import { Rng } from "../../src/runtime/seed";

/** Native matmul on, or skip (fail when CI requires it). */
async function needNative(t: TestContext): Promise<boolean> {
  await useTestBackend();
  if (tf.getBackend() !== "wasm") {
    t.skip(`runs on the wasm backend only (active: ${tf.getBackend()})`);
    return false;
  }
  const s = installNativeMatMul(2);
  if (s.active) return true;
  if (process.env.TUNEBOOK_REQUIRE_BLAS === "1") assert.fail(`TUNEBOOK_REQUIRE_BLAS=1 but no native BLAS: ${s.why}`);
  t.skip(`no native BLAS here: ${s.why}`);
  return false;
}

function randn(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

/** `a·b` for `[..., M, K]·[..., K, N]` with transposes and numpy-style batch broadcasting, in float64. */
function reference(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): { shape: number[]; values: Float64Array } {
  const av = a.dataSync(),
    bv = b.dataSync();
  const ra = a.rank,
    rb = b.rank;
  const M = ta ? a.shape[ra - 1] : a.shape[ra - 2],
    K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  const oa = a.shape.slice(0, -2),
    ob = b.shape.slice(0, -2);
  const rank = Math.max(oa.length, ob.length);
  const pa = [...Array(rank - oa.length).fill(1), ...oa],
    pb = [...Array(rank - ob.length).fill(1), ...ob];
  const outer = pa.map((d, i) => Math.max(d, pb[i]));
  const batch = outer.reduce((x, y) => x * y, 1);
  const values = new Float64Array(batch * M * N);
  for (let bi = 0; bi < batch; bi++) {
    let rem = bi,
      ia = 0,
      ib = 0,
      sa = 1,
      sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % outer[d];
      rem = Math.floor(rem / outer[d]);
      ia += (pa[d] === 1 ? 0 : idx) * sa;
      ib += (pb[d] === 1 ? 0 : idx) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const x = av[ia * M * K + (ta ? k * M + i : i * K + k)];
          const y = bv[ib * K * N + (tb ? j * K + k : k * N + j)];
          acc += x * y;
        }
        values[bi * M * N + i * N + j] = acc;
      }
  }
  return { shape: [...outer, M, N], values };
}

const CASES: Array<{ a: number[]; b: number[]; ta?: boolean; tb?: boolean; what: string }> = [
  { a: [7, 5], b: [5, 3], what: "2-D" },
  { a: [5, 7], b: [5, 3], ta: true, what: "2-D, aᵀ" },
  { a: [7, 5], b: [3, 5], tb: true, what: "2-D, bᵀ" },
  { a: [5, 7], b: [3, 5], ta: true, tb: true, what: "2-D, aᵀ and bᵀ" },
  { a: [33, 64], b: [64, 40], what: "2-D, larger than a block" },
  { a: [4, 6, 5], b: [4, 5, 3], what: "batched" },
  { a: [4, 6, 5], b: [4, 3, 5], tb: true, what: "batched, bᵀ (attention scores)" },
  { a: [4, 5, 6], b: [4, 5, 3], ta: true, what: "batched, aᵀ" },
  { a: [2, 3, 6, 5], b: [2, 3, 5, 4], what: "rank 4" },
  { a: [4, 6, 5], b: [5, 3], what: "batch × 2-D weight (broadcast)" },
  { a: [6, 5], b: [4, 5, 3], what: "2-D × batch (broadcast)" },
  { a: [1, 6, 5], b: [4, 5, 3], what: "batch 1 × batch 4" },
  {
    a: [2, 1, 3, 4],
    b: [1, 5, 4, 2],
    what: "general broadcasting, NumPy's values (tfjs's cpu/wasm kernels index batches modulo)",
  },
  { a: [3, 4], b: [4, 9], what: "few rows (decoding: the wasm kernel's case)" },
  { a: [0, 4], b: [4, 3], what: "no rows" },
  { a: [5, 0], b: [0, 3], what: "K = 0 (zeros)" },
];

for (const c of CASES) {
  test(`native BatchMatMul = float64 reference: ${c.what} [${c.a}]${c.ta ? "ᵀ" : ""}·[${c.b}]${c.tb ? "ᵀ" : ""}`, async (t) => {
    if (!(await needNative(t))) return;
    const rng = new Rng(c.a.length * 31 + c.b.length);
    const a = tf.tensor(
      randn(
        rng,
        c.a.reduce((x, y) => x * y, 1),
      ),
      c.a,
    );
    const b = tf.tensor(
      randn(
        rng,
        c.b.reduce((x, y) => x * y, 1),
      ),
      c.b,
    );
    const before = tf.memory().numTensors;
    const y = tf.matMul(a, b, c.ta, c.tb);
    const want = reference(a, b, !!c.ta, !!c.tb);
    assert.deepEqual(y.shape, want.shape);
    const got = y.dataSync();
    for (let i = 0; i < got.length; i++)
      assert.ok(
        Math.abs(got[i] - want.values[i]) < 1e-5 * (1 + Math.abs(want.values[i])),
        `element ${i}: ${got[i]} vs ${want.values[i]}`,
      );
    y.dispose();
    assert.equal(tf.memory().numTensors, before, "the kernel leaves no tensor behind");
    tf.dispose([a, b]);
  });
}

test("native BatchMatMul: a shape mismatch gives tfjs's own error", async (t) => {
  if (!(await needNative(t))) return;
  assert.throws(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 2])), /inner shapes \(4\) and \(5\)/);
});

test("native BatchMatMul: gradients through transposed operands (tfjs's matMul gradient)", async (t) => {
  if (!(await needNative(t))) return;
  const rng = new Rng(9);
  const a = tf.tensor(randn(rng, 24), [2, 3, 4]),
    b = tf.tensor(randn(rng, 40), [2, 5, 4]),
    r = tf.tensor(randn(rng, 30), [2, 3, 5]);
  const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, false, true), r));
  const native = tf
    .grads(f)([a, b])
    .map((g) => g.dataSync());
  uninstallNativeMatMul();
  try {
    const wasm = tf
      .grads(f)([a, b])
      .map((g) => g.dataSync());
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < wasm[i].length; j++) assert.ok(Math.abs(native[i][j] - wasm[i][j]) < 1e-5, `grad ${i}[${j}]`);
  } finally {
    installNativeMatMul(2);
  }
});

// A tiny GPT-NeoX with partial rotary (rotaryPct 0.5 of 8 dims) and a bias everywhere, as Pythia.
const CFG = makeConfig({
  vocabSize: 41,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 32,
  maxPositionEmbeddings: 32,
  rotaryPct: 0.5,
  initializerRange: 0.3,
});
const IDS = [
  [3, 17, 5, 9, 22, 3, 17, 5],
  [4, 11, 30, 2, 1, 1, 1, 1],
];
const MASK = [
  [1, 1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0, 0, 0],
];
const LABELS = [
  [-100, -100, 5, 9, 22, 3, 17, 5],
  [4, 11, 30, 2, -100, -100, -100, -100],
];

/** Run `f` on the native path, then on the pure-wasm path (kernel and model branches), and return both. */
function bothPaths<T>(f: () => T): { native: T; wasm: T } {
  assert.ok(nativeMatMulActive());
  const native = f();
  uninstallNativeMatMul();
  try {
    assert.ok(!nativeMatMulActive());
    return { native, wasm: f() };
  } finally {
    installNativeMatMul(2);
  }
}

test("full fine-tuning: the fused loss and every gradient are the same on the native and the wasm path", async (t) => {
  if (!(await needNative(t))) return;
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 3 });
  const vars = model.parameters();
  const before = tf.memory().numTensors;
  // chunkRows 3: several chunks, so the native path adds into the output layer's dW accumulator (sgemm, β = 1)
  const r = bothPaths(() =>
    lossAndGrads(vars, () => model.causalLMLoss(IDS, LABELS, { attentionMask: MASK, chunkRows: 3 })),
  );
  assert.equal(tf.memory().numTensors, before, "no tensor leaked on either path");
  assertGradsClose(r.native, r.wasm, "full");
  const one = bothPaths(() => lossAndGrads(vars, () => model.causalLMLoss(IDS, LABELS, { attentionMask: MASK })));
  assertGradsClose(one.native, one.wasm, "full, one chunk");
  assertGradsClose(r.native, one.native, "3-row chunks vs one chunk (native)");
  assert.ok(
    r.native.grads.has("embed_out.weight") && r.native.grads.has("gpt_neox.layers.0.attention.query_key_value.bias"),
  );
  model.dispose();
});

test("LoRA: loss and the adapters' gradients are the same on the native and the wasm path", async (t) => {
  if (!(await needNative(t))) return;
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 5 });
  const { trainable } = applyLora(model, { r: 4, alpha: 8, targets: ["query_key_value", "dense"] }, { seed: 1 });
  const vars = trainable.trainableVariables();
  // B starts at zero (PEFT's init): give it values so every product of the adapter carries signal
  const rng = new Rng(2);
  for (const [name, v] of vars) if (/lora_B/.test(name)) v.assign(tf.tensor(randn(rng, v.size), v.shape));
  const batch = {
    inputIds: tf.tensor2d(IDS, undefined, "int32"),
    attentionMask: tf.tensor2d(MASK, undefined, "int32"),
    labels: tf.tensor2d(LABELS, undefined, "int32"),
    numTokens: 10,
  };
  const r = bothPaths(() => lossAndGrads(vars, () => trainable.loss(batch)));
  assertGradsClose(r.native, r.wasm, "lora");
  tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
  model.dispose();
});

test("greedy generation gives the same tokens on the native and the wasm path", async (t) => {
  if (!(await needNative(t))) return;
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 7 });
  const before = tf.memory().numTensors;
  const native = (await generate(
    model,
    [
      [3, 17, 5, 9],
      [4, 11, 30, 2],
    ],
    { maxNewTokens: 12, eosTokenId: null, doSample: false },
  )) as number[][];
  uninstallNativeMatMul();
  let wasm: number[][];
  try {
    wasm = (await generate(
      model,
      [
        [3, 17, 5, 9],
        [4, 11, 30, 2],
      ],
      { maxNewTokens: 12, eosTokenId: null, doSample: false },
    )) as number[][];
  } finally {
    installNativeMatMul(2);
  }
  assert.deepEqual(native, wasm);
  assert.equal(tf.memory().numTensors, before, "generation leaks no tensor");
  model.dispose();
});

test(`${BLAS_ENV}=off keeps the wasm kernel; a bad path is named in the reason`, async () => {
  await useTestBackend();
  const saved = process.env[BLAS_ENV];
  try {
    process.env[BLAS_ENV] = "off";
    const off = loadNativeBlas(1);
    assert.equal(off.ok, false);
    assert.match((off as { why: string }).why, /TUNEBOOK_BLAS=off/);
    process.env[BLAS_ENV] = "/nonexistent/libopenblas.so.0";
    const bad = loadNativeBlas(1);
    assert.equal(bad.ok, false);
    assert.match((bad as { why: string }).why, /\/nonexistent\/libopenblas\.so\.0/);
  } finally {
    if (saved === undefined) delete process.env[BLAS_ENV];
    else process.env[BLAS_ENV] = saved;
  }
  assert.equal(typeof nativeBlasStatus().why, "string");
});

test("matMulAccumulate adds op(a)·op(b)·alpha into the accumulator's own buffer, and refuses a shared one", async (t) => {
  if (!(await needNative(t))) return;
  const rng = new Rng(4);
  const acc = tf.tensor2d(randn(rng, 12), [3, 4]);
  const a = tf.tensor2d(randn(rng, 15), [5, 3]); // used transposed: [3, 5]
  const b = tf.tensor2d(randn(rng, 20), [5, 4]);
  const want = tf.tidy(() => tf.add(acc, tf.mul(tf.matMul(a, b, true, false), 0.5)).dataSync());
  const id = acc.dataId;
  assert.equal(matMulAccumulate(acc, a, b, true, false, 0.5), true);
  assert.equal(acc.dataId, id, "same buffer");
  const got = acc.dataSync();
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `element ${i}: ${got[i]} vs ${want[i]}`);
  const shared = tf.clone(acc); // shares the buffer on wasm: writing into it would change `shared` too
  const kept = shared.dataSync().slice();
  assert.equal(matMulAccumulate(acc, a, b, true, false), false);
  assert.deepEqual([...shared.dataSync()], [...kept]);
  assert.throws(() => matMulAccumulate(acc, a, b, false, false), /\[3,4\] \+= \[5,3\]·\[5,4\] do not fit/);
  tf.dispose([acc, a, b, shared]);
});

test("matMulBias: x·Wᵀ + b in one sgemm equals the product plus the bias (odd sizes, K past a BLAS block), or null", async (t) => {
  if (!(await needNative(t))) return;
  const rng = new Rng(8);
  for (const [N, K, out] of [
    [1, 1, 1],
    [7, 5, 3],
    [33, 700, 19],
  ]) {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(randn(rng, N * K), [N, K]);
    const w = tf.tensor2d(randn(rng, out * K), [out, K]);
    const b = tf.tensor1d(randn(rng, out));
    const y = matMulBias(x, w, b);
    assert.ok(y, "runs on the native BLAS");
    assert.deepEqual(y.shape, [N, out]);
    const [xs, ws, bs, got] = [x, w, b, y].map((t) => t.dataSync());
    for (let i = 0; i < N; i++)
      for (let j = 0; j < out; j++) {
        let want = bs[j];
        for (let k = 0; k < K; k++) want += xs[i * K + k] * ws[j * K + k]; // float64
        const tol = 1e-6 * (K + 1);
        assert.ok(
          Math.abs(got[i * out + j] - want) <= tol,
          `[${N},${K},${out}] (${i}, ${j}): ${got[i * out + j]} vs ${want}`,
        );
      }
    tf.dispose([x, w, b, y]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
  }
  const x = tf.ones([2, 3]) as tf.Tensor2D;
  assert.equal(matMulBias(x, tf.ones([4, 5]) as tf.Tensor2D, tf.ones([4]) as tf.Tensor1D), null, "K does not fit");
  assert.equal(matMulBias(x, tf.ones([4, 3]) as tf.Tensor2D, tf.ones([5]) as tf.Tensor1D), null, "bias does not fit");
  tf.dispose(x);
});

test("2-D float32 transposes run on cblas_somatcopy and equal the element-by-element transpose; other cases keep tfjs's kernel", async (t) => {
  if (!(await needNative(t))) return;
  const rng = new Rng(9);
  const before = tf.memory().numTensors;
  const blas = nativeBlasStatus().blas!;
  const somatcopy = blas.somatcopy;
  if (!somatcopy) return t.skip(`${blas.describe} has no cblas_somatcopy (not OpenBLAS)`);
  let calls = 0;
  blas.somatcopy = (...a) => {
    calls++;
    somatcopy(...a);
  };
  for (const [R, C] of [
    [1, 1],
    [3, 5],
    [257, 129],
    [2048, 512],
  ]) {
    const x = tf.tensor2d(randn(rng, R * C), [R, C]);
    const xs = x.dataSync();
    const y = tf.transpose(x);
    assert.deepEqual(y.shape, [C, R]);
    const ys = y.dataSync();
    for (let i = 0; i < R; i++)
      for (let j = 0; j < C; j++) assert.equal(ys[j * R + i], xs[i * C + j], `[${R},${C}] (${i}, ${j})`);
    tf.dispose([x, y]);
  }
  // int32 bits must not pass through a float multiply: tfjs's own kernel, exact values
  const big = Int32Array.from([2147483647, -2147483648, 16777217, -1, 0, 123456789]);
  const xi = tf.tensor2d(big, [2, 3], "int32");
  const xit = tf.tidy(() => [...tf.transpose(xi).dataSync()]);
  assert.deepEqual(xit, [2147483647, -1, -2147483648, 0, 16777217, 123456789]);
  const x3 = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
  assert.deepEqual(
    tf.tidy(() => [...tf.transpose(x3, [2, 0, 1]).dataSync()]),
    [1, 3, 5, 7, 2, 4, 6, 8],
  );
  tf.dispose([xi, x3]);
  blas.somatcopy = somatcopy;
  assert.equal(calls, 4, "each float32 2-D transpose ran on somatcopy, nothing else did");
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
});

test("the gradient norm on the native BLAS (cblas_dsdot) equals square-and-sum", async (t) => {
  if (!(await needNative(t))) return;
  const rng = new Rng(6);
  const grads = new Map([
    ["a", tf.tensor(randn(rng, 1000), [40, 25])],
    ["b", tf.tensor(randn(rng, 7), [7])],
    ["c", tf.zeros([0])],
  ]);
  let want = 0;
  for (const g of grads.values()) for (const x of g.dataSync()) want += x * x;
  const exact = [...grads.get("a")!.dataSync()].reduce((s, x) => s + x * x, 0); // float64
  assert.ok(
    Math.abs((sumOfSquares(grads.get("a")!) ?? NaN) - exact) < 1e-7 * exact,
    "cblas_dsdot: close to a float64 sum",
  );
  const native = globalNormSquared(grads);
  assert.ok(Math.abs(native.dataSync()[0] - want) < 1e-4 * want, `${native.dataSync()[0]} vs ${want}`);
  uninstallNativeMatMul();
  try {
    assert.equal(sumOfSquares(grads.get("a")!), null, "off without the native BLAS");
    const wasm = globalNormSquared(grads);
    assert.ok(Math.abs(wasm.dataSync()[0] - want) < 1e-4 * want);
    wasm.dispose();
  } finally {
    installNativeMatMul(2);
  }
  native.dispose();
  tf.dispose([...grads.values()]);
});

test("small products run on one OpenBLAS thread, the thread count is restored, large ones keep every thread", async (t) => {
  if (!(await needNative(t))) return;
  const blas = nativeBlasStatus().blas!;
  if (!blas.setThreads) return t.skip(`not OpenBLAS: ${blas.describe}`);
  if (blas.threads < 2) return t.skip("one thread already");
  const set = blas.setThreads;
  const calls: number[] = [];
  blas.setThreads = (n) => {
    calls.push(n);
    set(n);
  };
  try {
    const rng = new Rng(9);
    const a = tf.tensor(randn(rng, 4 * 16 * 8), [4, 16, 8]);
    const b = tf.tensor(randn(rng, 4 * 8 * 16), [4, 8, 16]);
    const small = tf.matMul(a, b); // 4 products of 16·16·8 multiply-adds
    const want = reference(a, b, false, false);
    const got = small.dataSync();
    for (let i = 0; i < want.values.length; i++) assert.ok(Math.abs(got[i] - want.values[i]) < 1e-5, `[${i}]`);
    assert.deepEqual(calls, [1, blas.threads], "one thread for the loop, then back");
    calls.length = 0;
    const x = tf.ones([256, 256]);
    const big = tf.matMul(x, x); // 2^24 multiply-adds: every thread
    assert.equal(big.dataSync()[0], 256);
    assert.deepEqual(calls, []);
    tf.dispose([a, b, small, x, big]);
  } finally {
    blas.setThreads = set;
  }
});

test("column sums on the native BLAS (cblas_sgemv) equal a float64 sum and run no matmul kernel", async (t) => {
  if (!(await needNative(t))) return;
  const rng = new Rng(8);
  const before = tf.memory().numTensors;
  for (const [N, C] of [
    [37, 5],
    [300, 129],
    [1, 4],
    [0, 3],
  ]) {
    const x = tf.tensor(randn(rng, N * C), [N, C]) as tf.Tensor2D;
    const v = x.dataSync();
    const want = Array.from({ length: C }, (_, c) => {
      let s = 0;
      for (let r = 0; r < N; r++) s += v[r * C + c];
      return s;
    });
    const info = await tf.profile(() => colSum(x));
    const got = info.result as tf.Tensor;
    assert.deepEqual(got.shape, [C]);
    const g = got.dataSync();
    for (let c = 0; c < C; c++)
      assert.ok(Math.abs(g[c] - want[c]) < 1e-5 * (1 + Math.abs(want[c])), `[${N}, ${C}] col ${c}`);
    assert.deepEqual(
      info.kernels.map((k) => k.name),
      [],
      `[${N}, ${C}]: one sgemv, no tfjs kernel (a [1, N]·[N, C] BatchMatMul would go to XNNPACK, which packs x per call)`,
    );
    tf.dispose([x, got]);
  }
  uninstallNativeMatMul();
  try {
    const x = tf.ones([4, 3]) as tf.Tensor2D;
    assert.equal(columnSums(x), null, "off without the native BLAS");
    const s = colSum(x);
    assert.deepEqual(Array.from(s.dataSync()), [4, 4, 4]);
    tf.dispose([x, s]);
  } finally {
    installNativeMatMul(2);
  }
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
});

test("OpenBLAS core choice: the CPU's own by default, the environment's on request, a forced name as given", () => {
  const machine = { OPENBLAS_CORETYPE: "Haswell", OPENBLAS_L2_SIZE: "512" };
  const auto = coreTypePlan(machine);
  assert.deepEqual(auto.overrides, { OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined });
  assert.match(
    auto.why,
    /detected by OpenBLAS for this CPU; the environment's OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512 not applied/,
  );
  assert.deepEqual(coreTypePlan({ ...machine, [CORETYPE_ENV]: "auto" }).overrides, auto.overrides);
  const keep = coreTypePlan({ ...machine, [CORETYPE_ENV]: "env" });
  assert.deepEqual(keep.overrides, {});
  assert.match(keep.why, /OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512 from the environment/);
  const forced = coreTypePlan({ ...machine, [CORETYPE_ENV]: " SkylakeX " });
  assert.deepEqual(
    forced.overrides,
    { OPENBLAS_CORETYPE: "SkylakeX" },
    "the user's L2 size is kept when a core is forced",
  );
  assert.match(forced.why, /forced by TUNEBOOK_BLAS_CORETYPE=SkylakeX/);
  assert.deepEqual(coreTypePlan({}).overrides, {}, "nothing to undo when the environment sets nothing");
  assert.deepEqual([...OPENBLAS_CORE_VARS], ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]);
});

test("withEnv: the override holds inside (native code sees it too) and the environment is restored after, also on a throw", () => {
  const env: Record<string, string | undefined> = { KEEP: "1", GONE: "x" };
  const seen = withEnv(env, { GONE: undefined, NEW: "n", KEEP: "2" }, () => ({ ...env }));
  assert.deepEqual(seen, { KEEP: "2", NEW: "n" });
  assert.deepEqual(env, { KEEP: "1", GONE: "x" });
  assert.ok(!("NEW" in env), "a variable that was absent is removed again, not left as undefined");
  assert.throws(
    () =>
      withEnv(env, { KEEP: "3" }, () => {
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.deepEqual(env, { KEEP: "1", GONE: "x" });

  // On process.env: C's getenv sees the change while it holds (what OpenBLAS reads at load), child processes never do.
  const name = "TUNEBOOK_TEST_WITH_ENV";
  process.env[name] = "outer";
  try {
    let getenv: ((k: string) => string | null) | undefined;
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      getenv = require("koffi")
        .load(process.platform === "darwin" ? "libSystem.B.dylib" : "libc.so.6")
        .func("const char *getenv(const char *name)");
    } catch {
      getenv = undefined; // no koffi or libc by that name: the JS side is still checked
    }
    withEnv(process.env, { [name]: "inner" }, () => {
      assert.equal(process.env[name], "inner");
      if (getenv) assert.equal(getenv(name), "inner");
    });
    if (getenv) assert.equal(getenv(name), "outer");
    const child = spawnSync(process.execPath, ["-e", `process.stdout.write(process.env.${name} ?? "unset")`], {
      encoding: "utf8",
    });
    assert.equal(child.stdout, "outer");
  } finally {
    delete process.env[name];
  }
});

test("OpenBLAS's idle threads sleep after ~2^16 cycles unless the environment sets OPENBLAS_THREAD_TIMEOUT", () => {
  assert.equal(OPENBLAS_THREAD_TIMEOUT, "16");
  assert.deepEqual(loadOverrides({}), { OPENBLAS_THREAD_TIMEOUT: "16" });
  assert.deepEqual(loadOverrides({ OPENBLAS_THREAD_TIMEOUT: "" }), { OPENBLAS_THREAD_TIMEOUT: "16" });
  assert.deepEqual(loadOverrides({ OPENBLAS_THREAD_TIMEOUT: "24" }), {}, "the user's value stands");
  assert.deepEqual(
    loadOverrides({ OPENBLAS_CORETYPE: "Haswell" }),
    { OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined, OPENBLAS_THREAD_TIMEOUT: "16" },
    "with the core plan's",
  );
});

test("the loaded OpenBLAS names its core and why; the process environment is as it was", async (t) => {
  if (!(await needNative(t))) return;
  const vars = [...OPENBLAS_CORE_VARS, "OPENBLAS_THREAD_TIMEOUT"];
  const before = vars.map((k) => process.env[k]);
  const blas = nativeBlasStatus().blas!;
  assert.equal(typeof blas.threads, "number");
  if (!/OpenBLAS/.test(blas.describe)) return t.skip(`not OpenBLAS: ${blas.describe}`);
  assert.equal(typeof blas.coreType, "string");
  assert.ok(blas.describe.includes(`(${blas.coreType})`), blas.describe);
  assert.match(nativeBlasStatus().why, /\(core: .+\)$/);
  assert.deepEqual(
    vars.map((k) => process.env[k]),
    before,
  );
});

test("the bf16 GEMM probe agrees with the loaded library's exported names", async (t) => {
  if (!(await needNative(t))) return;
  const blas = nativeBlasStatus().blas!;
  assert.equal(typeof blas.bf16Gemm, "boolean");
  // the library file this process mapped: its dynamic string table names every exported symbol
  const maps = fs.readFileSync("/proc/self/maps", "utf8");
  const file = maps
    .split("\n")
    .map((l) => l.split(/\s+/)[5])
    .find((p) => p && /openblas/i.test(p) && /\.so/.test(p));
  if (!file) return t.skip("no OpenBLAS file in /proc/self/maps");
  const exported = fs.readFileSync(file).includes(Buffer.from("\0cblas_sbgemm\0"));
  assert.equal(blas.bf16Gemm, exported, `${file}: cblas_sbgemm ${exported ? "exported" : "absent"}`);
});
