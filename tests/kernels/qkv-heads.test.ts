// splitHeads (src/kernels/qkv-heads.ts): q, k, v per head from GPT-NeoX's interleaved projection, equal bit for bit
// to the tfjs split + transpose (values and gradients: both are copies), also when an output gets no gradient.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { splitHeads, splitHeadsRotary } from "../../src/kernels";
import { wasmMemory } from "../../src/kernels/wasm-heap";
import { Rng } from "../../src/runtime/seed";

function reference(qkv: tf.Tensor4D): tf.Tensor[] {
  return tf.split(qkv, 3, -1).map((t) => tf.transpose(t, [0, 2, 1, 3])); // [B, H, T, D] each
}

test("splitHeads equals split + transpose exactly, values and gradients", async () => {
  await useTestBackend();
  const rng = new Rng(3);
  for (const [B, T, H, D] of [
    [1, 1, 1, 1],
    [2, 5, 3, 4],
    [2, 37, 8, 64],
  ]) {
    const shape = [B, T, H, 3 * D];
    const n = B * T * H * 3 * D;
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(
      Float32Array.from({ length: n }, () => rng.normal()),
      shape as [number, number, number, number],
    );
    const ws = [0, 1, 2].map(() =>
      tf.tensor4d(
        Float32Array.from({ length: n / 3 }, () => rng.normal()),
        [B, H, T, D],
      ),
    );
    const run = (f: (t: tf.Tensor4D) => tf.Tensor[]) =>
      tf.tidy(() => {
        const outs = f(x).map((t) => t.dataSync().slice());
        const loss = (t: tf.Tensor) =>
          tf.addN(f(t as tf.Tensor4D).map((o, s) => tf.sum(tf.mul(o, ws[s])))) as tf.Scalar;
        const onlyQ = (t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor4D)[0], ws[0])) as tf.Scalar;
        return [...outs, tf.grad(loss)(x).dataSync().slice(), tf.grad(onlyQ)(x).dataSync().slice()];
      });
    const mine = run(splitHeads);
    const ref = run(reference);
    tf.dispose([x, ...ws]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    ["q", "k", "v", "dx", "dx (q only)"].forEach((name, i) => assert.deepEqual(mine[i], ref[i], `[${shape}] ${name}`));
  }
});

test("on the wasm heap the split runs as QkvHeads / QkvHeadsGrad (no SplitV, Concat or Transpose)", async () => {
  await useTestBackend();
  if (!wasmMemory()) return; // other backends run the tfjs ops (tested above)
  const x = tf.randomNormal([2, 4, 2, 24]) as tf.Tensor4D;
  const prof = await tf.profile(() =>
    tf.tidy(() =>
      tf.grad((t: tf.Tensor) => tf.addN(splitHeads(t as tf.Tensor4D).map((o) => tf.sum(o))) as tf.Scalar)(x),
    ),
  );
  const names = prof.kernels.map((k) => k.name);
  assert.ok(names.includes("QkvHeads") && names.includes("QkvHeadsGrad"), names.join(", "));
  for (const k of ["SplitV", "Concat", "Transpose"]) assert.ok(!names.includes(k), `${k} ran: ${names.join(", ")}`);
  tf.dispose([x, prof.result as tf.Tensor]);
});

/** HF's rotary as float32 tfjs ops: `[x1·cos − x2·sin, x2·cos + x1·sin, pass]` on q and k after the split. */
function rotaryReference(qkv: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor, rot: number): tf.Tensor[] {
  const [q, k, v] = reference(qkv);
  const D = q.shape[3];
  const turn = (x: tf.Tensor) => {
    const [x1, x2, pass] = tf.split(x, [rot / 2, rot / 2, D - rot], -1);
    const parts = [tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x2, cos), tf.mul(x1, sin))];
    return tf.concat(D > rot ? [...parts, pass] : parts, -1);
  };
  return [turn(q), turn(k), v];
}

test("splitHeadsRotary equals split + transpose + HF's rotary: values exactly, gradients within float32 rounding", async () => {
  await useTestBackend();
  const rng = new Rng(5);
  for (const [B, T, H, D, rot] of [
    [1, 1, 1, 2, 2],
    [2, 5, 3, 8, 4],
    [2, 37, 8, 64, 16],
    [1, 6, 2, 4, 4],
  ]) {
    const n = B * T * H * 3 * D;
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(
      Float32Array.from({ length: n }, () => rng.normal()),
      [B, T, H, 3 * D],
    );
    const angles = Float32Array.from({ length: B * T * (rot / 2) }, () => rng.normal() * 3);
    const cos = tf.tensor4d(angles.map(Math.cos), [B, 1, T, rot / 2]);
    const sin = tf.tensor4d(angles.map(Math.sin), [B, 1, T, rot / 2]);
    const ws = [0, 1, 2].map(() =>
      tf.tensor4d(
        Float32Array.from({ length: n / 3 }, () => rng.normal()),
        [B, H, T, D],
      ),
    );
    const run = (f: (t: tf.Tensor4D) => tf.Tensor[]) =>
      tf.tidy(() => {
        const outs = f(x).map((t) => t.dataSync().slice());
        const loss = (t: tf.Tensor) =>
          tf.addN(f(t as tf.Tensor4D).map((o, s) => tf.sum(tf.mul(o, ws[s])))) as tf.Scalar;
        return [...outs, tf.grad(loss)(x).dataSync().slice()];
      });
    const mine = run((t) => splitHeadsRotary(t, cos, sin, rot));
    const ref = run((t) => rotaryReference(t, cos, sin, rot));
    tf.dispose([x, cos, sin, ...ws]);
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    ["q", "k", "v"].forEach((name, i) =>
      assert.deepEqual(mine[i], ref[i], `[${B},${T},${H},${D}] rot ${rot}: ${name}`),
    );
    let worst = 0;
    for (let i = 0; i < mine[3].length; i++) worst = Math.max(worst, Math.abs(mine[3][i] - ref[3][i]));
    assert.ok(worst <= 1e-6, `dx differs by ${worst}`);
  }
});

test("on the wasm heap the rotary split runs as QkvHeadsRotary / QkvHeadsRotaryGrad (no rotary product, Concat or Transpose)", async () => {
  await useTestBackend();
  if (!wasmMemory()) return; // other backends run the tfjs ops (tested above)
  const x = tf.randomNormal([2, 4, 2, 24]) as tf.Tensor4D;
  const cos = tf.ones([2, 1, 4, 2]);
  const sin = tf.zeros([2, 1, 4, 2]);
  const prof = await tf.profile(() =>
    tf.tidy(() =>
      tf.grad(
        (t: tf.Tensor) => tf.addN(splitHeadsRotary(t as tf.Tensor4D, cos, sin, 4).map((o) => tf.sum(o))) as tf.Scalar,
      )(x),
    ),
  );
  const names = prof.kernels.map((k) => k.name);
  assert.ok(names.includes("QkvHeadsRotary") && names.includes("QkvHeadsRotaryGrad"), names.join(", "));
  for (const k of ["BatchMatMul", "Concat", "SplitV", "Transpose"]) // (Multiply runs: the sums' gradients)
    assert.ok(!names.includes(k), `${k} ran: ${names.join(", ")}`);
  tf.dispose([x, cos, sin, prof.result as tf.Tensor]);
});
