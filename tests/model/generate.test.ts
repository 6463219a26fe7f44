// Generation: HF's greedy tokens on the reference models, KV cache = no cache, left-padded batches = one by
// one, stopping (EOS, stop strings, length), seeded sampling, streaming, and no tensor leaks.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { generate, generateDetailed, GenerateLimitError } from "../../src/model/generate";
import { makeConfig } from "../../src/model/config";
import { loadCases, modelDir } from "./helpers/neox-fixtures";

for (const name of ["A", "B"] as const) {
  test(`model ${name}: greedy generation equals HF token for token, with and without the KV cache`, async () => {
    await useTestBackend();
    const g = loadCases(name).generation;
    const model = await GPTNeoXForCausalLM.fromPretrained(modelDir(name));
    try {
      const prompt = g.prompt_ids[0];
      const expected = g.use_cache_true[0].slice(prompt.length);
      assert.deepEqual(g.use_cache_false[0], g.use_cache_true[0]);
      assert.equal(expected.length, g.max_new_tokens);
      const before = tf.memory().numTensors;
      const streamed: [number, number][] = [];
      const cached = await generate(model, prompt, {
        maxNewTokens: g.max_new_tokens,
        eosTokenId: null,
        onToken: (id, step) => streamed.push([id, step]),
      });
      assert.equal(tf.memory().numTensors, before, "generate leaked tensors");
      const uncached = await generate(model, prompt, {
        maxNewTokens: g.max_new_tokens,
        eosTokenId: null,
        useCache: false,
      });
      assert.deepEqual(cached, expected);
      assert.deepEqual(uncached, expected);
      assert.deepEqual(
        streamed,
        expected.map((id, i) => [id, i]),
      );
      // The fixture's tokens never hit eos = 0, so the default (stop on the config's EOS) gives the same.
      assert.deepEqual(await generate(model, prompt, { maxNewTokens: g.max_new_tokens }), expected);
    } finally {
      model.dispose();
    }
  });
}

test("a left-padded batch generates what each prompt generates alone (greedy, cached)", async () => {
  await useTestBackend();
  const model = await GPTNeoXForCausalLM.fromPretrained(modelDir("A"));
  try {
    const prompts = [
      [71, 41, 86, 49, 100, 7],
      [108, 8],
      [65, 26, 62],
    ];
    const alone = [];
    for (const p of prompts) alone.push(await generate(model, p, { maxNewTokens: 8, eosTokenId: null }));
    const before = tf.memory().numTensors;
    const batch = await generate(model, prompts, { maxNewTokens: 8, eosTokenId: null });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(batch, alone);
    const nocache = await generate(model, prompts, { maxNewTokens: 8, eosTokenId: null, useCache: false });
    assert.deepEqual(nocache, alone);
  } finally {
    model.dispose();
  }
});

test("stops per sequence on EOS (kept), on stop strings, and on length", async () => {
  await useTestBackend();
  const model = await GPTNeoXForCausalLM.fromPretrained(modelDir("A"));
  try {
    const prompt = [71, 41, 86];
    const free = await generate(model, prompt, { maxNewTokens: 10, eosTokenId: null }); // [28, 90, 90, 90, 90, 76, ...]
    const eos = free[5]; // first seen at step 5
    const r = await generateDetailed(model, [prompt], { maxNewTokens: 10, eosTokenId: eos });
    assert.deepEqual(r.sequences[0], free.slice(0, free.indexOf(eos) + 1));
    assert.deepEqual(r.finishReasons, ["eos"]);
    const decode = (ids: number[]) => ids.map((i) => `<${i}>`).join("");
    const s = await generateDetailed(model, [prompt], {
      maxNewTokens: 10,
      eosTokenId: null,
      decode,
      stopStrings: [`<${free[4]}><${free[5]}>`],
    });
    assert.deepEqual(s.sequences[0], free.slice(0, 6)); // "<90><76>": first complete at step 5
    assert.deepEqual(s.finishReasons, ["stop"]);
    // In a batch each sequence stops on its own; the other one runs on to its length.
    const alone = await generateDetailed(model, [[5, 9]], { maxNewTokens: 10, eosTokenId: eos });
    const l = await generateDetailed(model, [prompt, [5, 9]], { maxNewTokens: 10, eosTokenId: eos });
    assert.deepEqual(l.sequences, [r.sequences[0], alone.sequences[0]]);
    assert.deepEqual(l.finishReasons, ["eos", alone.finishReasons[0]]);
    const short = await generateDetailed(model, [prompt], { maxNewTokens: 2, eosTokenId: null });
    assert.deepEqual(short, { sequences: [free.slice(0, 2)], finishReasons: ["length"] });
    assert.deepEqual(await generate(model, prompt, { maxNewTokens: 0 }), []);
    await assert.rejects(() => generate(model, prompt, { stopStrings: ["x"] }), /decode/);
    await assert.rejects(() => generate(model, [1, 999], {}), /prompt 0 has id 999, outside the vocabulary \[0, 128\)/);
    await assert.rejects(() => generate(model, prompt, { doSample: true, topP: 0 }), /topP must be in \(0, 1\]/);
  } finally {
    model.dispose();
  }
});

test("sampling is reproducible for a seed, varies across seeds, and honours topK = 1 as greedy", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 64,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 32,
      initializerRange: 0.5,
    }),
    { seed: 3 },
  );
  try {
    const opts = { maxNewTokens: 12, doSample: true, temperature: 1.5, eosTokenId: null, seed: 7 };
    const a = await generate(model, [1, 2, 3], opts);
    const b = await generate(model, [1, 2, 3], opts);
    assert.deepEqual(a, b);
    const others = [];
    for (let seed = 8; seed < 12; seed++)
      others.push(JSON.stringify(await generate(model, [1, 2, 3], { ...opts, seed })));
    assert.ok(
      others.some((o) => o !== JSON.stringify(a)),
      "different seeds never changed the sample",
    );
    const greedy = await generate(model, [1, 2, 3], { maxNewTokens: 12, eosTokenId: null });
    assert.deepEqual(await generate(model, [1, 2, 3], { ...opts, topK: 1 }), greedy);
    assert.deepEqual(await generate(model, [1, 2, 3], { ...opts, topP: 1e-6 }), greedy);
  } finally {
    model.dispose();
  }
});

test("maxNewTokens is capped by the context: prompt + new tokens ≤ maxPositionEmbeddings, else a GenerateLimitError", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 64,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 16,
    }),
    { seed: 0 },
  );
  // before generating anything: no forward pass ran (counted, not timed)
  let forwards = 0;
  const forward = model.forward.bind(model);
  model.forward = (...a) => (forwards++, forward(...a));
  try {
    await assert.rejects(
      generate(model, [1, 2, 3], { maxNewTokens: 1e9 }),
      (e: unknown) =>
        e instanceof GenerateLimitError &&
        e.limit === 13 &&
        /maxNewTokens 1000000000 is over the limit of 13: the model's context is 16 tokens \(maxPositionEmbeddings\) and the prompt has 3$/.test(
          e.message,
        ),
    );
    assert.equal(forwards, 0, "refused before generating anything");
    // a batch is limited by its longest prompt
    await assert.rejects(
      generate(model, [[1], [1, 2, 3, 4, 5, 6]], { maxNewTokens: 11 }),
      /over the limit of 10: .* the prompt \(longest\) has 6/,
    );
    await assert.rejects(
      generate(
        model,
        Array.from({ length: 16 }, (_, i) => i),
        { maxNewTokens: 1 },
      ),
      /fills the model's context of 16/,
    );
    // exactly filling the context is fine
    const out = await generate(model, [1, 2, 3], { maxNewTokens: 13, eosTokenId: null });
    assert.equal(out.length, 13);
    assert.ok(forwards > 0, "the count sees the forward passes");
  } finally {
    model.dispose();
  }
});
