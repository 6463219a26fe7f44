// The awaited scoring functions (what evaluateModel runs; the only ones WebGPU in Node can run) against the
// synchronous ones, on the test backend: the same numbers, no leak.
import * as assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { QA_TEMPLATE } from "../../src/data/templates";
import { tokenizeDataset } from "../../src/data/prepare";
import {
  classifyByLikelihood,
  classifyByLikelihoodAsync,
  scoreCompletions,
  scoreCompletionsAsync,
  scoreExamples,
  scoreExamplesAsync,
} from "../../src/eval/likelihood";
import { qaRecords, useTinyTask } from "./helpers/tiny-task";

const task = useTinyTask();

test("scoreExamplesAsync, scoreCompletionsAsync, classifyByLikelihoodAsync give the synchronous numbers", async () => {
  const { model, tokenizer } = task;
  const examples = tokenizeDataset(QA_TEMPLATE, tokenizer, qaRecords(5), { maxLength: 64 }).examples;
  const before = tf.memory().numTensors;
  assert.deepEqual(
    await scoreExamplesAsync(model, examples, { batchSize: 2 }),
    scoreExamples(model, examples, { batchSize: 2 }),
  );
  const prompt = "### Question:\nWhat color is the sky?\n\n### Answer:\n";
  assert.deepEqual(
    await scoreCompletionsAsync(model, tokenizer, prompt, ["red", "blue green"]),
    scoreCompletions(model, tokenizer, prompt, ["red", "blue green"]),
  );
  const prompts = [prompt, "### Question:\nWhat color is the coal?\n\n### Answer:\n"];
  const labels = ["red", "black", "white"];
  const sync = classifyByLikelihood(model, tokenizer, prompts, labels, { batchSize: 4 });
  assert.deepEqual(await classifyByLikelihoodAsync(model, tokenizer, prompts, labels, { batchSize: 4 }), sync);
  assert.equal(sync.length, 2);
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(() => classifyByLikelihoodAsync(model, tokenizer, prompts, ["one"]), /need at least two labels/);
});
