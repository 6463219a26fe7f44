// LoRA training through the fused output layer + loss: the adapter's gradients equal those of the unfused path
// (logits → causalLMLoss), the frozen base (embed_out included) gets none, a LoRA wrapper on embed_out falls
// back to the unfused path, and a trainer step leaks no tensor.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { causalLMLoss } from "../../src/model/loss";
import { LoraModel } from "../../src/lora/model";
import { loraTrainable, withFrozenBase } from "../../src/lora/trainable";
import { Trainer } from "../../src/train/trainer";
import { collate } from "../../src/train/data";

const CFG = makeConfig({
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 32,
  vocabSize: 40,
  maxPositionEmbeddings: 32,
});
const EXAMPLES = [
  { inputIds: [3, 7, 1, 9, 12, 5, 8], labels: [-100, -100, 1, 9, 12, 5, 8] },
  { inputIds: [2, 30, 4, 4], labels: [2, 30, 4, 4] },
];

function grads(vars: Map<string, tf.Variable>, f: () => tf.Scalar): { loss: number; g: Map<string, Float32Array> } {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(f, [...vars.values()]);
    const byVar = new Map([...vars].map(([k, v]) => [v.name, k]));
    return {
      loss: value.dataSync()[0],
      g: new Map(Object.entries(grads).map(([n, t]) => [byVar.get(n)!, t.dataSync() as Float32Array])),
    };
  });
}

for (const targets of [
  ["query_key_value", "dense_4h_to_h"],
  ["query_key_value", "embed_out"],
]) {
  test(`LoRA (${targets.join(", ")}): fused-loss gradients = unfused ones, only the adapter gets gradients`, async () => {
    await useTestBackend();
    const model = GPTNeoXForCausalLM.create(CFG, { seed: 2 });
    const lora = LoraModel.of(model);
    lora.addAdapter(
      "default",
      { r: 4, alpha: 8, dropout: 0, targetModules: targets, initLoraWeights: false },
      { seed: 1 },
    );
    const vars = lora.adapterVariables("default");
    const trainable = loraTrainable(model, "default");
    const batch = collate(
      EXAMPLES.map((e) => ({ inputIds: e.inputIds, labels: e.labels })),
      0,
    );
    const before = tf.memory().numTensors;
    const got = grads(vars, () => trainable.loss(batch));
    assert.equal(tf.memory().numTensors, before, "no tensor leaked by the fused LoRA loss");
    const want = grads(vars, () =>
      lora.withActiveSync(["default"], () =>
        withFrozenBase(model, () =>
          causalLMLoss(model.forward(batch.inputIds, { attentionMask: batch.attentionMask }).logits, batch.labels),
        ),
      ),
    );
    tf.dispose([batch.inputIds, batch.labels, ...(batch.attentionMask ? [batch.attentionMask] : [])]);
    assert.ok(Math.abs(got.loss - want.loss) < 1e-5, `loss ${got.loss} vs ${want.loss}`);
    assert.deepEqual([...got.g.keys()].sort(), [...vars.keys()].sort(), "gradients for the adapter's A and B only");
    for (const [k, w] of want.g) {
      const g = got.g.get(k)!;
      const scale = Math.max(1e-3, ...w.map(Math.abs));
      for (let i = 0; i < w.length; i++)
        assert.ok(Math.abs(g[i] - w[i]) < 1e-4 * scale, `${k}[${i}]: ${g[i]} vs ${w[i]}`);
    }
    // a trainer step: the base (embed_out included) stays put, numTensors is the same after every step
    const out0 = model.parameters().get("embed_out.weight")!.dataSync().slice();
    const trainer = new Trainer(trainable, EXAMPLES, { lr: 1e-2, numSteps: 3, batchSize: 2, warmupSteps: 0 });
    trainer.trainStep();
    const after1 = tf.memory().numTensors;
    trainer.trainStep();
    assert.equal(tf.memory().numTensors, after1);
    assert.deepEqual([...model.parameters().get("embed_out.weight")!.dataSync()], [...out0]);
    trainer.dispose();
    model.dispose();
  });
}
