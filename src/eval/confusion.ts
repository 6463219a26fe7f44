/**
 * The confusion matrix of a classification: how often each gold label was predicted as each label.
 * Accuracy alone hides *which* mistakes a classifier makes; for spam, calling a real e-mail spam (a lost
 * message) costs more than letting one spam through, and only the matrix shows the two apart.
 */
import type { EvalRecord } from "./run";
import type { PlotlyFigure } from "../types/figure";

export interface ConfusionMatrix {
  /** Label order of rows (gold) and columns (predicted). */
  labels: string[];
  /** counts[g][p]: examples whose gold label is labels[g] and prediction labels[p]. */
  counts: number[][];
  /** Examples whose prediction is none of the labels (a generation that named no label); per gold label. */
  unlabelled: number[];
  total: number;
  /** Diagonal / total (unlabelled predictions count as wrong). */
  accuracy: number;
  /** Per label: precision (of the predictions of it, the share right) and recall (of its examples, the share found). */
  perLabel: { label: string; precision: number; recall: number; support: number }[];
}

/**
 * Count gold × predicted labels. Labels in `labels` come first in that order; any other gold label seen is
 * appended (so nothing is dropped silently).
 * @example
 * confusionMatrix(["spam", "ham", "ham"], ["spam", "spam", "ham"], ["ham", "spam"]).counts; // [[1, 1], [0, 1]]
 */
export function confusionMatrix(
  gold: readonly string[],
  predicted: readonly (string | undefined)[],
  labels: readonly string[] = [],
): ConfusionMatrix {
  if (gold.length !== predicted.length)
    throw new Error(`confusionMatrix: ${gold.length} gold labels but ${predicted.length} predictions`);
  const order = [...labels];
  for (const g of gold) if (!order.includes(g)) order.push(g);
  const n = order.length;
  const counts = order.map(() => new Array<number>(n).fill(0));
  const unlabelled = new Array<number>(n).fill(0);
  gold.forEach((g, i) => {
    const p = predicted[i];
    const gi = order.indexOf(g);
    const pi = p === undefined ? -1 : order.indexOf(p);
    if (pi < 0) unlabelled[gi]++;
    else counts[gi][pi]++;
  });
  const total = gold.length;
  const right = order.reduce((a, _, i) => a + counts[i][i], 0);
  const perLabel = order.map((label, i) => {
    const predictedAs = counts.reduce((a, row) => a + row[i], 0);
    const support = counts[i].reduce((a, b) => a + b, 0) + unlabelled[i];
    return {
      label,
      precision: predictedAs ? counts[i][i] / predictedAs : NaN,
      recall: support ? counts[i][i] / support : NaN,
      support,
    };
  });
  return { labels: order, counts, unlabelled, total, accuracy: total ? right / total : NaN, perLabel };
}

/**
 * The confusion matrix of an evaluation's records (`compareModels(..., { labels })` or `evaluateModel`):
 * gold `label` against `predictedLabel`.
 * @example
 * const cm = confusionFromRecords(cmpSpam.tuned.records, spam.info.labels);
 */
export function confusionFromRecords(records: readonly EvalRecord[], labels: readonly string[] = []): ConfusionMatrix {
  const withLabels = records.filter((r) => r.label !== undefined);
  if (withLabels.length === 0)
    throw new Error("confusionFromRecords: the records carry no gold labels (evaluate with the `labels` option)");
  return confusionMatrix(
    withLabels.map((r) => r.label!),
    withLabels.map((r) => r.predictedLabel),
    labels,
  );
}

/**
 * A plotly heatmap of the matrix: gold labels down, predictions across, each cell annotated with its count
 * and its share of the row.
 * @example
 * show(confusionFigure(cm, "Spam, fine-tuned"));
 */
export function confusionFigure(cm: ConfusionMatrix, title = "Confusion matrix"): PlotlyFigure {
  const hasNone = cm.unlabelled.some((u) => u > 0);
  const cols = hasNone ? [...cm.labels, "(no label)"] : [...cm.labels];
  const z = cm.counts.map((row, i) => (hasNone ? [...row, cm.unlabelled[i]] : [...row]));
  const annotations = z.flatMap((row, i) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((v, j) => ({
      x: cols[j],
      y: cm.labels[i],
      xref: "x",
      yref: "y",
      showarrow: false,
      text: `${v}${sum ? ` (${((100 * v) / sum).toFixed(0)} %)` : ""}`,
      font: { color: v > Math.max(...z.flat()) / 2 ? "white" : "black" },
    }));
  });
  return {
    data: [
      {
        type: "heatmap",
        x: cols,
        y: cm.labels,
        z,
        colorscale: "Blues",
        showscale: false,
        hovertemplate: "gold %{y}, predicted %{x}: %{z}<extra></extra>",
      },
    ],
    layout: {
      title: { text: `${title} (accuracy ${(100 * cm.accuracy).toFixed(1)} % of ${cm.total})` },
      xaxis: { title: { text: "predicted" }, type: "category" },
      yaxis: { title: { text: "gold" }, type: "category", autorange: "reversed" },
      annotations,
      height: 320,
      width: 420,
    },
  };
}
