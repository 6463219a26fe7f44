import { test } from "node:test";
import * as assert from "node:assert/strict";
import { estimateMemory } from "../../src/sizing/estimate";
import { fitMatrix, gpuReport } from "../../src/sizing/fit";
import {
  breakdownChart,
  breakdownRows,
  estimateJson,
  fitHeatmap,
  formatEstimate,
  maxParamsChart,
} from "../../src/sizing/report";
import { isPlotlyFigure } from "../../src/display/plotly";

test("formatEstimate shows the total, the fit, each non-zero part with its formula, and assumptions", () => {
  const r = estimateMemory("pythia-1b", { job: "train" }, "v100-16gb");
  const s = formatEstimate(r);
  assert.match(s, /Total: \d+\.\d\d GiB per GPU/);
  assert.match(s, /fits/);
  assert.match(s, /optimizer: .*fp32 master/);
  assert.match(s, /Assumptions:/);
  assert.doesNotMatch(s, /kvCache/);
});

test("breakdownRows: six parts and a total that adds up; estimateJson has the CLI's keys", () => {
  const r = estimateMemory("pythia-160m", { job: "lora" });
  const rows = breakdownRows(r);
  assert.equal(rows.length, 7);
  assert.equal(
    rows[6].bytes,
    rows.slice(0, 6).reduce((a, x) => a + (x.bytes as number), 0),
  );
  const j = estimateJson(r);
  for (const k of ["totalBytes", "breakdown", "formulas", "assumptions", "model", "job"]) assert.ok(k in j, k);
});

test("charts are plotly figures of the right shape", () => {
  const full = estimateMemory("pythia-1b", { job: "train" });
  const lora = estimateMemory("pythia-1b", { job: "lora" });
  const fig = breakdownChart([full, lora], ["full", "LoRA"], { limitBytes: 16 * 2 ** 30, limitLabel: "V100" });
  assert.ok(isPlotlyFigure(fig));
  assert.equal(fig.layout.barmode, "stack");
  const opt = fig.data.find((t) => t.name === "optimizer")!;
  assert.deepEqual(opt.x, ["full", "LoRA"]);
  assert.ok(Math.abs((opt.y as number[])[0] - full.breakdown.optimizer / 2 ** 30) < 1e-9);
  assert.ok(!fig.data.some((t) => t.name === "kvCache"), "parts that are 0 everywhere are left out");
  assert.throws(() => breakdownChart([full], ["a", "b"]), /1 results but 2 labels/);

  const cells = fitMatrix(["pythia-1b", "llama-2-70b"], ["t4-16gb", "a100-80gb", "h200-141gb"], { job: "inference" });
  const hm = fitHeatmap(cells);
  assert.ok(isPlotlyFigure(hm));
  const z = hm.data[0].z as number[][];
  assert.equal(z.length, 2);
  assert.equal(z[0].length, 3);
  assert.match((hm.data[0].text as string[][])[0][0], /^fits/);
  assert.match((hm.data[0].text as string[][])[1][0], /^×/);

  const mp = maxParamsChart([gpuReport("t4-16gb"), gpuReport("a100-80gb")]);
  assert.equal(mp.data.length, 4);
  assert.deepEqual(mp.data[0].x, ["t4-16gb", "a100-80gb"]);
});
