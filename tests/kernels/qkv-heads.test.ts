// splitHeads (src/kernels/qkv-heads.ts): q, k, v per head from GPT-NeoX's interleaved projection, equal bit for bit
// to the tfjs split + transpose (values and gradients: both are copies), also when an output gets no gradient.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { splitHeads } from "../../src/kernels";
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
