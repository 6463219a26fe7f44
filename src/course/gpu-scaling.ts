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
