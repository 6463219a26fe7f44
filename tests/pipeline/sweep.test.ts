import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { qaRecords, useTinyTask } from "../eval/helpers/tiny-task";
import { QA_TEMPLATE } from "../../src/data/templates";
import { dataSizeSweep, type SweepRow } from "../../src/pipeline/sweep";
import { sweepFigure } from "../../src/course/evaluate/figures";

const t = useTinyTask();

test("dataSizeSweep: nested subsets of growing size, finite metrics, base model untouched, no leaks", async () => {
  const baseWeights = t.model.parameters().get("gpt_neox.embed_in.weight")!.dataSync().slice();
  const before = tf.memory().numTensors;
  const started: number[] = [];
  const steps = new Map<number, number>();
  const seen: SweepRow[] = [];
  const rows = await dataSizeSweep(
    { model: t.model, tokenizer: t.tokenizer },
    QA_TEMPLATE,
    qaRecords(20),
    qaRecords(4, 100),
    {
      fractions: [1, 0.25, 0.5], // unsorted on purpose: rows come out in increasing size
      train: { lr: 1e-2, numSteps: 4, batchSize: 4 },
      eval: { maxNewTokens: 4 },
      includeBase: true,
      onRunStart: (i) => started.push(i.examples),
      onStep: (f, s) => steps.set(f, s.step),
      onRow: (r) => seen.push(r),
    },
  );
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(t.model.parameters().get("gpt_neox.embed_in.weight")!.dataSync(), baseWeights);
  assert.deepEqual(
    rows.map((r) => r.fraction),
    [0, 0.25, 0.5, 1],
  );
  assert.deepEqual(
    rows.map((r) => r.examples),
    [0, 5, 10, 20],
  );
  assert.deepEqual(started, [0, 5, 10, 20]);
  assert.deepEqual([...steps.values()], [4, 4, 4]);
  assert.deepEqual(seen, rows);
  for (const r of rows.slice(1)) {
    assert.equal(r.steps, 4);
    assert.ok(Number.isFinite(r.trainLoss) && Number.isFinite(r.evalLoss));
    assert.ok(r.exactMatch >= 0 && r.exactMatch <= 1 && r.f1 >= 0 && r.f1 <= 1);
    assert.ok(Math.abs(Math.exp(r.evalLoss) - r.perplexity) < 1e-6 * r.perplexity);
    // training moved the model: its eval loss differs from the base's
    assert.notEqual(r.evalLoss, rows[0].evalLoss);
  }
  assert.ok(Number.isNaN(rows[0].trainLoss));

  const fig = sweepFigure(rows);
  assert.equal(fig.data.length, 3); // exact match, F1, eval loss
  assert.deepEqual(fig.data[0].x, [0, 5, 10, 20]);
  assert.deepEqual(
    fig.data[1].y,
    rows.map((r) => r.f1),
  );
  assert.equal(fig.data[2].yaxis, "y2");
  assert.ok(fig.layout.yaxis2);
  const one = sweepFigure(rows, { metrics: ["trainLoss"], baseline: 1 });
  assert.deepEqual(one.data[0].y, [null, ...rows.slice(1).map((r) => r.trainLoss)]); // NaN → gap
  assert.equal(one.data.length, 2);
  assert.throws(() => sweepFigure([]), /no rows/);
  assert.throws(() => sweepFigure(rows, { metrics: ["bogus" as any] }), /unknown metric/);
});

test("dataSizeSweep refuses bad input", async () => {
  const base = { model: t.model, tokenizer: t.tokenizer };
  await assert.rejects(dataSizeSweep(base, QA_TEMPLATE, qaRecords(4), [], {}), /no test records/);
  await assert.rejects(dataSizeSweep(base, QA_TEMPLATE, qaRecords(4), qaRecords(1), { fractions: [1.5] }), /fraction/);
});
