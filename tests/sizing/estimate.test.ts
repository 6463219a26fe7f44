import { test } from "node:test";
import * as assert from "node:assert/strict";
import { BREAKDOWN_PARTS, estimateMemory, JOBS, resolveJob } from "../../src/sizing/estimate";
import { getGpu } from "../../src/sizing/gpus";
import { modelShape } from "../../src/sizing/models";
import { SizingError } from "../../src/sizing/units";
import { NF4_BITS_PER_PARAM } from "../../src/sizing/formulas";

const stateBytes = (r: ReturnType<typeof estimateMemory>) =>
  r.breakdown.weights + r.breakdown.gradients + r.breakdown.optimizer;

test("every job's breakdown adds up to the total and carries a formula per part", () => {
  for (const job of JOBS) {
    const r = estimateMemory("pythia-160m", { job });
    const sum = BREAKDOWN_PARTS.reduce((a, k) => a + r.breakdown[k], 0);
    assert.equal(r.totalBytes, sum, job);
    for (const k of BREAKDOWN_PARTS) assert.ok(r.formulas[k].length > 0, `${job} ${k}`);
    assert.ok(r.breakdown.weights > 0, job);
  }
  const inf = estimateMemory("pythia-160m", { job: "inference" });
  assert.equal(inf.breakdown.gradients + inf.breakdown.optimizer + inf.breakdown.activations, 0);
  assert.equal(estimateMemory("pythia-160m", { job: "train" }).breakdown.kvCache, 0);
});

test("inference: fp16 weights + 20% overhead + KV cache; int4 quarters the weights", () => {
  const r = estimateMemory("llama-2-7b", { job: "inference", seq: 4096 });
  assert.equal(r.breakdown.weights, 6_738_415_616 * 2);
  assert.equal(r.breakdown.overhead, 0.2 * r.breakdown.weights);
  assert.equal(r.breakdown.kvCache, 2 * 32 * 32 * 128 * 4096 * 2);
  const q = estimateMemory("llama-2-7b", { job: "inference", dtype: "int4", kvCache: false });
  assert.equal(q.breakdown.weights, r.breakdown.weights / 4);
  assert.equal(q.breakdown.kvCache, 0);
  const two = estimateMemory("llama-2-7b", { job: "inference", seq: 4096, gpus: 2 });
  assert.equal(two.totalBytes, r.totalBytes / 2);
});

test("full training: 16 B/param (EleutherAI) vs 18 B/param (Hugging Face), plus activations", () => {
  const P = modelShape("pythia-1b").params;
  const e = estimateMemory("pythia-1b", { job: "train" });
  const h = estimateMemory("pythia-1b", { job: "train", convention: "hf-18" });
  assert.equal(stateBytes(e), 16 * P);
  assert.equal(stateBytes(h), 18 * P);
  assert.equal(e.breakdown.optimizer, 12 * P);
  assert.equal(h.breakdown.weights, 6 * P);
  assert.equal(e.breakdown.activations, h.breakdown.activations);
  assert.ok(e.breakdown.activations > 0);
  assert.equal(stateBytes(estimateMemory("pythia-1b", { job: "train", dtype: "fp32", optimizer: "sgd" })), 8 * P);
  assert.equal(e.trainableParams, P);
});

test("ZeRO reproduces the ZeRO paper's 7.5B example over 64 GPUs (120 / 31.4 / 16.6 / 1.9 GB)", () => {
  const paper = [120, 31.4, 16.6, 1.9];
  [0, 1, 2, 3].forEach((zero) => {
    const r = estimateMemory(7.5e9, { job: "train", gpus: 64, zero: zero as 0 | 1 | 2 | 3 });
    assert.ok(Math.abs(stateBytes(r) / 1e9 - paper[zero]) < 0.05, `stage ${zero}: ${stateBytes(r) / 1e9}`);
  });
});

test("data parallel without ZeRO: the per-GPU memory of one GPU", () => {
  const one = estimateMemory("pythia-410m", { job: "train" });
  const eight = estimateMemory("pythia-410m", { job: "train", gpus: 8 });
  assert.equal(eight.totalBytes, one.totalBytes);
  assert.ok(eight.assumptions.some((a) => /data parallel/.test(a)));
});

test("LoRA: frozen 16-bit base, gradients and optimizer only for the adapters", () => {
  const s = modelShape("pythia-70m");
  const r = estimateMemory(s, { job: "lora", loraRank: 8 });
  const lp = 6 * 8 * (512 + 1536); // query_key_value, 6 layers
  assert.equal(r.trainableParams, lp);
  assert.equal(r.breakdown.gradients, 2 * lp);
  assert.equal(r.breakdown.optimizer, 12 * lp);
  assert.equal(r.breakdown.weights, 2 * s.params + 2 * lp);
  const all = estimateMemory(s, { job: "lora", loraRank: 8, loraTargets: "all-linear" });
  assert.equal(all.trainableParams, 6 * 8 * (512 + 1536 + 512 + 512 + 512 + 2048 + 2048 + 512));
  assert.throws(() => estimateMemory(s, { job: "lora", loraTargets: ["q_proj"] }), /query_key_value/);
});

test("QLoRA: the blocks' linear weights at 4.127 bits, the rest 16-bit", () => {
  const s = modelShape("llama-2-7b");
  const q = estimateMemory(s, { job: "qlora" });
  const base = (s.linearParams * NF4_BITS_PER_PARAM) / 8 + (s.params - s.linearParams) * 2;
  assert.ok(Math.abs(q.breakdown.weights - (base + 2 * q.trainableParams)) < 1);
  const l = estimateMemory(s, { job: "lora" });
  assert.ok(q.totalBytes < l.totalBytes / 2);
});

test("compute: step time = FLOPs / (GPUs × peak × MFU)", () => {
  const g = getGpu("a100-80gb");
  const r = estimateMemory("pythia-1b", { job: "train", batch: 4, seq: 1024, gpus: 2, tokens: 1e9 }, g);
  const fpt = 6 * r.model.params;
  assert.equal(r.compute.stepTokens, 4 * 1024 * 2);
  assert.ok(Math.abs(r.compute.stepSeconds! - (fpt * 8192) / (2 * 312e12 * 0.4)) < 1e-9);
  assert.ok(Math.abs(r.compute.totalSeconds! - (fpt * 1e9) / (2 * 312e12 * 0.4)) < 1e-6);
  const inf = estimateMemory("llama-2-7b", { job: "inference" }, g);
  assert.ok(Math.abs(inf.compute.decodeTokensPerSecond! - 2039e9 / inf.breakdown.weights) < 1e-6);
  assert.equal(estimateMemory("pythia-1b", { job: "train" }).compute.stepSeconds, null);
});

test("a GPU says whether the job fits", () => {
  const r = estimateMemory("pythia-1b", { job: "train" }, "t4-16gb");
  assert.equal(r.gpu!.fits, r.totalBytes <= 16 * 2 ** 30);
  assert.equal(estimateMemory("llama-2-70b", { job: "train" }, "h100-80gb").gpu!.fits, false);
  assert.throws(() => estimateMemory("pythia-1b", {}, "h100"), /unknown GPU id "h100"; known: .*h100-80gb/);
});

test("bad job input gives clear errors", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ job: "finetune" }, /job "finetune" is not known; use one of: inference, train, lora, qlora/],
    [{ dtype: "fp8" }, /dtype "fp8" is not known/],
    [{ batch: 0 }, /batch must be an integer >= 1/],
    [{ batch: -2 }, /batch/],
    [{ seq: NaN }, /seq/],
    [{ seq: 1e9 }, /seq/],
    [{ gpus: 0 }, /gpus/],
    [{ job: "train", zero: 4 }, /zero/],
    [{ job: "inference", zero: 3 }, /training jobs/],
    [{ job: "train", dtype: "int4" }, /qlora/],
    [{ job: "qlora", dtype: "int4" }, /NF4/],
    [{ mfu: 0 }, /mfu/],
    [{ overhead: -0.1 }, /overhead/],
    [{ optimizer: "adam" }, /optimizer "adam"/],
    [{ recompute: "some" }, /recompute/],
    [{ bacth: 2 }, /unknown job option "bacth"/],
    [{ loraTargets: "q_proj" }, /loraTargets/],
  ];
  for (const [opts, re] of cases)
    assert.throws(
      () => resolveJob(opts as never),
      (e: unknown) => e instanceof SizingError && re.test((e as Error).message),
      JSON.stringify(opts),
    );
});
