import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { saveFineTuned } from "../../src/pipeline/save";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { loadModel } from "../../src/pipeline/pretrained";
import { trainByteLevelBPE } from "../../src/tokenizer/train-bpe";

before(async () => {
  await useTestBackend();
});

function tinyTokenizerDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-course-tok-"));
  fs.writeFileSync(
    path.join(dir, "tokenizer.json"),
    JSON.stringify(
      trainByteLevelBPE(["hello world, the subject line is here", "Subject: lunch at noon"], { vocabSize: 300 }),
    ),
  );
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ model_max_length: 64 }));
  return dir;
}

test("saveFineTuned: weights, config, tokenizer files and training.json; loads back with identical weights", async () => {
  const tokDir = tinyTokenizerDir();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-course-save-")), "run");
  const model = GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 300,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 64,
    }),
    { seed: 3 },
  );
  try {
    const n0 = tf.memory().numTensors;
    const files = await saveFineTuned(model, tokDir, out, { training: { baseModel: "tiny", losses: [2.5, 1.5] } });
    assert.equal(tf.memory().numTensors, n0);
    assert.deepEqual(
      files.map((f) => f.file),
      ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training.json"],
    );
    assert.ok(files.every((f) => f.bytes > 0));
    assert.deepEqual(
      fs.readdirSync(out).filter((f) => f.endsWith(".tmp")),
      [],
    );
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, "training.json"), "utf8")).losses, [2.5, 1.5]);
    assert.equal(
      fs.readFileSync(path.join(out, "tokenizer.json"), "utf8"),
      fs.readFileSync(path.join(tokDir, "tokenizer.json"), "utf8"),
    );
    const again = await loadModel(out);
    try {
      for (const [name, v] of model.parameters()) {
        const w = again.model.parameters().get(name)!;
        assert.deepEqual(Array.from(w.dataSync()), Array.from(v.dataSync()), name);
      }
      assert.deepEqual(
        again.tokenizer.encode("Subject: lunch"),
        (await loadModel(out)).tokenizer.encode("Subject: lunch"),
      );
    } finally {
      again.model.dispose();
    }
  } finally {
    model.dispose();
    fs.rmSync(tokDir, { recursive: true, force: true });
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
});

test("saveFineTuned: clear errors for a folder without tokenizer.json, the base model's own folder, bad training JSON", async () => {
  const tokDir = tinyTokenizerDir();
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-course-empty-"));
  const model = GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 300,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 64,
    }),
    { seed: 3 },
  );
  try {
    await assert.rejects(saveFineTuned(model, empty, path.join(empty, "out")), /has no tokenizer\.json/);
    await assert.rejects(saveFineTuned(model, tokDir, tokDir), /base model's folder/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(
      saveFineTuned(model, tokDir, path.join(empty, "out2"), { training: cyclic }),
      /training is not JSON-serialisable/,
    );
    assert.equal(fs.existsSync(path.join(empty, "out2", "model.safetensors")), false); // nothing written before the check
  } finally {
    model.dispose();
    fs.rmSync(tokDir, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
