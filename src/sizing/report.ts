/**
 * Sizing results for people: a markdown/text summary (the CLI's output, a notebook's `markdown()`),
 * table rows (`show(table(rows))`), the JSON shape the CLI prints, and plotly figure objects (a stacked
 * memory breakdown, a models × GPUs "fits" heatmap, the largest model per GPU) that `show()` renders.
 * Plain data only: nothing here imports the display layer.
 */
import { BREAKDOWN_PARTS, type Breakdown, type SizingResult } from "./estimate";
import type { FitCell, GpuReport } from "./fit";
import { formatGiB, formatParams, GIB } from "./units";
import { type Gpu, GPU_CATALOG, thisMachine } from "./gpus";
import type { PlotlyFigure } from "../types/figure";

/** The sizing charts are plain plotly figures (the one figure type, src/types/figure.ts). */
export type FigureSpec = PlotlyFigure;

const seconds = (s: number) =>
  s < 1e-3
    ? `${(s * 1e6).toFixed(1)} µs`
    : s < 1
      ? `${(s * 1e3).toFixed(1)} ms`
      : s < 120
        ? `${s.toFixed(1)} s`
        : s < 7200
          ? `${(s / 60).toFixed(1)} min`
          : s < 86400 * 2
            ? `${(s / 3600).toFixed(1)} h`
            : `${(s / 86400).toFixed(1)} days`;

/** A share as a percentage with 2 significant digits ("100%", "0.062%"). */
const percent = (part: number, whole: number) => `${Number(((100 * part) / whole).toPrecision(2))}%`;

/**
 * A one-screen summary: total per GPU, fit, each part with its formula, compute, assumptions.
 *
 * @example
 * console.log(formatEstimate(estimateMemory("7b", { job: "inference" }, "v100-16gb")));
 */
export function formatEstimate(r: SizingResult): string {
  const j = r.job;
  const lines = [
    `**${r.model.name}** (${formatParams(r.model.params)} params) · job **${j.job}** · ${j.dtype} · batch ${j.batch} × ${j.seq} tokens · ${j.gpus} GPU${j.gpus > 1 ? "s" : ""}${j.zero ? ` · ZeRO-${j.zero}` : ""}`,
    "",
    `**Total: ${formatGiB(r.totalBytes)} per GPU**${r.gpu ? ` on ${r.gpu.name} (usable ${formatGiB(r.gpu.usableBytes)}): ${r.gpu.fits ? `fits, ${formatGiB(r.gpu.headroomBytes)} to spare` : `does NOT fit, ${formatGiB(-r.gpu.headroomBytes)} short`}` : ""}`,
    "",
    ...BREAKDOWN_PARTS.filter((k) => r.breakdown[k] > 0).map(
      (k) => `- ${k}: ${formatGiB(r.breakdown[k])} = ${r.formulas[k]}${r.sources[k] ? ` [${r.sources[k]}]` : ""}`,
    ),
  ];
  if (r.trainableParams)
    lines.push(
      `- trainable parameters: ${formatParams(r.trainableParams)} (${percent(r.trainableParams, r.model.params)})`,
    );
  const c = r.compute;
  lines.push("", `Compute: ${formatParams(c.flopsPerToken)} FLOPs per token = ${c.formula}`);
  if (c.stepSeconds !== null)
    lines.push(
      `- one step of ${c.stepTokens} tokens: ${seconds(c.stepSeconds)} (${Math.round(c.tokensPerSecond ?? 0).toLocaleString("en-US")} tokens/s)`,
    );
  if (c.decodeTokensPerSecond !== null)
    lines.push(
      `- decoding is memory-bound: at most ≈ ${Math.round(c.decodeTokensPerSecond).toLocaleString("en-US")} tokens/s (batch × bandwidth / weight bytes)`,
    );
  if (c.totalSeconds !== null && j.tokens !== null)
    lines.push(`- ${j.tokens.toExponential(2)} tokens: ${seconds(c.totalSeconds)}`);
  if (r.assumptions.length) lines.push("", "Assumptions:", ...r.assumptions.map((a) => `- ${a}`));
  return lines.join("\n");
}

/**
 * Rows for a table: part, bytes, GiB, formula, source.
 *
 * @example
 * show(table(breakdownRows(result)));
 */
export function breakdownRows(r: SizingResult): Record<string, string | number>[] {
  return [
    ...BREAKDOWN_PARTS.map((k) => ({
      part: k,
      bytes: r.breakdown[k],
      GiB: Number((r.breakdown[k] / GIB).toFixed(3)),
      formula: r.formulas[k],
      source: r.sources[k],
    })),
    {
      part: "total",
      bytes: r.totalBytes,
      GiB: Number((r.totalBytes / GIB).toFixed(3)),
      formula: "sum of the parts (per GPU)",
      source: "",
    },
  ];
}

/**
 * The JSON the CLI prints for a job: `totalBytes` and `breakdown` (bytes, 0 where a part does not
 * apply) first, then formulas, assumptions, fit and compute.
 *
 * @example
 * console.log(JSON.stringify(estimateJson(estimateMemory("7b", { job: "lora" }))));
 */
export function estimateJson(r: SizingResult): Record<string, unknown> {
  return {
    model: r.model,
    job: r.job,
    totalBytes: r.totalBytes,
    breakdown: r.breakdown,
    formulas: r.formulas,
    sources: r.sources,
    trainableParams: r.trainableParams,
    gpu: r.gpu,
    compute: r.compute,
    assumptions: r.assumptions,
  };
}

const COLORS: Record<keyof Breakdown, string> = {
  weights: "#4c72b0",
  kvCache: "#8172b2",
  activations: "#dd8452",
  gradients: "#c44e52",
  optimizer: "#55a868",
  overhead: "#937860",
};

/**
 * A stacked bar per result (GiB by part), with a dashed line at `limitBytes` (e.g. a GPU's usable memory).
 *
 * @example
 * show(breakdownChart([full, lora, qlora], ["full", "LoRA", "QLoRA"], { limitBytes: 16 * 2 ** 30, limitLabel: "V100 16 GB" }));
 */
export function breakdownChart(
  results: SizingResult[],
  labels?: string[],
  opts: { title?: string; limitBytes?: number; limitLabel?: string } = {},
): PlotlyFigure {
  if (labels && labels.length !== results.length)
    throw new RangeError(`breakdownChart: ${results.length} results but ${labels.length} labels`);
  const x = labels ?? results.map((r) => `${r.model.name} ${r.job.job}`);
  const data = BREAKDOWN_PARTS.filter((k) => results.some((r) => r.breakdown[k] > 0)).map((k) => ({
    type: "bar",
    name: k,
    x,
    y: results.map((r) => r.breakdown[k] / GIB),
    marker: { color: COLORS[k] },
    hovertemplate: `${k}: %{y:.2f} GiB<extra></extra>`,
  }));
  const shapes = opts.limitBytes
    ? [
        {
          type: "line",
          xref: "paper",
          x0: 0,
          x1: 1,
          y0: opts.limitBytes / GIB,
          y1: opts.limitBytes / GIB,
          line: { dash: "dash", color: "#333" },
        },
      ]
    : [];
  const annotations = opts.limitBytes
    ? [
        {
          xref: "paper",
          x: 1,
          y: opts.limitBytes / GIB,
          xanchor: "right",
          yanchor: "bottom",
          showarrow: false,
          text: opts.limitLabel ?? formatGiB(opts.limitBytes),
        },
      ]
    : [];
  return {
    data,
    layout: {
      title: { text: opts.title ?? "Memory per GPU by part" },
      barmode: "stack",
      yaxis: { title: { text: "GiB" } },
      shapes,
      annotations,
      height: 420,
      margin: { t: 50, r: 20, b: 80, l: 60 },
    },
  };
}

/**
 * A models × GPUs heatmap of needed / usable memory: ≤ 1 fits (green), above does not (red);
 * each cell says "fits" or how many times too big.
 *
 * @example
 * show(fitHeatmap(fitMatrix(["pythia-1b", "llama-2-7b"], ["t4-16gb", "a100-80gb"], { job: "train" })));
 */
export function fitHeatmap(cells: FitCell[], opts: { title?: string } = {}): PlotlyFigure {
  const models = [...new Set(cells.map((c) => c.model))];
  const gpus = [...new Set(cells.map((c) => c.gpu))];
  const cell = (m: string, g: string) => cells.find((c) => c.model === m && c.gpu === g);
  const z = models.map((m) => gpus.map((g) => Math.min(2, cell(m, g)?.ratio ?? NaN)));
  const text = models.map((m) =>
    gpus.map((g) => {
      const c = cell(m, g);
      return !c ? "" : c.fits ? `fits (${Math.round(c.ratio * 100)}%)` : `×${c.ratio.toFixed(1)}`;
    }),
  );
  return {
    data: [
      {
        type: "heatmap",
        x: gpus,
        y: models,
        z,
        text,
        texttemplate: "%{text}",
        hovertemplate: "%{y} on %{x}: %{text}<extra></extra>",
        zmin: 0,
        zmax: 2,
        colorscale: [
          [0, "#1a9850"],
          [0.5, "#d9ef8b"],
          [0.5001, "#fdae61"],
          [1, "#a50026"],
        ],
        colorbar: {
          title: { text: "needed / usable" },
          tickvals: [0, 0.5, 1, 1.5, 2],
          ticktext: ["0", "0.5", "1 (full)", "1.5", "≥2"],
        },
      },
    ],
    layout: {
      title: { text: opts.title ?? "Does it fit? (memory needed / memory usable, per GPU)" },
      height: Math.max(300, 60 + 40 * models.length),
      margin: { t: 50, r: 20, b: 80, l: 160 },
    },
  };
}

/**
 * Grouped bars: the largest model per GPU for each job (log scale).
 *
 * @example
 * show(maxParamsChart(["t4-16gb", "v100-16gb", "a100-80gb"].map((g) => gpuReport(g))));
 */
export function maxParamsChart(reports: GpuReport[], opts: { title?: string } = {}): PlotlyFigure {
  const x = reports.map((r) => r.gpu.id);
  const jobs = ["inference", "train", "lora", "qlora"] as const;
  return {
    data: jobs.map((j) => ({
      type: "bar",
      name: j,
      x,
      y: reports.map((r) => r.maxParams[j]),
      text: reports.map((r) => formatParams(r.maxParams[j])),
      textposition: "outside",
    })),
    layout: {
      title: { text: opts.title ?? "Largest model that fits one GPU, by job" },
      barmode: "group",
      yaxis: { title: { text: "parameters" }, type: "log" },
      height: 450,
      margin: { t: 50, r: 20, b: 80, l: 70 },
    },
  };
}

/**
 * The GPU catalog as table rows.
 *
 * @example
 * show(table(gpuCatalogRows()));
 */
export function gpuCatalogRows(
  gpus: Gpu[] = [...GPU_CATALOG, thisMachine()],
): Record<string, string | number | null>[] {
  return gpus.map((g) => ({
    id: g.id,
    name: g.name,
    memory: formatGiB(g.memoryBytes, 0),
    usable: `${Math.round(g.usableFraction * 100)}%`,
    "fp16 TFLOPS": g.fp16Tflops,
    "fp32 TFLOPS": g.fp32Tflops,
    "GB/s": g.bandwidthGBs,
    source: g.source,
  }));
}

/**
 * Several estimates side by side: job, total, trainable parameters, fit.
 *
 * @example
 * show(table(comparisonRows(["inference", "train", "lora", "qlora"].map((job) => estimateMemory("llama-2-7b", { job }, "a10g-24gb")))));
 */
export function comparisonRows(results: SizingResult[], labels?: string[]): Record<string, string>[] {
  return results.map((r, i) => ({
    "": labels?.[i] ?? `${r.model.name} ${r.job.job}`,
    "memory per GPU": formatGiB(r.totalBytes),
    "trainable params": r.trainableParams
      ? `${formatParams(r.trainableParams)} (${percent(r.trainableParams, r.model.params)})`
      : "—",
    ...(r.gpu
      ? { GPU: r.gpu.id, "fits?": r.gpu.fits ? "yes" : `no (needs ${(r.totalBytes / r.gpu.usableBytes).toFixed(2)}×)` }
      : {}),
    "step time": r.compute.stepSeconds === null ? "—" : seconds(r.compute.stepSeconds),
    ...(r.compute.tokensPerSecond !== null && r.job.job !== "inference"
      ? { "tokens/s": Math.round(r.compute.tokensPerSecond).toLocaleString("en-US") }
      : {}),
    ...(r.compute.totalSeconds !== null && r.job.tokens !== null
      ? { [`time for ${r.job.tokens.toExponential(0)} tokens`]: seconds(r.compute.totalSeconds) }
      : {}),
  }));
}
