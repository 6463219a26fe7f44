// PEFT file format: fixture parity with PEFT 0.5.0 (adapter active, merged), round trip, exact config fields,
// and clear errors for every kind of mismatch.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { makeFifo, type TestFifo } from "../helpers/fifo";
import { loadPretrained } from "../../src/model/load";
import { causalLMLoss } from "../../src/model/loss";
import { readSafetensorsFile, writeSafetensorsFile } from "../../src/model/safetensors";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { LoraModel } from "../../src/lora/model";
import { resolveLoraConfig } from "../../src/lora/config";
import { loadAdapter, saveAdapter, fromPeftConfig, peftConfigText } from "../../src/lora/peft";
import type { Linear } from "../../src/model/layers";
import { LORA_A, MODEL_A, copyAdapter, loadLoraCases, maxAbsDiff } from "./helpers/fixtures";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-lora-"));
const QKV0 = "gpt_neox.layers.0.attention.query_key_value";

function logitsAndLoss(model: GPTNeoXForCausalLM, ids: number[][]): { logits: Float32Array; loss: number } {
  return tf.tidy(() => {
    const { logits } = model.forward(ids); // [1, T, V]
    return { logits: logits.dataSync() as Float32Array, loss: causalLMLoss(logits, ids).dataSync()[0] };
  });
}

test("a PEFT adapter loads and matches PEFT's logits and loss (adapter active, unmerged)", async () => {
  await useTestBackend();
  const fx = loadLoraCases();
  const model = await loadPretrained(MODEL_A);
  const baseQkv = (model.getLinear(QKV0) as Linear).weight.dataSync().slice();
  const before = tf.memory().numTensors;
  const name = await loadAdapter(model, LORA_A);
  assert.equal(name, "default");
  const lora = LoraModel.of(model);
  assert.deepEqual(lora.activeAdapters(), [{ name: "default", weight: 1 }]);
  assert.equal(lora.config("default").r, fx.r);
  assert.deepEqual(lora.targetModules("default"), [QKV0, "gpt_neox.layers.1.attention.query_key_value"]);
  const out = logitsAndLoss(model, fx.active.inputIds);
  const d = maxAbsDiff(out.logits, fx.active.logits.data);
  assert.ok(d <= 1e-4, `max |logits − PEFT| = ${d}`);
  assert.ok(
    Math.abs(out.loss - fx.active.loss) <= 1e-5 * Math.abs(fx.active.loss),
    `loss ${out.loss} vs PEFT ${fx.active.loss}`,
  );
  // the adapter really changes the output: the base alone is far from PEFT's adapted logits
  lora.disableAdapters();
  const base = logitsAndLoss(model, fx.active.inputIds);
  assert.ok(maxAbsDiff(base.logits, fx.active.logits.data) > 1e-2, "disabling the adapter should change the logits");
  lora.enableAdapters();
  // merged: W + scaling·B·A equals PEFT's merge_and_unload weight, logits match
  lora.merge();
  const w = (model.getLinear(QKV0) as { base: Linear }).base.weight.dataSync();
  const dw = maxAbsDiff(w, fx.merged.qkv0.data);
  assert.ok(dw <= 1e-5, `max |merged W − PEFT| = ${dw}`);
  const m = logitsAndLoss(model, fx.merged.inputIds);
  assert.ok(maxAbsDiff(m.logits, fx.merged.logits.data) <= 1e-4, "merged logits vs PEFT");
  assert.ok(maxAbsDiff(m.logits, out.logits) <= 1e-5, "merged vs unmerged outputs within 1e-5");
  lora.unmerge();
  assert.ok(
    maxAbsDiff((model.getLinear(QKV0) as { base: Linear }).base.weight.dataSync(), baseQkv) <= 1e-6,
    "unmerge restores W within 1e-6",
  );
  lora.deleteAdapter("default");
  assert.equal(tf.memory().numTensors, before, "adapter load + delete leaked tensors");
  model.dispose();
});

test("saved adapters have PEFT's key names, shapes, dtype and exactly PEFT's config text", async () => {
  await useTestBackend();
  const model = await loadPretrained(MODEL_A);
  await loadAdapter(model, LORA_A, { name: "a" });
  const dir = tmp();
  await saveAdapter(model, dir, "a");
  // the config PEFT wrote, byte for byte (same settings, same base path)
  assert.equal(
    fs.readFileSync(path.join(dir, "adapter_config.json"), "utf8"),
    fs.readFileSync(path.join(LORA_A, "adapter_config.json"), "utf8"),
  );
  const ours = await readSafetensorsFile(path.join(dir, "adapter_model.safetensors"));
  const theirs = await readSafetensorsFile(path.join(LORA_A, "adapter_model.safetensors"));
  assert.deepEqual([...ours.tensors.keys()], [...theirs.tensors.keys()]);
  assert.deepEqual(ours.metadata, { format: "pt" });
  for (const [k, t] of theirs.tensors) {
    const o = ours.tensors.get(k)!;
    assert.equal(o.dtype, "F32", k);
    assert.deepEqual(o.shape, t.shape, k);
    assert.deepEqual(Array.from(o.data as Float32Array), Array.from(t.data as Float32Array), k);
  }
  // a round trip loads under another name and gives the same outputs
  const first = logitsAndLoss(model, [[1, 5, 9, 3]]).logits;
  await loadAdapter(model, dir, { name: "b" });
  assert.ok(maxAbsDiff(logitsAndLoss(model, [[1, 5, 9, 3]]).logits, first) === 0);
  model.dispose();
});

test("fresh adapters save with every PEFT field; rsLoRA adds use_rslora; dropout is written as a float", async () => {
  await useTestBackend();
  const cfg = fromPeftConfig(JSON.parse(fs.readFileSync(path.join(LORA_A, "adapter_config.json"), "utf8")));
  const peftKeys = Object.keys(JSON.parse(fs.readFileSync(path.join(LORA_A, "adapter_config.json"), "utf8")));
  const text = peftConfigText({ ...cfg, dropout: 0.05, useRslora: true });
  const j = JSON.parse(text);
  for (const k of peftKeys) assert.ok(k in j, `field ${k} missing`);
  assert.equal(j.use_rslora, true);
  assert.match(text, /"lora_dropout": 0\.05,/);
  assert.match(peftConfigText(cfg), /"lora_dropout": 0\.0,/);
  assert.deepEqual(Object.keys(j), [...Object.keys(j)].sort(), "keys sorted as json.dumps(sort_keys=True)");
});

async function expectLoadError(mutate: (dir: string) => void | Promise<void>, pattern: RegExp): Promise<void> {
  const model = await loadPretrained(MODEL_A);
  const before = tf.memory().numTensors;
  const dir = tmp();
  copyAdapter(dir);
  await mutate(dir);
  await assert.rejects(loadAdapter(model, dir), pattern);
  assert.equal(LoraModel.find(model)?.listAdapters().length ?? 0, 0, "a failed load must not leave an adapter");
  assert.equal(tf.memory().numTensors, before, "a failed load leaked tensors");
  model.dispose();
}

function editConfig(dir: string, f: (j: any) => void): void {
  const file = path.join(dir, "adapter_config.json");
  const j = JSON.parse(fs.readFileSync(file, "utf8"));
  f(j);
  fs.writeFileSync(file, JSON.stringify(j));
}

async function editTensors(dir: string, f: (t: Map<string, any>) => void): Promise<void> {
  const file = path.join(dir, "adapter_model.safetensors");
  const { tensors } = await readSafetensorsFile(file);
  f(tensors);
  await writeSafetensorsFile(file, tensors);
}

test("config mismatches are clear errors naming the field or tensor", async () => {
  await useTestBackend();
  await expectLoadError((d) => editConfig(d, (j) => (j.r = 8)), /lora_A\.weight has rank 4 .*r=8/);
  await expectLoadError(
    (d) => editConfig(d, (j) => (j.target_modules = ["q_proj"])),
    /target module "q_proj" not found.*query_key_value/,
  );
  await expectLoadError((d) => editConfig(d, (j) => (j.peft_type = "IA3")), /peft_type.*"IA3"/);
  await expectLoadError((d) => editConfig(d, (j) => (j.bias = "all")), /bias "all"/);
  await expectLoadError((d) => editConfig(d, (j) => (j.fan_in_fan_out = true)), /fan_in_fan_out/);
  await expectLoadError((d) => editConfig(d, (j) => delete j.r), /missing field "r"/);
  await expectLoadError(
    (d) => editConfig(d, (j) => (j.target_modules = ["query_key_value", "dense"])),
    /missing tensors base_model\.model\.gpt_neox\.layers\.0\.attention\.dense\.lora_A\.weight/,
  );
  await expectLoadError(
    (d) =>
      editTensors(d, (t) => t.delete("base_model.model.gpt_neox.layers.1.attention.query_key_value.lora_B.weight")),
    /missing tensor base_model\.model\.gpt_neox\.layers\.1\.attention\.query_key_value\.lora_B\.weight/,
  );
  await expectLoadError(
    (d) =>
      editTensors(d, (t) =>
        t.set("base_model.model.gpt_neox.layers.0.mlp.dense_h_to_4h.lora_A.weight", {
          dtype: "F32",
          shape: [4, 32],
          data: new Float32Array(128),
        }),
      ),
    /unexpected tensor .*dense_h_to_4h\.lora_A\.weight/,
  );
  await expectLoadError(
    (d) =>
      editTensors(d, (t) =>
        t.set("base_model.model.gpt_neox.layers.0.attention.query_key_value.lora_A.weight", {
          dtype: "F32",
          shape: [4, 64],
          data: new Float32Array(256),
        }),
      ),
    /layers\.0\.attention\.query_key_value\.lora_A\.weight has shape \[4,64\].*takes 32 inputs.*another base model/,
  );
  await expectLoadError((d) => fs.rmSync(path.join(d, "adapter_model.safetensors")), /no adapter_model\.safetensors/);
  // a FIFO in place of the config is refused before it is opened (reading it would block until a writer comes)
  let fifo: TestFifo | undefined;
  try {
    await expectLoadError((d) => {
      fs.rmSync(path.join(d, "adapter_config.json"));
      fifo = makeFifo(path.join(d, "adapter_config.json"));
    }, /adapter_config\.json: the adapter config is a FIFO/);
    assert.ok(!fifo?.wasOpened(), "refused before opening the FIFO");
  } finally {
    fifo?.close();
  }
});

test("an adapter for another base model is refused naming the tensor and the base layer", async () => {
  await useTestBackend();
  const cfg = makeConfig({
    hiddenSize: 16,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 32,
    vocabSize: 128,
    maxPositionEmbeddings: 64,
  });
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 1 });
  await assert.rejects(
    loadAdapter(model, LORA_A),
    /query_key_value\.lora_A\.weight has shape \[4,32\], but the base layer .* takes 16 inputs/,
  );
  model.dispose();
});

test("a regex target saves as the explicit full module names PEFT matches exactly; README states the PEFT floor", async () => {
  await useTestBackend();
  const model = await loadPretrained(MODEL_A);
  const dir = tmp();
  try {
    const lora = LoraModel.of(model);
    lora.addAdapter("default", resolveLoraConfig({ r: 2, alpha: 4, targetModules: ".+mlp.+", layersToTransform: [1] }));
    await saveAdapter(model, dir);
    const j = JSON.parse(fs.readFileSync(path.join(dir, "adapter_config.json"), "utf8"));
    assert.deepEqual(j.target_modules, ["gpt_neox.layers.1.mlp.dense_h_to_4h", "gpt_neox.layers.1.mlp.dense_4h_to_h"]);
    assert.equal(j.layers_to_transform, null);
    assert.match(fs.readFileSync(path.join(dir, "README.md"), "utf8"), /Requires PEFT >= 0\.5/);
    // it loads back onto the same modules
    const again = await loadPretrained(MODEL_A);
    await loadAdapter(again, dir);
    assert.deepEqual(LoraModel.of(again).targetModules("default"), j.target_modules);
    again.dispose();

    lora.addAdapter("rs", resolveLoraConfig({ r: 4, alpha: 8, useRslora: true }));
    const rs = tmp();
    await saveAdapter(model, rs, "rs");
    const readme = fs.readFileSync(path.join(rs, "README.md"), "utf8");
    assert.match(readme, /Requires PEFT >= 0\.8/);
    assert.match(readme, /ignores `use_rslora`/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(rs, "adapter_config.json"), "utf8")).use_rslora, true);
  } finally {
    model.dispose();
  }
});
