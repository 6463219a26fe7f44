/**
 * Notebook 00's comparison, presented: one table row per condition (zero-shot, few-shot, fine-tuned), a grouped
 * bar chart, and a summary paragraph whose every number comes from the results. The conditions are evaluated with
 * `evaluateModel` on the set `promptingSetup` builds (why-fine-tune.ts).
 */
import type { EvalResult } from "../../eval/run";
import { percent } from "../rows";

/** One row of the comparison table. */
export interface PromptingRow {
  method: string;
  "examples in the prompt": number;
  "prompt tokens (mean)": number;
  "examples seen in training": number;
  accuracy: string;
  "answers with a label": string;
  "accuracy (generated)": string;
  "scoring seconds": string;
}

/** One condition of the comparison: its evaluation, and what it cost. */
export interface PromptingResult {
  method: string;
  shots: number;
  promptTokens: number;
  /** Examples the weights were trained on (updates × batch size; 0 for prompting). */
  trainedExamples: number;
  result: EvalResult;
}

/** Share of records whose generated text names a label. */
export function labelledShare(result: EvalResult): number {
  const n = result.records.length;
  return n ? result.records.filter((r) => r.generatedLabel !== undefined).length / n : 0;
}

/**
 * Table rows, one per condition: accuracy by likelihood, how often the generated text names a label at all, and
 * accuracy reading the label from that text.
 * @example
 * show(table(promptingRows([zero, few, tuned])));
 */
export function promptingRows(results: readonly PromptingResult[]): PromptingRow[] {
  return results.map((x) => ({
    method: x.method,
    "examples in the prompt": x.shots,
    "prompt tokens (mean)": Math.round(x.promptTokens),
    "examples seen in training": x.trainedExamples,
    accuracy: percent(x.result.metrics.accuracy),
    "answers with a label": percent(labelledShare(x.result)),
    "accuracy (generated)": percent(x.result.metrics.accuracyGeneration),
    "scoring seconds": x.result.seconds.toFixed(1),
  }));
}

/**
 * A grouped bar chart of the conditions (accuracy by likelihood, by the generated text, and the share of
 * answers that name a label), with the majority-class rate as a dashed line.
 * @example
 * show(promptingFigure([zero, few, tuned], "Spam: prompting vs fine-tuning"));
 */
export function promptingFigure(
  results: readonly PromptingResult[],
  title = "Prompting vs fine-tuning",
): { data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  if (!results.length) throw new Error("promptingFigure: no results");
  const x = results.map((r) => r.method);
  const bar = (name: string, y: number[]) => ({ type: "bar", name, x, y });
  const majority = results[0].result.metrics.majorityRate;
  return {
    data: [
      bar(
        "accuracy (likelihood)",
        results.map((r) => r.result.metrics.accuracy ?? 0),
      ),
      bar(
        "accuracy (generated text)",
        results.map((r) => r.result.metrics.accuracyGeneration ?? 0),
      ),
      bar(
        "answers with a label",
        results.map((r) => labelledShare(r.result)),
      ),
    ],
    layout: {
      title: { text: title },
      barmode: "group",
      yaxis: { title: { text: "share of the test set" }, range: [0, 1] },
      legend: { orientation: "h" },
      height: 420,
      ...(typeof majority === "number"
        ? {
            shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: majority, y1: majority, line: { dash: "dash" } }],
            annotations: [
              {
                xref: "paper",
                x: 1,
                y: majority,
                xanchor: "right",
                yanchor: "bottom",
                text: `always "${results[0].result.metrics.majorityLabel}"`,
                showarrow: false,
              },
            ],
          }
        : {}),
    },
  };
}

/**
 * The comparison's reading in one markdown paragraph, every number from the results: which condition scored
 * best, by how much few-shot changed zero-shot, and where each stands against the majority class.
 * @example
 * show(markdown(promptingSummary([zero, few, tuned])));
 */
export function promptingSummary(results: readonly PromptingResult[]): string {
  if (!results.length) throw new Error("promptingSummary: no results");
  const acc = (r: PromptingResult) => r.result.metrics.accuracy ?? 0;
  const maj = results[0].result.metrics.majorityRate ?? 0;
  const best = results.reduce((a, b) => (acc(b) > acc(a) ? b : a));
  const vs = (r: PromptingResult) => {
    const d = 100 * (acc(r) - maj);
    return Math.abs(d) < 0.05 ? "level with it" : `${Math.abs(d).toFixed(1)} points ${d > 0 ? "above" : "below"} it`;
  };
  const lines = results.map(
    (r) =>
      `- **${r.method}**: accuracy ${percent(acc(r))} (${vs(r)}); the generated text names a label ${percent(labelledShare(r.result))} of the time`,
  );
  const zero = results.find((r) => r.shots === 0 && r.trainedExamples === 0);
  const few = results.find((r) => r.shots > 0 && r.trainedExamples === 0);
  let format = "";
  if (zero && few) {
    const [a, b] = [labelledShare(zero.result), labelledShare(few.result)];
    format =
      b > a
        ? ` The examples in the prompt taught the answer format: the written answers name a label ${percent(b)} of the time instead of ${percent(a)}.`
        : ` The examples in the prompt did not teach this model the answer format: its written answers name a label ${percent(b)} of the time (zero-shot: ${percent(a)}).`;
  }
  return (
    `On ${results[0].result.metrics.count} held-out inputs, always answering "${results[0].result.metrics.majorityLabel}" scores ${percent(maj)}:\n\n` +
    `${lines.join("\n")}\n\nBest here: **${best.method}**.${format}`
  );
}
