// BitFit: only the biases are trained (the same gradients plain autodiff gives them), weights never move, the
// counts from the config equal the model's own bias tensors, the PEFT family table's formulas, and no leaks.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { assertGradsClose, lossAndGrads } from "../helpers/grads";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { Linear } from "../../src/model/layers";
import { getPreset } from "../../src/model/presets";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Trainer } from "../../src/train/trainer";
import { bitFitParameterCount, bitFitParameterNames, bitFitTrainable } from "../../src/lora/bitfit";
import { peftFamilyTable } from "../../src/lora/family";
import { LoraModel } from "../../src/lora/model";
import * as barrel from "../../src/lora";

const CFG = makeConfig({
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 32,
  vocabSize: 40,
  maxPositionEmbeddings: 32,
});
const DATA = Array.from({ length: 8 }, (_, i) => ({ inputIds: [1, 2 + (i % 3), 5, 8, 13, 21, 34 - i] }));

test("bitFitParameterCount: the config formula equals the model's bias tensors, for pythia-70m too", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 0 });
  const params = model.parameters();
  const biasNames = [...params.keys()].filter((n) => n.endsWith(".bias"));
  const count = bitFitParameterCount(CFG);
  assert.deepEqual(count.names, biasNames);
  assert.equal(
    count.trainable,
    biasNames.reduce((s, n) => s + params.get(n)!.size, 0),
  );
  assert.equal(count.total, model.numParameters());
  // 2 blocks · (2·16 LayerNorm + 32 + 16 MLP + 4·16 attention) + 16 final LayerNorm
  assert.equal(count.trainable, 2 * (32 + 48 + 64) + 16);
  const noLn = bitFitParameterCount(CFG, { layerNormBias: false });
  assert.equal(noLn.trainable, 2 * (48 + 64));
  assert.ok(noLn.names.every((n) => !/norm\.bias$/.test(n)));
  const p70 = bitFitParameterCount(getPreset("pythia-70m"));
  assert.equal(p70.trainable, 6 * (2 * 512 + 2048 + 512 + 4 * 512) + 512);
  assert.equal(p70.total, 70_426_624);
  assert.equal(bitFitParameterNames(getPreset("pythia-70m")).length, 6 * 6 + 1);
  const noAttnBias = bitFitParameterCount({ ...CFG, attentionBias: false });
  assert.equal(noAttnBias.trainable, 2 * (32 + 48) + 16);
  assert.throws(
    () => bitFitParameterCount(CFG, { layerNormBias: "yes" as never }),
    /layerNormBias must be true or false/,
  );
  model.dispose();
});

test("bitFitTrainable: only biases get gradients, equal to plain autodiff's; dense layers are put back", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 3 });
  // non-zero biases so the check is not trivially about zeros
  for (const [n, v] of model.parameters())
    if (n.endsWith(".bias")) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, "float32", 7)));
  const bit = bitFitTrainable(model);
  const vars = bit.trainableVariables();
  assert.deepEqual([...vars.keys()], bitFitParameterNames(CFG));
  const ids = tf.tensor2d([DATA[0].inputIds, DATA[1].inputIds], undefined, "int32");
  const batch = { inputIds: ids, labels: ids, numTokens: 12 };
  const got = lossAndGrads(vars, () => bit.loss(batch));
  const reference = causalLMTrainable(model, { trainable: (n) => n.endsWith(".bias"), fusedLoss: false });
  const want = lossAndGrads(reference.trainableVariables(), () => reference.loss(batch));
  assertGradsClose(got, want, "BitFit vs autodiff");
  assert.ok(
    [...got.grads.values()].some((g) => g.some((x) => x !== 0)),
    "some bias gradient is non-zero",
  );
  for (const n of model.linearNames()) assert.ok(model.getLinear(n) instanceof Linear, `${n} restored`);
  ids.dispose();
  model.dispose();
});

test("bitFitTrainable: training moves the biases only, lowers the loss, and leaks no tensor per step", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 1 });
  const before = new Map([...model.parameters()].map(([k, v]) => [k, v.dataSync().slice()]));
  const trainer = new Trainer(bitFitTrainable(model), DATA, { lr: 5e-2, numSteps: 12, batchSize: 4, seed: 0 });
  const first = trainer.trainStep();
  const n0 = tf.memory().numTensors;
  let last = first;
  for (let i = 0; i < 10; i++) last = trainer.trainStep();
  assert.equal(tf.memory().numTensors, n0, "a BitFit step leaks no tensors");
  assert.ok(last.loss < first.loss - 0.05, `loss ${first.loss} → ${last.loss}`);
  let movedBiases = 0;
  for (const [k, v] of model.parameters()) {
    const same = v.dataSync().every((x, i) => x === before.get(k)![i]);
    if (k.endsWith(".bias")) movedBiases += same ? 0 : 1;
    else assert.ok(same, `weight ${k} must not change`);
  }
  assert.equal(movedBiases, bitFitParameterNames(CFG).length, "every bias tensor moved");
  trainer.dispose();
  model.dispose();
});

test("bitFitTrainable refuses a model with LoRA wrappers, naming the layer", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 2 });
  LoraModel.of(model).addAdapter("a", { r: 2, alpha: 4 }, { seed: 0 });
  const bit = bitFitTrainable(model);
  const ids = tf.tensor2d([DATA[0].inputIds], undefined, "int32");
  assert.throws(
    () => bit.loss({ inputIds: ids, labels: ids, numTokens: 6 }),
    /bitFitTrainable: gpt_neox\.layers\.0\.attention\.query_key_value is not a plain dense layer/,
  );
  ids.dispose();
  LoraModel.find(model)?.unload();
  model.dispose();
});

test("peftFamilyTable: each method's count follows its formula for pythia-70m; bad sizes are named", () => {
  const rows = peftFamilyTable(getPreset("pythia-70m"), { r: 8, bottleneck: 64, prefixLength: 20 });
  const by = (m: string) => rows.find((r) => r.method.startsWith(m))!.trainable;
  assert.equal(by("full"), 70_426_624);
  assert.equal(by("adapters"), 6 * 2 * (2 * 512 * 64 + 64 + 512));
  assert.equal(by("prefix"), 6 * 2 * 20 * 512);
  assert.equal(by("prompt"), 20 * 512);
  assert.equal(by("(IA)"), 6 * (2 * 512 + 2048));
  assert.equal(by("BitFit"), 34_304);
  assert.equal(by("LoRA"), 98_304);
  assert.throws(
    () => peftFamilyTable(CFG, { bottleneck: 0 }),
    /peftFamilyTable: bottleneck must be a positive integer/,
  );
  assert.throws(() => peftFamilyTable(CFG, { loraTargets: [] }), /loraTargets must be a non-empty list/);
});

test("the lora barrel exports BitFit and the family table", () => {
  for (const k of [
    "bitFitTrainable",
    "bitFitParameterCount",
    "bitFitParameterNames",
    "BitFitLinear",
    "peftFamilyTable",
  ])
    assert.ok(k in barrel, `${k} exported from src/lora`);
});
