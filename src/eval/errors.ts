/**
 * Error analysis: put every prediction in one category, count them, and pick examples of each — the table
 * that tells you what to fix next (more data, a stop token, a shorter max length, ...).
 *
 * Categories, checked in this order (the first that applies wins):
 *
 * | category     | when                                                                    | usual cause / fix |
 * | ------------ | ----------------------------------------------------------------------- | ----------------- |
 * | `empty`      | nothing left after normalisation                                        | stops at once: EOS learned too well, or a stop string at the start |
 * | `correct`    | exact match (normalised)                                                | — |
 * | `repetitive` | ≥ `repeatRatio` of its word n-grams are repeats (and ≥ `minRepeatNgrams` n-grams) | greedy loops: more training, a repetition penalty |
 * | `too_long`   | more than `tooLongRatio` × the reference's words                        | does not stop: train with EOS, add stop strings |
 * | `partial`    | token F1 ≥ `partialF1`                                                  | close: more data or epochs |
 * | `wrong`      | anything else                                                           | the model does not know |
 *
 * Repetition is measured on lowercased whitespace-separated words (punctuation kept, so "!!!!" counts) as
 * `1 − distinct n-grams / n-grams`. Returned tables are plain arrays of records, ready for `show(table(...))`.
 */
import { answerTokens, exactMatch, tokenF1 } from "./metrics";

export const ERROR_CATEGORIES = ["empty", "correct", "repetitive", "too_long", "partial", "wrong"] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** Thresholds of `categorize`, merged over `DEFAULT_ERROR_OPTIONS`. */
export interface ErrorOptions {
  /** Word n-gram size for the repetition measure. */
  ngram: number;
  /** Share of repeated n-grams from which a prediction is `repetitive`. */
  repeatRatio: number;
  /** Fewer n-grams than this are never `repetitive` (a short answer cannot loop). */
  minRepeatNgrams: number;
  /** Prediction words over reference words above which it is `too_long`. */
  tooLongRatio: number;
  /** F1 from which a wrong prediction is `partial`; set above 1 to disable the category. */
  partialF1: number;
}

export const DEFAULT_ERROR_OPTIONS: ErrorOptions = {
  ngram: 3, // trigrams: a repeated pair of words is often legitimate ("of the"), a repeated triple rarely
  repeatRatio: 0.3, // a sentence said twice scores ~0.4; varied prose ~0
  minRepeatNgrams: 4,
  tooLongRatio: 2, // twice the reference's length: the answer plus as much again
  partialF1: 0.5, // half the words right: SQuAD's usual line between near-misses and misses
};

/**
 * Share of repeated word n-grams in a text (0: none, → 1: one n-gram over and over).
 * @example
 * repetitionRatio("to be or not to be or not to be", 3); // 1 − 4/8 = 0.5
 */
export function repetitionRatio(text: string, n = DEFAULT_ERROR_OPTIONS.ngram): number {
  const words = text
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== "");
  const total = words.length - n + 1;
  if (total <= 0) return 0;
  const seen = new Set<string>();
  for (let i = 0; i < total; i++) seen.add(words.slice(i, i + n).join("\u0000"));
  return 1 - seen.size / total;
}

/**
 * The category of one prediction.
 * @example
 * categorize("", "Paris");                              // "empty"
 * categorize("Paris is the capital of France, and Paris is big", "Paris"); // "too_long"
 */
export function categorize(prediction: string, reference: string, options: Partial<ErrorOptions> = {}): ErrorCategory {
  const o = { ...DEFAULT_ERROR_OPTIONS, ...options };
  const words = answerTokens(prediction);
  if (words.length === 0) return "empty";
  if (exactMatch(prediction, reference)) return "correct";
  const rawWords = prediction.split(/\s+/).filter((w) => w !== "").length;
  if (rawWords - o.ngram + 1 >= o.minRepeatNgrams && repetitionRatio(prediction, o.ngram) >= o.repeatRatio)
    return "repetitive";
  if (words.length > o.tooLongRatio * Math.max(1, answerTokens(reference).length)) return "too_long";
  if (tokenF1(prediction, reference) >= o.partialF1) return "partial";
  return "wrong";
}

/** What the error table needs from an evaluated example. */
export interface CategorizedLike {
  prediction: string;
  reference: string;
  prompt?: string;
  category?: ErrorCategory;
}

/** One row of the error table. */
export interface ErrorCount {
  category: ErrorCategory;
  count: number;
  /** count / total. */
  share: number;
  /** One prediction of this category (shortened), or "". */
  example: string;
}

const short = (s: string, n = 80) => {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > n ? one.slice(0, n - 1) + "…" : one;
};

/**
 * Counts per category (every category listed, in table order), with a sample prediction of each.
 * Records without a `category` are categorised here with `options`.
 * @example
 * show(table(errorTable(result.records)));
 */
export function errorTable(records: readonly CategorizedLike[], options: Partial<ErrorOptions> = {}): ErrorCount[] {
  const cats = records.map((r) => r.category ?? categorize(r.prediction, r.reference, options));
  return ERROR_CATEGORIES.map((category) => {
    const idx = cats.indexOf(category);
    const count = cats.filter((c) => c === category).length;
    return {
      category,
      count,
      share: records.length ? count / records.length : 0,
      example: idx >= 0 ? short(records[idx].prediction) : "",
    };
  });
}

/**
 * Counts per category as an object (`{empty: 0, correct: 3, ...}`), for JSON output.
 * @example
 * errorCounts(result.records).too_long; // 12
 */
export function errorCounts(
  records: readonly CategorizedLike[],
  options: Partial<ErrorOptions> = {},
): Record<ErrorCategory, number> {
  const out = Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, 0])) as Record<ErrorCategory, number>;
  for (const r of records) out[r.category ?? categorize(r.prediction, r.reference, options)]++;
  return out;
}

/**
 * Up to `n` examples of one category, as table rows (prompt shortened to its end, where the question is).
 * @example
 * show(table(errorExamples(result.records, "too_long", 3)));
 */
export function errorExamples(
  records: readonly CategorizedLike[],
  category: ErrorCategory,
  n = 5,
  options: Partial<ErrorOptions> = {},
): { prompt: string; reference: string; prediction: string; f1: number }[] {
  if (!(ERROR_CATEGORIES as readonly string[]).includes(category))
    throw new Error(
      `errorExamples: unknown category ${JSON.stringify(category)} (known: ${ERROR_CATEGORIES.join(", ")})`,
    );
  return records
    .filter((r) => (r.category ?? categorize(r.prediction, r.reference, options)) === category)
    .slice(0, n)
    .map((r) => {
      const p = (r.prompt ?? "").replace(/\s+/g, " ").trim();
      return {
        prompt: p.length > 100 ? "…" + p.slice(p.length - 99) : p,
        reference: r.reference,
        prediction: r.prediction,
        f1: tokenF1(r.prediction, r.reference),
      };
    });
}
