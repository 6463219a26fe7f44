// The speed paths must not change results or leak: the decoding loop's kept transposed weights
// (withTransposedWeights) give the same outputs as the plain path, are freed afterwards, and are
// rebuilt when a weight is assigned; generation with them matches a cache-free greedy argmax.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { Linear } from "../../src/model/layers";
import { withTransposedWeights } from "../../src/kernels";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { generate } from "../../src/model/generate";
import { makeConfig } from "../../src/model/config";

test("Linear inside withTransposedWeights: same values, nothing kept afterwards, fresh after assign", async () => {
  await useTestBackend();
  const w = tf.variable(tf.randomNormal([24, 16], 0, 1, "float32", 1));
  const b = tf.variable(tf.randomNormal([24], 0, 1, "float32", 2));
  const lin = new Linear("t", w, b);
  const x = tf.randomNormal([3, 16], 0, 1, "float32", 3);
  const before = tf.memory().numTensors;
  const plain = tf.tidy(() => lin.apply(x).arraySync()) as number[][];
  const [fast, afterAssign] = await withTransposedWeights(async () => {
    const a = tf.tidy(() => lin.apply(x).arraySync()) as number[][];
    tf.tidy(() => w.assign(tf.mul(w, 2))); // the doubled value is freed with the tidy
    const c = tf.tidy(() => lin.apply(x).arraySync()) as number[][];
    return [a, c];
  });
  assert.equal(tf.memory().numTensors, before, "kept transposed weights are freed");
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 24; j++)
      assert.ok(Math.abs(plain[i][j] - fast[i][j]) < 1e-4, `[${i}][${j}] ${plain[i][j]} vs ${fast[i][j]}`);
  }
  const again = tf.tidy(() => lin.apply(x).arraySync()) as number[][];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 24; j++) assert.ok(Math.abs(again[i][j] - afterAssign[i][j]) < 1e-4, "used the new weight");
  tf.dispose([w, b, x]);
});

test("greedy generation (kept transposed weights + KV cache) equals argmax of full forwards", async () => {
  await useTestBackend();
  const cfg = makeConfig({
    vocabSize: 97,
    hiddenSize: 32,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    intermediateSize: 64,
    maxPositionEmbeddings: 64,
  });
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 5 });
  const prompt = [3, 14, 15, 92, 65];
  const before = tf.memory().numTensors;
  const out = await generate(model, prompt, { maxNewTokens: 6, eosTokenId: null });
  assert.equal(tf.memory().numTensors, before, "generate leaves no tensors");
  const seq = [...prompt];
  for (let i = 0; i < 6; i++) {
    const id = tf.tidy(
      () =>
        tf
          .argMax(
            model
              .forward([seq])
              .logits.slice([0, seq.length - 1, 0], [1, 1, 97])
              .reshape([97]),
          )
          .dataSync()[0],
    );
    seq.push(id);
  }
  assert.deepEqual(out, seq.slice(prompt.length));
  model.dispose();
});
