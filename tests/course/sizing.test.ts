import { test } from "node:test";
import * as assert from "node:assert/strict";
import { estimateMemory } from "../../src/sizing/estimate";
import { COURSE_TABLE, courseTableCheck } from "../../src/course/sizing";

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
