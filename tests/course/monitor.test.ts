import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { trainingMonitor } from "../../src/course/monitor";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Trainer } from "../../src/train/trainer";

before(async () => {
  await useTestBackend();
});

test("trainingMonitor: records every update and eval from a real trainer, charts both series, no tensor leak", async () => {
  const model = GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 40,
      hiddenSize: 16,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 32,
    }),
    { seed: 1 },
  );
  const examples = Array.from({ length: 6 }, (_, i) => ({
    inputIds: [1, 2 + i, 3, 4 + i, 5],
    labels: [1, 2 + i, 3, 4 + i, 5],
  }));
  const monitor = trainingMonitor({ numSteps: 4, chartThrottleMs: 0 });
  const origWrite = process.stderr.write.bind(process.stderr);
  (process.stderr as any).write = () => true; // the text progress lines
  try {
    const trainer = new Trainer(
      causalLMTrainable(model),
      examples,
      { numSteps: 4, batchSize: 2, lr: 1e-2, evalEvery: 2, evalData: examples.slice(0, 2) },
      monitor.callbacks,
    );
    const n0 = tf.memory().numTensors;
    const summary = await trainer.train();
    trainer.dispose();
    assert.ok(tf.memory().numTensors <= n0);
    assert.deepEqual(
      monitor.steps.map((s) => s.step),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      monitor.steps.map((s) => s.loss),
      summary.losses,
    );
    assert.deepEqual(
      monitor.evals.map((e) => e.step),
      summary.evals.map((e) => e.step),
    );
    const fig = monitor.chart.figure().toJSON();
    assert.deepEqual(
      fig.data.map((d: any) => d.name),
      ["train loss", "eval loss"],
    );
    assert.equal((fig.data[0] as any).y.length, 4);
    monitor.done();
    monitor.done(); // idempotent
    assert.match(monitor.bar.text(), /4\/4 \(100%\)/);
  } finally {
    (process.stderr as any).write = origWrite;
    model.dispose();
  }
});

test("trainingMonitor: numSteps must be a positive integer", () => {
  assert.throws(() => trainingMonitor({ numSteps: 0 }), /numSteps must be a positive integer/);
  assert.throws(() => trainingMonitor({ numSteps: 2.5 }), /numSteps/);
});
