/**
 * Notebook 04's figures of evaluation results, as plain plotly figures for `show()`: the data-size sweep,
 * error categories, base vs fine-tuned metrics, and several tasks' comparisons in one chart.
 */
import type { Comparison, MetricComparison } from "../../eval/compare";
import type { ErrorCount } from "../../eval/errors";
import type { SweepRow } from "../../pipeline/sweep";
import type { PlotlyFigure } from "../../types/figure";

/** Notebook 04's figures are plain plotly figures (the one figure type, src/types/figure.ts). */
export type EvalFigure = PlotlyFigure;

/** Metrics a sweep row can be plotted by. */
export type SweepMetric = "exactMatch" | "f1" | "accuracy" | "perplexity" | "evalLoss" | "trainLoss";

const LABELS: Record<SweepMetric, string> = {
  exactMatch: "exact match",
  f1: "token F1",
  accuracy: "accuracy",
  perplexity: "perplexity",
  evalLoss: "eval loss",
  trainLoss: "train loss",
};

/**
 * The sweep plot: a metric (or several) against the number of training examples. Quality metrics
 * (exact match, F1, accuracy: 0..1) go on the left axis, losses and perplexity on a right one.
 * @example
 * show(sweepFigure(rows));                                     // exact match, F1 (+ accuracy) and eval loss
 * show(sweepFigure(rows, { metrics: ["accuracy"], baseline: 0.62, baselineName: "majority class" }));
 */
export function sweepFigure(
  rows: readonly SweepRow[],
  options: { metrics?: SweepMetric[]; title?: string; baseline?: number; baselineName?: string } = {},
): PlotlyFigure {
  if (rows.length === 0) throw new Error("sweepFigure: no rows");
  const hasAcc = rows.some((r) => typeof r.accuracy === "number");
  const metrics =
    options.metrics ?? (["exactMatch", "f1", ...(hasAcc ? ["accuracy"] : []), "evalLoss"] as SweepMetric[]);
  for (const m of metrics)
    if (!(m in LABELS))
      throw new Error(`sweepFigure: unknown metric ${JSON.stringify(m)} (known: ${Object.keys(LABELS).join(", ")})`);
  const isScore = (m: SweepMetric) => m === "exactMatch" || m === "f1" || m === "accuracy";
  const right = metrics.some((m) => !isScore(m)) && metrics.some(isScore);
  const x = rows.map((r) => r.examples);
  const data: Record<string, unknown>[] = metrics.map((m) => ({
    type: "scatter",
    mode: "lines+markers",
    name: LABELS[m],
    x,
    y: rows.map((r) => (typeof r[m] === "number" && Number.isFinite(r[m] as number) ? r[m] : null)),
    ...(right && !isScore(m) ? { yaxis: "y2", line: { dash: "dot" } } : {}),
  }));
  if (options.baseline !== undefined) {
    data.push({
      type: "scatter",
      mode: "lines",
      name: options.baselineName ?? "baseline",
      x: [Math.min(...x), Math.max(...x)],
      y: [options.baseline, options.baseline],
      line: { dash: "dash", color: "gray" },
    });
  }
  const layout: Record<string, unknown> = {
    title: { text: options.title ?? "Effect of the amount of training data" },
    xaxis: { title: { text: "training examples" } },
    yaxis: {
      title: {
        text: metrics.every(isScore)
          ? "score"
          : metrics.filter(isScore).length
            ? "score (0–1)"
            : metrics.map((m) => LABELS[m]).join(", "),
      },
      ...(metrics.some(isScore) ? { rangemode: "tozero" } : {}),
    },
    legend: { orientation: "h" },
  };
  if (right)
    layout.yaxis2 = {
      title: {
        text: metrics
          .filter((m) => !isScore(m))
          .map((m) => LABELS[m])
          .join(", "),
      },
      overlaying: "y",
      side: "right",
    };
  return { data, layout };
}

/**
 * Bar chart of the error categories (one bar per category, or one group per model for several tables).
 * @example
 * show(errorFigure({ base: errorTable(cmp.base.records), tuned: errorTable(cmp.tuned.records) }));
 */
export function errorFigure(
  tables: readonly ErrorCount[] | Record<string, readonly ErrorCount[]>,
  title = "Error categories",
): PlotlyFigure {
  const named: Record<string, readonly ErrorCount[]> = Array.isArray(tables)
    ? { predictions: tables as readonly ErrorCount[] }
    : (tables as Record<string, readonly ErrorCount[]>);
  const data = Object.entries(named).map(([name, rows]) => ({
    type: "bar",
    name,
    x: rows.map((r) => r.category),
    y: rows.map((r) => r.count),
  }));
  return {
    data,
    layout: {
      title: { text: title },
      barmode: "group",
      xaxis: { title: { text: "category" } },
      yaxis: { title: { text: "examples" } },
    },
  };
}

/**
 * Grouped bars of metrics, base vs fine-tuned (perplexity left out: it is on another scale; `metrics` picks).
 * @example
 * show(comparisonFigure(cmp.metrics));
 */
export function comparisonFigure(
  metrics: readonly MetricComparison[],
  options: { metrics?: string[]; title?: string } = {},
): PlotlyFigure {
  const keep = options.metrics ?? ["exactMatch", "f1", "accuracy"];
  const rows = metrics.filter((m) => keep.includes(m.metric));
  const names = rows.map((r) => LABELS[r.metric as SweepMetric] ?? r.metric);
  return {
    data: [
      { type: "bar", name: "base", x: names, y: rows.map((r) => r.base) },
      { type: "bar", name: "fine-tuned", x: names, y: rows.map((r) => r.tuned) },
    ],
    layout: {
      title: { text: options.title ?? "Base vs fine-tuned" },
      barmode: "group",
      yaxis: { title: { text: "score" }, rangemode: "tozero" },
    },
  };
}

const SCORE_NAMES: Record<string, string> = { exactMatch: "exact match", f1: "token F1", accuracy: "accuracy" };

/**
 * Several tasks' base-vs-fine-tuned comparisons in one grouped bar chart (scores on 0..1: exact match, token
 * F1, accuracy): one bar pair (base, fine-tuned) per task and metric.
 * @example
 * show(tasksFigure({ extraction: cmpA, spam: cmpB }, { spam: ["accuracy"] }));
 */
export function tasksFigure(
  comparisons: Record<string, Comparison>,
  metricsByTask: Record<string, string[]> = {},
  title = "Base vs fine-tuned, by task",
): PlotlyFigure {
  const x: string[] = [];
  const base: number[] = [];
  const tuned: number[] = [];
  for (const [task, cmp] of Object.entries(comparisons)) {
    const wanted = metricsByTask[task] ?? ["exactMatch", "f1", "accuracy"];
    for (const name of wanted) {
      if (!(name in SCORE_NAMES))
        throw new Error(
          `tasksFigure: metric ${JSON.stringify(name)} of task ${JSON.stringify(task)} is not a 0..1 score (use one of ${Object.keys(SCORE_NAMES).join(", ")})`,
        );
      const m = cmp.metrics.find((r) => r.metric === name);
      if (!m) continue; // e.g. accuracy of a task without labels
      x.push(`${task}: ${SCORE_NAMES[name]}`);
      base.push(m.base);
      tuned.push(m.tuned);
    }
  }
  if (x.length === 0) throw new Error("tasksFigure: no metrics to plot");
  return {
    data: [
      { type: "bar", name: "base", x, y: base },
      { type: "bar", name: "fine-tuned", x, y: tuned },
    ],
    layout: {
      title: { text: title },
      barmode: "group",
      yaxis: { title: { text: "score (0–1)" }, range: [0, 1] },
      legend: { orientation: "h" },
      height: 420,
    },
  };
}
