/**
 * Table rows for the notebooks' before/after views: the same prompts answered by the model before and after
 * fine-tuning, and metrics side by side with readable names. Plain records, ready for `show(table(...))`.
 */
import type { Comparison, MetricComparison } from "../eval/compare";
import type { EvalRecord, EvalResult } from "../eval/run";

/** One prompt, both answers. */
export interface BeforeAfterRow {
  /** The record's input, shortened (the part between the template's first header and the question). */
  input: string;
  reference: string;
  before: string;
  after: string;
  /** "✓" when the normalised answer equals the reference. */
  "before EM": string;
  "after EM": string;
}

/** Options of `beforeAfterRows`. */
export interface RowOptions {
  /** Characters of the input kept (its end is cut with "…"). */
  maxInputChars: number;
  /** Characters of each answer kept. */
  maxAnswerChars: number;
}

export const DEFAULT_ROW_OPTIONS: RowOptions = { maxInputChars: 160, maxAnswerChars: 120 };

const cut = (s: string, n: number) => {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > n ? one.slice(0, n - 1) + "…" : one;
};

/**
 * The input of a rendered prompt without the template's scaffolding: the text of the first `### ...:`
 * section (the e-mail, the question), or the whole prompt when it has no such header.
 * @example
 * promptInput("### Input:\nSubject: hi\n\n### Question:\nWhat?\n\n### Answer:\n"); // "Subject: hi"
 */
export function promptInput(prompt: string): string {
  const m = /^###[^\n]*\n([\s\S]*?)(?:\n\n###|$)/.exec(prompt);
  return (m ? m[1] : prompt).trim();
}

/**
 * Pair up two evaluations of the same records (before and after fine-tuning).
 * @example
 * const before = await evaluateModel(model, tok, t, samples);  // ... fine-tune ...
 * const after = await evaluateModel(model, tok, t, samples);
 * show(table(beforeAfterRows(before, after)));
 */
export function beforeAfterRows(
  before: EvalResult | readonly EvalRecord[],
  after: EvalResult | readonly EvalRecord[],
  options: Partial<RowOptions> = {},
): BeforeAfterRow[] {
  const o = { ...DEFAULT_ROW_OPTIONS, ...options };
  const b = Array.isArray(before) ? (before as readonly EvalRecord[]) : (before as EvalResult).records;
  const a = Array.isArray(after) ? (after as readonly EvalRecord[]) : (after as EvalResult).records;
  if (b.length !== a.length)
    throw new Error(
      `beforeAfterRows: the two evaluations have ${b.length} and ${a.length} records; evaluate the same records twice`,
    );
  return b.map((r, i) => {
    if (a[i].prompt !== r.prompt)
      throw new Error(
        `beforeAfterRows: record ${i} has different prompts before and after; evaluate the same records in the same order`,
      );
    return {
      input: cut(promptInput(r.prompt), o.maxInputChars),
      reference: cut(r.reference, o.maxAnswerChars),
      before: cut(r.prediction, o.maxAnswerChars),
      after: cut(a[i].prediction, o.maxAnswerChars),
      "before EM": r.em ? "✓" : "",
      "after EM": a[i].em ? "✓" : "",
    };
  });
}

/** One evaluated prompt, for a table. */
export interface PredictionRow {
  input: string;
  reference: string;
  prediction: string;
  /** "✓" on an exact match (normalised). */
  EM: string;
  f1: number;
}

/**
 * An evaluation's records as short table rows (input, reference, prediction, EM, F1).
 * @example
 * show(table(predictionRows(await evaluateModel(model, tok, t, samples))));
 */
export function predictionRows(
  result: EvalResult | readonly EvalRecord[],
  options: Partial<RowOptions> = {},
): PredictionRow[] {
  const o = { ...DEFAULT_ROW_OPTIONS, ...options };
  const recs = Array.isArray(result) ? (result as readonly EvalRecord[]) : (result as EvalResult).records;
  return recs.map((r) => ({
    input: cut(promptInput(r.prompt), o.maxInputChars),
    reference: cut(r.reference, o.maxAnswerChars),
    prediction: cut(r.prediction, o.maxAnswerChars),
    EM: r.em ? "✓" : "",
    f1: Number(r.f1.toFixed(2)),
  }));
}

const METRIC_NAMES: Record<string, string> = {
  exactMatch: "exact match",
  f1: "token F1",
  accuracy: "accuracy",
  perplexity: "perplexity of the reference answers",
  meanNewTokens: "generated tokens per answer",
};

/** One metric, named for people, both values and the change. */
export interface MetricRow {
  metric: string;
  base: number;
  "fine-tuned": number;
  change: number;
  /** "better", "worse" or "same", knowing that perplexity is better when lower. */
  verdict: string;
}

/**
 * `compareModels(...).metrics` as readable rows (perplexity: lower is better; token counts: no verdict).
 * @example
 * show(table(metricRows(cmp.metrics)));
 */
export function metricRows(metrics: readonly MetricComparison[], digits = 3): MetricRow[] {
  const round = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
  return metrics.map((m) => {
    const lowerBetter = m.metric === "perplexity";
    const d = lowerBetter ? -m.change : m.change;
    const verdict =
      m.metric === "meanNewTokens" ? "" : Math.abs(m.change) < 1e-12 ? "same" : d > 0 ? "better" : "worse";
    return {
      metric: METRIC_NAMES[m.metric] ?? m.metric,
      base: round(m.base),
      "fine-tuned": round(m.tuned),
      change: round(m.change),
      verdict,
    };
  });
}

/**
 * A share as a percentage string.
 * @example
 * percent(0.4567); // "45.7 %"
 */
export function percent(x: number | undefined, digits = 1): string {
  return typeof x === "number" && Number.isFinite(x) ? `${(100 * x).toFixed(digits)} %` : "n/a";
}

/**
 * One markdown paragraph with a comparison's headline numbers, base → fine-tuned: exact match, token F1,
 * accuracy and the majority-class rate (classification), and perplexity — generated from the results.
 * @example
 * show(markdown(comparisonSummary(cmp, "Extraction (email-subject)")));
 */
export function comparisonSummary(cmp: Comparison, title: string): string {
  const b = cmp.base.metrics;
  const t = cmp.tuned.metrics;
  const parts = [
    `exact match **${percent(b.exactMatch)} → ${percent(t.exactMatch)}**`,
    `token F1 **${b.f1.toFixed(3)} → ${t.f1.toFixed(3)}**`,
  ];
  if (typeof t.accuracy === "number" && typeof b.accuracy === "number") {
    parts.push(
      `accuracy **${percent(b.accuracy)} → ${percent(t.accuracy)}** (always answering the majority class "${t.majorityLabel}" scores ${percent(t.majorityRate)})`,
    );
  }
  if (typeof t.perplexity === "number" && typeof b.perplexity === "number") {
    parts.push(`perplexity of the reference answers **${b.perplexity.toFixed(1)} → ${t.perplexity.toFixed(1)}**`);
  }
  return `**${title}**, ${t.count} held-out examples, base → fine-tuned: ${parts.join("; ")}.`;
}
