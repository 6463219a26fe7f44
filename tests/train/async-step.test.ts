// The trainer's awaited update (what train() runs; the only one WebGPU in Node can do) against its synchronous
// one, on the test backend: the same numbers bit for bit, no leak, and the same divergence handling.
import * as assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { Trainer, TrainingDivergedError } from "../../src/train/trainer";
import { TinyLM, toyExamples } from "./helpers/tiny-lm";
import { BASE_CONFIG } from "./helpers/trainer-setup";

const data = toyExamples(10);

async function weights(m: TinyLM): Promise<number[][]> {
  return Promise.all([...m.vars.values()].map(async (v) => Array.from(await v.data())));
}

test("trainStepAsync gives trainStep's losses, norms and weights bit for bit (accumulation 2, clipping, AdamW)", async () => {
  await useTestBackend();
  const [a, b] = [new TinyLM(), new TinyLM()];
  const [ta, tb] = [new Trainer(a, data, BASE_CONFIG), new Trainer(b, data, BASE_CONFIG)];
  for (let i = 0; i < 4; i++) {
    const ra = ta.trainStep();
    const rb = await tb.trainStepAsync();
    assert.deepEqual(rb, ra, `step ${i + 1}`);
  }
  assert.deepEqual(await weights(b), await weights(a));
  assert.deepEqual(await tb.evaluateAsync(data.slice(0, 5)), ta.evaluate(data.slice(0, 5)));
  assert.equal(tb.step, 4);
  assert.deepEqual(tb.lossHistory, ta.lossHistory);
  for (const t of [ta, tb]) t.dispose();
  for (const m of [a, b]) m.dispose();
});

test("trainStepAsync and evaluateAsync leak no tensor; a non-finite loss stops before the update, leaking nothing", async () => {
  await useTestBackend();
  const model = new TinyLM();
  const t = new Trainer(model, data, { ...BASE_CONFIG, numSteps: 10 });
  await t.trainStepAsync();
  const after1 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await t.trainStepAsync();
  await t.evaluateAsync(data.slice(0, 3));
  assert.equal(tf.memory().numTensors, after1);
  model.nanAfter = model.calls; // the next loss is NaN
  const before = await weights(model);
  await assert.rejects(
    () => t.trainStepAsync(),
    (e: unknown) =>
      e instanceof TrainingDivergedError && e.details.reason === "non-finite-loss" && e.details.step === 5,
  );
  assert.equal(tf.memory().numTensors, after1);
  assert.deepEqual(await weights(model), before, "no update on a non-finite loss");
  assert.equal(t.step, 4);
  t.dispose();
  model.dispose();
});
