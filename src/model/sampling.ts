/**
 * Choosing the next token from one row of logits, in plain JavaScript (a row is `vocabSize` floats; reading
 * it once per step costs far less than the forward pass). Hugging Face semantics and order:
 * repetition penalty → temperature → top-k → top-p → softmax → multinomial draw (or argmax when greedy).
 *
 * Reference: `RepetitionPenaltyLogitsProcessor`, `TemperatureLogitsWarper`, `TopKLogitsWarper`,
 * `TopPLogitsWarper` in transformers' `generation/logits_process.py`.
 */
import type { Rng } from "../runtime/seed";

/** How to pick tokens. */
export interface SamplingOptions {
  /** Sample from the distribution (true) or take the most likely token (false, greedy). */
  doSample: boolean;
  /** Divide logits by this (> 0); below 1 sharpens, above 1 flattens. Sampling only. */
  temperature: number;
  /** Keep only the k most likely tokens (0 = off). Sampling only. */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). Sampling only. */
  topP: number;
  /** > 1 discourages tokens already in the sequence (CTRL paper; 1 = off). Greedy and sampling. */
  repetitionPenalty: number;
}

export const DEFAULT_SAMPLING: SamplingOptions = {
  doSample: false, // greedy, as HF's generate defaults to: reproducible
  temperature: 1, // the model's own distribution
  topK: 0, // off (HF's generation config defaults to 50; set it explicitly when sampling)
  topP: 1, // off
  repetitionPenalty: 1, // off
};

/** Check sampling options; errors name the option and the allowed range. */
export function validateSampling(o: SamplingOptions): void {
  if (!(o.temperature > 0) || !Number.isFinite(o.temperature))
    throw new Error(`temperature must be a number > 0, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new Error(`topK must be an integer >= 0 (0 = off), got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new Error(`topP must be in (0, 1], got ${o.topP}`);
  if (!(o.repetitionPenalty > 0) || !Number.isFinite(o.repetitionPenalty)) {
    throw new Error(`repetitionPenalty must be a number > 0 (1 = off), got ${o.repetitionPenalty}`);
  }
}

/**
 * HF's repetition penalty, in place: for each distinct token already present, a positive score is divided by
 * `penalty` and a negative one multiplied by it.
 *
 * @example
 * applyRepetitionPenalty(scores, [5, 5, 9], 1.3);
 */
export function applyRepetitionPenalty(scores: Float32Array, tokens: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(tokens)) {
    if (id < 0 || id >= scores.length) continue;
    const s = scores[id];
    scores[id] = s < 0 ? s * penalty : s / penalty;
  }
}

/** Keep the `k` highest scores (ties with the k-th kept, as HF), set the rest to −∞; in place. */
export function topKFilter(scores: Float32Array, k: number): void {
  if (k <= 0 || k >= scores.length) return;
  const sorted = Float32Array.from(scores).sort(); // ascending
  const kth = sorted[sorted.length - k];
  for (let i = 0; i < scores.length; i++) if (scores[i] < kth) scores[i] = -Infinity;
}

/**
 * Nucleus filtering as HF: sort ascending, cumulative softmax; drop tokens whose cumulative probability is
 * ≤ 1 − p, always keeping the most likely `minKeep`; in place.
 */
export function topPFilter(scores: Float32Array, p: number, minKeep = 1): void {
  if (p >= 1) return;
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] !== -Infinity) idx.push(i);
  idx.sort((a, b) => scores[a] - scores[b] || b - a); // ascending
  const probs = softmaxOf(idx.map((i) => scores[i]));
  let cum = 0;
  for (let r = 0; r < idx.length - minKeep; r++) {
    cum += probs[r];
    if (cum <= 1 - p) scores[idx[r]] = -Infinity;
  }
}

function softmaxOf(xs: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i] > max) max = xs[i];
  const out = new Float64Array(xs.length);
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += out[i] = xs[i] === -Infinity ? 0 : Math.exp(xs[i] - max);
  for (let i = 0; i < xs.length; i++) out[i] /= sum;
  return out;
}

/** Probabilities of a row of scores (float64; −∞ → 0). */
export function softmax(scores: ArrayLike<number>): Float64Array {
  return softmaxOf(scores);
}

/** Index of the largest score (the first one on ties, as torch.argmax). */
export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** Draw an index with probability `probs[i]` using one `rng.next()`. */
export function sampleIndex(probs: ArrayLike<number>, rng: Rng): number {
  const u = rng.next();
  let cum = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    cum += probs[i];
    last = i;
    if (u < cum) return i;
  }
  return last; // rounding: u ≥ the total
}

/**
 * Pick the next token from one row of logits (not modified). `previous` are the ids already in the sequence
 * (for the repetition penalty).
 *
 * @example
 * const id = nextToken(row, [12, 7], { ...DEFAULT_SAMPLING, doSample: true, topK: 50 }, new Rng(0));
 */
export function nextToken(logits: Float32Array, previous: Iterable<number>, opts: SamplingOptions, rng: Rng): number {
  const scores = Float32Array.from(logits);
  applyRepetitionPenalty(scores, previous, opts.repetitionPenalty);
  if (!opts.doSample) return argmax(scores);
  if (opts.temperature !== 1) for (let i = 0; i < scores.length; i++) scores[i] /= opts.temperature;
  topKFilter(scores, opts.topK);
  topPFilter(scores, opts.topP);
  return sampleIndex(softmax(scores), rng);
}
