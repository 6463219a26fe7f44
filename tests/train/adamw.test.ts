import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { shareClonesOnWasm } from "../../src/kernels";
import { useTestBackend } from "../helpers/backend";
import { heapWorkerStats } from "../../src/kernels/heap-workers";
import { AdamW } from "../../src/train/adamw";
import { decays } from "../../src/train/optimizer";

// Reference: torch.optim.AdamW's update, written out element by element in float64 (independent of the code).
function torchAdamW(
  p0: number[],
  grads: number[][],
  lrs: number[],
  o: { b1: number; b2: number; eps: number; wd: number },
) {
  const p = p0.slice(),
    m = p0.map(() => 0),
    v = p0.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1,
      lr = lrs[k];
    const bc1 = 1 - o.b1 ** t,
      bc2 = 1 - o.b2 ** t;
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - lr * o.wd;
      m[i] = o.b1 * m[i] + (1 - o.b1) * g[i];
      v[i] = o.b2 * v[i] + (1 - o.b2) * g[i] * g[i];
      p[i] -= (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps));
    }
  });
  return { p, m, v };
}

const near = (got: ArrayLike<number>, want: number[], tol: number, what: string) => {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
};

test("first AdamW step by hand: p(1 - lr·wd) - lr·g/(|g| + eps)", async () => {
  await useTestBackend();
  const w = tf.variable(tf.tensor2d([[1, -2]]));
  const opt = new AdamW(new Map([["w", w]]), { weightDecay: 0.01 });
  tf.tidy(() => opt.apply(new Map([["w", tf.tensor2d([[0.5, 0.25]])]]), 0.1));
  // 1·0.999 − 0.1·0.5/(0.5+1e-8) = 0.899000002;  −2·0.999 − 0.1·0.25/(0.25+1e-8) = −2.098
  near(w.dataSync(), [0.899000002, -2.098], 1e-7, "w");
  opt.dispose();
  w.dispose();
});

test("three AdamW steps match torch.optim.AdamW semantics (decay on matrices only)", async () => {
  await useTestBackend();
  const W0 = [0.3, -0.7, 1.2, 0.05, -1.5, 0.9];
  const b0 = [0.1, -0.2, 0.3];
  const gW = [
    [0.2, -0.1, 0.05, 0.3, -0.4, 0.01],
    [-0.3, 0.2, 0.1, -0.05, 0.2, 0.4],
    [0.01, 0.02, -0.5, 0.6, 0.1, -0.2],
  ];
  const gb = [
    [0.5, -0.5, 0.1],
    [0.3, 0.1, -0.2],
    [-0.1, 0.4, 0.2],
  ];
  const lrs = [1e-2, 5e-3, 2e-3];
  const o = { b1: 0.8, b2: 0.95, eps: 1e-6, wd: 0.1 };
  const W = tf.variable(tf.tensor2d(W0, [2, 3]));
  const b = tf.variable(tf.tensor1d(b0));
  const opt = new AdamW(
    new Map([
      ["layer.weight", W],
      ["layer.bias", b],
    ]),
    { beta1: o.b1, beta2: o.b2, eps: o.eps, weightDecay: o.wd },
  );
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++)
    tf.tidy(() =>
      opt.apply(
        new Map([
          ["layer.weight", tf.tensor2d(gW[k], [2, 3])],
          ["layer.bias", tf.tensor1d(gb[k])],
        ]),
        lrs[k],
      ),
    );
  assert.equal(tf.memory().numTensors, before, "no tensors leak across steps");
  const wantW = torchAdamW(W0, gW, lrs, o);
  const wantB = torchAdamW(b0, gb, lrs, { ...o, wd: 0 });
  near(W.dataSync(), wantW.p, 2e-6, "W");
  near(b.dataSync(), wantB.p, 2e-6, "b");
  const st = opt.stateVariables();
  near(st.get("layer.weight.exp_avg")!.dataSync(), wantW.m, 1e-6, "exp_avg");
  near(st.get("layer.weight.exp_avg_sq")!.dataSync(), wantW.v, 1e-6, "exp_avg_sq");
  assert.equal(opt.step, 3);
  // the bias must really differ from what decay would give (the test can tell)
  const decayedB = torchAdamW(b0, gb, lrs, o).p;
  assert.ok(Math.abs(decayedB[2] - b.dataSync()[2]) > 1e-5);
  opt.dispose();
  W.dispose();
  b.dispose();
});

test("a parameter without a gradient is left alone", async () => {
  await useTestBackend();
  const a = tf.variable(tf.tensor2d([[1, 2]])),
    c = tf.variable(tf.tensor2d([[3, 4]]));
  const opt = new AdamW(
    new Map([
      ["a", a],
      ["c", c],
    ]),
    { weightDecay: 0.5 },
  );
  tf.tidy(() => opt.apply(new Map([["a", tf.tensor2d([[1, 1]])]]), 0.1));
  assert.deepEqual([...c.dataSync()], [3, 4]);
  assert.notDeepEqual([...a.dataSync()], [1, 2]);
  opt.dispose();
  a.dispose();
  c.dispose();
});

test("decay rule: rank ≥ 2 and not a bias/norm name", () => {
  assert.equal(decays("gpt_neox.layers.0.attention.query_key_value.weight", [96, 32]), true);
  assert.equal(decays("gpt_neox.embed_in.weight", [128, 32]), true);
  assert.equal(decays("gpt_neox.layers.0.attention.query_key_value.bias", [96]), false);
  assert.equal(decays("gpt_neox.layers.0.input_layernorm.weight", [32]), false);
  assert.equal(decays("gpt_neox.final_layer_norm.weight", [32]), false);
  assert.equal(decays("some.norm_proj.weight", [4, 4]), false); // matrices with a norm name: no decay
  assert.equal(decays("some.norm_proj.weight", [4, 4], ""), true); // pattern off: rank decides
});

test("bad hyper-parameters and state are reported by name", async () => {
  await useTestBackend();
  const w = tf.variable(tf.zeros([2, 2]));
  assert.throws(() => new AdamW(new Map([["w", w]]), { beta1: 1 }), /adamw beta1/);
  assert.throws(() => new AdamW(new Map([["w", w]]), { noDecayPattern: "(" }), /noDecayPattern/);
  const opt = new AdamW(new Map([["w", w]]));
  assert.throws(
    () => opt.loadState(new Map([["w.exp_avg", { shape: [2, 2], data: new Float32Array(4) }]]), 1),
    /"w.exp_avg_sq" is missing/,
  );
  assert.throws(
    () =>
      opt.loadState(
        new Map([
          ["w.exp_avg", { shape: [4], data: new Float32Array(4) }],
          ["w.exp_avg_sq", { shape: [2, 2], data: new Float32Array(4) }],
        ]),
        1,
      ),
    /"w.exp_avg": expected shape \[2,2\], found \[4\]/,
  );
  opt.dispose();
  w.dispose();
});

test("the fused one-pass update (wasm) and the tensor path give the same numbers, with and without a grad scale", async () => {
  await useTestBackend();
  const n = 1000;
  shareClonesOnWasm(); // so that tf.clone shares the state's buffer (on wasm) instead of copying it
  const init = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5);
  const run = (forceTensorPath: boolean) => {
    const W = tf.tidy(() => tf.variable(tf.tensor2d(init, [40, 25])));
    const b = tf.tidy(() => tf.variable(tf.tensor1d(init.slice(0, 25))));
    const opt = new AdamW(
      new Map([
        ["w.weight", W],
        ["w.bias", b],
      ]),
      { weightDecay: 0.1 },
    );
    for (let k = 0; k < 3; k++) {
      // a second holder of the state's buffers makes the in-place update unsafe, so it must fall back
      const holders = forceTensorPath ? [...opt.stateVariables().values()].map((v) => tf.clone(v)) : [];
      const kept = holders.map((h) => h.dataSync().slice());
      const buffer = opt.stateVariables().get("w.weight.exp_avg")!.dataId;
      tf.tidy(() =>
        opt.apply(
          new Map([
            ["w.weight", tf.mul(tf.cos(W), 0.3 + k)],
            ["w.bias", tf.sin(b)],
          ]),
          1e-2,
          k === 1 ? 0.5 : 1,
        ),
      );
      const inPlace = opt.stateVariables().get("w.weight.exp_avg")!.dataId === buffer;
      assert.equal(
        inPlace,
        !forceTensorPath && tf.getBackend() === "wasm",
        "wasm updates the state in place unless it is shared",
      );
      holders.forEach((h, i) =>
        assert.deepEqual([...h.dataSync()], [...kept[i]], "a tensor sharing the state's buffer is not changed"),
      );
      tf.dispose(holders);
    }
    const out = [W.dataSync(), b.dataSync(), ...[...opt.stateVariables().values()].map((v) => v.dataSync())];
    opt.dispose();
    W.dispose();
    b.dispose();
    return out;
  };
  const before = tf.memory().numTensors;
  const fused = run(false);
  const tensor = run(true);
  assert.equal(tf.memory().numTensors, before);
  fused.forEach((f, i) => near(f, tensor[i], 1e-6, `tensor ${i}`));
});

test("a large parameter's update is split across the heap workers and equals the one-thread loop exactly", async () => {
  await useTestBackend();
  shareClonesOnWasm();
  const [rows, cols] = [300, 700]; // 210,000 elements: above MIN_SPLIT, not a multiple of the slice size
  const init = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * 0.5);
  const grad = (k: number) => Float32Array.from({ length: rows * cols }, (_, i) => Math.cos(i * 0.11 + k) * (0.2 + k));
  const W = tf.variable(tf.tensor2d(init, [rows, cols]));
  const opt = new AdamW(new Map([["w.weight", W]]), { weightDecay: 0.1 });
  const before = heapWorkerStats().splits;
  // the same arithmetic, one thread: what every slice must produce
  const p = init.slice(),
    m = new Float32Array(p.length),
    v = new Float32Array(p.length);
  const [b1, b2, eps, lr, wd] = [0.9, 0.999, 1e-8, 1e-2, 0.1];
  for (let k = 0; k < 3; k++) {
    const g = grad(k);
    tf.tidy(() => opt.apply(new Map([["w.weight", tf.tensor2d(g, [rows, cols])]]), lr));
    const t = k + 1;
    const stepSize = lr / (1 - b1 ** t),
      invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t),
      decay = 1 - lr * wd;
    // float32 arithmetic: every product, sum, quotient and square root rounded to float32 (Math.fround), in PyTorch's
    // order of operations for AdamW; the constants rounded once
    const f = Math.fround;
    const [fb1, fb2, fc1, fc2, fe, fs, fi, fd] = [b1, b2, 1 - b1, 1 - b2, eps, stepSize, invSqrtBc2, decay].map(f);
    for (let i = 0; i < p.length; i++) {
      const gi = f(g[i]);
      m[i] = f(f(fb1 * m[i]) + f(fc1 * gi));
      v[i] = f(f(fb2 * v[i]) + f(f(fc2 * gi) * gi));
      p[i] = f(f(p[i] * fd) - f(f(fs * m[i]) / f(f(f(Math.sqrt(v[i])) * fi) + fe)));
    }
  }
  const got = W.dataSync();
  let diff = 0;
  for (let i = 0; i < p.length; i++) if (got[i] !== p[i]) diff++;
  assert.equal(diff, 0, `${diff} of ${p.length} elements differ from the one-thread loop`);
  const stats = heapWorkerStats();
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const threads = tf.getBackend() === "wasm" ? require("@tensorflow/tfjs-backend-wasm").getThreadsCount() : 1;
  if (threads > 1 && process.env.TUNEBOOK_HEAP_WORKERS !== "0") {
    assert.equal(stats.splits - before, 3, "each of the 3 updates was split");
    assert.ok(stats.workers >= 1);
  }
  opt.dispose();
  W.dispose();
});
