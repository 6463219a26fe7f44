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
