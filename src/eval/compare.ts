/**
 * The base model and the fine-tuned one on the same test set, side by side: the same prompts, the same
 * greedy decoding, one row per example and one row per metric — the before/after table of the course.
 */
import type { PromptTemplate } from "../data/templates";
import type { ErrorCategory } from "./errors";
import { evaluateModel, type EvalMetrics, type EvalOptions, type EvalResult, type ModelUnderTest } from "./run";

/** One example, both predictions. */
export interface ComparisonRow {
  prompt: string;
  reference: string;
  base: string;
  tuned: string;
  baseF1: number;
  tunedF1: number;
  baseCategory: ErrorCategory;
  tunedCategory: ErrorCategory;
}

/** One metric, both values. */
export interface MetricComparison {
  metric: string;
  base: number;
  tuned: number;
  /** tuned − base. */
  change: number;
}

export interface Comparison {
  base: EvalResult;
  tuned: EvalResult;
  rows: ComparisonRow[];
  metrics: MetricComparison[];
}

const METRIC_KEYS: (keyof EvalMetrics)[] = ["exactMatch", "f1", "accuracy", "perplexity", "meanNewTokens"];

/**
 * Evaluate two models on the same records and line the results up.
 * @example
 * const cmp = await compareModels({ model: base, tokenizer }, { model: tuned, tokenizer }, ds.template, ds.test, { limit: 40 });
 * show(table(cmp.metrics)); show(table(cmp.rows.slice(0, 5)));
 */
export async function compareModels(
  base: ModelUnderTest,
  tuned: ModelUnderTest,
  template: PromptTemplate,
  records: readonly Record<string, unknown>[],
  options: Partial<EvalOptions> = {},
): Promise<Comparison> {
  const b = await evaluateModel(base.model, base.tokenizer, template, records, options);
  const t = await evaluateModel(tuned.model, tuned.tokenizer, template, records, options);
  const rows = b.records.map((r, i) => ({
    prompt: r.prompt,
    reference: r.reference,
    base: r.prediction,
    tuned: t.records[i].prediction,
    baseF1: r.f1,
    tunedF1: t.records[i].f1,
    baseCategory: r.category,
    tunedCategory: t.records[i].category,
  }));
  const metrics = METRIC_KEYS.filter((k) => typeof b.metrics[k] === "number" && typeof t.metrics[k] === "number").map(
    (k) => {
      const bv = b.metrics[k] as number;
      const tv = t.metrics[k] as number;
      return { metric: k, base: bv, tuned: tv, change: tv - bv };
    },
  );
  return { base: b, tuned: t, rows, metrics };
}
