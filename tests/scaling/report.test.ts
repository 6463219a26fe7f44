import { test } from "node:test";
import * as assert from "node:assert/strict";
import { backendRows, scalingChart } from "../../src/scaling/report";
import { fitPowerLaw } from "../../src/scaling/fit";

test("backendRows covers all four backends with the active one first-class", () => {
  const rows = backendRows({
    name: "wasm",
    reason: "WebAssembly",
    gpu: false,
    skipped: [
      { name: "tensorflow", why: "not installed" },
      { name: "webgpu", why: "no adapter" },
    ],
  });
  assert.deepEqual(
    rows.map((r) => r.backend),
    ["tensorflow", "webgpu", "wasm", "cpu"],
  );
  assert.match(rows[1].status, /not used: no adapter/);
  assert.match(rows[2].status, /^active/);
  assert.match(rows[3].status, /not tried/);
});

test("scalingChart draws measured points, the fit, and dashed extrapolation beyond the range", () => {
  const rows = [1e7, 1e8].map((p) => ({ model: `m${p}`, params: p, stepSeconds: p / 1e7 }) as any);
  const fit = fitPowerLaw(rows.map((r) => ({ x: r.params, y: r.stepSeconds })));
  const fig = scalingChart(rows, fit, { extrapolateTo: [1e9] });
  assert.equal(fig.data.length, 3);
  const ext = fig.data[2] as any;
  assert.equal(ext.line.dash, "dash");
  assert.ok(Math.abs(ext.y[ext.y.length - 1] - 100) < 1e-6);
});
