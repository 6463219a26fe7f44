import { test } from "node:test";
import * as assert from "node:assert/strict";
import { TASK_PLACEMENT, taskPlacementChart } from "../../src/course/gpu-scaling";

test("task placement: reading < writing < composed, bands well-formed, figure marks sizes", () => {
  const order = { reading: 0, writing: 1, composed: 2 } as const;
  for (const t of TASK_PLACEMENT) assert.ok(t.params[0] > 0 && t.params[1] > t.params[0], t.task);
  const lowest = (k: keyof typeof order) =>
    Math.min(...TASK_PLACEMENT.filter((t) => t.kind === k).map((t) => t.params[0]));
  assert.ok(lowest("reading") < lowest("writing") && lowest("writing") < lowest("composed"));
  const fig = taskPlacementChart(TASK_PLACEMENT, [{ label: "70m", params: 7e7 }]);
  assert.equal(fig.data.length, 3);
  assert.equal((fig.layout.shapes as unknown[]).length, 1);
  assert.match(JSON.stringify(fig.layout), /not a measurement/);
});

test("throughput figure: one labelled trace per series, step spread as error bars, fit and extrapolation", async () => {
  const { throughputChart, throughputTableRows, fitResidualRows, extrapolationRows } = await import(
    "../../src/course/gpu-scaling"
  );
  const { throughputPoint } = await import("../../src/scaling/throughput");
  const { fitPowerLawQuality } = await import("../../src/scaling/fit");
  const about = (series: string, source: "recorded" | "estimate") => ({
    series,
    source,
    machine: "m",
    backend: "b",
    dtype: "fp32",
  });
  const pts = [
    throughputPoint(
      { model: "pythia-14m", params: 1e7, flopParams: 5e6, batch: 8, seq: 512, stepSeconds: [2, 1, 4] },
      about("cpu", "recorded"),
    ),
    throughputPoint(
      { model: "pythia-31m", params: 3e7, flopParams: 2e7, batch: 8, seq: 512, stepSeconds: [3, 3, 3] },
      about("cpu", "recorded"),
    ),
    throughputPoint(
      { model: "pythia-70m", params: 7e7, flopParams: 4e7, batch: 8, seq: 512, stepSeconds: [9, 8, 10] },
      about("cpu", "recorded"),
    ),
    throughputPoint(
      { model: "pythia-70m", params: 7e7, flopParams: 4e7, batch: 8, seq: 512, stepSeconds: [0.01] },
      about("gpu", "estimate"),
    ),
  ];
  const q = fitPowerLawQuality(pts.slice(0, 3).map((p) => ({ x: p.params, y: p.tokensPerSecond })));
  const fig = throughputChart(pts, { fits: [{ label: "cpu", quality: q, extrapolateTo: [4e8] }] });
  const names = fig.data.map((d) => d.name as string);
  assert.deepEqual(names.slice(0, 2), ["cpu", "gpu"]);
  assert.match(names[2], /^fit cpu: tokens\/s ∝ P\^-?\d\.\d\d \(R² \d\.\d{3}, n 3\)$/);
  assert.match(names[3], /extrapolated \(not measured; bars: 95% prediction interval\)/);
  const cpu = fig.data[0] as any;
  assert.deepEqual(cpu.y, [4096 / 2, 4096 / 3, 4096 / 9]);
  assert.deepEqual(cpu.error_y.array, [4096 - 2048, 0, 4096 / 8 - 4096 / 9]); // up to the fastest step
  assert.deepEqual(cpu.error_y.arrayminus, [2048 - 1024, 0, 4096 / 9 - 4096 / 10]); // down to the slowest
  assert.equal((fig.data[1] as any).marker.symbol, "diamond-open");
  const flops = throughputChart(pts, { metric: "flopsPerSecond", fits: [{ label: "cpu", quality: q }] });
  assert.equal(flops.data.length, 2, "no tokens/s fit drawn on a FLOP/s figure");
  assert.deepEqual((flops.data[0] as any).y[0], (6 * 5e6 * 4096) / 2);
  assert.throws(() => throughputChart(pts, { metric: "x" as "flopsPerSecond" }), /metric must be/);
  const rows = throughputTableRows(pts);
  assert.equal(rows[0]["step s (min / median / max)"], "1 / 2 / 4");
  assert.equal(rows[3]["step s (min / median / max)"], "0.01 (estimate)");
  assert.equal(fitResidualRows(q, pts)[1].model, "pythia-31m");
  const ext = extrapolationRows(q, [{ model: "pythia-410m", params: 4e8 }]);
  assert.match(String(ext[0].kind), /extrapolated 5\.7× past the largest measured size/);
  assert.match(String(ext[0]["95% interval"]), /^\S+ – \S+$/);
});

test("course sentences: shape effect, same-shape comparison, fit summary, trust, calculator rows, MFU", async () => {
  const c = await import("../../src/course/gpu-scaling");
  const { throughputPoint } = await import("../../src/scaling/throughput");
  const { fitPowerLawQuality } = await import("../../src/scaling/fit");
  const pt = (model: string, params: number, batch: number, seq: number, steps: number[], machine = "cpu") =>
    throughputPoint(
      { model, params, flopParams: params / 2, batch, seq, stepSeconds: steps },
      { series: machine, source: "recorded", machine, backend: machine === "cpu" ? "wasm" : "PyTorch", dtype: "fp32" },
    );
  const s = c.shapeEffect([pt("m", 1e7, 8, 512, [8]), pt("m", 1e7, 2, 32, [1])]);
  assert.deepEqual(
    s.rows.map((r) => r["B × T"]),
    ["2 × 32", "8 × 512"],
  );
  assert.match(s.text, /trains \*\*8\.0×\*\* as many tokens per second at 8 × 512 as at 2 × 32/);
  assert.throws(() => c.shapeEffect([pt("m", 1e7, 8, 512, [8])]), /need one model at ≥ 2 shapes/);
  assert.throws(() => c.shapeEffect([pt("a", 1e7, 8, 512, [8]), pt("b", 1e7, 2, 32, [1])]), /one model/);

  const line = c.sameShapeComparison([pt("m", 1e7, 8, 512, [10, 8])], [pt("m", 1e7, 8, 512, [0.01], "gpu")], "m");
  assert.match(line!, /CPU's fastest step \(cpu, wasm, 512 tokens\/s\), the GPU trains 800× with PyTorch in fp32/);
  assert.equal(c.sameShapeComparison([pt("m", 1e7, 8, 512, [1])], [pt("m", 1e7, 4, 512, [1], "gpu")], "m"), null);

  const q = fitPowerLawQuality([1e7, 2e7, 4e7, 8e7].map((x, i) => ({ x, y: 1e4 * x ** -0.5 * (1 + 0.01 * i) })));
  assert.match(
    c.fitSummary("cpu", q),
    /^\*\*cpu:\*\* tokens\/s ∝ P\^-0\.\d\d \(95% interval -0\.\d+ to -0\.\d+\), R² \d\.\d{3} over 4 sizes; leaving one size out/,
  );
  assert.match(
    c.extrapolationTrust(q, [{ model: "big", params: 8e8 }]),
    /big \(10\.0× past the largest measured size\): ×\/÷ \d+\.\d\d/,
  );

  const rv = [
    {
      model: "a",
      precision: "bf16-amp",
      tokens: 4096,
      measuredSeconds: 0.02,
      estimatedSeconds: 0.001,
      ratio: 20,
      impliedMfu: 0.02,
    },
    {
      model: "b",
      precision: "bf16-amp",
      tokens: 4096,
      measuredSeconds: 0.1,
      estimatedSeconds: 0.05,
      ratio: 2,
      impliedMfu: 0.2,
    },
  ];
  const rows = c.calculatorRows(rv, 0.4);
  assert.equal(rows[0]["tokens/s measured"], 204800);
  assert.equal(rows[0]["tokens/s estimate at MFU 0.4"], 4096000);
  assert.equal(rows[0]["measured / estimate"], 0.05);
  assert.match(
    c.mfuSummary(rv, 0.4)!,
    /bf16-amp steps reached an implied MFU of 2% at a and 20% at best \(b\).*optimistic for every recorded size/,
  );
  assert.equal(c.mfuSummary([], 0.4), null);
});

test("fitVerdict: a clean fit is called usable; a noisy or too-short one is named as too uncertain, with why", async () => {
  const { fitVerdict } = await import("../../src/course/gpu-scaling");
  const { fitPowerLawQuality } = await import("../../src/scaling/fit");
  const xs = [1e7, 2e7, 4e7, 8e7];
  const clean = fitPowerLawQuality(xs.map((x, i) => ({ x, y: x ** -0.3 * (1 + 0.005 * (i % 2)) })));
  assert.match(fitVerdict(clean), /^The points lie close to one line/);
  const noisy = fitPowerLawQuality(xs.map((x, i) => ({ x, y: x ** -0.3 * [1, 3, 0.5, 2][i] })));
  assert.match(
    fitVerdict(noisy),
    /^\*\*Too uncertain to extrapolate from:\*\* the exponent's 95% interval is \d+\.\d\d wide; R² is 0\.\d\d/,
  );
  const two = fitPowerLawQuality(xs.slice(0, 2).map((x) => ({ x, y: x ** -0.3 })));
  assert.match(fitVerdict(two), /2 sizes leave no degrees of freedom/);
});
