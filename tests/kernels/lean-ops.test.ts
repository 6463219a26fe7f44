// The shape-only ops that save nothing for the backward pass (src/kernels/lean-ops.ts): the same values and
// gradients as tfjs's own ops, fewer live tensors while a gradient is recorded, tfjs's ops outside one, no leaks.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { addMask, leanAdd, leanReshape, leanScale } from "../../src/kernels/lean-ops";
import { Rng } from "../../src/runtime/seed";

function randn(rng: Rng, shape: number[]): tf.Tensor {
  return tf.tensor(
    Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.next() * 2 - 1),
    shape,
  );
}

/** A small graph through the four ops (lean) or tfjs's (plain): `sum(w2·reshape(scale(x·w1) + mask + x·w1))`. */
function graph(lean: boolean, x: tf.Tensor, mask: tf.Tensor, w1: tf.Variable, w2: tf.Variable): tf.Scalar {
  const h = tf.mul(x, w1); // [2, 3, 4, 4]: an intermediate that only the shape-only ops would keep
  const s = lean ? leanScale(h, 0.125) : tf.mul(h, 0.125);
  const m = lean ? addMask(s, mask) : tf.add(s, mask);
  const r = lean ? leanAdd(m, h) : tf.add(m, h);
  const flat = lean ? leanReshape(r, [6, 16]) : tf.reshape(r, [6, 16]);
  return tf.sum(tf.mul(tf.sin(flat), w2)); // sin: a non-linear use of the reshaped values
}

test("lean reshape / add / scale / mask: tfjs's values and gradients, fewer tensors kept, nothing leaked", async () => {
  await useTestBackend();
  const rng = new Rng(3);
  const x = randn(rng, [2, 3, 4, 4]);
  const mask = randn(rng, [1, 1, 4, 4]);
  const w1 = tf.variable(randn(rng, [2, 3, 4, 4]));
  const w2 = tf.variable(randn(rng, [6, 16]));
  const run = (lean: boolean) => {
    let live = 0;
    const { value, grads } = tf.variableGrads(() => {
      const y = graph(lean, x, mask, w1, w2);
      live = tf.memory().numTensors; // at the end of the forward pass: what the backward pass will read is alive
      return y;
    }, [w1, w2]);
    const out = { loss: value.dataSync()[0], g1: grads[w1.name].dataSync(), g2: grads[w2.name].dataSync(), live };
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  const before = tf.memory().numTensors;
  const plain = run(false);
  const lean = run(true);
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
  assert.ok(
    Math.abs(lean.loss - plain.loss) < 1e-6 * Math.max(1, Math.abs(plain.loss)),
    `${lean.loss} vs ${plain.loss}`,
  );
  for (const [a, b, n] of [
    [lean.g1, plain.g1, "w1"],
    [lean.g2, plain.g2, "w2"],
  ] as const) {
    for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `${n}[${i}]: ${a[i]} vs ${b[i]}`);
  }
  assert.ok(lean.live < plain.live, `tensors alive after the forward pass: lean ${lean.live}, tfjs ${plain.live}`);
  tf.dispose([x, mask, w1, w2]);
});

test("lean ops are tfjs's ops outside a gradient (no custom op recorded) and for broadcasting adds", async () => {
  await useTestBackend();
  const a = tf.ones([2, 3]);
  const b = tf.ones([3]);
  const names = async (f: () => tf.Tensor) => {
    const info = await tf.profile(f);
    (info.result as tf.Tensor).dispose();
    return info.kernels.map((k) => k.name);
  };
  assert.deepEqual(await names(() => leanReshape(a, [3, 2])), ["Reshape"]);
  assert.deepEqual(await names(() => leanAdd(a, a)), ["Add"]);
  assert.deepEqual(await names(() => leanScale(a, 2)), ["Multiply"]);
  assert.deepEqual(await names(() => addMask(a, b)), ["Add"]);
  const sum = leanAdd(a, b); // broadcasting: tf.add
  assert.deepEqual(sum.shape, [2, 3]);
  assert.deepEqual(Array.from(sum.dataSync()), [2, 2, 2, 2, 2, 2]);
  tf.dispose([a, b, sum]);
});
