// The causal-LM loss against a float64 JavaScript reference, its fused gradient against tfjs's own
// softmax cross-entropy gradient, label masking, and the per-token log-probs.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { causalLMLoss, countLossTokens, tokenLogProbs } from "../../src/model/loss";
import { Rng } from "../../src/runtime/seed";
import { maxAbsDiff } from "./helpers/neox-fixtures";

const rng = new Rng(5);
const B = 2,
  T = 5,
  V = 7;
const logitsData = Float32Array.from({ length: B * T * V }, () => 3 * rng.normal());
const labels = [
  [3, 1, 6, 0, 2],
  [4, -100, 5, -100, 1],
];

/** log p(labels[b][t+1]) from logits[b][t] in float64, null where ignored. */
function refLogProbs(): (number | null)[][] {
  return labels.map((row, b) =>
    row.slice(1).map((y, t) => {
      if (y === -100) return null;
      const z = Array.from(logitsData.subarray((b * T + t) * V, (b * T + t + 1) * V));
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      return z[y] - lse;
    }),
  );
}

test("loss = mean −log p over labels[:, 1:] that are not −100", async () => {
  await useTestBackend();
  const ref = refLogProbs()
    .flat()
    .filter((x): x is number => x !== null);
  assert.equal(ref.length, countLossTokens(labels));
  assert.equal(ref.length, 6);
  const logits = tf.tensor3d(logitsData, [B, T, V]);
  const before = tf.memory().numTensors;
  const loss = causalLMLoss(logits, labels);
  const expected = -ref.reduce((s, x) => s + x, 0) / ref.length;
  assert.ok(Math.abs(loss.dataSync()[0] - expected) < 1e-5 * Math.abs(expected));
  loss.dispose();
  // the same through an int32 labels tensor
  const lt = tf.tensor2d(labels, [B, T], "int32");
  const l2 = causalLMLoss(logits, lt);
  assert.ok(Math.abs(l2.dataSync()[0] - expected) < 1e-5 * Math.abs(expected));
  tf.dispose([l2, lt]);
  assert.equal(tf.memory().numTensors, before);
  logits.dispose();
});

test("the fused gradient equals tfjs's softmaxCrossEntropy gradient", async () => {
  await useTestBackend();
  const logits = tf.tensor3d(logitsData, [B, T, V]);
  const mine = tf.grad((z: tf.Tensor) => causalLMLoss(z, labels))(logits);
  // Reference: dense one-hot cross-entropy with weights, built from tfjs ops only.
  const ref = tf.grad((z: tf.Tensor) => {
    const shifted = tf.reshape(tf.slice(z, [0, 0, 0], [B, T - 1, V]), [B * (T - 1), V]);
    const ys = labels.flatMap((r) => r.slice(1));
    const oneHot = tf.oneHot(
      tf.tensor1d(
        ys.map((y) => Math.max(y, 0)),
        "int32",
      ),
      V,
    );
    const w = tf.tensor1d(ys.map((y) => (y === -100 ? 0 : 1)));
    const nll = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(shifted)), -1));
    return tf.div(tf.sum(tf.mul(nll, w)), tf.sum(w));
  })(logits);
  assert.ok(maxAbsDiff(mine.dataSync(), ref.dataSync()) < 1e-6);
  // the last position and ignored positions get zero gradient
  const g = mine.arraySync() as number[][][];
  assert.ok(g[0][T - 1].every((x) => x === 0));
  assert.ok(
    g[1][0].every((x) => x === 0),
    "position 0 of row 1 predicts an ignored label",
  );
  tf.dispose([logits, mine, ref]);
});

test("tokenLogProbs gives log p per next token, 0 where ignored", async () => {
  await useTestBackend();
  const logits = tf.tensor3d(logitsData, [B, T, V]);
  const lp = tokenLogProbs(logits, labels);
  assert.deepEqual(lp.shape, [B, T - 1]);
  const ref = refLogProbs()
    .flat()
    .map((x) => x ?? 0);
  assert.ok(maxAbsDiff(lp.dataSync(), ref) < 1e-5);
  tf.dispose([logits, lp]);
});

test("edge cases: nothing scored → 0; bad labels and shapes are named", async () => {
  await useTestBackend();
  const logits = tf.tensor3d(logitsData, [B, T, V]);
  const none = causalLMLoss(
    logits,
    labels.map((r) => r.map(() => -100)),
  );
  assert.equal(none.dataSync()[0], 0);
  none.dispose();
  assert.throws(
    () => causalLMLoss(logits, [[3, 1, 6, 0, 9], labels[1]]),
    /labels\[0\]\[4\] = 9 is neither -100 nor a token id in \[0, 7\)/,
  );
  assert.throws(() => causalLMLoss(logits, [labels[0]]), /labels must be 2 rows of 5 ids/);
  assert.throws(() => causalLMLoss(tf.zeros([1, 1, V]), [[1]]), /need at least 2 positions/);
  logits.dispose();
});
