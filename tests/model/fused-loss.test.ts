// The fused, chunked output layer + causal-LM loss (`causalLMLossFromHidden`, `model.causalLMLoss`) against the
// unfused path (logits → `causalLMLoss`): the loss and every parameter's gradient, with masked labels and
// padding, several chunk sizes, a frozen output layer, tied embeddings, and no leaked tensors.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { assertGradsClose, lossAndGrads as lossAndGradsOf, type Grads } from "../helpers/grads";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig, type GPTNeoXConfig } from "../../src/model/config";
import { causalLMLoss, causalLMLossFromHidden } from "../../src/model/loss";

const CFG = makeConfig({
  vocabSize: 37,
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 32,
  maxPositionEmbeddings: 32,
  initializerRange: 0.3,
});
// right padding (row 1), a masked prompt (row 0), a masked label in the middle (row 2)
const IDS = [
  [3, 17, 5, 9, 22, 3, 17, 5],
  [4, 11, 30, 2, 1, 1, 1, 1],
  [8, 8, 36, 0, 12, 19, 6, 25],
];
const MASK = [
  [1, 1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0, 0, 0],
  [1, 1, 1, 1, 1, 1, 1, 1],
];
const LABELS = [
  [-100, -100, -100, 9, 22, 3, 17, 5],
  [4, 11, 30, 2, -100, -100, -100, -100],
  [8, 8, 36, -100, 12, 19, 6, 25],
];

function lossAndGrads(model: GPTNeoXForCausalLM, f: () => tf.Scalar): Grads {
  return lossAndGradsOf(model.parameters(), f);
}

function unfused(model: GPTNeoXForCausalLM): Grads {
  return lossAndGrads(model, () => causalLMLoss(model.forward(IDS, { attentionMask: MASK }).logits, LABELS));
}

for (const chunkRows of [1, 5, 256]) {
  test(`fused output layer + loss = logits + causalLMLoss: loss and every gradient (chunkRows ${chunkRows})`, async () => {
    await useTestBackend();
    const model = GPTNeoXForCausalLM.create(CFG, { seed: 4 });
    const want = unfused(model);
    const before = tf.memory().numTensors;
    const got = lossAndGrads(model, () => model.causalLMLoss(IDS, LABELS, { attentionMask: MASK, chunkRows }));
    assert.equal(tf.memory().numTensors, before, "the fused step leaks no tensor");
    assertGradsClose(got, want, `chunkRows ${chunkRows}`);
    assert.ok(want.grads.has("embed_out.weight"));
    model.dispose();
  });
}

test("fused loss outside a gradient pass: the same value, no gradient work, no leaks; fused: false is the reference path", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 5 });
  const before = tf.memory().numTensors;
  const a = tf.tidy(() => model.causalLMLoss(IDS, LABELS, { attentionMask: MASK }).dataSync()[0]);
  const b = tf.tidy(() => model.causalLMLoss(IDS, LABELS, { attentionMask: MASK, fused: false }).dataSync()[0]);
  const c = tf.tidy(() => causalLMLoss(model.forward(IDS, { attentionMask: MASK }).logits, LABELS).dataSync()[0]);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(a - c) < 1e-5 && b === c, `${a} ${b} ${c}`);
  model.dispose();
});

test("fused loss: tied embeddings get both gradients; every label masked gives 0 and zero gradients", async () => {
  await useTestBackend();
  const tied: GPTNeoXConfig = { ...CFG, tieWordEmbeddings: true };
  const model = GPTNeoXForCausalLM.create(tied, { seed: 6 });
  assertGradsClose(
    lossAndGrads(model, () => model.causalLMLoss(IDS, LABELS, { attentionMask: MASK, chunkRows: 4 })),
    unfused(model),
    "tied",
  );
  const none = IDS.map((r) => r.map(() => -100));
  const z = lossAndGrads(model, () => model.causalLMLoss(IDS, none));
  assert.equal(z.loss, 0);
  for (const [name, g] of z.grads)
    assert.ok(
      g.every((x) => x === 0),
      `${name} is zero`,
    );
  model.dispose();
});

test("causalLMLossFromHidden with a frozen weight: input gradient only, equal to the unfused one", async () => {
  await useTestBackend();
  const h = tf.variable(tf.randomNormal([2, 6, 8], 0, 1, "float32", 1)); // [B, T, C]
  const w = tf.randomNormal([11, 8], 0, 1, "float32", 2); // [V, C]
  const labels = [
    [1, 2, 3, -100, 4, 5],
    [6, 7, -100, -100, 10, 0],
  ];
  const fused = tf.tidy(() => {
    const r = tf.variableGrads(() => causalLMLossFromHidden(h, w, labels, { trainWeight: false, chunkRows: 3 }), [h]);
    return { loss: r.value.dataSync()[0], g: r.grads[h.name].dataSync() };
  });
  const ref = tf.tidy(() => {
    const r = tf.variableGrads(
      () => causalLMLoss(tf.reshape(tf.matMul(tf.reshape(h, [12, 8]), w, false, true), [2, 6, 11]), labels),
      [h],
    );
    return { loss: r.value.dataSync()[0], g: r.grads[h.name].dataSync() };
  });
  assert.ok(Math.abs(fused.loss - ref.loss) < 1e-5, `${fused.loss} vs ${ref.loss}`);
  for (let i = 0; i < ref.g.length; i++)
    assert.ok(Math.abs(fused.g[i] - ref.g[i]) < 1e-5, `dH[${i}] ${fused.g[i]} vs ${ref.g[i]}`);
  assert.throws(() => causalLMLossFromHidden(h, tf.zeros([11, 7]), labels), /weight must be \[V, 8\]/);
  assert.throws(
    () =>
      causalLMLossFromHidden(h, w, [
        [1, 2, 3, 99, 4, 5],
        [0, 0, 0, 0, 0, 0],
      ]),
    /labels\[0\]\[3\] = 99/,
  );
  tf.dispose([h, w]);
});

test("trainOutput: false (or a trainer filter without embed_out): no output-weight gradient, the others unchanged", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 6 });
  const want = unfused(model);
  want.grads.delete("embed_out.weight");
  const got = lossAndGrads(model, () => model.causalLMLoss(IDS, LABELS, { attentionMask: MASK, trainOutput: false }));
  assertGradsClose(got, want, "trainOutput false");
  // through the trainer adapter: a filter that leaves embed_out out asks for no output-weight gradient either
  const { causalLMTrainable } = await import("../../src/train/causal-lm");
  const seen: (boolean | undefined)[] = [];
  const spy = {
    parameters: () => model.parameters(),
    forward: model.forward.bind(model),
    causalLMLoss: (i: tf.Tensor2D, l: tf.Tensor2D, o?: { trainOutput?: boolean }) => (
      seen.push(o?.trainOutput), model.causalLMLoss(i, l, o)
    ),
  };
  const ids = tf.tensor2d(IDS, undefined, "int32");
  const labels = tf.tensor2d(LABELS, undefined, "int32");
  for (const keep of [(n: string) => !n.startsWith("embed_out"), () => true])
    tf.dispose(causalLMTrainable(spy, { trainable: keep }).loss({ inputIds: ids, labels } as never));
  tf.dispose([ids, labels]);
  assert.deepEqual(seen, [false, true]);
  model.dispose();
});

test("inside a gradient of a gradient the model's loss uses plain autodiff (the fused op is first-order only)", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 7 });
  const w = model.parameters().get("embed_out.weight")!;
  // d/dW of ‖∂L/∂W‖²: needs second-order gradients through the loss
  const g2 = tf.tidy(() =>
    tf.grad((x: tf.Tensor) => {
      const inner = tf.grad((_x: tf.Tensor) => model.causalLMLoss(IDS, LABELS, { attentionMask: MASK }))(x);
      return tf.sum(tf.square(inner));
    })(w),
  );
  assert.deepEqual(g2.shape, w.shape);
  g2.dispose();
  model.dispose();
});
