/**
 * Text metrics for evaluating generations against references, as the SQuAD evaluation script defines them
 * (Rajpurkar et al. 2016, `evaluate-v1.1.py`), plus classification accuracy and set perplexity.
 *
 * - `normalizeAnswer`: lowercase, drop punctuation and symbols, drop the articles a/an/the, collapse
 *   whitespace. SQuAD drops ASCII punctuation; here every Unicode punctuation or symbol character goes
 *   (so “smart quotes” and `…` do not spoil a match).
 * - `exactMatch`: 1 when the normalised strings are equal, else 0.
 * - `tokenF1`: the harmonic mean of precision and recall over the normalised words (a bag: repeated words
 *   count as often as they occur in both). When either side has no words, F1 is 1 if both are empty, else 0.
 * - `labelFromGeneration`: a classification label read from generated text — the label whose words occur
 *   EARLIEST in the normalised text (a generation "spam, not ham" is "spam"); undefined when none occurs.
 *   The other way to classify, scoring each label's likelihood with the model, is in likelihood.ts.
 * - `perplexity`: over a set, token-weighted: `exp(−Σ log p / Σ tokens)` — long answers weigh more, as in the
 *   trainer's eval loss (a mean of per-example perplexities would let a few short answers dominate).
 */

const ARTICLES = /\b(a|an|the)\b/g;
const PUNCT_OR_SYMBOL = /[\p{P}\p{S}]/gu;

/**
 * SQuAD-style answer normalisation.
 * @example
 * normalizeAnswer("The  Eiffel Tower!"); // "eiffel tower"
 */
export function normalizeAnswer(text: string): string {
  if (typeof text !== "string")
    throw new TypeError(`normalizeAnswer: expected a string, found ${text === null ? "null" : typeof text}`);
  return text
    .toLowerCase()
    .replace(PUNCT_OR_SYMBOL, "")
    .replace(ARTICLES, " ")
    .split(/\s+/)
    .filter((w) => w !== "")
    .join(" ");
}

/** The normalised words of a text. */
export function answerTokens(text: string): string[] {
  const n = normalizeAnswer(text);
  return n === "" ? [] : n.split(" ");
}

/**
 * 1 when prediction and reference are equal after normalisation, else 0.
 * @example
 * exactMatch("the cat.", "Cat"); // 1
 */
export function exactMatch(prediction: string, reference: string): 0 | 1 {
  return normalizeAnswer(prediction) === normalizeAnswer(reference) ? 1 : 0;
}

/**
 * SQuAD token F1 between a prediction and a reference (0..1).
 * @example
 * tokenF1("the big red cat", "a red cat"); // precision 2/3, recall 2/2 → 0.8
 * tokenF1("", ""); // 1 (both empty)
 */
export function tokenF1(prediction: string, reference: string): number {
  const p = answerTokens(prediction);
  const r = answerTokens(reference);
  if (p.length === 0 || r.length === 0) return p.length === r.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const w of r) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      same++;
      counts.set(w, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * The label a generation names: the label whose normalised words start earliest in the normalised text
 * (whole words only; at the same position the longer label wins). Undefined when no label occurs.
 * @example
 * labelFromGeneration("Spam. Definitely not ham", ["ham", "spam"]); // "spam"
 * labelFromGeneration("I am not sure", ["ham", "spam"]);            // undefined
 */
export function labelFromGeneration(text: string, labels: readonly string[]): string | undefined {
  const words = answerTokens(text);
  let best: { label: string; at: number; len: number } | undefined;
  for (const label of labels) {
    const lw = answerTokens(label);
    if (lw.length === 0) continue;
    for (let i = 0; i + lw.length <= words.length; i++) {
      if (best && i > best.at) break;
      if (lw.every((w, k) => words[i + k] === w)) {
        if (!best || i < best.at || (i === best.at && lw.length > best.len)) best = { label, at: i, len: lw.length };
        break;
      }
    }
  }
  return best?.label;
}

/**
 * Share of predictions equal to the gold label (an undefined prediction counts as wrong).
 * @example
 * accuracy(["spam", undefined, "ham"], ["spam", "ham", "spam"]); // 1/3
 */
export function accuracy(predicted: readonly (string | undefined)[], gold: readonly string[]): number {
  if (predicted.length !== gold.length)
    throw new Error(`accuracy: ${predicted.length} predictions for ${gold.length} gold labels`);
  if (gold.length === 0) throw new Error("accuracy: no examples");
  return predicted.filter((p, i) => p !== undefined && p === gold[i]).length / gold.length;
}

/**
 * The majority-class rate: the accuracy of always answering the most frequent label (the bar a classifier
 * must clear), with that label.
 * @example
 * majorityBaseline(["ham", "ham", "spam"]); // { label: "ham", rate: 0.667 }
 */
export function majorityBaseline(gold: readonly string[]): { label: string; rate: number } {
  if (gold.length === 0) throw new Error("majorityBaseline: no labels");
  const counts = new Map<string, number>();
  for (const g of gold) counts.set(g, (counts.get(g) ?? 0) + 1);
  const [label, n] = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  return { label, rate: n / gold.length };
}

/** The log-likelihood of one example's scored tokens. */
export interface TokenScore {
  /** Σ log p over the scored tokens (natural log, ≤ 0). */
  logProb: number;
  /** Scored tokens. */
  tokens: number;
}

/**
 * Token-weighted perplexity of a set: `exp(−Σ logProb / Σ tokens)`.
 * @example
 * perplexity([{ logProb: -2, tokens: 1 }, { logProb: -4, tokens: 3 }]); // exp(6/4) ≈ 4.48
 */
export function perplexity(scores: readonly TokenScore[]): number {
  let lp = 0;
  let n = 0;
  for (const s of scores) {
    if (!Number.isFinite(s.logProb) || !(s.tokens >= 0))
      throw new Error(`perplexity: bad score ${JSON.stringify(s)} (expected a finite logProb and tokens ≥ 0)`);
    lp += s.logProb;
    n += s.tokens;
  }
  if (n === 0) throw new Error("perplexity: no scored tokens");
  return Math.exp(-lp / n);
}

/** Mean of numbers (NaN for none). */
export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}
