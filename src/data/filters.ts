/**
 * Quality filters for question/answer pairs (generated or collected). Each check has a reason string; an item
 * that fails is dropped with its first failing reason and a detail, and the report counts items per reason —
 * nothing is dropped silently. Checks, in order:
 *
 * empty-question, empty-answer, question-too-long, answer-too-short, answer-too-long, non-printable (control
 * characters, U+FFFD from a bad decode, lone surrogates), answer-copies-question, repetitive (a large share of
 * repeated word n-grams, or one character other than a digit repeated many times), truncated (the answer stops on
 * an article, a preposition or a conjunction: "… wrapping a value into a"), not-english (opt-in: few English
 * function words among the answer's prose words), garbled (opt-in with the language check: many "words" that no
 * language spells, such as `bxq` or `cv`, or two or more brackets outside code without a partner), ungrounded (opt-in: a pair with a `context` whose
 * answer takes few of its content words from that context), then any custom checks.
 *
 * The language and garbled checks read only the answer's prose: code spans (`` `math.abs(x)` ``), type unions
 * (`number | BigNumber`), numbers and identifiers (anything with a digit, `.`, `_`, `(` …) are set aside first,
 * so that a documentation answer made mostly of code is judged by its few words of prose, or not at all.
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
  "truncated",
  "not-english",
  "garbled",
  "ungrounded",
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
  /** A single character (not a digit) repeated this many times in a row is repetitive ("!!!!!!!!!!!!"). */
  maxCharRun?: number;
  /**
   * "en": drop answers whose prose (8+ words once code, numbers and identifiers are set aside) has fewer than
   * `minFunctionWordShare` English function words (not-english), or more than `maxGarbledShare` words that no
   * language spells (garbled).
   */
  language?: "en" | null;
  minFunctionWordShare?: number;
  maxGarbledShare?: number;
  /**
   * Drop a pair that has a context (the passage it was made from) when fewer than `minGroundedShare` of the
   * answer's content words (3+ of them) occur in that context: an answer written "from" a passage that shares
   * almost no words with it did not come from it.
   */
  grounding?: boolean;
  minGroundedShare?: number;
  /** Where the context is (default: the `context` field, when it is a string). */
  context?: (item: T) => string | undefined;
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
  maxCharRun: 12, // "!!!!!!!!!!!!" or "aaaaaaaaaaaa"; digits are exempt (0.6666666666666666 is a number)
  language: null as "en" | null, // off: for datasets that are not English; turn on for English answers
  minFunctionWordShare: 0.08, // English prose has ~40% function words; gibberish and other languages ~0
  maxGarbledShare: 0.25, // real prose has almost no vowel-less words once code is set aside (`npm` is one)
  grounding: false, // off: only pairs made from a passage (retrieval, section templates) have a context to check
  minGroundedShare: 0.5, // an answer copied or paraphrased from its passage shares most of its content words
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

/**
 * The prose words of a text: code spans, type unions (`a | b | c`), and every token holding something other
 * than letters (numbers, `math.abs`, `x_1`, `f(x)`) are set aside; what remains are plain words, in order.
 *
 * @example
 * proseWords("`math.abs(3.5)` returns number 3.5."); // ["returns", "number"]
 */
export function proseWords(text: string): string[] {
  const rest = text
    .replace(/`[^`]*`/g, " ")
    .replace(/[^\s|()]+(?:\s*\|\s*[^\s|()]+)+/g, " ") // number | BigNumber | Complex
    .split(/\s+/)
    .map((t) => t.replace(/^[("'[{]+|[)"'\]}.,;:!?]+$/g, ""));
  return rest.filter((t) => /^\p{L}+(?:['\u2019]\p{L}+)?$/u.test(t));
}

/** A prose word no language spells: two or more letters and no vowel (`bxq`, `cv`). Single letters are math. */
function isGarbled(word: string): boolean {
  return word.length >= 2 && !/[aeiouyàâäéèêëîïôöùûüAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜ]/.test(word);
}

/**
 * Brackets outside code spans that find no partner. One is common in real text (a passage cut inside a
 * parenthesis, "etc.) by overriding …"); generated gibberish ("]-O]-)]-O]") has several.
 */
export function unmatchedBrackets(text: string): number {
  const close: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  const stack: string[] = [];
  let unmatched = 0;
  for (const c of text.replace(/`[^`]*`/g, "")) {
    if (c === "(" || c === "[" || c === "{") stack.push(c);
    else if (c in close) {
      if (stack.length && stack[stack.length - 1] === close[c]) stack.pop();
      else unmatched++;
    }
  }
  return unmatched + stack.length;
}

/** An answer that stops on a word that cannot end an English sentence. */
const DANGLING = /(?:^|\s)(a|an|the|of|to|into|and|or|with|by|for|from|in|on|at|as|is|are|that|which)$/i;

/** A word's crude stem: plural and verb endings off, so "matrices"/"matrix" still differ but "units"/"unit" match. */
const stem = (w: string) => w.replace(/(ies|es|s|ed|ing)$/, "") || w;

/** The share of word n-grams that repeat an earlier one (0 = all distinct); words without a letter are skipped. */
export function repeatedNgramShare(text: string, n = 3): number {
  const w = words(text).filter((x) => /\p{L}/u.test(x));
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
 * The share of the answer's content words (prose words of 3+ letters that are not function words) found in the
 * context, and how many there were. A word counts as found when it or its crude stem occurs there.
 *
 * @example
 * groundedShare("Units can be converted.", "Math.js supports units. Units can be used to do conversions."); // { share: 0.5, words: 2 }
 */
export function groundedShare(answer: string, context: string): { share: number; words: number } {
  const content = proseWords(answer)
    .map((w) => w.toLowerCase())
    .filter((w) => w.length >= 3 && !FUNCTION_WORDS.has(w));
  if (content.length === 0) return { share: 1, words: 0 };
  const ctx = new Set<string>();
  for (const w of words(context)) ctx.add(w), ctx.add(stem(w));
  const found = content.filter((w) => ctx.has(w) || ctx.has(stem(w))).length;
  return { share: found / content.length, words: content.length };
}

type Failure = { reason: string; detail: string };
type Check = (q: string, a: string, o: typeof DEFAULT_FILTERS, context: string | undefined) => Failure | null;

/** The built-in checks, in the order `checkPair` applies them; each judges one thing only. */
const CHECKS: Check[] = [
  (q) => (q ? null : { reason: "empty-question", detail: "the question is empty" }),
  (_q, a) => (a ? null : { reason: "empty-answer", detail: "the answer is empty" }),
  (q, _a, o) =>
    q.length > o.maxQuestionChars
      ? { reason: "question-too-long", detail: `${q.length} characters > ${o.maxQuestionChars}` }
      : null,
  (_q, a, o) =>
    a && a.length < o.minAnswerChars
      ? { reason: "answer-too-short", detail: `${a.length} characters < ${o.minAnswerChars}` }
      : null,
  (_q, a, o) =>
    a.length > o.maxAnswerChars
      ? { reason: "answer-too-long", detail: `${a.length} characters > ${o.maxAnswerChars}` }
      : null,
  (q, a) => {
    const bad = NON_PRINTABLE.exec(q + "\n" + a);
    if (!bad) return null;
    const where = bad.index < q.length ? "question" : "answer";
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    return { reason: "non-printable", detail: `character U+${code} in the ${where}` };
  },
  (q, a, o) => {
    if (!q || !a) return null;
    const nq = normalizeText(q);
    const na = normalizeText(a);
    if (na === nq) return { reason: "answer-copies-question", detail: "the answer is the question" };
    if (nq.length >= 10 && na.startsWith(nq))
      return { reason: "answer-copies-question", detail: "the answer starts by repeating the question" };
    const wa = new Set(words(a));
    const wq = new Set(words(q));
    if (wa.size < 3) return null;
    let inter = 0;
    for (const x of wa) if (wq.has(x)) inter++;
    const j = inter / (wa.size + wq.size - inter);
    return j >= o.copyThreshold
      ? { reason: "answer-copies-question", detail: `word overlap ${j.toFixed(2)} >= ${o.copyThreshold}` }
      : null;
  },
  (_q, a, o) => {
    const share = repeatedNgramShare(a, o.repetitionN);
    if (share > o.maxRepeatedShare)
      return {
        reason: "repetitive",
        detail: `${Math.round(share * 100)}% of ${o.repetitionN}-grams repeat (max ${Math.round(o.maxRepeatedShare * 100)}%)`,
      };
    const run = new RegExp(`(\\P{Nd})\\1{${o.maxCharRun - 1},}`, "su").exec(a);
    return run ? { reason: "repetitive", detail: `${JSON.stringify(run[1])} repeated ${run[0].length} times` } : null;
  },
  (_q, a) => {
    const m = DANGLING.exec(a);
    return m ? { reason: "truncated", detail: `the answer stops on ${JSON.stringify(m[1])}` } : null;
  },
  (_q, a, o) => {
    if (o.language !== "en") return null;
    const w = proseWords(a).map((x) => x.toLowerCase());
    if (w.length < 8) return null;
    const share = w.filter((x) => FUNCTION_WORDS.has(x)).length / w.length;
    return share < o.minFunctionWordShare
      ? {
          reason: "not-english",
          detail: `${Math.round(share * 100)}% English function words in ${w.length} prose words (min ${Math.round(o.minFunctionWordShare * 100)}%)`,
        }
      : null;
  },
  (_q, a, o) => {
    if (o.language !== "en") return null;
    const unpaired = unmatchedBrackets(a);
    if (unpaired >= 2) return { reason: "garbled", detail: `${unpaired} brackets outside code have no partner` };
    const w = proseWords(a);
    const bad = w.filter(isGarbled);
    if (w.length < 4 || bad.length / w.length <= o.maxGarbledShare) return null;
    return {
      reason: "garbled",
      detail: `${bad.length} of ${w.length} prose words are not spellable words (e.g. ${JSON.stringify(bad[0])}; max ${Math.round(o.maxGarbledShare * 100)}%)`,
    };
  },
  (_q, a, o, context) => {
    if (!o.grounding || typeof context !== "string" || !context.trim()) return null;
    const g = groundedShare(a, context);
    if (g.words < 3 || g.share >= o.minGroundedShare) return null;
    return {
      reason: "ungrounded",
      detail: `${Math.round(g.share * 100)}% of ${g.words} content words occur in the context (min ${Math.round(o.minGroundedShare * 100)}%)`,
    };
  },
];

function checkOptions<T>(options: FilterOptions<T>): typeof DEFAULT_FILTERS {
  const o = { ...DEFAULT_FILTERS, ...options };
  const share = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v >= 0 && v <= 1))
      throw new RangeError(`filters: option ${name} must be in [0, 1], got ${v}`);
  };
  share("copyThreshold", o.copyThreshold);
  share("maxRepeatedShare", o.maxRepeatedShare);
  share("minFunctionWordShare", o.minFunctionWordShare);
  share("maxGarbledShare", o.maxGarbledShare);
  share("minGroundedShare", o.minGroundedShare);
  if (o.language !== null && o.language !== "en")
    throw new RangeError(`filters: option language must be "en" or null, got ${JSON.stringify(o.language)}`);
  if (!(Number.isInteger(o.maxCharRun) && o.maxCharRun >= 2))
    throw new RangeError(`filters: option maxCharRun must be an integer >= 2, got ${o.maxCharRun}`);
  return o;
}

const contextOf = (item: unknown): string | undefined => {
  const c = item !== null && typeof item === "object" ? (item as Record<string, unknown>).context : undefined;
  return typeof c === "string" ? c : undefined;
};

/**
 * Every check an item fails (built-in in order, then custom), empty when it passes them all. `checkPair`
 * returns the first of these; a filter report uses all of them to judge each check on its own.
 *
 * @example
 * checkPairAll("Q?", "the bureau of the bureau of the bureau of the bureau", { language: "en" }); // [{ reason: "repetitive", ... }]
 */
export function checkPairAll<T = unknown>(
  question: string,
  answer: string,
  options: FilterOptions<T> = {},
  item?: T,
): Failure[] {
  const o = checkOptions(options);
  const context = item !== undefined ? (options.context ?? contextOf)(item) : undefined;
  const q = question.trim();
  const a = answer.trim();
  const out: Failure[] = [];
  for (const c of CHECKS) {
    const f = c(q, a, o, context);
    if (f) out.push(f);
  }
  for (const c of options.custom ?? []) {
    const d = c.test(question, answer, item as T);
    if (d !== null) out.push({ reason: c.reason, detail: d });
  }
  return out;
}

/**
 * The first check an item fails, or null when it passes them all. Pass the item to let the grounding check
 * read its context.
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
  return checkPairAll(question, answer, options, item)[0] ?? null;
}

/** The question and answer of item `index` (through the options' accessors), or one clear error naming them. */
export function readPair<T>(
  item: T,
  index: number,
  options: Pick<FilterOptions<T>, "question" | "answer"> = {},
  who = "filterPairs",
): { question: string; answer: string } {
  const getQ = options.question ?? (defaultQuestion as (item: T) => string | undefined);
  const getA = options.answer ?? (defaultAnswer as (item: T) => string | undefined);
  const q = item !== null && typeof item === "object" ? getQ(item) : undefined;
  const a = item !== null && typeof item === "object" ? getA(item) : undefined;
  if (typeof q !== "string" || typeof a !== "string") {
    throw new TypeError(
      `${who}: item ${index} has no string ${typeof q !== "string" ? "question" : "answer"} (fields tried: question/instruction/prompt/text, answer/output/completion/label; pass options.question/answer)`,
    );
  }
  return { question: q, answer: a };
}

/**
 * Run the checks over a dataset.
 *
 * @example
 * const { kept, dropped, counts } = filterPairs(pairs, { language: "en", maxAnswerChars: 800 });
 * // counts: { kept: 412, "empty-answer": 3, repetitive: 17, ... }
 */
export function filterPairs<T>(items: readonly T[], options: FilterOptions<T> = {}): FilterResult<T> {
  checkOptions(options);
  const counts: Record<string, number> = { kept: 0 };
  for (const r of [...FILTER_REASONS, ...(options.custom ?? []).map((c) => c.reason)]) counts[r] = 0;
  const kept: T[] = [];
  const dropped: DroppedItem<T>[] = [];
  items.forEach((item, index) => {
    const { question: q, answer: a } = readPair(item, index, options, "filterPairs");
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
