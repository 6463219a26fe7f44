/**
 * Notebook 05: which tasks want which model size — the course's qualitative view, as data and a figure.
 *
 * The course orders fine-tuning tasks by difficulty: reading tasks (classify, extract) take text in and
 * emit a few tokens; writing tasks (answer questions, write an email, write code) emit many tokens and
 * are harder; composed tasks (several steps, an agent choosing tools) are harder still, and harder tasks
 * want bigger models. The parameter bands below place that ordering on a size axis for the figure: they
 * are this project's illustration of the course's qualitative view, NOT measurements or benchmarks.
 */
import type { PlotlyFigure } from "../types/figure";
import { predictPowerLaw, predictWithInterval, type PowerLawQuality } from "../scaling/fit";
import type { RecordedVsEstimate } from "../scaling/fit";
import type { CpuRecord } from "../scaling/cpu-records";
import type { PointSource, ThroughputPoint } from "../scaling/throughput";

export type TaskKind = "reading" | "writing" | "composed";

/** One task and the band of model sizes the illustration places it in. */
export interface TaskPlacement {
  task: string;
  kind: TaskKind;
  /** What the model emits: a label, a span, or free text. */
  output: string;
  /** Illustrative band of parameter counts (low, high). */
  params: [number, number];
  note: string;
}

/** The course's ordering, easiest first. */
export const TASK_PLACEMENT: readonly TaskPlacement[] = Object.freeze([
  {
    task: "classification",
    kind: "reading",
    output: "one label",
    params: [7e7, 1e9],
    note: "a few output tokens; small fine-tuned models do well",
  },
  {
    task: "extraction",
    kind: "reading",
    output: "spans copied from the input",
    params: [7e7, 3e9],
    note: "reads much, writes little",
  },
  {
    task: "question answering",
    kind: "writing",
    output: "a paragraph",
    params: [1e9, 1.3e10],
    note: "more generated tokens: more chances to go wrong",
  },
  {
    task: "email / chat",
    kind: "writing",
    output: "free text",
    params: [1e9, 3e10],
    note: "style and content together",
  },
  {
    task: "code",
    kind: "writing",
    output: "a program",
    params: [3e9, 7e10],
    note: "long outputs that must also be exactly right",
  },
  {
    task: "composed tasks / agents",
    kind: "composed",
    output: "several steps, tool calls",
    params: [1.3e10, 5e11],
    note: "a chain of tasks; each step's error compounds",
  },
]);

export const TASK_SOURCE =
  "Qualitative ordering from the course this project grew from (reading < writing < composed tasks; harder tasks want larger models). The bands are an illustration, not measured.";

const KIND_COLOR: Record<TaskKind, string> = { reading: "#2ca02c", writing: "#1f77b4", composed: "#d62728" };

/**
 * A horizontal band chart of tasks against model size (log axis), optionally marking model sizes
 * (e.g. the ones measured in the notebook).
 *
 * @example
 * show(taskPlacementChart(TASK_PLACEMENT, [{ label: "pythia-70m", params: 70426624 }]));
 */
export function taskPlacementChart(
  tasks: readonly TaskPlacement[] = TASK_PLACEMENT,
  marks: readonly { label: string; params: number }[] = [],
): PlotlyFigure {
  const names = tasks.map((t) => `${t.task} (${t.kind})`);
  const data: Record<string, unknown>[] = (["reading", "writing", "composed"] as TaskKind[]).map((kind) => {
    const ts = tasks.filter((t) => t.kind === kind);
    return {
      type: "bar",
      orientation: "h",
      name: kind,
      y: ts.map((t) => `${t.task} (${t.kind})`),
      base: ts.map((t) => Math.log10(t.params[0])),
      x: ts.map((t) => Math.log10(t.params[1]) - Math.log10(t.params[0])),
      marker: { color: KIND_COLOR[kind] },
      customdata: ts.map((t) => `${t.output}; ${t.note}`),
      hovertemplate: "%{y}: %{customdata}<extra></extra>",
    };
  });
  const ticks = [7e7, 1e9, 1e10, 1e11, 5e11];
  const label = (p: number) => (p >= 1e9 ? `${p / 1e9}B` : `${p / 1e6}M`);
  const shapes = marks.map((m) => ({
    type: "line",
    x0: Math.log10(m.params),
    x1: Math.log10(m.params),
    yref: "paper",
    y0: 0,
    y1: 1,
    line: { dash: "dot", color: "#555" },
  }));
  const annotations = [
    ...marks.map((m) => ({
      x: Math.log10(m.params),
      yref: "paper",
      y: 1,
      text: m.label,
      showarrow: false,
      yanchor: "bottom",
      font: { size: 10 },
    })),
    {
      xref: "paper",
      yref: "paper",
      x: 0,
      y: -0.22,
      showarrow: false,
      xanchor: "left",
      text: "Illustration of the course's qualitative view — not a measurement",
      font: { size: 11, color: "#666" },
    },
  ];
  return {
    data,
    layout: {
      title: { text: "Tasks vs model size (qualitative)" },
      barmode: "overlay",
      height: 380,
      margin: { l: 190, r: 20, t: 50, b: 80 },
      xaxis: { title: { text: "parameters (log scale)" }, tickvals: ticks.map(Math.log10), ticktext: ticks.map(label) },
      yaxis: { categoryorder: "array", categoryarray: [...names].reverse() },
      shapes,
      annotations,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Notebook 05's fair comparison: tokens/s (or FLOP/s) against parameters, every series labelled with its machine,
// backend, dtype and batch shape, and the fit with its quality.

/** What the throughput figure plots on y. */
export type ThroughputMetric = "tokensPerSecond" | "flopsPerSecond";

/** A fit to draw: over the series' measured range (solid), then its 95% prediction interval beyond (dashed). */
export interface ThroughputFitLine {
  label: string;
  quality: PowerLawQuality;
  /** Parameter counts to extrapolate to (drawn with their 95% prediction interval as error bars). */
  extrapolateTo?: number[];
}

export interface ThroughputChartOptions {
  metric: ThroughputMetric;
  title: string;
  fits: ThroughputFitLine[];
}

const SOURCE_SYMBOL: Record<PointSource, string> = {
  "measured here": "circle",
  recorded: "square",
  estimate: "diamond-open",
};
const SERIES_COLORS = ["#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/**
 * Log-log figure of tokens/s (or achieved FLOP/s, 6·N·tokens/s) against parameters: one trace per series (its
 * legend names machine, backend, dtype, batch shape and whether it was measured here, recorded or estimated);
 * error bars span the slowest to the fastest timed step; fits drawn over their range and extrapolated with
 * 95% prediction intervals. A fit on FLOP/s is not drawn (fits are of tokens/s).
 *
 * @example
 * show(throughputChart([...live, ...recorded, ...estimates], { fits: [{ label: "CPU record", quality: q }] }));
 */
export function throughputChart(
  points: readonly ThroughputPoint[],
  opts: Partial<ThroughputChartOptions> = {},
): PlotlyFigure {
  const o: ThroughputChartOptions = {
    metric: "tokensPerSecond",
    title: "Training throughput vs model size",
    fits: [],
    ...opts,
  };
  if (o.metric !== "tokensPerSecond" && o.metric !== "flopsPerSecond")
    throw new Error(`throughputChart: metric must be "tokensPerSecond" or "flopsPerSecond", got ${o.metric}`);
  const tok = o.metric === "tokensPerSecond";
  const y = (p: ThroughputPoint) => (tok ? p.tokensPerSecond : p.flopsPerSecond);
  const worst = (p: ThroughputPoint) =>
    tok ? p.tokensPerSecondWorst : (6 * p.flopParams * p.tokensPerStep) / p.seconds.max;
  const series = [...new Set(points.map((p) => p.series))];
  const data: Record<string, unknown>[] = series.map((s, i) => {
    const ps = points.filter((p) => p.series === s).sort((a, b) => a.params - b.params);
    const source = ps[0].source;
    return {
      type: "scatter",
      mode: ps.length > 1 ? "lines+markers" : "markers",
      name: s,
      x: ps.map((p) => p.params),
      y: ps.map(y),
      text: ps.map((p) => p.model.replace("pythia-", "")),
      customdata: ps.map((p) =>
        p.source !== "estimate"
          ? `${p.seconds.n} timed steps: ${p.seconds.min.toPrecision(3)} / ${p.seconds.median.toPrecision(3)} / ${p.seconds.max.toPrecision(3)} s (min / median / max)`
          : "estimate",
      ),
      hovertemplate: "%{text}: %{y:.4s}<br>%{customdata}<extra></extra>",
      error_y: {
        type: "data",
        symmetric: false,
        array: ps.map((p) => (tok ? p.tokensPerSecondBest : p.flopsPerSecondBest) - y(p)),
        arrayminus: ps.map((p) => y(p) - worst(p)),
        thickness: 1,
      },
      line: { color: SERIES_COLORS[i % SERIES_COLORS.length], width: 1, dash: source === "estimate" ? "dot" : "solid" },
      marker: { size: source === "measured here" ? 10 : 8, symbol: SOURCE_SYMBOL[source] },
    };
  });
  if (tok) {
    for (const f of o.fits) {
      const q = f.quality;
      const xs = [q.xMin, q.xMax];
      data.push({
        type: "scatter",
        mode: "lines",
        name: `fit ${f.label}: tokens/s ∝ P^${q.exponent.toFixed(2)} (R² ${q.r2.toFixed(3)}, n ${q.n})`,
        x: xs,
        y: xs.map((x) => predictPowerLaw(q, x)),
        line: { color: "#444", width: 2 },
      });
      const beyond = (f.extrapolateTo ?? []).filter((x) => x > q.xMax * 1.001).sort((a, b) => a - b);
      if (beyond.length) {
        const pred = predictWithInterval(q, beyond);
        data.push({
          type: "scatter",
          mode: "lines+markers",
          name: `fit ${f.label} extrapolated (not measured; bars: 95% prediction interval)`,
          x: [q.xMax, ...beyond],
          y: [predictPowerLaw(q, q.xMax), ...pred.map((p) => p.y)],
          error_y: {
            type: "data",
            symmetric: false,
            array: [0, ...pred.map((p) => (p.high === null ? 0 : p.high - p.y))],
            arrayminus: [0, ...pred.map((p) => (p.low === null ? 0 : p.y - p.low))],
            thickness: 1,
          },
          line: { color: "#444", dash: "dash", width: 1 },
          marker: { symbol: "circle-open", size: 9 },
        });
      }
    }
  }
  return {
    data,
    layout: {
      title: { text: o.title },
      height: 560,
      xaxis: { type: "log", title: { text: "parameters (all, including embeddings)" } },
      yaxis: {
        type: "log",
        title: {
          text: tok ? "tokens per second (training)" : "achieved FLOP/s (6·N·tokens/s, N = params − input embedding)",
        },
      },
      legend: { orientation: "h", y: -0.2, font: { size: 10 } },
      margin: { t: 50, r: 20, b: 40, l: 80 },
    },
  };
}

const sig = (v: number, d = 3) => Number(v.toPrecision(d));

/**
 * One table row per point: where it ran, the shape, the spread of its timed steps, tokens/s (median and best)
 * and achieved GFLOP/s.
 *
 * @example
 * show(table(throughputTableRows(points)));
 */
export function throughputTableRows(points: readonly ThroughputPoint[]): Record<string, string | number>[] {
  return points.map((p) => ({
    source: p.source === "recorded" ? `recorded ${p.date ?? ""}`.trim() : p.source,
    machine: p.machine,
    backend: p.backend,
    dtype: p.dtype,
    "B × T": `${p.batch} × ${p.seq}`,
    model: p.model,
    "steps timed": p.source === "estimate" ? "" : p.seconds.n,
    "step s (min / median / max)":
      p.source !== "estimate"
        ? `${sig(p.seconds.min)} / ${sig(p.seconds.median)} / ${sig(p.seconds.max)}`
        : `${sig(p.seconds.median)} (estimate)`,
    "tokens/s (median)": sig(p.tokensPerSecond),
    "tokens/s (fastest step)": sig(p.tokensPerSecondBest),
    "GFLOP/s (6·N, median)": sig(p.flopsPerSecond / 1e9),
  }));
}

/**
 * A fit's points: measured, fitted, their ratio, and the leave-one-out prediction (the fit on the other points).
 *
 * @example
 * show(table(fitResidualRows(q, points)));
 */
export function fitResidualRows(
  q: PowerLawQuality,
  points: readonly { params: number; model: string }[] = [],
): Record<string, string | number>[] {
  return q.residuals.map((r) => ({
    model: points.find((p) => p.params === r.x)?.model ?? String(r.x),
    params: r.x,
    "tokens/s measured": sig(r.y),
    "tokens/s fitted": sig(r.fitted),
    "measured / fitted": sig(r.ratio, 3),
    "left out: exponent of the rest": r.leaveOneOut ? sig(r.leaveOneOut.exponent, 3) : "",
    "left out: predicted tokens/s": r.leaveOneOut ? sig(r.leaveOneOut.predicted) : "",
    "left out: measured / predicted": r.leaveOneOut ? sig(r.leaveOneOut.ratio, 3) : "",
  }));
}

/**
 * The fit at bigger sizes with 95% prediction intervals, marked as extrapolated where they are.
 *
 * @example
 * show(table(extrapolationRows(q, [{ model: "pythia-410m", params: 405334016 }])));
 */
export function extrapolationRows(
  q: PowerLawQuality,
  models: readonly { model: string; params: number }[],
): Record<string, string | number>[] {
  const pred = predictWithInterval(
    q,
    models.map((m) => m.params),
  );
  return models.map((m, i) => ({
    model: m.model,
    params: m.params,
    "tokens/s predicted": sig(pred[i].y),
    "95% interval":
      pred[i].low === null ? "none (2 points)" : `${sig(pred[i].low as number)} – ${sig(pred[i].high as number)}`,
    "× / ÷": pred[i].factor === null ? "" : sig(pred[i].factor as number, 3),
    kind: pred[i].extrapolated
      ? `extrapolated ${sig(m.params / q.xMax, 2)}× past the largest measured size`
      : "inside the measured range",
  }));
}

/**
 * One model at several batch shapes (same machine): rows of tokens per step and tokens/s, smallest shape first,
 * and a sentence with the ratio of the largest shape's tokens/s to the smallest's (fastest steps).
 *
 * @example
 * const s = shapeEffect(points.filter((p) => p.model === "pythia-14m")); show(table(s.rows)); show(markdown(s.text));
 */
export function shapeEffect(points: readonly ThroughputPoint[]): {
  rows: Record<string, string | number>[];
  text: string;
} {
  const ps = [...points].sort((a, b) => a.tokensPerStep - b.tokensPerStep);
  if (ps.length < 2 || new Set(ps.map((p) => p.model)).size !== 1)
    throw new Error(
      `shapeEffect: need one model at ≥ 2 shapes, got ${ps.map((p) => `${p.model} ${p.batch}×${p.seq}`).join(", ")}`,
    );
  const rows = ps.map((p) => ({
    "B × T": `${p.batch} × ${p.seq}`,
    "tokens per step": p.tokensPerStep,
    "tokens/s (fastest step)": Math.round(p.tokensPerSecondBest),
    "tokens/s (median)": Math.round(p.tokensPerSecond),
  }));
  const [a, b] = [ps[0], ps[ps.length - 1]];
  const text =
    `On this machine ${a.model} trains **${(b.tokensPerSecondBest / a.tokensPerSecondBest).toFixed(1)}×** as many ` +
    `tokens per second at ${b.batch} × ${b.seq} as at ${a.batch} × ${a.seq} (fastest steps). A small step pays fixed ` +
    "costs (launching every operation, the optimizer update over all weights, the read back) that a big one " +
    `spreads over more tokens: seconds per step at ${a.batch} × ${a.seq} on one machine cannot be put next to ` +
    `seconds per step at ${b.batch} × ${b.seq} on another.`;
  return { rows, text };
}

/**
 * How a CPU record was made, in one paragraph: label, matmul engine, date, file, the load average during its
 * timed steps, and its notes.
 *
 * @example
 * show(markdown(cpuRecordSummary(loadCpuRecords()[0])));
 */
export function cpuRecordSummary(rec: CpuRecord): string {
  const loads = rec.rows.flatMap((r) => r.loadAverage1m);
  const load = loads.length
    ? ` 1-minute load average during its timed steps: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} on ${rec.machine.cores} cores.`
    : "";
  const file = rec.file ? ` (\`${rec.file.split(/[\\/]/).slice(-4).join("/")}\`)` : "";
  const missing = rec.rows
    .filter((r) => r.error)
    .map((r) => ` ${r.model} at ${r.batch} × ${r.seq} is missing: ${r.error}.`)
    .join("");
  return `**${rec.label}**, ${rec.matmul}, recorded ${rec.date.slice(0, 10)}${file}.${load} ${rec.notes ?? ""}${missing}`;
}

/**
 * GPU series against a CPU series at the same shape for one model: how many times the GPU's tokens/s (median)
 * the CPU's fastest step is, as a sentence; null when either side lacks the model at that shape.
 *
 * @example
 * sameShapeComparison(cpuPoints, gpuPoints, "pythia-70m");
 */
export function sameShapeComparison(
  cpu: readonly ThroughputPoint[],
  gpu: readonly ThroughputPoint[],
  model: string,
): string | null {
  const c = cpu.find((p) => p.model === model);
  if (!c) return null;
  const g = gpu.filter((p) => p.model === model && p.batch === c.batch && p.seq === c.seq);
  if (!g.length) return null;
  const parts = g.map(
    (p) => `${Math.round(p.tokensPerSecond / c.tokensPerSecondBest)}× with ${p.backend} in ${p.dtype} (${p.machine})`,
  );
  return (
    `**Same shape (${c.batch} × ${c.seq}), ${model}:** against the CPU's fastest step (${c.machine}, ${c.backend}, ` +
    `${Math.round(c.tokensPerSecondBest)} tokens/s), the GPU trains ${parts.join(", ")}.`
  );
}

/**
 * Whether a fit is worth extrapolating from, in words: too few points, an exponent interval wider than 0.5
 * (the sign or the size of the trend is not known), R² below 0.9, or a leave-one-out miss over 1.5×, each
 * named; otherwise that the points lie close to one line.
 *
 * @example
 * fitVerdict(q); // "Too uncertain to extrapolate from: the exponent's 95% interval is 4.43 wide; R² is 0.52."
 */
export function fitVerdict(q: PowerLawQuality): string {
  const why: string[] = [];
  if (q.exponentInterval === null) why.push(`${q.n} sizes leave no degrees of freedom to judge the fit`);
  else if (q.exponentInterval[1] - q.exponentInterval[0] > 0.5)
    why.push(`the exponent's 95% interval is ${(q.exponentInterval[1] - q.exponentInterval[0]).toFixed(2)} wide`);
  if (q.r2 < 0.9) why.push(`R² is ${q.r2.toFixed(2)}`);
  if (q.leaveOneOutWorstFactor !== null && q.leaveOneOutWorstFactor > 1.5)
    why.push(`a left-out size is missed by ${q.leaveOneOutWorstFactor.toFixed(2)}×`);
  return why.length
    ? `**Too uncertain to extrapolate from:** ${why.join("; ")}.`
    : "The points lie close to one line: extrapolation is reasonable a little beyond the measured range.";
}

/**
 * A fit's quality in one sentence: exponent with its 95% interval, R², the leave-one-out range of the exponent
 * and the worst leave-one-out miss.
 *
 * @example
 * show(markdown(fitSummary("CPU record, 8 × 512", q)));
 */
export function fitSummary(name: string, q: PowerLawQuality): string {
  const ci = q.exponentInterval
    ? ` (95% interval ${q.exponentInterval[0].toFixed(2)} to ${q.exponentInterval[1].toFixed(2)})`
    : "";
  const loo = q.leaveOneOutExponents
    ? `; leaving one size out moves the exponent between ${q.leaveOneOutExponents[0].toFixed(2)} and ` +
      `${q.leaveOneOutExponents[1].toFixed(2)}, and predicts the left-out size within a factor of ` +
      `${(q.leaveOneOutWorstFactor as number).toFixed(2)}`
    : "";
  return `**${name}:** tokens/s ∝ P^${q.exponent.toFixed(2)}${ci}, R² ${q.r2.toFixed(3)} over ${q.n} sizes${loo}. ${fitVerdict(q)}`;
}

/**
 * How far an extrapolation can be trusted, in one sentence: each size's distance past the measured range and
 * its 95% prediction interval as a factor.
 *
 * @example
 * show(markdown(extrapolationTrust(q, [{ model: "pythia-410m", params: 405334016 }])));
 */
export function extrapolationTrust(q: PowerLawQuality, models: readonly { model: string; params: number }[]): string {
  const pred = predictWithInterval(
    q,
    models.map((m) => m.params),
  );
  const parts = models.map((m, i) =>
    pred[i].factor === null
      ? `${m.model}: no interval (the fit has no degrees of freedom left)`
      : `${m.model} (${(m.params / q.xMax).toFixed(1)}× past the largest measured size): ×/÷ ${pred[i].factor?.toFixed(2)}`,
  );
  return `95% prediction intervals of the fit: ${parts.join("; ")}.`;
}

/**
 * Recorded GPU steps against the calculator in tokens/s: measured, estimated at `mfu`, their ratio and the MFU
 * the measurement implies.
 *
 * @example
 * show(table(calculatorRows(recordedVsEstimate(rec.rows, "h200-141gb"))));
 */
export function calculatorRows(rows: readonly RecordedVsEstimate[], mfu = 0.4): Record<string, string | number>[] {
  return rows.map((r) => ({
    model: r.model,
    precision: r.precision,
    "tokens/s measured": Math.round(r.tokens / r.measuredSeconds),
    [`tokens/s estimate at MFU ${mfu}`]: r.estimatedSeconds === null ? "" : Math.round(r.tokens / r.estimatedSeconds),
    "measured / estimate": r.ratio === null ? "" : Number((1 / r.ratio).toFixed(2)),
    "implied MFU": r.impliedMfu === null ? "" : Number(r.impliedMfu.toFixed(3)),
  }));
}

/**
 * The implied MFU of the smallest and the best recorded row, as a sentence (null without rows).
 *
 * @example
 * mfuSummary(recordedVsEstimate(bf16Rows, "h200-141gb"), 0.4);
 */
export function mfuSummary(rows: readonly RecordedVsEstimate[], mfu = 0.4): string | null {
  const rs = rows.filter((r) => r.impliedMfu !== null);
  if (!rs.length) return null;
  const best = rs.reduce((a, b) => ((b.impliedMfu as number) > (a.impliedMfu as number) ? b : a));
  const pct = (v: number | null) => `${(100 * (v as number)).toFixed(0)}%`;
  return (
    `The recorded ${[...new Set(rs.map((r) => r.precision))].join(" and ")} steps reached an implied MFU of ` +
    `${pct(rs[0].impliedMfu)} at ${rs[0].model} and ` +
    `${pct(best.impliedMfu)} at best (${best.model}): the estimate at MFU ${mfu} is ` +
    `${(best.impliedMfu as number) < mfu ? "optimistic for every recorded size" : "optimistic for the small sizes"}; ` +
    "small models spend their time launching kernels and in the vocabulary-sized layers rather than multiplying."
  );
}
