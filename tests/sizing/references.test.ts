import { test } from "node:test";
import * as assert from "node:assert/strict";
import { estimateMemory } from "../../src/sizing/estimate";
import { compareToMeasured, kvBytesPerToken, loraPaperCheck } from "../../src/sizing/references";
import { SizingError } from "../../src/sizing/units";

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
