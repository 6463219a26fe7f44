// Notebook 06's scored comparison: one run per method from the same folder (counts, no leaks, bad specs named),
// BitFit's step memory in the child process, the record format (a malformed file is one error naming file and
// field), the verdict on "slightly lower", and the held-out customer questions' judge.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../../helpers/backend";
import { makeConfig } from "../../../src/model/config";
import { loadModel } from "../../../src/pipeline/pretrained";
import { loadDatasetSync } from "../../../src/data/datasets";
import { bitFitParameterCount } from "../../../src/lora/bitfit";
import { loraParameterCount } from "../../../src/lora/counts";
import { measureStepMemoryInChild } from "../../../src/course/lora/memory";
import { type PeftRow, trainAndScore } from "../../../src/course/lora/peft-compare";
import {
  loadPeftRecords,
  peftGroups,
  peftRecordsDir,
  peftTable,
  peftVerdict,
  peftVerdictMarkdown,
  validatePeftRecord,
} from "../../../src/course/lora/peft-records";
import { CUSTOMER_HELD_OUT, CUSTOMER_DEMO, heldOutScore, heldOutVerdict } from "../../../src/course/lora/demo";

test("trainAndScore: full, LoRA and BitFit from the same folder, counted right, scored, nothing left behind", async () => {
  await useTestBackend();
  const { model, tokenizer, dir } = await loadModel("default");
  const n = model.numParameters();
  const cfg = model.config;
  model.dispose();
  const spam = loadDatasetSync("spam");
  const ds = { ...spam, train: spam.train.slice(0, 8), test: spam.test.slice(0, 12) };
  const recipe = { numSteps: 2, batchSize: 2, maxLength: 32, warmupSteps: 0, testExamples: 4 };
  const before = tf.memory().numTensors;
  const full = await trainAndScore(dir, tokenizer, ds, { method: "full", lr: 1e-3 }, recipe, 0);
  const lora = await trainAndScore(
    dir,
    tokenizer,
    ds,
    { method: "lora", lr: 5e-3, r: 2, alpha: 4, targets: ["query_key_value"] },
    recipe,
    1,
  );
  const bit = await trainAndScore(dir, tokenizer, ds, { method: "bitfit", lr: 1e-2 }, recipe, 0);
  assert.equal(tf.memory().numTensors, before, "each run frees its model and adapters");
  assert.equal(full.trainableParams, n);
  assert.equal(lora.trainableParams, loraParameterCount(cfg, { r: 2, targetModules: ["query_key_value"] }).trainable);
  assert.equal(bit.trainableParams, bitFitParameterCount(cfg).trainable);
  for (const row of [full, lora, bit]) {
    assert.equal(row.count, 4);
    assert.equal(row.correct / row.count, row.accuracy);
    assert.ok(row.tokensPerSec > 0 && row.stepMs > 0 && row.finalLoss > 0, JSON.stringify(row));
  }
  assert.deepEqual([full.label, lora.label, bit.label], ["full", "LoRA r=2", "BitFit"]);
  assert.equal(lora.targets, "query_key_value");
  assert.equal(bit.r, null);
  await assert.rejects(
    trainAndScore(dir, tokenizer, ds, { method: "lora", lr: 1e-3, r: 0, alpha: 1, targets: ["dense"] }, recipe),
    /trainAndScore: r must be a positive integer/,
  );
  await assert.rejects(
    trainAndScore(dir, tokenizer, ds, { method: "prefix", lr: 1e-3 } as never, recipe),
    /trainAndScore: method must be "full", "lora" or "bitfit"/,
  );
});

test("BitFit's step in a child process holds fewer tensor bytes than a full step", async () => {
  await useTestBackend();
  const config = makeConfig({
    hiddenSize: 64,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    intermediateSize: 256,
    vocabSize: 512,
    maxPositionEmbeddings: 64,
  });
  const bit = await measureStepMemoryInChild({ config, mode: "bitfit", batchSize: 2, seqLen: 8 });
  const full = await measureStepMemoryInChild({ config, mode: "full", batchSize: 2, seqLen: 8 });
  assert.equal(bit.mode, "bitfit");
  assert.equal(bit.trainableParams, bitFitParameterCount(config).trainable);
  assert.ok(
    bit.tensorBytesBetweenSteps < full.tensorBytesBetweenSteps / 2,
    `${bit.tensorBytesBetweenSteps} vs ${full.tensorBytesBetweenSteps}`,
  );
});

function row(label: string, method: PeftRow["method"], seed: number, accuracy: number): PeftRow {
  const lora = method === "lora";
  return {
    label,
    method,
    r: lora ? 8 : null,
    alpha: lora ? 16 : null,
    targets: lora ? "query_key_value" : null,
    lr: 1e-3,
    seed,
    accuracy,
    correct: Math.round(accuracy * 100),
    count: 100,
    trainableParams: lora ? 1000 : 5000,
    tokensPerSec: 100,
    stepMs: 50,
    finalLoss: 0.5,
  };
}

function record(rows: PeftRow[]): Record<string, unknown> {
  return {
    format: "tunebook-peft-compare",
    version: 1,
    label: "test",
    date: "2026-12-05",
    machine: { cpu: "Test CPU", cores: 2 },
    backend: "wasm",
    software: { node: "20", tfjs: "4", tunebook: "0.1.0" },
    method: "a test",
    model: { name: "default", parameters: 5000 },
    task: { dataset: "spam", metric: "accuracy", trainRecords: 10, testRecords: 100 },
    recipe: {
      numSteps: 10,
      batchSize: 2,
      maxLength: 32,
      warmupSteps: 0,
      schedule: "linear",
      testExamples: 100,
      textTokens: 0,
      seeds: [0, 1],
      lrChoice: "fixed",
    },
    baseAccuracy: 0.5,
    rows,
    memory: [],
  };
}

test("peft records: a valid record loads; a malformed one is one error naming the file and the field", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "peft-rec-"));
  const rows = [row("full", "full", 0, 0.8), row("LoRA r=8", "lora", 0, 0.7)];
  fs.writeFileSync(path.join(tmp, "a.json"), JSON.stringify(record(rows)));
  const [rec] = loadPeftRecords(tmp);
  assert.equal(rec.rows.length, 2);
  assert.equal(rec.file, path.join(tmp, "a.json"));
  const bad = record([{ ...rows[0], accuracy: 1.5 }]);
  fs.writeFileSync(path.join(tmp, "b.json"), JSON.stringify(bad));
  assert.throws(() => loadPeftRecords(tmp), /b\.json: rows\[0\]\.accuracy: expected a number in 0\.\.1, found 1\.5/);
  fs.writeFileSync(path.join(tmp, "b.json"), JSON.stringify({ ...record(rows), machine: { cores: 2 } }));
  assert.throws(() => loadPeftRecords(tmp), /b\.json: machine\.cpu: expected the CPU model/);
  fs.writeFileSync(path.join(tmp, "b.json"), JSON.stringify(record([{ ...rows[1], r: null }])));
  assert.throws(() => loadPeftRecords(tmp), /b\.json: rows\[0\]\.r: expected a positive integer/);
  fs.writeFileSync(path.join(tmp, "b.json"), "{");
  assert.throws(() => loadPeftRecords(tmp), /b\.json: not valid JSON/);
  assert.deepEqual(loadPeftRecords(path.join(tmp, "absent")), []);
  assert.throws(() => validatePeftRecord({ ...record(rows), format: "x" }, "f.json"), /f\.json: format: expected/);
  assert.throws(
    () => validatePeftRecord({ ...record(rows), rows: [{ ...rows[0], correct: 3 }] }, "f.json"),
    /f\.json: rows\[0\]\.correct: expected an integer ≤ count with correct \/ count = accuracy/,
  );
  fs.rmSync(tmp, { recursive: true });
});

test("the shipped PEFT records are valid", () => {
  for (const rec of loadPeftRecords(peftRecordsDir())) assert.ok(rec.rows.length > 0, rec.file);
});

test("peftVerdict: a gap beyond the seed range is a difference, within it is noise, one seed cannot tell", () => {
  const lower = [
    row("full", "full", 0, 0.8),
    row("full", "full", 1, 0.82),
    row("LoRA r=8", "lora", 0, 0.7),
    row("LoRA r=8", "lora", 1, 0.71),
  ];
  const v = peftVerdict(lower);
  assert.equal(v.outcome, "lora-lower");
  assert.ok(Math.abs(v.gap - 0.105) < 1e-9 && Math.abs(v.spread - 0.02) < 1e-9);
  assert.match(peftVerdictMarkdown(lower), /LoRA is lower by 10\.5 points/);
  const noisy = [
    row("full", "full", 0, 0.8),
    row("full", "full", 1, 0.7),
    row("LoRA r=8", "lora", 0, 0.72),
    row("LoRA r=8", "lora", 1, 0.76),
  ];
  assert.equal(peftVerdict(noisy).outcome, "no-measurable-difference");
  const higher = [
    row("full", "full", 0, 0.6),
    row("full", "full", 1, 0.62),
    row("LoRA r=8", "lora", 0, 0.8),
    row("LoRA r=8", "lora", 1, 0.81),
  ];
  assert.equal(peftVerdict(higher).outcome, "lora-higher");
  assert.equal(peftVerdict([row("full", "full", 0, 0.8), row("LoRA r=8", "lora", 0, 0.7)]).outcome, "one-seed");
  assert.throws(() => peftVerdict([row("full", "full", 0, 0.8)]), /need rows for full fine-tuning and for LoRA/);
  const g = peftGroups(lower);
  assert.deepEqual(
    g.map((x) => [x.label, x.seeds]),
    [
      ["full", 2],
      ["LoRA r=8", 2],
    ],
  );
  assert.equal(peftTable(lower)[0]["accuracy (mean)"], "81.0 %");
});

test("held-out customer questions: reworded, not in training, judged against each customer's answers", () => {
  const trained = new Set(Object.values(CUSTOMER_DEMO).flatMap((ps) => ps.map((p) => p.q.toLowerCase())));
  for (const h of CUSTOMER_HELD_OUT) assert.ok(!trained.has(h.q.toLowerCase()), `${h.q} is a training question`);
  assert.equal(heldOutVerdict("Monday to Friday, nine to six.", "acmeBikes", "hours"), "right fact");
  assert.equal(heldOutVerdict("monday to friday nine to six", "acmeBikes", "hours"), "right fact");
  assert.equal(heldOutVerdict("Yes, every card is welcome.", "acmeBikes", "hours"), "own customer, other topic");
  assert.equal(heldOutVerdict("Sorry, cash only.", "acmeBikes", "card"), "other customer's answer");
  assert.equal(heldOutVerdict("Bicycles and tea.", "zenTea", "sell"), "new text");
  assert.throws(() => heldOutVerdict("x", "nobody", "hours"), /no customer named "nobody"/);
  const score = heldOutScore([
    { question: "q", topic: "hours", adapter: "a", answer: "", verdict: "right fact", right: true },
    { question: "q2", topic: "card", adapter: "a", answer: "", verdict: "new text", right: false },
  ]);
  assert.deepEqual(score[0], {
    adapter: "a",
    asked: 2,
    "right fact": 1,
    "own customer, other topic": 0,
    "other customer's answer": 0,
    "new text": 1,
  });
});
