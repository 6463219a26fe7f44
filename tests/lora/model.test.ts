// Named adapters on one base (add, list, activate, disable, delete, weighted combination, per-request choice),
// training one adapter with the trainer (base untouched, no leaks), and the merged model saved as a plain
// checkpoint that loads without LoRA code.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { Linear } from "../../src/model/layers";
import { loadPretrained, saveModel } from "../../src/model/load";
import { generate } from "../../src/model/generate";
import { Trainer } from "../../src/train/trainer";
import { LoraModel } from "../../src/lora/model";
import { loraTrainable } from "../../src/lora/trainable";
import { maxAbsDiff } from "./helpers/fixtures";

const CFG = makeConfig({
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 32,
  vocabSize: 40,
  maxPositionEmbeddings: 32,
});
const IDS = [[3, 7, 1, 9, 12, 5]];
const QKV0 = "gpt_neox.layers.0.attention.query_key_value";

function logits(model: GPTNeoXForCausalLM, ids = IDS): Float32Array {
  return tf.tidy(() => model.forward(ids).logits.dataSync() as Float32Array);
}

function randomizeB(lora: LoraModel, name: string, seed: number): void {
  let k = seed;
  for (const [key, v] of lora.adapterVariables(name)) {
    if (key.endsWith("lora_B.weight")) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.5, "float32", k++)));
  }
}

test("named adapters: add, list, activate, disable, delete, several on one base, no leaks", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 1 });
  const base = logits(model);
  const before = tf.memory().numTensors;
  const lora = LoraModel.of(model);
  const a = lora.addAdapter("customerA", { r: 4, alpha: 8 }, { seed: 1 });
  assert.deepEqual(a.modules, [QKV0, "gpt_neox.layers.1.attention.query_key_value"]);
  assert.equal(a.trainableParams, 2 * 4 * (16 + 48));
  assert.equal(maxAbsDiff(logits(model), base), 0, "a fresh adapter changes nothing");
  lora.addAdapter(
    "customerB",
    { r: 2, alpha: 2, targetModules: ["dense", "dense_4h_to_h"] },
    { seed: 2, activate: false },
  );
  assert.deepEqual(
    lora.listAdapters().map((x) => [x.name, x.active]),
    [
      ["customerA", true],
      ["customerB", false],
    ],
  );
  assert.equal(lora.listAdapters()[1].modules.length, 4);
  randomizeB(lora, "customerA", 10);
  randomizeB(lora, "customerB", 20);
  const la = logits(model);
  lora.setAdapter("customerB");
  const lb = logits(model);
  assert.ok(maxAbsDiff(la, base) > 1e-3 && maxAbsDiff(lb, base) > 1e-3 && maxAbsDiff(la, lb) > 1e-3);
  lora.disableAdapters();
  assert.equal(maxAbsDiff(logits(model), base), 0, "disabled: the base alone");
  assert.deepEqual(lora.activeAdapters(), []);
  lora.enableAdapters();
  assert.equal(maxAbsDiff(logits(model), lb), 0);
  // weighted combination over different layers: compare with merging both deltas scaled
  lora.setAdapter(["customerA", "customerB"], [0.5, 2]);
  const combo = logits(model);
  assert.throws(() => lora.setAdapter("nobody"), /no adapter named "nobody"; loaded: customerA, customerB/);
  assert.throws(() => lora.addAdapter("customerA", {}), /already exists/);
  assert.throws(() => lora.addAdapter("x", { targetModules: ["q_proj"] }), /target module "q_proj" not found/);
  lora.deleteAdapter("customerB");
  assert.deepEqual(
    lora.listAdapters().map((x) => x.name),
    ["customerA"],
  );
  assert.deepEqual(lora.activeAdapters(), [{ name: "customerA", weight: 0.5 }]);
  lora.setAdapter("customerA");
  assert.equal(maxAbsDiff(logits(model), la), 0, "deleting B leaves A as it was");
  lora.deleteAdapter("customerA");
  assert.equal(maxAbsDiff(logits(model), base), 0);
  assert.equal(tf.memory().numTensors, before, "adapters freed on delete");
  assert.ok(combo.length > 0);
  model.dispose();
});

test("a weighted combination equals the merge of the weighted deltas", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 2 });
  const lora = LoraModel.of(model);
  lora.addAdapter("a", { r: 4, alpha: 8 }, { seed: 1 });
  lora.addAdapter(
    "b",
    { r: 2, alpha: 4, targetModules: "gpt_neox\\.layers\\.\\d+\\.(attention\\.query_key_value|mlp\\.dense_h_to_4h)" },
    { seed: 2 },
  );
  randomizeB(lora, "a", 1);
  randomizeB(lora, "b", 5);
  lora.setAdapter(["a", "b"], [0.3, 1.5]);
  const combo = logits(model);
  const plain = lora.mergeAndUnload();
  assert.ok(plain.getLinear(QKV0) instanceof Linear);
  assert.ok(maxAbsDiff(logits(plain), combo) < 1e-5, "merged weighted combination = unmerged combination");
  model.dispose();
});

test("one request, one adapter: withAdapter picks it per call and concurrent requests do not mix", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 3 });
  const lora = LoraModel.of(model);
  lora.addAdapter("A", { r: 4, alpha: 32 }, { seed: 1 });
  lora.addAdapter("B", { r: 4, alpha: 32 }, { seed: 2 });
  randomizeB(lora, "A", 100);
  randomizeB(lora, "B", 200);
  lora.setAdapter("A");
  const gen = () => generate(model, [3, 7, 1], { maxNewTokens: 6, doSample: false });
  const soloA = await gen();
  const soloB = await lora.withAdapter("B", gen);
  const soloBase = await lora.withAdapter(null, gen);
  assert.notDeepEqual(soloA, soloB);
  assert.deepEqual(await lora.withAdapter({ A: 1, B: 0 }, gen), soloA, "a weighted selection per request");
  const [a, b, base, a2] = await Promise.all([
    lora.withAdapter("A", gen),
    lora.withAdapter("B", gen),
    lora.withAdapter(null, gen),
    lora.withAdapter("A", gen),
  ]);
  assert.deepEqual([a, b, base, a2], [soloA, soloB, soloBase, soloA]);
  assert.deepEqual(lora.activeAdapters(), [{ name: "A", weight: 1 }], "the previous state is restored");
  model.dispose();
});

test("training an adapter with the trainer moves only A and B, lowers the loss, leaks nothing", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 4 });
  const baseParams = new Map([...model.parameters()].map(([k, v]) => [k, v.dataSync().slice()]));
  const lora = LoraModel.of(model);
  lora.addAdapter(
    "default",
    { r: 4, alpha: 8, dropout: 0.1, targetModules: ["query_key_value", "dense_h_to_4h"] },
    { seed: 1 },
  );
  const data = Array.from({ length: 8 }, (_, i) => ({ inputIds: [1, 2 + (i % 3), 5, 8, 13, 21 % 40, 34] }));
  const trainable = loraTrainable(model, "default");
  assert.equal(trainable.trainableVariables().size, 8);
  assert.ok(
    [...trainable.trainableVariables().keys()].every((k) =>
      /^base_model\.model\.gpt_neox\.layers\.\d\.(attention\.query_key_value|mlp\.dense_h_to_4h)\.lora_[AB]\.weight$/.test(
        k,
      ),
    ),
  );
  const trainer = new Trainer(trainable, data, { lr: 1e-2, numSteps: 12, batchSize: 4, seed: 0 });
  const first = trainer.trainStep();
  const n0 = tf.memory().numTensors;
  let last = first;
  for (let i = 0; i < 10; i++) last = trainer.trainStep();
  assert.equal(tf.memory().numTensors, n0, "a LoRA step leaks no tensors");
  assert.ok(last.loss < first.loss - 0.1, `loss ${first.loss} → ${last.loss}`);
  for (const [k, v] of model.parameters())
    assert.deepEqual(v.dataSync(), baseParams.get(k), `base parameter ${k} must not change`);
  assert.ok(
    model.getLinear("gpt_neox.layers.0.attention.dense") instanceof Linear,
    "frozen stand-ins are put back after each step",
  );
  trainer.dispose();
  model.dispose();
});

test("a merged model saved with saveModel loads with plain loadPretrained and gives the adapter's outputs", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 5 });
  const lora = LoraModel.of(model);
  lora.addAdapter(
    "default",
    { r: 4, alpha: 8, targetModules: ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h", "embed_out"] },
    { seed: 1 },
  );
  randomizeB(lora, "default", 3);
  const adapted = logits(model);
  const plain = lora.mergeAndUnload();
  assert.equal(LoraModel.find(plain), undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-merged-"));
  await saveModel(plain, dir);
  const again = await loadPretrained(dir);
  for (const n of again.linearNames()) assert.ok(again.getLinear(n) instanceof Linear);
  const d = maxAbsDiff(logits(again), adapted);
  assert.ok(d < 1e-5, `reloaded merged logits differ by ${d}`);
  again.dispose();
  model.dispose();
});
