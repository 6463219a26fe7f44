import { test } from "node:test";
import * as assert from "node:assert/strict";
import { clusterPlan, ExportPlanError, planAttemptRows } from "../../src/export/plan";
import { estimateMemory } from "../../src/sizing/estimate";
import { usableBytes, getGpu } from "../../src/sizing/gpus";

const trainOpts = (batch: number, gpus: number, zero: 0 | 1 | 2 | 3, seq = 256) => ({
  job: "train" as const,
  dtype: "bf16" as const,
  batch,
  seq,
  gpus,
  zero,
  recompute: "none" as const,
});

test("a small model on one big GPU: 1 process, no ZeRO, the whole effective batch as one micro-batch", () => {
  const p = clusterPlan("pythia-70m", { job: "train", gpu: "a100-80gb", effectiveBatch: 8, seq: 256 });
  assert.equal(p.numProcesses, 1);
  assert.equal(p.zeroStage, 0);
  assert.equal(p.distributedType, "NO");
  assert.equal(p.microBatch, 8);
  assert.equal(p.gradAccumSteps, 1);
  assert.equal(p.effectiveBatch, 8);
  assert.deepEqual(p.notes, []);
  // The estimate is the calculator's own number for that layout.
  assert.equal(p.estimate.totalBytes, estimateMemory("pythia-70m", trainOpts(8, 1, 0)).totalBytes);
});

test("the micro-batch is the largest divisor of the per-GPU batch that the calculator says fits", () => {
  const gpu = "a10g-24gb";
  const p = clusterPlan("pythia-1.4b", { job: "train", gpu, effectiveBatch: 16, seq: 512 });
  const limit = usableBytes(getGpu(gpu));
  assert.equal(p.numProcesses, 1);
  assert.equal(p.microBatch * p.gradAccumSteps, 16);
  assert.ok(estimateMemory("pythia-1.4b", trainOpts(p.microBatch, 1, 0, 512)).totalBytes <= limit);
  const next = [16, 8, 4, 2, 1].find((m) => m > p.microBatch && 16 % m === 0);
  if (next)
    assert.ok(
      estimateMemory("pythia-1.4b", trainOpts(next, 1, 0, 512)).totalBytes > limit,
      "a bigger micro-batch would also fit",
    );
});

test("a big model on small GPUs: more GPUs and ZeRO-3, each stage below it does not fit", () => {
  const p = clusterPlan("pythia-6.9b", { job: "train", gpu: "t4-16gb", effectiveBatch: 16, seq: 256 });
  const limit = usableBytes(getGpu("t4-16gb"));
  assert.ok(p.numProcesses > 1);
  assert.equal(p.zeroStage, 3);
  assert.equal(p.distributedType, "DEEPSPEED");
  assert.equal(p.microBatch * p.gradAccumSteps * p.numProcesses, 16);
  assert.ok(
    estimateMemory("pythia-6.9b", trainOpts(1, p.numProcesses, 2)).totalBytes > limit,
    "ZeRO-2 fits: stage 3 was not needed",
  );
  assert.ok(estimateMemory("pythia-6.9b", trainOpts(1, p.numProcesses / 2, 3)).totalBytes > limit, "half the GPUs fit");
  assert.equal(p.attempts[p.attempts.length - 1].fits, true);
  assert.ok(p.attempts.slice(0, -1).every((a) => !a.fits));
  assert.equal(planAttemptRows(p).length, p.attempts.length);
});

test("LoRA needs far less than full fine-tuning: the same model fits one GPU without ZeRO", () => {
  const full = clusterPlan("pythia-6.9b", { job: "train", gpu: "a10g-24gb", effectiveBatch: 8 });
  const lora = clusterPlan("pythia-6.9b", { job: "lora", gpu: "a10g-24gb", effectiveBatch: 8, loraRank: 8 });
  assert.ok(full.numProcesses > 1 || full.zeroStage > 0);
  assert.equal(lora.numProcesses, 1);
  assert.equal(lora.zeroStage, 0);
});

test("a plan that cannot fit even with ZeRO-3 over the GPUs given: the calculator's explanation", () => {
  assert.throws(
    () => clusterPlan("pythia-12b", { job: "train", gpu: "t4-16gb", gpus: 2, effectiveBatch: 8 }),
    (e: any) =>
      e instanceof ExportPlanError &&
      /does not fit on 2 × NVIDIA T4 16 GB even with ZeRO-3/.test(e.message) &&
      /optimizer: /.test(e.message) &&
      /ZeRO-3/.test(e.message) &&
      /LoRA/.test(e.message),
  );
  assert.throws(() => clusterPlan("pythia-12b", { job: "train", gpu: "t4-16gb", maxGpus: 2 }), ExportPlanError);
});

test("an effective batch that does not split over the GPUs is rounded up, and says so", () => {
  const p = clusterPlan("pythia-70m", { job: "train", gpu: "t4-16gb", gpus: 4, effectiveBatch: 6 });
  assert.equal(p.numProcesses, 4);
  assert.equal(p.effectiveBatch, 8);
  assert.equal(p.requestedEffectiveBatch, 6);
  assert.match(p.notes.join(" "), /does not split evenly over 4 GPUs/);
});

test("bad plan options name the field; a non-CUDA device is refused", () => {
  assert.throws(
    () => clusterPlan("pythia-70m", { gpu: "nope-1gb" }),
    (e: any) => e instanceof ExportPlanError && /nope-1gb/.test(e.message),
  );
  assert.throws(() => clusterPlan("pythia-70m", { gpus: 0 }), /gpus must be an integer ≥ 1/);
  assert.throws(() => clusterPlan("pythia-70m", { precision: "fp8" as any }), /precision/);
  assert.throws(() => clusterPlan("pythia-70m", { gpu: "apple-m2-16gb" }), /not a CUDA GPU/);
});
