// Notebook 04's words rendered from results: the variant table, the before/after verdict (overlapping ranges are
// called noise, separated ones real), and the data-size curve summary with the live points placed against the
// recorded range at their size.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { curveSummary, iterationSummary, variantTable } from "../../../src/course/evaluate/iterate";
import { DATA_SIZE_RECIPES } from "../../../src/course/evaluate/data-size";
import { validateDataSizeRecord } from "../../../src/eval/data-size-records";
import type { VariantRow } from "../../../src/eval/targeted";

const row = (variant: string, acc: number, min: number, max: number, hs: number): VariantRow => ({
  variant,
  runs: 2,
  accuracy: acc,
  accuracyMin: min,
  accuracyMax: max,
  mistakes: { "ham → spam": hs, "spam → ham": 1 },
});

test("variantTable: percentages and mean counts per variant", () => {
  const [r] = variantTable([row("before", 0.625, 0.5, 0.75, 1.5)]);
  assert.deepEqual(r, {
    "training data": "before",
    seeds: 2,
    "accuracy (mean)": "62.5 %",
    "accuracy (min–max)": "50.0 % – 75.0 %",
    "ham → spam (mean count)": 1.5,
    "spam → ham (mean count)": 1,
  });
});

test("iterationSummary: overlap is within the spread; separated ranges are a real change either way", () => {
  const before = row("before", 0.6, 0.55, 0.65, 10);
  const overlap = iterationSummary([before, row("+targeted", 0.63, 0.6, 0.66, 7)], "ham → spam", [
    { variant: "before", seed: 0, accuracy: 0.55 },
    { variant: "before", seed: 1, accuracy: 0.65 },
    { variant: "+targeted", seed: 0, accuracy: 0.6 },
    { variant: "+targeted", seed: 1, accuracy: 0.66 },
  ]);
  assert.match(overlap, /60\.0 % → 63\.0 % \(\+3\.0 points, better in 2 of 2 seeds; ham → spam mistakes 10\.0 → 7\.0/);
  assert.match(overlap, /within the run-to-run spread/);
  assert.match(iterationSummary([before, row("up", 0.8, 0.75, 0.85, 2)], "ham → spam"), /a real improvement/);
  assert.match(
    iterationSummary([before, row("down", 0.4, 0.35, 0.45, 2)], "ham → spam"),
    /−20\.0 points.*made it worse/,
  );
  assert.throws(() => iterationSummary([before], "x"), /at least one other variant/);
});

test("curveSummary: recorded mean and range per size; live points placed against them", () => {
  const r = DATA_SIZE_RECIPES.spam;
  const rec = validateDataSizeRecord({
    format: "tunebook-data-size-record",
    version: 1,
    label: "synthetic",
    date: "2026-12-05",
    machine: { cpu: "Test CPU", cpus: 2, backend: "wasm (2 threads)", matmul: "OpenBLAS" },
    software: { node: "20", tfjs: "4", tunebook: "0" },
    method: "a test",
    task: "spam",
    model: "tiny",
    metric: "accuracy",
    testItems: 96,
    baseline: { name: "majority class (ham)", value: 0.5 },
    recipe: { ...r.train, epochs: r.epochs, minSteps: r.minSteps, maxSteps: r.maxSteps },
    rows: [16, 16, 160, 160].map((examples, i) => ({
      examples,
      seed: i % 2,
      steps: 30,
      value: [0.5, 0.6, 0.8, 0.9][i],
      trainLoss: [0.001, 0.003, 0.2, 0.1][i],
      evalLoss: null,
      seconds: 1,
    })),
  });
  const s = curveSummary(rec, [
    { examples: 16, value: 0.7 },
    { examples: 160, value: 0.85 },
    { examples: 50, value: 0.7 },
  ]);
  assert.match(s, /Recorded 2026-12-05 on Test CPU \(wasm \(2 threads\)\), 2 seeds per size, 96 test items/);
  assert.match(
    s,
    /16 examples 55\.0 % \(50\.0 %–60\.0 %\), 160 examples 85\.0 % \(80\.0 %–90\.0 %\); majority class \(ham\) 50\.0 %/,
  );
  assert.match(
    s,
    /This run: 16 examples 70\.0 % \(above the recorded range\), 160 examples 85\.0 % \(inside the recorded range\), 50 examples 70\.0 % \(no recorded size/,
  );
  assert.match(
    s,
    /Mean final training loss per size: 16: 0\.002, 160: 0\.150\. The runs on 160 examples ended above 0\.05/,
  );
  assert.match(s, /that point understates what that much data can do/);
  const fitted = curveSummary({ ...rec, rows: rec.rows.map((r) => ({ ...r, trainLoss: 0.001 })) });
  assert.doesNotMatch(fitted, /training loss/); // every size fitted: nothing to flag
});
