import { test } from "node:test";
import * as assert from "node:assert/strict";
import { estimateMemory } from "../../src/sizing/estimate";
import { fitMatrix, gpuReport, maxParamsFor, sizingPlan } from "../../src/sizing/fit";
import { getGpu, usableBytes } from "../../src/sizing/gpus";
import { shapeFromParams } from "../../src/sizing/shape";

test("maxParamsFor: the answer fits and 2% more does not", () => {
  for (const [gpu, job] of [
    ["v100-16gb", "inference"],
    ["a100-80gb", "train"],
    ["l4-24gb", "lora"],
    ["t4-16gb", "qlora"],
  ] as const) {
    const p = maxParamsFor(gpu, { job });
    const limit = usableBytes(getGpu(gpu));
    assert.ok(estimateMemory(shapeFromParams(p), { job }).totalBytes <= limit, `${gpu} ${job} ${p}`);
    assert.ok(estimateMemory(shapeFromParams(p * 1.02), { job }).totalBytes > limit, `${gpu} ${job} ${p} +2%`);
  }
});

test("maxParams grows with memory and shrinks from inference to training; QLoRA beats LoRA", () => {
  const small = gpuReport("t4-16gb").maxParams;
  const big = gpuReport("a100-80gb").maxParams;
  for (const j of ["inference", "train", "lora", "qlora"] as const) assert.ok(big[j] > 4 * small[j], j);
  assert.ok(small.inference > 5 * small.train);
  assert.ok(small.qlora > 2 * small.lora);
  // an fp32 job holds about half the parameters of an fp16 one
  const fp32 = maxParamsFor("a100-80gb", { job: "inference", dtype: "fp32" });
  assert.ok(Math.abs(fp32 / big.inference - 0.5) < 0.05);
});

test("gpuReport: maxParams for the four jobs and stated assumptions", () => {
  const r = gpuReport("h100-80gb");
  assert.deepEqual(Object.keys(r.maxParams).sort(), ["inference", "lora", "qlora", "train"]);
  assert.equal(r.gpu.id, "h100-80gb");
  assert.ok(r.assumptions.some((a) => /16 B\/param/.test(a)));
  assert.ok(r.assumptions.some((a) => /context 512/.test(a)));
  const long = gpuReport("h100-80gb", { seq: 8192 });
  assert.ok(long.maxParams.inference < r.maxParams.inference);
});

test("fitMatrix: one cell per model × GPU, fits ⇔ ratio ≤ 1", () => {
  const cells = fitMatrix(["pythia-1b", "llama-2-7b", "llama-2-70b"], ["t4-16gb", "a100-80gb"], { job: "inference" });
  assert.equal(cells.length, 6);
  for (const c of cells) assert.equal(c.fits, c.ratio <= 1);
  const get = (m: string, g: string) => cells.find((c) => c.model === m && c.gpu === g)!;
  assert.equal(get("pythia-1b", "t4-16gb").fits, true);
  assert.equal(get("Llama-2-70B", "a100-80gb").fits, false);
});

test("sizingPlan: smallest GPU per job, sharding when none holds it", () => {
  const plan = sizingPlan("llama-2-70b");
  assert.deepEqual(
    plan.map((p) => p.job),
    ["inference", "train", "lora", "qlora"],
  );
  const train = plan.find((p) => p.job === "train")!;
  assert.match(train.smallestGpu, /ZeRO-3/);
  const qlora = plan.find((p) => p.job === "qlora")!;
  assert.match(qlora.smallestGpu, /80gb|141gb|180gb/);
  const tiny = sizingPlan("pythia-70m");
  assert.match(tiny[0].smallestGpu, /t4-16gb/);
  assert.equal(tiny[0].thisMachine, "fits");
});
