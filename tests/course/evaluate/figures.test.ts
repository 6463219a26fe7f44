import { test } from "node:test";
import * as assert from "node:assert/strict";
import { comparisonFigure, errorFigure, tasksFigure } from "../../../src/course/evaluate/figures";
import type { Comparison } from "../../../src/eval/compare";
import { errorTable } from "../../../src/eval/errors";

const cmp = (metrics: [string, number, number][]) =>
  ({
    metrics: metrics.map(([metric, base, tuned]) => ({ metric, base, tuned, change: tuned - base })),
  }) as unknown as Comparison;

test("tasksFigure: one bar pair per task and metric, missing metrics skipped, unknown ones rejected", () => {
  const fig = tasksFigure(
    {
      a: cmp([
        ["exactMatch", 0, 0.5],
        ["f1", 0.1, 0.7],
        ["perplexity", 100, 10],
      ]),
      b: cmp([["accuracy", 0.5, 0.8]]),
    },
    { b: ["accuracy"] },
  );
  assert.deepEqual((fig.data[0] as any).x, ["a: exact match", "a: token F1", "b: accuracy"]);
  assert.deepEqual((fig.data[0] as any).y, [0, 0.1, 0.5]);
  assert.deepEqual((fig.data[1] as any).y, [0.5, 0.7, 0.8]);
  assert.throws(() => tasksFigure({ a: cmp([]) }, { a: ["perplexity"] }), /perplexity.*not a 0\.\.1 score/);
  assert.throws(() => tasksFigure({ a: cmp([]) }), /no metrics/);
});

test("figures of errors and comparisons are plain plotly objects", () => {
  const tab = errorTable([
    { prediction: "", reference: "x" },
    { prediction: "x", reference: "x" },
  ]);
  const f = errorFigure({ base: tab, tuned: tab });
  assert.equal(f.data.length, 2);
  assert.deepEqual(
    f.data[0].y,
    tab.map((r) => r.count),
  );
  const c = comparisonFigure([
    { metric: "exactMatch", base: 0, tuned: 0.5, change: 0.5 },
    { metric: "perplexity", base: 9, tuned: 3, change: -6 },
  ]);
  assert.deepEqual(c.data[1].y, [0.5]); // perplexity left out by default
  assert.doesNotThrow(() => JSON.stringify(f));
});
