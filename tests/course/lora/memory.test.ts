// Step memory (full vs LoRA) in-process and in a child process, next to the sizing calculator; the latency
// benchmark leaves the model as it found it.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../../helpers/backend";
import { GPTNeoXForCausalLM } from "../../../src/model/gptneox";
import { makeConfig } from "../../../src/model/config";
import { Linear } from "../../../src/model/layers";
import { measureStepMemory, measureStepMemoryInChild, compareWithSizing } from "../../../src/course/lora/memory";
import { benchLoraLatency } from "../../../src/course/lora/bench";
import { loraParameterCount } from "../../../src/lora/counts";
import { LoraModel } from "../../../src/lora/model";

const CFG = makeConfig({
  hiddenSize: 64,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  intermediateSize: 256,
  vocabSize: 512,
  maxPositionEmbeddings: 64,
});

test("a LoRA step holds and peaks at fewer tensor bytes than a full step; nothing leaks", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 0 });
  const before = tf.memory().numTensors;
  const full = await measureStepMemory(model, { mode: "full", batchSize: 2, seqLen: 16 });
  const lora = await measureStepMemory(model, { mode: "lora", batchSize: 2, seqLen: 16, lora: { r: 4 } });
  assert.equal(tf.memory().numTensors, before, "measurement leaks nothing and removes its adapter");
  assert.equal(LoraModel.find(model), undefined);
  assert.equal(full.trainableParams, model.numParameters());
  assert.equal(lora.trainableParams, loraParameterCount(CFG, { r: 4 }).trainable);
  const weights = model.numParameters() * 4;
  // full: weights + AdamW's two moments between steps (3× the weights); LoRA: about the weights alone
  assert.ok(
    full.tensorBytesBetweenSteps >= 3 * weights,
    `full between steps ${full.tensorBytesBetweenSteps} vs 3×${weights}`,
  );
  assert.ok(
    lora.tensorBytesBetweenSteps < 1.1 * weights,
    `lora between steps ${lora.tensorBytesBetweenSteps} vs ${weights}`,
  );
  assert.ok(full.tensorPeakBytes > full.tensorBytesBetweenSteps && lora.tensorPeakBytes < full.tensorPeakBytes);
  const rows = compareWithSizing(CFG, [full, lora], { r: 4 });
  assert.equal(rows[0].predicted.job.job, "train");
  assert.equal(
    rows[1].predicted.trainableParams,
    lora.trainableParams,
    "the calculator counts the same LoRA parameters",
  );
  assert.ok(rows[0].predictedBytes > rows[1].predictedBytes);
  model.dispose();
});

test("the child-process measurement reports the process peak RSS", async () => {
  await useTestBackend();
  const r = await measureStepMemoryInChild({ config: CFG, mode: "lora", batchSize: 2, seqLen: 8, lora: { r: 2 } });
  assert.equal(r.mode, "lora");
  assert.ok((r.rssPeakBytes ?? 0) > 20e6, `rss ${r.rssPeakBytes}`);
  assert.ok(r.tensorPeakBytes > 0);
});

test("the latency benchmark times three variants and restores the model", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(CFG, { seed: 1 });
  const w0 = (model.getLinear("gpt_neox.layers.0.attention.query_key_value") as Linear).weight.dataSync().slice();
  const r = await benchLoraLatency(model, { maxNewTokens: 4, repeats: 1, promptIds: [1, 2, 3] });
  for (const k of ["baseMsPerToken", "unmergedMsPerToken", "mergedMsPerToken"] as const) assert.ok(r[k] > 0, k);
  const l = model.getLinear("gpt_neox.layers.0.attention.query_key_value");
  assert.ok(l instanceof Linear, "wrappers removed");
  const w1 = (l as Linear).weight.dataSync();
  let d = 0;
  for (let i = 0; i < w0.length; i++) d = Math.max(d, Math.abs(w0[i] - w1[i]));
  assert.ok(d < 1e-6, `base weights restored (max diff ${d})`);
  model.dispose();
});
