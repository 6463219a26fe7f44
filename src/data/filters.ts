/**
 * Quality filters for question/answer pairs (generated or collected). Each check has a reason string; an item
 * that fails is dropped with its first failing reason and a detail, and the report counts items per reason —
 * nothing is dropped silently. Checks, in order:
 *
 * empty-question, empty-answer, question-too-long, answer-too-short, answer-too-long, non-printable (control
 * characters, U+FFFD from a bad decode, lone surrogates), answer-copies-question, repetitive (a large share of
 * repeated word n-grams, or one character repeated many times), not-english (opt-in: few English function
 * words), then any custom checks.
 */
import { normalizeText } from "./dedup";

export const FILTER_REASONS = [
  "empty-question",
  "empty-answer",
  "question-too-long",
  "answer-too-short",
  "answer-too-long",
  "non-printable",
  "answer-copies-question",
  "repetitive",
  "not-english",
] as const;
export type FilterReason = (typeof FILTER_REASONS)[number];

/** A check of your own: return a detail string to drop the item, or null to keep it. */
export interface CustomFilter<T> {
  reason: string;
  test(question: string, answer: string, item: T): string | null;
}

export interface FilterOptions<T> {
  /** Answers shorter than this (characters, trimmed) are dropped. */
  minAnswerChars?: number;
  maxAnswerChars?: number;
  maxQuestionChars?: number;
  /** Word-set Jaccard of answer and question at or above which the answer "copies" the question. */
  copyThreshold?: number;
  /** n of the word n-grams counted for repetition, and the largest share of repeated ones allowed. */
  repetitionN?: number;
  maxRepeatedShare?: number;
  /** A single character repeated this many times in a row is repetitive ("!!!!!!!!!!!!"). */
  maxCharRun?: number;
  /** "en": drop answers of 8+ words with fewer than `minFunctionWordShare` English function words. */
  language?: "en" | null;
  minFunctionWordShare?: number;
  /** Where the question and answer are (default: question/instruction/prompt/text and answer/output/completion/label). */
  question?: (item: T) => string;
  answer?: (item: T) => string;
  custom?: CustomFilter<T>[];
}

export const DEFAULT_FILTERS = {
  minAnswerChars: 2, // one character is almost never a useful answer ("a"); "42" and "no" pass
  maxAnswerChars: 2000, // longer than a small model's context in tokens; likely a runaway generation
  maxQuestionChars: 1000, // a question longer than this is a pasted document, not a question
  copyThreshold: 0.9, // the answer is (almost) the question's words again
  repetitionN: 3,
  maxRepeatedShare: 0.3, // more than 30% repeated 3-grams: the model is looping
  maxCharRun: 12, // "!!!!!!!!!!!!" or "aaaaaaaaaaaa"
  language: null as "en" | null, // off: code and names would fail a language test; turn on for English prose
  minFunctionWordShare: 0.08, // English prose has ~40% function words; gibberish and other languages ~0
};

/** One dropped item. */
export interface DroppedItem<T> {
  index: number;
  item: T;
  reason: string;
  detail: string;
}

export interface FilterResult<T> {
  kept: T[];
  dropped: DroppedItem<T>[];
  /** Items dropped per reason (every built-in reason present, 0 included), plus "kept". */
  counts: Record<string, number>;
}

const firstString = (r: Record<string, unknown>, fields: string[]) => {
  for (const f of fields) if (typeof r[f] === "string") return r[f] as string;
  return undefined;
};
const defaultQuestion = (item: unknown) =>
  firstString(item as Record<string, unknown>, ["question", "instruction", "prompt", "text"]);
const defaultAnswer = (item: unknown) =>
  firstString(item as Record<string, unknown>, ["answer", "output", "completion", "label"]);

// eslint-disable-next-line no-control-regex
const NON_PRINTABLE =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFD]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;
const FUNCTION_WORDS = new Set(
  "the a an of to in and or is are was were be been it its this that these those for on with as by at from not no can you your we i he she they their has have had do does did will would should could may might must if then than so but which what who when where how there".split(
    " ",
  ),
);
const words = (s: string) => normalizeText(s).split(" ").filter(Boolean);

/** The share of word n-grams that repeat an earlier one (0 = all distinct). */
export function repeatedNgramShare(text: string, n = 3): number {
  const w = words(text);
  if (w.length < n + 1) return 0;
  const seen = new Set<string>();
  let total = 0;
  let repeats = 0;
  for (let i = 0; i + n <= w.length; i++) {
    const g = w.slice(i, i + n).join(" ");
    total++;
    if (seen.has(g)) repeats++;
    else seen.add(g);
  }
  return repeats / total;
}

/**
 * The first check an item fails, or null when it passes them all.
 *
 * @example
 * checkPair("What is a tensor?", "What is a tensor?");   // { reason: "answer-copies-question", detail: "..." }
 */
export function checkPair<T = unknown>(
  question: string,
  answer: string,
  options: FilterOptions<T> = {},
  item?: T,
): { reason: string; detail: string } | null {
  const o = { ...DEFAULT_FILTERS, ...options };
  const q = question.trim();
  const a = answer.trim();
  if (!q) return { reason: "empty-question", detail: "the question is empty" };
  if (!a) return { reason: "empty-answer", detail: "the answer is empty" };
  if (q.length > o.maxQuestionChars)
    return { reason: "question-too-long", detail: `${q.length} characters > ${o.maxQuestionChars}` };
  if (a.length < o.minAnswerChars)
    return { reason: "answer-too-short", detail: `${a.length} characters < ${o.minAnswerChars}` };
  if (a.length > o.maxAnswerChars)
    return { reason: "answer-too-long", detail: `${a.length} characters > ${o.maxAnswerChars}` };
  const bad = NON_PRINTABLE.exec(question + "\n" + answer);
  if (bad)
    return {
      reason: "non-printable",
      detail: `character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")} in the ${bad.index < question.length ? "question" : "answer"}`,
    };
  const nq = normalizeText(q);
  const na = normalizeText(a);
  if (na === nq) return { reason: "answer-copies-question", detail: "the answer is the question" };
  if (nq.length >= 10 && na.startsWith(nq))
    return { reason: "answer-copies-question", detail: "the answer starts by repeating the question" };
  const wa = new Set(words(a));
  const wq = new Set(words(q));
  if (wa.size >= 3) {
    let inter = 0;
    for (const x of wa) if (wq.has(x)) inter++;
    const j = inter / (wa.size + wq.size - inter);
    if (j >= o.copyThreshold)
      return { reason: "answer-copies-question", detail: `word overlap ${j.toFixed(2)} >= ${o.copyThreshold}` };
  }
  const share = repeatedNgramShare(a, o.repetitionN);
  if (share > o.maxRepeatedShare)
    return {
      reason: "repetitive",
      detail: `${Math.round(share * 100)}% of ${o.repetitionN}-grams repeat (max ${Math.round(o.maxRepeatedShare * 100)}%)`,
    };
  const run = new RegExp(`(.)\\1{${o.maxCharRun - 1},}`, "su").exec(a);
  if (run) return { reason: "repetitive", detail: `${JSON.stringify(run[1])} repeated ${run[0].length} times` };
  if (o.language === "en") {
    const w = words(a);
    if (w.length >= 8) {
      const share = w.filter((x) => FUNCTION_WORDS.has(x)).length / w.length;
      if (share < o.minFunctionWordShare)
        return {
          reason: "not-english",
          detail: `${Math.round(share * 100)}% English function words in ${w.length} words (min ${Math.round(o.minFunctionWordShare * 100)}%)`,
        };
    }
  }
  for (const c of options.custom ?? []) {
    const d = c.test(question, answer, item as T);
    if (d !== null) return { reason: c.reason, detail: d };
  }
  return null;
}

/**
 * Run the checks over a dataset.
 *
 * @example
 * const { kept, dropped, counts } = filterPairs(pairs, { language: "en", maxAnswerChars: 800 });
 * // counts: { kept: 412, "empty-answer": 3, repetitive: 17, ... }
 */
export function filterPairs<T>(items: readonly T[], options: FilterOptions<T> = {}): FilterResult<T> {
  const getQ = options.question ?? (defaultQuestion as (item: T) => string | undefined);
  const getA = options.answer ?? (defaultAnswer as (item: T) => string | undefined);
  const counts: Record<string, number> = { kept: 0 };
  for (const r of [...FILTER_REASONS, ...(options.custom ?? []).map((c) => c.reason)]) counts[r] = 0;
  const kept: T[] = [];
  const dropped: DroppedItem<T>[] = [];
  items.forEach((item, index) => {
    const q = item !== null && typeof item === "object" ? getQ(item) : undefined;
    const a = item !== null && typeof item === "object" ? getA(item) : undefined;
    if (typeof q !== "string" || typeof a !== "string") {
      throw new TypeError(
        `filterPairs: item ${index} has no string ${typeof q !== "string" ? "question" : "answer"} (fields tried: question/instruction/prompt/text, answer/output/completion/label; pass options.question/answer)`,
      );
    }
    const fail = checkPair(q, a, options, item);
    if (fail) {
      dropped.push({ index, item, ...fail });
      counts[fail.reason] = (counts[fail.reason] ?? 0) + 1;
    } else {
      kept.push(item);
      counts.kept++;
    }
  });
  return { kept, dropped, counts };
}
