// Trainable-parameter counts from configs alone, checked against the model's own variables.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { useTestBackend } from "../helpers/backend";
import { getPreset, PYTHIA_PRESETS } from "../../src/model/presets";
import { makeConfig } from "../../src/model/config";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { loraParameterCount, loraCountTable } from "../../src/lora/counts";
import { LoraModel } from "../../src/lora/model";

test("pythia-70m, r = 8 on query_key_value: 98,304 trainable of 70,426,624 (+ adapters)", () => {
  const c = loraParameterCount(getPreset("pythia-70m"), { r: 8 });
  assert.equal(c.trainable, 98_304);
  assert.equal(c.base, 70_426_624);
  assert.equal(c.total, 70_426_624 + 98_304);
  assert.equal(c.modules.length, 6);
  assert.ok(Math.abs(c.ratio - 98_304 / 70_524_928) < 1e-15);
});

test("counts scale with r and with the targets; a regex targets every matching layer", () => {
  const cfg = getPreset("pythia-160m"); // 12 layers, hidden 768, intermediate 3072
  assert.equal(loraParameterCount(cfg, { r: 16 }).trainable, 12 * 16 * (768 + 3 * 768));
  assert.equal(loraParameterCount(cfg, { r: 4, targetModules: ["dense"] }).trainable, 12 * 4 * (768 + 768));
  const all = loraParameterCount(cfg, { r: 2, targetModules: "gpt_neox\\.layers\\.\\d+\\..*" });
  assert.equal(all.trainable, 12 * 2 * (768 + 2304 + 768 + 768 + 768 + 3072 + 3072 + 768));
  assert.equal(
    loraParameterCount(cfg, { r: 2, targetModules: ["query_key_value"], layersToTransform: [0, 11] }).trainable,
    2 * 2 * (768 + 2304),
  );
  assert.throws(() => loraParameterCount(cfg, { targetModules: ["q_proj"] }), /target module "q_proj" not found/);
  const rows = loraCountTable(PYTHIA_PRESETS as Record<string, any>, [1, 8, 64]);
  assert.equal(rows.length, Object.keys(PYTHIA_PRESETS).length * 3);
  assert.ok(rows.every((r) => r.trainable > 0 && r.percent > 0 && r.percent < 100));
});

test("the count from shapes equals the variables a real adapter creates", async () => {
  await useTestBackend();
  const cfg = makeConfig({
    hiddenSize: 16,
    numHiddenLayers: 3,
    numAttentionHeads: 2,
    intermediateSize: 40,
    vocabSize: 50,
    maxPositionEmbeddings: 16,
  });
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 0 });
  const opts = { r: 3, targetModules: ["query_key_value", "dense_4h_to_h", "embed_out"] };
  const info = LoraModel.of(model).addAdapter("x", opts);
  const counted = loraParameterCount(cfg, opts);
  assert.equal(info.trainableParams, counted.trainable);
  assert.equal(counted.base, model.numParameters());
  let vars = 0;
  for (const v of LoraModel.of(model).adapterVariables("x").values()) vars += v.size;
  assert.equal(vars, counted.trainable);
  model.dispose();
});
