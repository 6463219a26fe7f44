import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { qaRecords, classRecords, useTinyTask } from "./helpers/tiny-task";
import { QA_TEMPLATE, classificationTemplate } from "../../src/data/templates";
import { tokenizeDataset } from "../../src/data/prepare";
import { generate } from "../../src/model/generate";
import { tokenLogProbs } from "../../src/model/loss";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Trainer } from "../../src/train/trainer";
import { evaluateModel } from "../../src/eval/run";
import { compareModels } from "../../src/eval/compare";
import { cloneModel, fineTune } from "../../src/pipeline/finetune";
import { classifyByLikelihood, completionExample, scoreCompletions, scoreExamples } from "../../src/eval/likelihood";
import { exactMatch, perplexity, tokenF1 } from "../../src/eval/metrics";

const t = useTinyTask();

test("scoreExamples: batched (padded) scores equal one-at-a-time scores; perplexity = exp(trainer eval loss)", () => {
  const { examples } = tokenizeDataset(QA_TEMPLATE, t.tokenizer, qaRecords(5));
  const before = tf.memory().numTensors;
  const batched = scoreExamples(t.model, examples, { batchSize: 5 });
  const single = scoreExamples(t.model, examples, { batchSize: 1 });
  assert.equal(tf.memory().numTensors, before);
  for (let i = 0; i < examples.length; i++) {
    assert.equal(batched[i].tokens, single[i].tokens);
    assert.ok(batched[i].tokens > 0);
    assert.ok(
      Math.abs(batched[i].logProb - single[i].logProb) < 1e-3,
      `example ${i}: ${batched[i].logProb} vs ${single[i].logProb}`,
    );
  }
  const trainer = new Trainer(causalLMTrainable(t.model), examples, { numSteps: 1, batchSize: 2 });
  const { loss } = trainer.evaluate(examples);
  trainer.dispose();
  assert.ok(Math.abs(Math.log(perplexity(batched)) - loss) < 1e-4, `${Math.log(perplexity(batched))} vs ${loss}`);
});

test("scoreExamples: mixed batches (unmasked rows, no prefix at all, nothing scored) match the full forward pass", () => {
  // large weights and full rotary: positions and padding mistakes change the scores visibly
  const model = GPTNeoXForCausalLM.create(makeConfig({ ...t.model.config, initializerRange: 0.5, rotaryPct: 1 }), {
    seed: 9,
  });
  try {
    mixedBatchCheck(model);
  } finally {
    model.dispose();
  }
});

function mixedBatchCheck(model: GPTNeoXForCausalLM) {
  const masked = tokenizeDataset(QA_TEMPLATE, t.tokenizer, qaRecords(3, 7)).examples;
  const unmasked = tokenizeDataset(QA_TEMPLATE, t.tokenizer, qaRecords(2, 20), { maskPrompt: false }).examples;
  const mixed = [masked[0], unmasked[0], masked[1], unmasked[1], masked[2]];
  const before = tf.memory().numTensors;
  const batched = scoreExamples(model, mixed, { batchSize: 5 });
  const onlyUnmasked = scoreExamples(model, unmasked, { batchSize: 2 }); // no prefix in the batch: one pass
  const none = scoreExamples(model, [{ inputIds: [5, 6, 7], labels: [-100, -100, -100] }, { inputIds: [9] }]);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(none, [
    { logProb: 0, tokens: 0 },
    { logProb: 0, tokens: 0 },
  ]);
  mixed.forEach((ex, i) => {
    const full = tf.tidy(() => tf.sum(tokenLogProbs(model.forward([ex.inputIds]).logits, [ex.labels!])).dataSync()[0]);
    assert.ok(Math.abs(batched[i].logProb - full) < 1e-3, `example ${i}: ${batched[i].logProb} vs ${full}`);
    assert.equal(batched[i].tokens, ex.labels!.slice(1).filter((l) => l !== -100).length);
  });
  assert.ok(Math.abs(onlyUnmasked[1].logProb - batched[3].logProb) < 1e-3);
  assert.throws(
    () => scoreExamples(t.model, [{ inputIds: new Array(200).fill(3) }]),
    /200 tokens, over the model's context of 128/,
  );
  assert.throws(() => scoreExamples(t.model, [{ inputIds: [1, 999] }]), /id 999, outside/);
}

test("scoreExamples: examples sharing a prompt run it once (cache rows repeated) and match the full forward pass", () => {
  const model = GPTNeoXForCausalLM.create(makeConfig({ ...t.model.config, initializerRange: 0.5, rotaryPct: 1 }), {
    seed: 4,
  });
  const prompts = ["### Text:\nThe cup was fine.\n\n### Answer:\n", "### Text:\nNo.\n\n### Answer:\n"];
  const labels = ["bad", "good", "quite good"];
  // prompt-major with the two prompts interleaved in the input order; one label scored alone
  const exs = [
    ...prompts.flatMap((p) => labels.map((l) => completionExample(t.tokenizer, p, l))),
    completionExample(t.tokenizer, "### Text:\nA different one.\n\n### Answer:\n", "bad"),
  ];
  const order = [0, 3, 1, 4, 2, 5, 6];
  const shapes: number[] = [];
  const forward = model.forward.bind(model);
  model.forward = ((ids: number[][], o: any) => (shapes.push(ids.length), forward(ids, o))) as typeof model.forward;
  try {
    const before = tf.memory().numTensors;
    const got = scoreExamples(
      model,
      order.map((i) => exs[i]),
      { batchSize: 6 },
    );
    assert.equal(tf.memory().numTensors, before);
    // the 2-token-longer prompt's 3 labels and the other's 3 fill a batch of 6 (prefix pass: 2 rows, rest: 6);
    // the lone example is its own batch (1 and 1)
    assert.deepEqual(shapes.sort(), [1, 1, 2, 6].sort());
    shapes.length = 0;
    order.forEach((i, k) => {
      const ex = exs[i];
      const full = tf.tidy(() => tf.sum(tokenLogProbs(forward([ex.inputIds]).logits, [ex.labels!])).dataSync()[0]);
      assert.ok(Math.abs(got[k].logProb - full) < 1e-3, `example ${i}: ${got[k].logProb} vs ${full}`);
    });
    // batches smaller than a group keep every example right (the group is scored alone, not split)
    const small = scoreExamples(
      model,
      order.map((i) => exs[i]),
      { batchSize: 2 },
    );
    small.forEach((x, k) => assert.ok(Math.abs(x.logProb - got[k].logProb) < 1e-4));
  } finally {
    model.dispose();
  }
});

test("classifyByLikelihood picks the label with the highest completion log-likelihood", () => {
  const prompts = ["### Text:\nThe cup was fine.\n\n### Answer:\n", "### Text:\nThe box was awful.\n\n### Answer:\n"];
  const res = classifyByLikelihood(t.model, t.tokenizer, prompts, ["bad", "good"]);
  res.forEach((r, i) => {
    const direct = scoreCompletions(t.model, t.tokenizer, prompts[i], ["bad", "good"]).map((s) => s.logProb);
    r.logProbs.forEach((lp, j) => assert.ok(Math.abs(lp - direct[j]) < 1e-3));
    assert.equal(r.label, direct[0] >= direct[1] ? "bad" : "good");
  });
  assert.throws(() => classifyByLikelihood(t.model, t.tokenizer, prompts, ["only"]), /at least two labels/);
});

test("evaluateModel: batched greedy predictions match unbatched generation; per-example metrics; no leaks", async () => {
  const recs = qaRecords(5, 50);
  const before = tf.memory().numTensors;
  const r = await evaluateModel(t.model, t.tokenizer, QA_TEMPLATE, recs, { batchSize: 3, maxNewTokens: 8 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.records.length, 5);
  for (const [i, rec] of r.records.entries()) {
    assert.equal(rec.reference, recs[i].answer);
    assert.equal(rec.prompt, QA_TEMPLATE.renderPrompt(recs[i]));
    assert.equal(rec.id, recs[i].id);
    assert.equal(rec.em, exactMatch(rec.prediction, rec.reference));
    assert.equal(rec.f1, tokenF1(rec.prediction, rec.reference));
    assert.ok(rec.newTokens >= 1 && rec.newTokens <= 8);
    const solo = await generate(t.model, t.tokenizer.encode(rec.prompt), {
      maxNewTokens: 8,
      doSample: false,
      eosTokenId: t.tokenizer.eosTokenId,
    });
    const text = t.tokenizer.decode(solo.slice(0, rec.newTokens), { skipSpecialTokens: true });
    assert.equal(rec.prediction, text.split("\n###")[0].trim(), `example ${i}`);
  }
  assert.equal(r.metrics.count, 5);
  assert.ok(Math.abs(r.metrics.f1 - r.records.reduce((s, x) => s + x.f1, 0) / 5) < 1e-12);
  assert.ok(r.metrics.perplexity! > 1 && Number.isFinite(r.metrics.perplexity!));
  assert.ok(Math.abs(Math.log(r.metrics.perplexity!) - r.metrics.evalLoss!) < 1e-9);
  assert.equal(
    Object.values(r.errors).reduce((a, b) => a + b, 0),
    5,
  );
  assert.equal(r.metrics.accuracy, undefined);
  const limited = await evaluateModel(t.model, t.tokenizer, QA_TEMPLATE, recs, {
    limit: 2,
    maxNewTokens: 4,
    perplexity: false,
  });
  assert.equal(limited.records.length, 2);
  assert.equal(limited.metrics.perplexity, undefined);
  await assert.rejects(
    evaluateModel(t.model, t.tokenizer, QA_TEMPLATE, [{ question: "no answer" }]),
    /record 0: .*"answer"/,
  );
  await assert.rejects(
    evaluateModel(t.model, t.tokenizer, QA_TEMPLATE, recs, { maxNewTokens: 500 }),
    /maxNewTokens 500/,
  );
});

test("evaluateModel on classification reports accuracy by both methods and the majority rate", async () => {
  const template = classificationTemplate(["bad", "good"]);
  const recs = classRecords(6);
  const r = await evaluateModel(t.model, t.tokenizer, template, recs, { labels: ["bad", "good"], maxNewTokens: 3 });
  const gold = recs.map((x) => x.label);
  assert.equal(r.metrics.majorityLabel, "good");
  assert.equal(r.metrics.majorityRate, gold.filter((g) => g === "good").length / 6);
  assert.equal(r.metrics.accuracy, r.metrics.accuracyLikelihood);
  const acc = r.records.filter((x) => x.likelihoodLabel === x.label).length / 6;
  assert.equal(r.metrics.accuracyLikelihood, acc);
  for (const x of r.records) assert.ok(x.likelihoodLabel === "bad" || x.likelihoodLabel === "good");
  const g = await evaluateModel(t.model, t.tokenizer, template, recs, {
    labels: ["bad", "good"],
    maxNewTokens: 3,
    labelMethod: "generation",
    perplexity: false,
  });
  assert.equal(g.metrics.accuracy, g.metrics.accuracyGeneration);
});

test("evaluateModel with maxNewTokens 0 scores the labels only: the same likelihood labels, no generation, no leaks", async () => {
  const template = classificationTemplate(["bad", "good"]);
  const recs = classRecords(7);
  const opts = { labels: ["bad", "good"], batchSize: 3, perplexity: false };
  const full = await evaluateModel(t.model, t.tokenizer, template, recs, { ...opts, maxNewTokens: 2 });
  const before = tf.memory().numTensors;
  let progress = "";
  const r = await evaluateModel(t.model, t.tokenizer, template, recs, {
    ...opts,
    maxNewTokens: 0,
    onProgress: (d, n) => (progress += `${d}/${n} `),
  });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(progress, "7/7 ");
  assert.deepEqual(
    r.records.map((x) => x.likelihoodLabel),
    full.records.map((x) => x.likelihoodLabel),
  );
  assert.equal(r.metrics.accuracy, full.metrics.accuracy);
  assert.equal(r.metrics.accuracyGeneration, undefined);
  for (const x of r.records) {
    assert.equal(x.prediction, x.likelihoodLabel); // the likeliest label's answer text
    assert.equal(x.em, x.labelCorrect ? 1 : 0);
    assert.equal(x.newTokens, 0);
    assert.equal(x.generatedLabel, undefined);
  }
  await assert.rejects(
    evaluateModel(t.model, t.tokenizer, template, recs, { maxNewTokens: 0 }),
    /maxNewTokens 0 \(no generation\) needs labels and labelMethod "likelihood"/,
  );
  await assert.rejects(
    evaluateModel(t.model, t.tokenizer, template, recs, { ...opts, maxNewTokens: 0, labelMethod: "generation" }),
    /needs labels and labelMethod "likelihood"/,
  );
  await assert.rejects(
    evaluateModel(t.model, t.tokenizer, template, recs, { ...opts, maxNewTokens: -1 }),
    /maxNewTokens must be an integer ≥ 0, found -1/,
  );
});

test("fine-tuning a copy raises exact match on what it learned; compareModels lines both up; the base is untouched", async () => {
  const recs = qaRecords(6);
  const tuned = cloneModel(t.model);
  const baseWeights = t.model.parameters().get("embed_out.weight")!.dataSync().slice();
  try {
    const { summary } = await fineTune(tuned, t.tokenizer, QA_TEMPLATE, recs, {
      lr: 1e-2,
      numSteps: 60,
      batchSize: 6,
      seed: 1,
    });
    assert.ok(summary.finalLoss < summary.losses[0] / 4, `loss ${summary.losses[0]} → ${summary.finalLoss}`);
    const cmp = await compareModels(
      { model: t.model, tokenizer: t.tokenizer },
      { model: tuned, tokenizer: t.tokenizer },
      QA_TEMPLATE,
      recs,
      { maxNewTokens: 6 },
    );
    const em = cmp.metrics.find((m) => m.metric === "exactMatch")!;
    assert.equal(em.base, 0);
    assert.ok(em.tuned >= 0.8, `tuned exact match ${em.tuned}`);
    assert.ok(cmp.metrics.find((m) => m.metric === "perplexity")!.change < 0);
    assert.equal(cmp.rows.length, 6);
    assert.equal(cmp.rows[0].reference, recs[0].answer);
    assert.deepEqual(t.model.parameters().get("embed_out.weight")!.dataSync(), baseWeights);
  } finally {
    tuned.dispose();
  }
});
