/**
 * Several tasks' base-vs-fine-tuned comparisons in one grouped bar chart (scores on 0..1: exact match, token
 * F1, accuracy), as a plain plotly `{data, layout}` for `show()`.
 */
import type { Comparison } from "../eval/compare";

const NAMES: Record<string, string> = { exactMatch: "exact match", f1: "token F1", accuracy: "accuracy" };

/**
 * One bar pair (base, fine-tuned) per task and metric.
 * @example
 * show(tasksFigure({ extraction: cmpA, spam: cmpB }, { spam: ["accuracy"] }));
 */
export function tasksFigure(
  comparisons: Record<string, Comparison>,
  metricsByTask: Record<string, string[]> = {},
  title = "Base vs fine-tuned, by task",
): { data: Record<string, unknown>[]; layout: Record<string, unknown> } {
  const x: string[] = [];
  const base: number[] = [];
  const tuned: number[] = [];
  for (const [task, cmp] of Object.entries(comparisons)) {
    const wanted = metricsByTask[task] ?? ["exactMatch", "f1", "accuracy"];
    for (const name of wanted) {
      if (!(name in NAMES))
        throw new Error(
          `tasksFigure: metric ${JSON.stringify(name)} of task ${JSON.stringify(task)} is not a 0..1 score (use one of ${Object.keys(NAMES).join(", ")})`,
        );
      const m = cmp.metrics.find((r) => r.metric === name);
      if (!m) continue; // e.g. accuracy of a task without labels
      x.push(`${task}: ${NAMES[name]}`);
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
