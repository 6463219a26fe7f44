import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../../helpers/backend";
import { heldOutText, textPerplexity } from "../../../src/course/evaluate/heldout";
import { loadModel, DEFAULT_MODEL } from "../../../src/pipeline/pretrained";
import { readCorpus } from "../../../scripts/lib/corpus";

before(async () => {
  await useTestBackend();
});

test("the held-out passages are the openings of exactly the documents the embedded model's build left out", () => {
  // scripts/build-default-model.ts holds out every 40th document of readCorpus() (i % 40 === 39)
  const docs = readCorpus();
  const passages = heldOutText();
  const heldIdx = docs.map((_, i) => i).filter((i) => i % 40 === 39);
  assert.deepEqual(
    passages.map((p) => p.corpusIndex),
    heldIdx,
  );
  for (const p of passages) {
    const doc = docs[p.corpusIndex];
    assert.equal(p.id, doc.name);
    assert.equal(p.source, doc.source);
    assert.ok(doc.text.startsWith(p.text), `${p.id}: the passage is the document's opening`);
    assert.ok(p.text.length >= 800, `${p.id}: ${p.text.length} characters`);
  }
  // and none of it is in a training document (the same text could sit in two documents)
  const train = docs.filter((_, i) => i % 40 !== 39).map((d) => d.text);
  for (const p of passages) {
    const probe = p.text.slice(200, 400);
    assert.ok(!train.some((t) => t.includes(probe)), `${p.id}: a piece of it occurs in a training document`);
  }
});

test("textPerplexity: the embedded model finds held-out English far likelier than the same words shuffled; no tensors leak", async () => {
  const { model, tokenizer } = await loadModel(DEFAULT_MODEL);
  try {
    const passages = heldOutText();
    const n0 = tf.memory().numTensors;
    const real = textPerplexity(model, tokenizer, passages, { maxWindows: 12 });
    assert.equal(tf.memory().numTensors, n0);
    assert.equal(real.windows, 12);
    assert.equal(real.tokens, 12 * 127, "every token of a 128-token window but the first is scored");
    assert.ok(Math.abs(real.loss - Math.log(real.perplexity)) < 1e-9);
    assert.ok(real.perplexity > 1 && real.perplexity < model.config.vocabSize / 4, `perplexity ${real.perplexity}`);
    // a seeded shuffle of each passage's words: same vocabulary, no English order
    let s = 7;
    const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const shuffled = passages.map((p) => ({
      text: p.text
        .split(/\s+/)
        .map((w) => [rand(), w] as const)
        .sort((a, b) => a[0] - b[0])
        .map((x) => x[1])
        .join(" "),
    }));
    const noise = textPerplexity(model, tokenizer, shuffled, { maxWindows: 12 });
    assert.ok(noise.perplexity > 1.5 * real.perplexity, `shuffled ${noise.perplexity} vs real ${real.perplexity}`);
    assert.throws(() => textPerplexity(model, tokenizer, [{ text: "too short" }]), /no passage has 128 tokens/);
  } finally {
    model.dispose();
  }
});
