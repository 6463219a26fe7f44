import { test } from "node:test";
import * as assert from "node:assert/strict";
import { estimateMemory } from "../../src/sizing/estimate";
import {
  compareToMeasured,
  COURSE_TABLE,
  courseTableCheck,
  kvBytesPerToken,
  loraPaperCheck,
} from "../../src/sizing/references";
import { SizingError } from "../../src/sizing/units";

test("course slide, one V100 16 GB: 7B fits for inference (fp16 + 20% + 512-token cache), about 1B for training", () => {
  const inf = estimateMemory("7b", { job: "inference" }, "v100-16gb");
  assert.equal(inf.breakdown.weights, 14e9); // 7B × 2 bytes
  assert.equal(inf.gpu!.fits, true);
  assert.equal(
    estimateMemory("7b", { job: "inference", seq: 4096 }, "v100-16gb").gpu!.fits,
    false,
    "a long context no longer fits",
  );
  assert.equal(estimateMemory("13b", { job: "inference" }, "v100-16gb").gpu!.fits, false);
  assert.equal(estimateMemory("7b", { job: "train" }, "v100-16gb").gpu!.fits, false);
  const row = courseTableCheck()[0];
  assert.ok(row.calcInferencePerGpu >= 6.5e9 && row.calcInferencePerGpu <= 7.5e9, String(row.calcInferencePerGpu));
  assert.ok(row.calcTrainPerGpu >= 0.9e9 && row.calcTrainPerGpu <= 1.1e9, String(row.calcTrainPerGpu));
  // under Hugging Face's 18 B/param a full 1B does not fit any more; ~0.9B does
  assert.equal(estimateMemory("1b", { job: "train", convention: "hf-18" }, "v100-16gb").gpu!.fits, false);
});

test("course slide rows follow the memory of ONE GPU, not the instance's total", () => {
  const rows = courseTableCheck();
  assert.equal(rows.length, COURSE_TABLE.length);
  for (const r of rows) {
    // per-GPU recomputation within 15% of the slide (inference) and 10% (training)
    assert.ok(
      Math.abs(r.calcInferencePerGpu / r.inferenceParams - 1) < 0.15,
      `${r.instance} inference ${r.calcInferencePerGpu}`,
    );
    assert.ok(Math.abs(r.calcTrainPerGpu / r.trainParams - 1) < 0.1, `${r.instance} train ${r.calcTrainPerGpu}`);
    if (r.gpus > 1)
      assert.ok(
        r.calcTrainZero3 > (r.gpus / 2) * r.trainParams,
        `${r.instance}: ZeRO-3 over ${r.gpus} GPUs would allow far more`,
      );
  }
  // same GPU, more of them: the slide does not move (rows 1-3)
  assert.deepEqual(
    rows.slice(0, 3).map((r) => r.trainParams),
    [1e9, 1e9, 1e9],
  );
});

test("LoRA paper, GPT-3 175B: ~10,000× fewer trainable parameters, 350 GB with LoRA, several × less than full", () => {
  const c = loraPaperCheck();
  assert.equal(c.trainableParams, 18_874_368);
  assert.ok(c.trainableReduction > 5_000 && c.trainableReduction < 20_000, String(c.trainableReduction));
  assert.ok(Math.abs(c.checkpointBytes / c.paper.checkpointBytes - 1) < 0.1, "≈ 35 MB of fp16 adapter weights");
  assert.ok(
    Math.abs(c.lora.totalBytes / c.paper.loraVramBytes - 1) < 0.05,
    `LoRA ${c.lora.totalBytes / 1e9} GB vs 350 GB`,
  );
  // full fine-tuning: 1.4 TB in pure 16-bit (paper: 1.2 TB), 2.8-3.1 TB with an fp32 master copy
  assert.ok(Math.abs(c.full["pure-16bit"].totalBytes / c.paper.fullVramBytes - 1) < 0.2);
  for (const k of ["eleutherai-16", "hf-18", "pure-16bit"] as const)
    assert.ok(c.memoryReduction[k] >= 3 && c.memoryReduction[k] <= 10, `${k}: ${c.memoryReduction[k]}`);
});

test("KV cache of a grouped-query model: Llama-2-70B 327,680 bytes per token in fp16", () => {
  assert.equal(kvBytesPerToken("llama-2-70b"), 2 * 80 * 8 * 128 * 2);
  assert.equal(kvBytesPerToken("llama-2-70b"), 327_680);
  assert.equal(kvBytesPerToken("llama-2-7b"), 2 * 32 * 32 * 128 * 2); // no GQA: 512 KiB per token
});

test("compareToMeasured reports the error of estimates against measurements", () => {
  const r = compareToMeasured([
    { label: "a", estimated: 1.2e9, measuredBytes: 1.0e9 },
    { label: "b", estimated: 0.9e9, measuredBytes: 1.0e9 },
    {
      label: "c",
      estimated: estimateMemory("pythia-70m", { job: "train" }),
      measuredBytes: estimateMemory("pythia-70m", { job: "train" }).totalBytes,
    },
  ]);
  assert.ok(Math.abs(r.rows[0].relativeError - 0.2) < 1e-12);
  assert.ok(Math.abs(r.rows[1].errorBytes + 0.1e9) < 1);
  assert.equal(r.rows[2].relativeError, 0);
  assert.ok(Math.abs(r.meanAbsRelativeError - 0.1) < 1e-12);
  assert.ok(Math.abs(r.maxAbsRelativeError - 0.2) < 1e-12);
  assert.throws(() => compareToMeasured([]), SizingError);
  assert.throws(
    () => compareToMeasured([{ label: "x", estimated: 1, measuredBytes: 0 }]),
    /x: measuredBytes must be a positive/,
  );
  assert.throws(() => compareToMeasured([{ label: "y", estimated: NaN, measuredBytes: 1 }]), /y: estimated/);
});
