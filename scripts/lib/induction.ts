/**
 * The embedded model's second pretraining stage: teach it to copy (grow induction heads), so that fine-tuning
 * can teach it to extract a span from its prompt (issue 5; docs/embedded-model.md has every experiment).
 *
 * Plain-text pretraining on 0.75M tokens leaves a model that cannot copy: the loss on the second occurrence of
 * a repeated passage is no lower than on the first. Two phases, measured on this CPU:
 *
 * - **copy**: 80 % spans of random token ids repeated four times (only copying predicts the repeats; chance
 *   is ln 4000 ≈ 8.3 nats) and 20 % 32-token windows of the training text. Nothing happens for ~700 steps,
 *   then the loss on the repeats falls from ≈ 7 to < 1 within a few hundred steps (the "phase change").
 *   The copying it learns is specific to random ids: repeated book text or e-mail headers are no easier the
 *   second time.
 * - **transfer**: 35 % passages of training text repeated after a gap of 0–24 tokens of other text, 20 %
 *   random "word salad" strings (e-mail addresses and product codes look like this to a tokenizer trained on
 *   books) repeated the same way, 20 % random spans as before, 25 % plain 96-token windows. The copying
 *   carries over to text within ~50 steps (loss on a repeated passage 5.3 → 3.3, on a random string
 *   9.9 → 1.3), and the plain-text loss holds.
 *
 * Evaluated on held-out data only: random spans from another seed, repeats of held-out documents' text, and
 * plain windows of held-out documents.
 */
import { Rng } from "../../src/runtime/seed";
import type { TokenizedExample } from "../../src/types/example";

export const RANDOM_IDS = 4000; // ids 2..4001: no special tokens (0 = <|endoftext|>, 1 = <|padding|>)

/**
 * A span of `minSpan..maxSpan` random ids repeated `repeats` times. Training scores every repetition after the
 * first; `scoreOnlySecond` (evaluation) scores the second copy after its first token (nothing announces it).
 */
export function repeatedSpan(
  rng: Rng,
  repeats: number,
  minSpan: number,
  maxSpan: number,
  scoreOnlySecond = false,
): TokenizedExample {
  const L = minSpan + Math.floor(rng.next() * (maxSpan - minSpan + 1));
  const span = Array.from({ length: L }, () => 2 + Math.floor(rng.next() * RANDOM_IDS));
  const inputIds = Array.from({ length: repeats }, () => span).flat();
  // labels are not shifted (the loss shifts them): the label at i is what the prediction at i − 1 is scored on.
  const labels = inputIds.map((t, i) => ((scoreOnlySecond ? i > L && i < 2 * L : i >= L) ? t : -100));
  return { inputIds, labels };
}

/** A window of `n` consecutive ids at a random offset. */
export function textWindow(rng: Rng, ids: readonly number[], n: number): number[] {
  const s = Math.floor(rng.next() * (ids.length - n));
  return ids.slice(s, s + n);
}

/**
 * A passage, a gap, then the passage again: a 0–32-token lead-in of text, a 12–40-token passage, up to `maxGap`
 * tokens of other text, and the passage repeated. The passage is either text (`passage` absent) or the ids
 * given. Training scores every token (language modelling on the text, copying on the repeat);
 * `scoreOnlyRepeat` (evaluation) scores the repeat after its first token.
 */
export function repeatedText(
  rng: Rng,
  ids: readonly number[],
  scoreOnlyRepeat = false,
  maxGap = 0,
  passage?: number[],
): TokenizedExample {
  const lead = Math.floor(rng.next() * 33);
  const L = passage ? passage.length : 12 + Math.floor(rng.next() * 29);
  const gap = maxGap > 0 ? Math.floor(rng.next() * (maxGap + 1)) : 0; // (no draw without a gap: the probes stay as they were)
  const w = textWindow(rng, ids, lead + L + gap);
  const body = passage ?? w.slice(lead, lead + L);
  const first = [...w.slice(0, lead), ...body, ...w.slice(lead + L, lead + L + gap)];
  const inputIds = [...first, ...body];
  const labels = inputIds.map((t, i) => (!scoreOnlyRepeat || i > first.length ? t : -100));
  return { inputIds, labels };
}

const CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@:/[]()!?$%&#'\"";
/**
 * A random "word salad" string — 2–7 words of 1–10 random letters, digits or punctuation — as text: e-mail
 * addresses, list tags and product codes look like this to a tokenizer trained on books (many short pieces,
 * often the same piece twice), which copying must handle as well as whole words.
 */
export function randomString(rng: Rng): string {
  const words = 2 + Math.floor(rng.next() * 6);
  const out: string[] = [];
  for (let w = 0; w < words; w++) {
    const n = 1 + Math.floor(rng.next() * 10);
    let word = "";
    for (let i = 0; i < n; i++) word += CHARS[Math.floor(rng.next() * CHARS.length)];
    out.push(word);
  }
  return " " + out.join(" ");
}

export interface InductionMix {
  /** share of random repeated spans (ids) */
  random: number;
  /** share of text passages repeated after a gap */
  naturalRepeat: number;
  /** share of random strings (tokenized) repeated after a gap */
  stringRepeat: number;
  /** most tokens of other text between a passage and its repeat */
  maxGap: number;
  /** length of the plain text windows (the rest of the mix) */
  textWindow: number;
}

export const COPY_PHASE: InductionMix = { random: 0.8, naturalRepeat: 0, stringRepeat: 0, maxGap: 0, textWindow: 32 };
export const TRANSFER_PHASE: InductionMix = {
  random: 0.2,
  naturalRepeat: 0.35,
  stringRepeat: 0.2,
  maxGap: 24,
  textWindow: 96,
};

/** `n` training sequences of a phase's mix, drawn from the training token stream. */
export function inductionExamples(
  rng: Rng,
  ids: readonly number[],
  mix: InductionMix,
  n: number,
  encode?: (s: string) => number[],
): TokenizedExample[] {
  if (mix.stringRepeat > 0 && !encode)
    throw new Error("inductionExamples: a mix with random strings needs the tokenizer's encode");
  const out: TokenizedExample[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    if (u < mix.random) out.push(repeatedSpan(rng, 4, 6, 12));
    else if (u < mix.random + mix.naturalRepeat) out.push(repeatedText(rng, ids, false, mix.maxGap));
    else if (u < mix.random + mix.naturalRepeat + mix.stringRepeat)
      out.push(repeatedText(rng, ids, false, mix.maxGap, encode!(randomString(rng)).slice(0, 40)));
    else out.push({ inputIds: textWindow(rng, ids, mix.textWindow) });
  }
  return out;
}

/**
 * The held-out probes: copying random ids, copying held-out text, copying random strings after a gap (`encode`
 * given), and plain held-out text.
 */
export function inductionProbes(heldOutIds: readonly number[], seed: number, encode?: (s: string) => number[]): Probes {
  const rng = new Rng(seed);
  const probes: Probes = {
    randomCopy: Array.from({ length: 16 }, () => repeatedSpan(rng, 2, 6, 12, true)),
    textCopy: Array.from({ length: 24 }, () => repeatedText(rng, heldOutIds, true)),
    text: Array.from({ length: 16 }, (_, k) => ({ inputIds: heldOutIds.slice(k * 2000, k * 2000 + 128) })),
  };
  if (encode) {
    const r2 = new Rng(seed + 1);
    probes.stringCopy = Array.from({ length: 24 }, () =>
      repeatedText(r2, heldOutIds, true, 24, encode(randomString(r2)).slice(0, 40)),
    );
  }
  return probes;
}

export interface Probes {
  randomCopy: TokenizedExample[];
  textCopy: TokenizedExample[];
  stringCopy?: TokenizedExample[];
  text: TokenizedExample[];
}
