import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  activationBytesFor,
  flopsPerToken,
  kvCacheBytes,
  loraParams,
  NF4_BITS_PER_PARAM,
  qloraBaseBytes,
  trainingBytesPerParam,
  weightBytes,
} from "../../src/sizing/formulas";
import { SizingError } from "../../src/sizing/units";

const perParam = (...a: Parameters<typeof trainingBytesPerParam>) => {
  const b = trainingBytesPerParam(...a);
  return b.weights + b.master + b.gradients + b.states;
};

test("weights: params × bytes per dtype", () => {
  assert.equal(weightBytes(7e9, "fp16").value, 14e9);
  assert.equal(weightBytes(7e9, "int4").value, 3.5e9);
  assert.match(weightBytes(7e9, "int8").formula, /7000000000 params × 1 B \(int8\)/);
});

test("KV cache of a grouped-query model: Llama-2-70B is 327,680 bytes per token in fp16", () => {
  const gqa = kvCacheBytes({ layers: 80, kvHeads: 8, headDim: 128 }, 1, 1, 2);
  assert.equal(gqa.value, 327_680);
  // without GQA (64 kv heads) it would be 8× more; and it grows linearly in seq and batch
  assert.equal(kvCacheBytes({ layers: 80, kvHeads: 64, headDim: 128 }, 1, 1, 2).value, 8 * 327_680);
  assert.equal(kvCacheBytes({ layers: 80, kvHeads: 8, headDim: 128 }, 4096, 3, 2).value, 327_680 * 4096 * 3);
});

test("activations follow Korthikanti et al. (per layer sbh(34 + 5as/h), 34sbh selective, 2sbh full) + fp32 logits", () => {
  const shape = { layers: 1, hidden: 1024, heads: 16, vocab: 1 };
  // s=2048, b=1: 2048·1024·(34 + 5·16·2048/1024) = 2,097,152 · 194
  assert.equal(activationBytesFor(shape, 2048, 1, "none").value, 2_097_152 * 194 + 4 * 2048);
  assert.equal(activationBytesFor(shape, 2048, 1, "selective").value, 34 * 2_097_152 + 4 * 2048);
  assert.equal(activationBytesFor(shape, 2048, 1, "full").value, 2 * 2_097_152 + 4 * 2048);
  // fp32 activations double the per-layer part, logits stay fp32
  assert.equal(activationBytesFor(shape, 2048, 1, "full", 4).value, 4 * 2_097_152 + 4 * 2048);
  // linear in layers and batch
  const two = activationBytesFor({ ...shape, layers: 2 }, 2048, 3, "none").value;
  assert.equal(two, 3 * (2 * 2_097_152 * 194 + 4 * 2048));
  assert.throws(() => activationBytesFor(shape, 1, 1, "some" as never), SizingError);
});

test("training bytes per parameter under the named conventions", () => {
  assert.equal(perParam("adamw", "mixed", "eleutherai-16"), 16); // Transformer Math 101 / ZeRO: 2 + 2 + 12
  assert.equal(perParam("adamw", "mixed", "hf-18"), 18); // HF: 6 + 4 + 8
  assert.equal(perParam("adamw", "fp32", "eleutherai-16"), 16); // 4 + 4 + 8
  assert.equal(perParam("adamw", "mixed", "pure-16bit"), 8); // 2 + 2 + 4, no master
  assert.equal(perParam("adamw-8bit", "mixed", "eleutherai-16"), 10); // TM101: 8-bit optimizer 6 B (master 4 + 1 + 1)
  assert.equal(perParam("sgd-momentum", "mixed", "eleutherai-16"), 12); // TM101: SGD+momentum 8 B (master 4 + 4)
  assert.equal(perParam("sgd", "fp32", "hf-18"), 8);
  const e = trainingBytesPerParam("adamw", "mixed", "eleutherai-16");
  assert.deepEqual([e.weights, e.gradients, e.master + e.states, e.masterIn], [2, 2, 12, "optimizer"]);
  const h = trainingBytesPerParam("adamw", "mixed", "hf-18");
  assert.deepEqual([h.weights + h.master, h.gradients, h.states, h.masterIn], [6, 4, 8, "weights"]);
  assert.throws(() => trainingBytesPerParam("adam" as never, "mixed", "hf-18"), /adamw, adamw-8bit, sgd, sgd-momentum/);
  assert.throws(() => trainingBytesPerParam("adamw", "mixed", "x" as never), /eleutherai-16, hf-18/);
});

test("QLoRA: NF4 with double quantisation ≈ 4.127 bits per parameter", () => {
  assert.ok(Math.abs(NF4_BITS_PER_PARAM - 4.127) < 5e-4, String(NF4_BITS_PER_PARAM));
  const q = qloraBaseBytes({ params: 1000, linearParams: 800 });
  assert.equal(q.value, (800 * NF4_BITS_PER_PARAM) / 8 + 200 * 2);
});

test("LoRA trainable parameters: r·(in + out) per matrix per layer", () => {
  // GPT-3 175B, r = 4 on Wq, Wv (d = 12288, 96 layers): 96 · 2 · 4 · 24576
  const wq = { in: 12288, out: 12288 };
  assert.equal(loraParams(96, [wq, wq], 4).value, 18_874_368);
  assert.equal(loraParams(96, [wq, wq], 1).value, 4_718_592); // the LoRA paper's "4.7M" row (r = 1)
  assert.equal(loraParams(6, [{ in: 512, out: 1536 }], 8).value, 6 * 8 * 2048);
});

test("FLOPs per token: 2P inference, 6P training, +2P with full recomputation, 4P LoRA", () => {
  assert.equal(flopsPerToken(1e9, "inference").value, 2e9);
  assert.equal(flopsPerToken(1e9, "train").value, 6e9);
  assert.equal(flopsPerToken(1e9, "train", "full").value, 8e9);
  assert.equal(flopsPerToken(1e9, "lora").value, 4e9);
});
