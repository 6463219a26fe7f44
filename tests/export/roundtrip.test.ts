// "The exported job's outputs come back": what the cluster writes — a PEFT adapter (the fixture made by
// Hugging Face PEFT itself) or a full checkpoint (config.json + safetensors + tokenizer) — loads through
// tunebook's loaders and `tunebook eval` runs on it, with the command the export's README prints.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { FIXTURES } from "../helpers/backend";
import { captureIO, qaRecords, useTinyTask } from "../eval/helpers/tiny-task";
import { exportJob } from "../../src/export/export";
import { evalCommand } from "../../src/export/readme";
import { run as evalCli } from "../../src/cli/eval";
import { loadPretrained, saveModel } from "../../src/model/load";
import { causalLMLoss } from "../../src/model/loss";
import { loadAdapterInto } from "../../src/pipeline/adapters";
import { evaluateModel } from "../../src/eval/run";
import { QA_TEMPLATE } from "../../src/data/templates";
import { padAndTruncate } from "../../src/tokenizer/pad";
import { applyLora } from "../../src/pipeline/adapters";
import type { Tokenizer } from "../../src/tokenizer/types";

const MODEL_A = path.join(FIXTURES, "neox-tiny", "A");
const LORA_A = path.join(MODEL_A, "lora");

const t = useTinyTask();

/** A character tokenizer for the 128-token fixture model (its vocabulary has no text). */
function charTokenizer(): Tokenizer {
  const enc = (s: string) => [...s].map((ch) => 2 + (ch.codePointAt(0)! % 120));
  return {
    vocabSize: 128,
    eosTokenId: 0,
    padTokenId: 1,
    paddingSide: "left",
    truncationSide: "left",
    encode: (s) => enc(s),
    decode: (ids) =>
      ids
        .filter((i) => i >= 2)
        .map((i) => String.fromCharCode(i - 2 + 32))
        .join(""),
    idToToken: (i) => String(i),
    tokenToId: () => undefined,
    encodeBatch: (texts, o = {}) => padAndTruncate(texts.map(enc), { padTokenId: 1, ...o }),
  };
}

test("a PEFT adapter from the cluster (Hugging Face PEFT's own files) loads onto its base and evaluates", async () => {
  const cases = JSON.parse(fs.readFileSync(path.join(LORA_A, "cases.json"), "utf8"));
  const model = await loadPretrained(MODEL_A);
  try {
    await loadAdapterInto(model, LORA_A);
    const ids: number[][] = cases.adapter_active.input_ids;
    const loss = tf.tidy(() => causalLMLoss(model.forward(ids).logits, ids).dataSync()[0]);
    assert.ok(
      Math.abs(loss - cases.adapter_active.loss) < 1e-4,
      `loss with the adapter ${loss} vs PEFT's ${cases.adapter_active.loss}`,
    );
    const before = tf.memory().numTensors;
    const r = await evaluateModel(model, charTokenizer(), QA_TEMPLATE, qaRecords(3), { maxNewTokens: 3, batchSize: 2 });
    assert.equal(r.metrics.count, 3);
    assert.ok(Number.isFinite(r.metrics.perplexity!));
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

async function evalFromReadme(exportDir: string, command: string): Promise<any> {
  const argv = command.split(" ").slice(2); // drop "tunebook eval"
  const io = captureIO();
  const cwd = process.cwd();
  process.chdir(exportDir); // the README's command runs from the export folder
  try {
    assert.equal(await evalCli([...argv, "--limit", "2", "--max-new-tokens", "2", "--json"], io), 0);
  } finally {
    process.chdir(cwd);
  }
  return JSON.parse(io.stdout());
}

test("a full checkpoint from the cluster (bf16 safetensors + tokenizer) evaluates with the README's tunebook eval", async () => {
  const out = path.join(t.dir, "exp-full-back");
  const r = await exportJob({ out, model: t.modelDir, data: t.trainFile, evalData: t.testFile, template: "qa" });
  // What train.py leaves in output/: the trained weights (DeepSpeed saves 16-bit) and the tokenizer files.
  await saveModel(t.model, path.join(out, "output"), { dtype: "BF16" });
  fs.copyFileSync(path.join(t.modelDir, "tokenizer.json"), path.join(out, "output", "tokenizer.json"));
  const cmd = evalCommand(r.job);
  assert.match(cmd, /^tunebook eval --model output --data /);
  const res = await evalFromReadme(out, cmd);
  assert.equal(res.count, 2);
  assert.equal(res.adapter, null);
  assert.ok(Number.isFinite(res.perplexity));
});

test("a LoRA job's adapter folder (PEFT layout) evaluates with the README's tunebook eval --adapter", async () => {
  const out = path.join(t.dir, "exp-lora-back");
  const r = await exportJob({
    out,
    model: t.modelDir,
    data: t.trainFile,
    evalData: t.testFile,
    template: "qa",
    lora: "r=2,alpha=4",
  });
  // Stand-in for PEFT's save_pretrained: an adapter in the PEFT layout with a non-zero B.
  const base = await loadPretrained(path.join(out, "model"));
  try {
    const lora = applyLora(base, { r: 2, alpha: 4 });
    const vars = lora.trainable.trainableVariables();
    for (const [name, v] of vars) if (/lora_B/.test(name)) v.assign(tf.fill(v.shape, 0.05));
    await lora.save(path.join(out, "output", "adapter"));
  } finally {
    base.dispose();
  }
  assert.ok(fs.existsSync(path.join(out, "output", "adapter", "adapter_config.json")));
  const cmd = evalCommand(r.job);
  assert.match(cmd, /^tunebook eval --model model --adapter output\/adapter --data /);
  const withAdapter = await evalFromReadme(out, cmd);
  const bare = await evalFromReadme(out, cmd.replace(" --adapter output/adapter", ""));
  assert.equal(withAdapter.count, 2);
  assert.equal(withAdapter.adapter, "output/adapter");
  assert.notEqual(withAdapter.perplexity, bare.perplexity, "the adapter changed nothing: it was not loaded");
});

test("the bring-back command reads the export's own data/test.jsonl, not --eval-data as typed where the export ran", async () => {
  const out = path.join(t.dir, "exp-relative-back");
  const cwd = process.cwd();
  process.chdir(t.dir); // `tunebook export --eval-data test.jsonl` typed in the data's folder
  let r: Awaited<ReturnType<typeof exportJob>>;
  try {
    r = await exportJob({ out, model: t.modelDir, data: "train.jsonl", evalData: "test.jsonl", template: "qa" });
  } finally {
    process.chdir(cwd);
  }
  await saveModel(t.model, path.join(out, "output"));
  fs.copyFileSync(path.join(t.modelDir, "tokenizer.json"), path.join(out, "output", "tokenizer.json"));
  const cmd = evalCommand(r.job);
  assert.equal(cmd, "tunebook eval --model output --data data/test.jsonl --template qa");
  assert.equal((await evalFromReadme(out, cmd)).count, 2);
});
