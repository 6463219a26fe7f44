// The wasm backend's GatherV2 as row copies (src/kernels/gather-rows.ts): whole rows along axis 0 equal a plain
// per-element gather for float32 and int32 data and any index shape; other axes, batch dims and out-of-range
// indices go to tfjs's own kernel (its values, its error).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { Rng } from "../../src/runtime/seed";

/** x[indices] along axis 0, computed element by element in JavaScript. */
function gatherRef(values: ArrayLike<number>, shape: number[], idx: number[]): number[] {
  const row = shape.slice(1).reduce((a, b) => a * b, 1);
  return idx.flatMap((i) => Array.from({ length: row }, (_, j) => values[i * row + j]));
}

test("gather along axis 0 equals the per-element reference (float32, int32, nd indices, repeats, empty)", async () => {
  await useTestBackend();
  const rng = new Rng(2);
  const before = tf.memory().numTensors;
  for (const [shape, idxShape] of [
    [[5], [3]],
    [[7, 3], [4]],
    [
      [6, 2, 5],
      [2, 3],
    ],
    [[50, 64], [0]],
    [[1000, 33], [257]],
  ] as [number[], number[]][]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const m = idxShape.reduce((a, b) => a * b, 1);
    const idx = Array.from({ length: m }, () => Math.floor(rng.next() * shape[0]));
    for (const dtype of ["float32", "int32"] as const) {
      const values = Array.from({ length: n }, () => (dtype === "int32" ? Math.floor(rng.next() * 1e6) : rng.normal()));
      const x = tf.tensor(values, shape, dtype);
      const i = tf.tensor(idx, idxShape, "int32");
      const g = tf.gather(x, i);
      assert.deepEqual(g.shape, [...idxShape, ...shape.slice(1)]);
      assert.equal(g.dtype, dtype);
      const want = gatherRef(dtype === "float32" ? Float32Array.from(values) : values, shape, idx);
      assert.deepEqual([...g.dataSync()], want, `[${shape}] by [${idxShape}] ${dtype}`);
      tf.dispose([x, i, g]);
    }
  }
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
});

test("other axes give tfjs's values; an index out of range gives tfjs's error", async () => {
  await useTestBackend();
  const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
  assert.deepEqual([...tf.gather(x, tf.tensor1d([1, 1, 0], "int32"), 1).dataSync()], [2, 2, 1, 4, 4, 3, 6, 6, 5]);
  assert.deepEqual([...tf.gather(x, tf.tensor1d([1, 0], "int32"), -1).dataSync()], [2, 1, 4, 3, 6, 5]);
  assert.throws(() => tf.gather(x, tf.tensor1d([3], "int32")), /index value 3 is not in \[0, 2\]/);
  assert.throws(() => tf.gather(x, tf.tensor1d([-1], "int32")), /index value -1 is not in \[0, 2\]/);
});
