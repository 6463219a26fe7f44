import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { FIXTURES, useTestBackend } from "../helpers/backend";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { accumulateGradients, stepNumbers, scaleGradients } from "../../src/train/grad";
import { collate } from "../../src/train/data";
import { train } from "../../src/train/trainer";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";

const A = path.join(FIXTURES, "neox-tiny", "A");
const cases = () => JSON.parse(fs.readFileSync(path.join(A, "cases.json"), "utf8"));

test("the adapter's gradients through GPTNeoX match HF's (seq1 of neox-tiny/A)", async () => {
  await useTestBackend();
  const fx = cases();
  const seq = fx.cases.find((x: any) => x.name === fx.grads.case).input_ids[0] as number[];
  const model = await GPTNeoXForCausalLM.fromPretrained(A);
  const trainable = causalLMTrainable(model);
  const got = tf.tidy(() => {
    const acc = accumulateGradients(trainable, trainable.trainableVariables(), [
      () => collate([{ inputIds: seq, labels: seq }], 1),
    ]);
    const n = stepNumbers(acc, 0);
    const g = scaleGradients(acc.gradSums, n.scale);
    return {
      loss: n.loss,
      qkv: g.get("gpt_neox.layers.0.attention.query_key_value.weight")!.dataSync(),
      out: g.get("embed_out.weight")!.dataSync(),
    };
  });
  assert.ok(Math.abs(got.loss - fx.grads.loss) < 1e-5, `loss ${got.loss} vs ${fx.grads.loss}`);
  for (const [name, mine] of [
    ["gpt_neox.layers.0.attention.query_key_value.weight", got.qkv],
    ["embed_out.weight", got.out],
  ] as const) {
    const want = fx.grads[name].data as number[];
    const scale = Math.max(...want.map(Math.abs));
    const worst = Math.max(...want.map((w, i) => Math.abs(w - mine[i])));
    assert.ok(worst < 1e-4 * scale, `${name}: max diff ${worst} (scale ${scale})`);
  }
  model.dispose();
});

test("a tiny GPT-NeoX learns a repeated sequence; frozen parameters stay put; no leaks across steps", async () => {
  await useTestBackend();
  const cfg = makeConfig({
    vocabSize: 32,
    hiddenSize: 16,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 32,
    maxPositionEmbeddings: 32,
    initializerRange: 0.2,
  });
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 3 });
  const seq = [3, 17, 5, 9, 22, 3, 17, 5, 9, 22, 3, 17];
  const data = Array.from({ length: 4 }, () => ({ inputIds: seq, labels: seq.map((t, i) => (i < 2 ? -100 : t)) }));
  const frozen = "gpt_neox.embed_in.weight";
  const embed0 = model.parameters().get(frozen)!.dataSync().slice();
  const trainable = causalLMTrainable(model, { trainable: (n) => n !== frozen });
  assert.equal(trainable.trainableVariables().size, model.parameters().size - 1);
  const counts: number[] = [];
  const s = await train(
    trainable,
    data,
    { lr: 1e-2, numSteps: 30, batchSize: 2, warmupSteps: 3, schedule: "cosine", seed: 0 },
    {
      onStep: (x) => {
        if (x.step === 1 || x.step === 5) counts.push(tf.memory().numTensors);
      },
    },
  );
  assert.equal(counts[0], counts[1], "numTensors after step 1 = after step 5");
  assert.ok(s.finalLoss < 0.2 * s.losses[0], `loss ${s.losses[0]} → ${s.finalLoss}`);
  assert.deepEqual([...model.parameters().get(frozen)!.dataSync()], [...embed0]);
  assert.throws(() => causalLMTrainable(model, { trainable: () => false }), /kept none of the model's/);
  model.dispose();
});
