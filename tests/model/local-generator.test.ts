// The local-model generator (a tiny random GPT-NeoX + a BPE trained here): texts equal what `generate` makes
// for the same prompt and seed, per-prompt seeds are reproducible whatever the batch, stop strings cut,
// prompt length is checked, no tensors leak; and model-made pairs record their provenance.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { generate } from "../../src/model/generate";
import { trainByteLevelBPE } from "../../src/tokenizer/train-bpe";
import { tokenizerFromJSON } from "../../src/tokenizer/hf";
import { LocalGenerator } from "../../src/model/local-generator";
import { answerWithModel, pairsWithModel, parseGeneratedPair } from "../../src/data/generate/model-pairs";
import type { Generation, GenerationOptions, Generator } from "../../src/data/generate/types";

const CORPUS = [
  "### Question:\nWhat is a tensor?\n\n### Answer:\nA tensor is an array of numbers with a shape.",
  "### Question:\nHow do I install the package?\n\n### Answer:\nRun npm install and import it.",
  "The learning rate controls how big a step the optimizer takes. Training diverges when it is too high.",
];

async function tiny() {
  await useTestBackend();
  const tokenizer = tokenizerFromJSON(trainByteLevelBPE(CORPUS, { vocabSize: 300 }));
  const model = GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 320,
      hiddenSize: 32,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 64,
      maxPositionEmbeddings: 96,
      bosTokenId: 0,
      eosTokenId: 0,
    }),
    { seed: 3 },
  );
  return { model, tokenizer };
}

test("local generator: same text as generate() for the prompt and its seed; seed + i per prompt; no leaks", async () => {
  const { model, tokenizer } = await tiny();
  try {
    const gen = new LocalGenerator(model, tokenizer, { modelName: "tiny" });
    assert.equal(gen.name, "local:tiny");
    const prompts = ["### Question:\nWhat is a tensor?\n\n### Answer:\n", "The learning rate"];
    const before = tf.memory().numTensors;
    const out = await gen.generate(prompts, {
      temperature: 0.9,
      topP: 0.95,
      maxNewTokens: 12,
      seed: 10,
      stop: [],
      repetitionPenalty: 1,
    });
    assert.equal(tf.memory().numTensors, before, "generation leaked tensors");
    assert.deepEqual(
      out.map((g) => g.seed),
      [10, 11],
    );
    for (const [i, g] of out.entries()) {
      const ids = await generate(model, tokenizer.encode(prompts[i]), {
        doSample: true,
        temperature: 0.9,
        topP: 0.95,
        maxNewTokens: 12,
        seed: 10 + i,
      });
      // ids past the tokenizer's 300 (the model has 320 rows, as Pythia pads 50277 to 50304) have no text
      assert.equal(
        g.text,
        tokenizer
          .decode(
            ids.filter((id) => id < tokenizer.vocabSize),
            { skipSpecialTokens: true },
          )
          .trim(),
      );
      assert.equal(g.prompt, prompts[i]);
      assert.equal(g.generator, "local:tiny");
      assert.equal(g.temperature, 0.9);
      assert.equal(g.attempts, 1);
    }
    // the second prompt alone, with the seed it was given, gives the same text
    const [again] = await gen.generate([prompts[1]], {
      temperature: 0.9,
      topP: 0.95,
      maxNewTokens: 12,
      seed: 11,
      stop: [],
      repetitionPenalty: 1,
    });
    assert.equal(again.text, out[1].text);
    // temperature 0 is greedy: the same whatever the seed
    const g1 = await gen.generate([prompts[0]], { temperature: 0, maxNewTokens: 8, seed: 1, stop: [] });
    const g2 = await gen.generate([prompts[0]], { temperature: 0, maxNewTokens: 8, seed: 2, stop: [] });
    assert.equal(g1[0].text, g2[0].text);
    assert.equal(g1[0].finishReason === "length" || g1[0].finishReason === "stop", true);
  } finally {
    model.dispose();
  }
});

test("local generator: stop strings cut the text; too-long prompts and bad options are clear errors", async () => {
  const { model, tokenizer } = await tiny();
  try {
    const gen = new LocalGenerator(model, tokenizer, { modelName: "tiny" });
    const [full] = await gen.generate(["What is"], { temperature: 0, maxNewTokens: 16, stop: [] });
    const tail = full.text.slice(Math.floor(full.text.length / 2));
    const stop = tail.trim().slice(0, 2);
    assert.equal(stop.length, 2, `too little text to test stop strings: ${JSON.stringify(full.text)}`);
    {
      const [cut] = await gen.generate(["What is"], { temperature: 0, maxNewTokens: 16, stop: [stop] });
      assert.ok(!cut.text.includes(stop), `${JSON.stringify(cut.text)} still has ${JSON.stringify(stop)}`);
      assert.ok(full.text.startsWith(cut.text), "the cut text is a prefix of the full one");
      assert.equal(cut.finishReason, "stop");
    }
    await assert.rejects(
      gen.generate(["word ".repeat(200)], { maxNewTokens: 8 }),
      /prompt 0 has \d+ tokens; with maxNewTokens 8 that exceeds the model's 96 positions/,
    );
    await assert.rejects(
      gen.generate(["x"], { temperature: -1 }),
      /local:tiny: option temperature must be a finite number >= 0/,
    );
    await assert.rejects(gen.generate([42 as any]), /prompt 0 must be a string/);
  } finally {
    model.dispose();
  }
});

test("answerWithModel: one pair per question with model provenance (local model)", async () => {
  const { model, tokenizer } = await tiny();
  try {
    const gen = new LocalGenerator(model, tokenizer, { modelName: "tiny" });
    const pairs = await answerWithModel(
      gen,
      [
        { id: "q1", question: "What is a tensor?" },
        { id: "q2", question: "How do I install it?" },
      ],
      { maxNewTokens: 6, seed: 4, temperature: 0.7 },
    );
    assert.equal(pairs.length, 2);
    assert.deepEqual(
      pairs.map((p) => p.question),
      ["What is a tensor?", "How do I install it?"],
    );
    assert.deepEqual(pairs[1].provenance, {
      method: "model",
      generator: "local:tiny",
      prompt: "### Question:\nHow do I install it?\n\n### Answer:\n",
      temperature: 0.7,
      seed: 5,
      sourceId: "q2",
    });
  } finally {
    model.dispose();
  }
});

/** A scripted generator: returns the given texts in order (a real Generator, no model). */
class Scripted implements Generator {
  readonly name = "scripted:test";
  seen: { prompts: string[]; opts?: GenerationOptions }[] = [];
  constructor(private texts: string[]) {}
  async generate(prompts: string[], opts?: GenerationOptions): Promise<Generation[]> {
    this.seen.push({ prompts, opts });
    return prompts.map((prompt, i) => ({
      prompt,
      text: this.texts.shift() ?? "",
      finishReason: "stop",
      generator: this.name,
      temperature: opts?.temperature ?? 1,
      seed: (opts?.seed ?? 0) + i,
      attempts: 1,
    }));
  }
}

test("pairsWithModel: few-shot prompts from seeds, parsed pairs, unparseable texts reported with a reason", async () => {
  const seeds = [
    { id: "a", question: "What is a tensor?", answer: "An array with a shape." },
    { id: "b", question: "What is a batch?", answer: "Several examples processed together." },
    { id: "c", question: "What is an epoch?", answer: "One pass over the training data." },
  ];
  const gen = new Scripted([
    "What is a step?\n\n### Answer:\nOne optimizer update.",
    "no marker here",
    "What is a loss?\n### Answer:\n",
    "  What is a token?\n\n## Answer: A piece of text.\n\n### Question: extra",
  ]);
  const { pairs, rejected } = await pairsWithModel(gen, seeds, { count: 4, shots: 2, seed: 9, temperature: 0.8 });
  assert.deepEqual(
    pairs.map((p) => [p.question, p.answer]),
    [
      ["What is a step?", "One optimizer update."],
      ["What is a token?", "A piece of text."],
    ],
  );
  assert.deepEqual(
    rejected.map((r) => [r.index, r.reason]),
    [
      [1, "no '### Answer:' marker"],
      [2, "empty answer"],
    ],
  );
  const prompts = gen.seen[0].prompts;
  assert.equal(prompts.length, 4);
  for (const p of prompts) {
    assert.equal((p.match(/### Question:/g) ?? []).length, 3, "2 shots + the open question");
    assert.ok(p.endsWith("### Question:\n"));
  }
  assert.deepEqual(gen.seen[0].opts?.stop, ["### Question:", "<|endoftext|>"]);
  const prov = pairs[0].provenance;
  assert.equal(prov.method, "model");
  if (prov.method === "model") {
    assert.equal(prov.prompt, prompts[0]);
    assert.equal(prov.seed, 9);
    assert.equal(prov.temperature, 0.8);
    assert.equal(prov.sourceId!.split(",").length, 2);
  }
  // deterministic shot choice
  const gen2 = new Scripted([]);
  await pairsWithModel(gen2, seeds, { count: 4, shots: 2, seed: 9 });
  assert.deepEqual(gen2.seen[0].prompts, prompts);
  assert.deepEqual(parseGeneratedPair("Q\n### Answer:\nA"), { question: "Q", answer: "A" });
  await assert.rejects(pairsWithModel(gen, [], {}), /needs at least one seed pair/);
});
