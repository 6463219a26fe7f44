import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { copyTokenizerFiles, SaveWriteError, saveTrained } from "../../src/pipeline/save";
import { applyLora, disposeModel } from "../../src/pipeline/adapters";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { loadPretrained, modelStateDict } from "../../src/model/load";
import { LoraModel } from "../../src/lora/model";

before(async () => {
  await useTestBackend();
});

const tiny = () =>
  GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 64,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 32,
    }),
    { seed: 3 },
  );

const tmpDir = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `tunebook-pipeline-${tag}-`));
const hidden = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith("."));

test("saveTrained: a full model's files land in the run folder (nothing hidden left) and load back", async () => {
  const out = tmpDir("full");
  const model = tiny();
  const files = await saveTrained(model, out, { dtype: "F32" });
  assert.deepEqual(files, ["model.safetensors", "config.json"]);
  assert.deepEqual(hidden(out), []);
  const again = await loadPretrained(out);
  const a = modelStateDict(model);
  const b = modelStateDict(again);
  for (const [name, t] of a) assert.deepEqual(b.get(name)?.data, t.data, name);
  again.dispose();
  model.dispose();
});

test("saveTrained: an adapter replaces OUT/adapter whole; disposeModel frees the adapter with the model", async () => {
  const out = tmpDir("adapter");
  const before = tf.memory().numTensors;
  const model = tiny();
  const lora = applyLora(model, { r: 2, alpha: 4 }, { seed: 1 });
  fs.mkdirSync(path.join(out, "adapter"));
  fs.writeFileSync(path.join(out, "adapter", "stale.txt"), "from an earlier run");
  assert.deepEqual(await saveTrained(model, out, { adapter: lora }), ["adapter"]);
  const saved = fs.readdirSync(path.join(out, "adapter"));
  assert.ok(saved.includes("adapter_config.json") && saved.includes("adapter_model.safetensors"), String(saved));
  assert.ok(!saved.includes("stale.txt"), "the earlier adapter folder was replaced whole");
  assert.deepEqual(hidden(out), []);
  assert.ok(LoraModel.find(model));
  disposeModel(model);
  assert.equal(tf.memory().numTensors, before);
});

test("saveTrained: a failed write names the file it was on, keeps the error and leaves nothing behind", async () => {
  const out = tmpDir("fail");
  const model = tiny();
  const full = Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
  const adapter = { save: async () => Promise.reject(full) };
  await assert.rejects(
    () => saveTrained(model, out, { adapter }),
    (e: unknown) =>
      e instanceof SaveWriteError &&
      e.file === path.join(out, "adapter", "adapter_model.safetensors") &&
      e.error === full,
  );
  assert.deepEqual(fs.readdirSync(out), []);
  model.dispose();
});

test("copyTokenizerFiles: copies the files that exist, tells each target first, returns their names", () => {
  const from = tmpDir("tok-from");
  const to = tmpDir("tok-to");
  fs.writeFileSync(path.join(from, "tokenizer.json"), "{}");
  fs.writeFileSync(path.join(from, "special_tokens_map.json"), "{}");
  const seen: string[] = [];
  const copied = copyTokenizerFiles(from, to, (f) => seen.push(f));
  assert.deepEqual(copied, ["tokenizer.json", "special_tokens_map.json"]);
  assert.deepEqual(
    seen,
    copied.map((f) => path.join(to, f)),
  );
  assert.deepEqual(fs.readdirSync(to).sort(), ["special_tokens_map.json", "tokenizer.json"]);
  assert.deepEqual(copyTokenizerFiles(from, to, undefined, ["generation_config.json"]), []);
});
