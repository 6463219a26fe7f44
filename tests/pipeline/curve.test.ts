// The data-size curve with seeds (dataSizeCurve: steps by the epochs-with-a-floor rule, balanced nested subsets,
// one row per size × seed) and the iteration loop's fair retraining (trainVariants: same updates and seeds for
// every data variant, optional validation pass): both leave the base model untouched and leak no tensor.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { classRecords, qaRecords, useTinyTask } from "../eval/helpers/tiny-task";
import { QA_TEMPLATE, classificationTemplate } from "../../src/data/templates";
import { curveSteps, curveSubset, dataSizeCurve, type CurveRow } from "../../src/pipeline/sweep";
import { trainVariants } from "../../src/pipeline/variants";
import { fineTuneAndEvaluate } from "../../src/pipeline/finetune";
import { liveDataSizeSlice } from "../../src/course/evaluate/data-size";
import { validateDataSizeRecord } from "../../src/eval/data-size-records";

const t = useTinyTask();

test("curveSteps: epochs over the data, clamped to [minSteps, maxSteps]", () => {
  const o = { epochs: 4, minSteps: 40, maxSteps: 100 };
  assert.equal(curveSteps(16, 8, o), 40); // 8 → the floor
  assert.equal(curveSteps(160, 8, o), 80);
  assert.equal(curveSteps(161, 8, o), 81); // ceil
  assert.equal(curveSteps(1000, 8, o), 100); // the cap
  assert.throws(() => curveSteps(0, 8, o), /examples must be an integer > 0/);
  assert.throws(() => curveSteps(8, 8, { ...o, maxSteps: 10 }), /minSteps ≤ maxSteps/);
  assert.throws(() => curveSteps(8, 8, { ...o, epochs: 0 }), /epochs must be > 0/);
});

test("curveSubset: seeded, nested per seed, balanced with stratify", () => {
  const pool = classRecords(30); // 10 bad, 20 good
  const byLabel = (r: { label: string }) => r.label;
  const s8 = curveSubset(pool, 8, 3, byLabel);
  assert.deepEqual(
    s8.map((r) => r.label),
    ["bad", "good", "bad", "good", "bad", "good", "bad", "good"],
  );
  assert.deepEqual(curveSubset(pool, 16, 3, byLabel).slice(0, 8), s8); // nested
  assert.deepEqual(curveSubset(pool, 8, 3, byLabel), s8); // seeded
  assert.notDeepEqual(curveSubset(pool, 8, 4, byLabel), s8);
  const all = curveSubset(pool, 30, 0, byLabel); // past the small class: the rest is the large one
  assert.equal(new Set(all).size, 30);
  assert.deepEqual(
    all.slice(20).map((r) => r.label),
    Array(10).fill("good"),
  );
  assert.throws(() => curveSubset(pool, 31, 0), /size must be an integer in \[1, 30\]/);
});

test("dataSizeCurve: one row per size × seed, steps by the rule, base untouched, no leaked tensors", async () => {
  const base = { model: t.model, tokenizer: t.tokenizer };
  const w0 = t.model.parameters().get("gpt_neox.embed_in.weight")!.dataSync().slice();
  const before = tf.memory().numTensors;
  const seen: CurveRow[] = [];
  const rows = await dataSizeCurve(base, QA_TEMPLATE, qaRecords(20), qaRecords(3, 100), {
    sizes: [12, 4], // unsorted on purpose
    seeds: [0, 1],
    epochs: 2,
    minSteps: 2,
    maxSteps: 5,
    train: { lr: 1e-2, batchSize: 4 },
    eval: { maxNewTokens: 3 },
    onRow: (r) => seen.push(r),
  });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(t.model.parameters().get("gpt_neox.embed_in.weight")!.dataSync(), w0);
  assert.deepEqual(
    rows.map((r) => [r.seed, r.examples, r.steps]),
    [
      [0, 4, 2],
      [0, 12, 5], // 2 × 12 / 4 = 6, capped at 5
      [1, 4, 2],
      [1, 12, 5],
    ],
  );
  assert.deepEqual(seen, rows);
  for (const r of rows) {
    assert.ok(Number.isFinite(r.trainLoss) && Number.isFinite(r.evalLoss));
    assert.equal(r.epochs, (r.steps * 4) / r.examples);
  }
  await assert.rejects(
    dataSizeCurve(base, QA_TEMPLATE, qaRecords(4), qaRecords(1), { sizes: [8] }),
    /at most the pool's 4/,
  );
  await assert.rejects(
    dataSizeCurve(base, QA_TEMPLATE, qaRecords(4), qaRecords(1), { sizes: [2], seeds: [] }),
    /seeds/,
  );
  await assert.rejects(dataSizeCurve(base, QA_TEMPLATE, qaRecords(4), [], { sizes: [2] }), /no test records/);
});

test("fineTuneAndEvaluate: trains a copy, one result per record set, base untouched, no leaked tensors", async () => {
  const base = { model: t.model, tokenizer: t.tokenizer };
  const w0 = t.model.parameters().get("gpt_neox.embed_in.weight")!.dataSync().slice();
  const before = tf.memory().numTensors;
  const steps: number[] = [];
  const trial = await fineTuneAndEvaluate(
    base,
    QA_TEMPLATE,
    qaRecords(8),
    { lr: 1e-2, batchSize: 4, numSteps: 3, seed: 2 },
    [qaRecords(3, 100), qaRecords(2, 200)],
    { maxNewTokens: 2 },
    { callbacks: { onStep: (s) => steps.push(s.step) } },
  );
  assert.equal(trial.summary.step, 3);
  assert.deepEqual(steps, [1, 2, 3]);
  assert.deepEqual(
    trial.results.map((r) => r.records.length),
    [3, 2],
  );
  assert.ok(trial.seconds > 0);
  assert.deepEqual(t.model.parameters().get("gpt_neox.embed_in.weight")!.dataSync(), w0);
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(
    fineTuneAndEvaluate(base, QA_TEMPLATE, qaRecords(8), { numSteps: 1 }, []),
    /evalSets must be a non-empty list of non-empty record arrays/,
  );
});

test("trainVariants: same updates and seed per variant, validation pass, no leaked tensors", async () => {
  const base = { model: t.model, tokenizer: t.tokenizer };
  const tpl = classificationTemplate(["bad", "good"]);
  const recs = classRecords(12);
  const before = tf.memory().numTensors;
  const starts: string[] = [];
  const runs = await trainVariants(base, tpl, { before: recs.slice(0, 4), after: recs.slice(0, 8) }, recs.slice(8), {
    seeds: [0, 1],
    train: { lr: 1e-2, batchSize: 2, numSteps: 3 },
    eval: { maxNewTokens: 2, labels: ["bad", "good"] },
    validation: recs.slice(4, 8),
    onRunStart: (i) => starts.push(`${i.variant}/${i.seed}`),
  });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(starts, ["before/0", "after/0", "before/1", "after/1"]);
  assert.deepEqual(
    runs.map((r) => [r.variant, r.seed, r.examples, r.steps, r.result.records.length, r.validation?.records.length]),
    [
      ["before", 0, 4, 3, 4, 4],
      ["after", 0, 8, 3, 4, 4],
      ["before", 1, 4, 3, 4, 4],
      ["after", 1, 8, 3, 4, 4],
    ],
  );
  assert.ok(runs.every((r) => typeof r.result.metrics.accuracy === "number"));
  await assert.rejects(
    trainVariants(base, tpl, {}, recs, { seeds: [0], train: { numSteps: 1 }, eval: {} }),
    /at least one/,
  );
  await assert.rejects(
    trainVariants(base, tpl, { a: recs }, recs, { seeds: [0], train: {}, eval: {} }),
    /train\.numSteps must be an integer > 0/,
  );
  await assert.rejects(
    trainVariants(base, tpl, { a: [] }, recs, { seeds: [0], train: { numSteps: 1 }, eval: {} }),
    /variants\["a"\]/,
  );
});

test("liveDataSizeSlice: the record's smallest and largest size, its recipe, value = the record's metric", async () => {
  const recs = classRecords(30);
  const rec = validateDataSizeRecord({
    format: "tunebook-data-size-record",
    version: 1,
    label: "synthetic",
    date: "2026-12-05",
    machine: { cpu: "Test CPU", cpus: 2, backend: "wasm", matmul: "wasm" },
    software: { node: "20", tfjs: "4", tunebook: "0" },
    method: "a test",
    task: "tiny",
    model: "tiny",
    metric: "accuracy",
    testItems: 4,
    baseline: null,
    recipe: { lr: 0.01, batchSize: 2, maxLength: 64, warmupSteps: 0, epochs: 1, minSteps: 2, maxSteps: 4 },
    rows: [2, 6, 10].map((examples) => ({
      examples,
      seed: 0,
      steps: 2,
      value: 0.5,
      trainLoss: 1,
      evalLoss: null,
      seconds: 1,
    })),
  });
  const before = tf.memory().numTensors;
  const starts: number[] = [];
  const live = await liveDataSizeSlice(
    { model: t.model, tokenizer: t.tokenizer },
    classificationTemplate(["bad", "good"]),
    recs.slice(0, 20),
    recs.slice(20),
    rec,
    ["bad", "good"],
    { onRunStart: (i) => starts.push(i.steps) },
  );
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(
    live.map((r) => [r.examples, r.steps, r.seed]),
    [
      [2, 2, 0],
      [10, 4, 0], // 1 pass of 10 in batches of 2 = 5, capped at 4
    ],
  );
  assert.deepEqual(starts, [2, 4]);
  assert.ok(live.every((r) => r.value === r.accuracy && r.value >= 0 && r.value <= 1));
});
