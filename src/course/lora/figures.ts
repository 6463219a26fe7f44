/**
 * Plot specs for notebook 06 (plain plotly JSON `{data, layout}`: the notebook passes them to `show`; this file
 * does not import the display layer): the LoRA picture, trainable parameters on a log scale, loss curves, and
 * memory bars.
 */
import type { LoraCountRow } from "../../lora/counts";
import type { MemoryComparisonRow } from "./memory";
import type { PlotlyFigure } from "../../types/figure";

/** Notebook 06's figures are plain plotly figures (the one figure type, src/types/figure.ts). */
export type LoraFigure = PlotlyFigure;

const box = (x0: number, y0: number, x1: number, y1: number, fill: string, dash = "solid") => ({
  type: "rect",
  x0,
  y0,
  x1,
  y1,
  fillcolor: fill,
  line: { color: "#333", width: 1.5, dash },
  layer: "below",
});
const label = (x: number, y: number, text: string, size = 14) => ({ x, y, text, showarrow: false, font: { size } });
const arrow = (x0: number, y0: number, x1: number, y1: number) => ({
  x: x1,
  y: y1,
  ax: x0,
  ay: y0,
  xref: "x",
  yref: "y",
  axref: "x",
  ayref: "y",
  showarrow: true,
  arrowhead: 2,
  arrowwidth: 1.5,
  text: "",
});

/**
 * The idea in one picture: x goes through the frozen W `[out, in]` and, beside it, through A `[r, in]` then
 * B `[out, r]`; the two are added (`h = W·x + (alpha/r)·B·A·x`). Sizes are drawn to scale for `r`/`d`.
 *
 * @example
 * show(loraDiagram({ d: 512, r: 8 }));
 */
export function loraDiagram(opts: { d?: number; r?: number } = {}): PlotlyFigure {
  const d = opts.d ?? 512;
  const r = opts.r ?? 8;
  const w = Math.max(0.15, (3 * r) / d); // A and B's thin side, to scale (at least visible)
  const shapes = [
    box(0, 1, 3, 4, "rgba(150,150,150,0.35)"), // W: d × d, frozen
    box(4, 3, 7, 3 + w, "rgba(255,140,0,0.6)"), // A: r × d (wide, thin)
    box(5.5 - w / 2, 0.8, 5.5 + w / 2, 2.6, "rgba(255,140,0,0.6)"), // B: d × r (tall, thin)
  ];
  const annotations = [
    label(1.5, 2.7, `<b>W</b> (frozen)<br>${d} × ${d}<br>${(d * d).toLocaleString("en-US")} values`),
    label(5.5, 3.55, `<b>A</b> (trained) ${r} × ${d}`),
    label(6.6, 1.7, `<b>B</b> (trained)<br>${d} × ${r}<br>starts at 0`),
    label(3.5, -0.1, "x (input)"),
    label(
      3.5,
      5.2,
      `h = W·x + (alpha/r)·B·A·x   —   trained: 2·${r}·${d} = ${(2 * r * d).toLocaleString("en-US")} values (${((200 * r) / d).toFixed(1)}% of W)`,
      13,
    ),
    arrow(3.5, 0.1, 1.5, 0.95),
    arrow(3.5, 0.1, 5.5, 2.95),
    arrow(5.5, 2.95, 5.5, 2.65),
    arrow(1.5, 4.05, 3.5, 4.8),
    arrow(5.5, 0.75, 3.5, 4.8),
  ];
  return {
    data: [],
    layout: {
      title: "LoRA: a frozen weight plus a trainable low-rank update",
      shapes,
      annotations,
      xaxis: { visible: false, range: [-0.5, 8] },
      yaxis: { visible: false, range: [-0.5, 5.6] },
      height: 420,
      margin: { l: 10, r: 10, t: 50, b: 10 },
    },
  };
}

/**
 * Trainable parameters (log scale) per model for each rank, with the full model's parameters for reference.
 *
 * @example
 * show(loraCountsChart(loraCountTable(PYTHIA_PRESETS, [1, 8, 64])));
 */
export function loraCountsChart(rows: readonly LoraCountRow[]): PlotlyFigure {
  const models = [...new Set(rows.map((r) => r.model))];
  const ranks = [...new Set(rows.map((r) => r.r))];
  const data: Record<string, unknown>[] = [
    {
      type: "scatter",
      mode: "lines+markers",
      name: "full fine-tuning (all parameters)",
      x: models,
      y: models.map((m) => rows.find((r) => r.model === m)!.base),
      line: { color: "#444", dash: "dash" },
    },
    ...ranks.map((r) => ({
      type: "scatter",
      mode: "lines+markers",
      name: `LoRA r = ${r}`,
      x: models,
      y: models.map((m) => rows.find((x) => x.model === m && x.r === r)!.trainable),
      text: models.map((m) => `${rows.find((x) => x.model === m && x.r === r)!.percent.toPrecision(2)}% of the model`),
    })),
  ];
  return {
    data,
    layout: {
      title: `Trainable parameters: full fine-tuning vs LoRA on ${rows[0]?.targets ?? "query_key_value"}`,
      yaxis: { type: "log", title: "trainable parameters (log scale)" },
      xaxis: { title: "model" },
      height: 420,
    },
  };
}

/**
 * Loss per step of several runs on one chart.
 *
 * @example
 * show(lossCurvesChart({ "full fine-tuning": full.losses, "LoRA r=8": lora.losses }));
 */
export function lossCurvesChart(
  runs: Record<string, readonly number[]>,
  title = "Training loss on the same data",
): PlotlyFigure {
  return {
    data: Object.entries(runs).map(([name, ys]) => ({
      type: "scatter",
      mode: "lines",
      name,
      x: ys.map((_, i) => i + 1),
      y: [...ys],
    })),
    layout: { title, xaxis: { title: "step" }, yaxis: { title: "loss" }, height: 380 },
  };
}

/**
 * Measured (tensor peak, process peak) and predicted memory of a full and a LoRA step, as grouped bars (MB).
 *
 * @example
 * show(memoryChart(compareWithSizing(cfg, [full, lora], { r: 8 })));
 */
export function memoryChart(rows: readonly MemoryComparisonRow[]): PlotlyFigure {
  const mb = (b: number | null) => (b === null ? null : b / 1e6);
  const x = rows.map((r) => (r.mode === "full" ? "full fine-tuning" : "LoRA"));
  return {
    data: [
      { type: "bar", name: "measured: tensor peak", x, y: rows.map((r) => mb(r.measuredTensorPeakBytes)) },
      { type: "bar", name: "predicted (sizing calculator)", x, y: rows.map((r) => mb(r.predictedBytes)) },
      { type: "bar", name: "measured: process peak RSS", x, y: rows.map((r) => mb(r.measuredRssPeakBytes)) },
    ],
    layout: { title: "Memory of one training step", barmode: "group", yaxis: { title: "MB" }, height: 380 },
  };
}

/**
 * The memory comparison as table rows (MB, and the calculator's error against the measured tensor peak).
 *
 * @example
 * show(table(memoryTable(compareWithSizing(cfg, [full, lora], { r: 8 }))));
 */
export function memoryTable(rows: readonly MemoryComparisonRow[]): Record<string, string | number>[] {
  const mb = (b: number | null) => (b === null ? "—" : (b / 1e6).toFixed(1));
  return rows.map((r) => ({
    step: r.mode === "full" ? "full fine-tuning" : "LoRA",
    "trainable params": r.trainableParams,
    "measured tensor peak (MB)": mb(r.measuredTensorPeakBytes),
    "measured process peak RSS (MB)": mb(r.measuredRssPeakBytes),
    "predicted (MB)": mb(r.predictedBytes),
    "predicted vs tensor peak": `${r.relativeError >= 0 ? "+" : ""}${(100 * r.relativeError).toFixed(0)}%`,
  }));
}
