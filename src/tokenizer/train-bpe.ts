/**
 * Training a byte-level BPE tokenizer (Sennrich et al. 2016; GPT-2's byte-level variant) and writing it as a
 * Hugging Face `tokenizer.json` — how the embedded default model's tokenizer is made.
 *
 * 1. Count words: NFC-normalise, cut out special tokens, split with the GPT-2 pattern, map bytes to the
 *    byte-level alphabet, and count each distinct piece once (`Map<piece, count>`).
 * 2. Merge: start from the 256 byte symbols; repeatedly merge the most frequent adjacent pair (ties: the pair
 *    of smaller ids first) until the vocabulary is full or the best pair is rarer than `minFrequency`.
 *    Pair counts are kept incrementally: only the words that contain the merged pair are re-counted, and a
 *    lazy max-heap finds the best pair, so a 5 MB corpus trains in seconds, not hours.
 * The result loads with `tokenizerFromJSON` and in Python's `tokenizers.Tokenizer.from_str`.
 */
import { byteLevelAlphabet, byteLevelPieces } from "./byte-level";
import { TokenizerError } from "./types";

/** Trainer options. */
export interface TrainBPEOptions {
  /** Final vocabulary size, special tokens and the 256 byte symbols included. */
  vocabSize: number;
  /** A pair seen fewer times than this is never merged (fewer merges on small corpora). */
  minFrequency?: number;
  /** Special tokens, given ids 0, 1, ... in this order; never split, never learned from the text. */
  specialTokens?: string[];
}

export const DEFAULT_TRAIN_BPE: Required<Omit<TrainBPEOptions, "vocabSize">> = {
  minFrequency: 2, // a pair seen once is noise, not a pattern
  specialTokens: ["<|endoftext|>", "<|padding|>"], // Pythia's ids: eos/bos 0, pad 1
};

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Step 1: distinct byte-level pieces and how often each occurs. */
function countWords(texts: Iterable<string>, specials: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  const cut = specials.length ? new RegExp(specials.map(escapeRe).join("|"), "g") : null;
  let i = 0;
  for (const text of texts) {
    if (typeof text !== "string")
      throw new TokenizerError(`trainByteLevelBPE: text ${i} is ${typeof text}, expected a string`);
    const parts = cut ? text.normalize("NFC").split(cut) : [text.normalize("NFC")];
    for (const part of parts) for (const w of byteLevelPieces(part)) counts.set(w, (counts.get(w) ?? 0) + 1);
    i++;
  }
  return counts;
}

/** A max-heap of [count, pairKey] with stale entries (re-checked against the live counts when popped). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  private better(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number): void {
    let i = this.keys.length;
    this.counts.push(count);
    this.keys.push(key);
    while (i > 0 && this.better(i, (i - 1) >> 1)) {
      this.swap(i, (i - 1) >> 1);
      i = (i - 1) >> 1;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastC = this.counts.pop()!,
      lastK = this.keys.pop()!;
    if (this.keys.length) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      for (let i = 0; ; ) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < this.keys.length && this.better(l, m)) m = l;
        if (r < this.keys.length && this.better(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

const SHIFT = 2 ** 21; // pair key = a * SHIFT + b (ids below 2M)

/**
 * Train a byte-level BPE tokenizer and return its `tokenizer.json` object (NFC normaliser, ByteLevel
 * pre-tokenizer/decoder/post-processor, special tokens as added tokens, `BPE` model with vocab and merges).
 * Deterministic: the same texts and options give the same JSON.
 * @example
 * const json = trainByteLevelBPE(lines, { vocabSize: 4096 });
 * fs.writeFileSync("data/default-model/tokenizer.json", JSON.stringify(json));
 * tokenizerFromJSON(json).encode("the cat"); // a few ids
 */
export function trainByteLevelBPE(texts: Iterable<string>, options: TrainBPEOptions): Record<string, unknown> {
  const o = { ...DEFAULT_TRAIN_BPE, ...options };
  const specials = [...o.specialTokens];
  if (new Set(specials).size !== specials.length || specials.some((s) => typeof s !== "string" || s === ""))
    throw new TokenizerError(
      `trainByteLevelBPE: specialTokens must be distinct non-empty strings, found ${JSON.stringify(specials)}`,
    );
  const base = specials.length + 256;
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < base || o.vocabSize >= SHIFT)
    throw new TokenizerError(
      `trainByteLevelBPE: vocabSize must be an integer from ${base} (specials + 256 bytes) to ${SHIFT - 1}, found ${o.vocabSize}`,
    );
  if (!(o.minFrequency >= 1))
    throw new TokenizerError(`trainByteLevelBPE: minFrequency must be at least 1, found ${o.minFrequency}`);

  const symbols: string[] = [...specials, ...byteLevelAlphabet()]; // id → token string
  const idOf = new Map(symbols.map((t, i) => [t, i] as [string, number]));
  const byteId = new Map(byteLevelAlphabet().map((c, i) => [c, specials.length + i] as [string, number]));
  const counted = countWords(texts, specials);
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [w, f] of [...counted].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    words.push([...w].map((c) => byteId.get(c)!));
    freqs.push(f);
  }

  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>(); // pair → words that may contain it (may be stale)
  const addPairs = (wi: number, sign: 1 | -1, touched?: Set<number>) => {
    const w = words[wi];
    for (let i = 0; i + 1 < w.length; i++) {
      const key = w[i] * SHIFT + w[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freqs[wi]);
      if (sign > 0) {
        let s = where.get(key);
        if (!s) where.set(key, (s = new Set()));
        s.add(wi);
        touched?.add(key);
      }
    }
  };
  words.forEach((_, wi) => addPairs(wi, 1));
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: string[] = [];
  while (symbols.length < o.vocabSize && heap.size) {
    const [c, key] = heap.pop();
    const live = pairCount.get(key) ?? 0;
    if (c !== live) {
      if (live > 0) heap.push(live, key);
      continue;
    } // stale entry
    if (live < o.minFrequency) break;
    const a = Math.floor(key / SHIFT),
      b = key % SHIFT;
    const token = symbols[a] + symbols[b];
    let id = idOf.get(token); // another merge order may already have made this string: reuse its id
    if (id === undefined) {
      id = symbols.length;
      symbols.push(token);
      idOf.set(token, id);
    }
    merges.push(`${symbols[a]} ${symbols[b]}`);
    const touched = new Set<number>();
    for (const wi of where.get(key) ?? []) {
      const w = words[wi];
      let has = false;
      for (let i = 0; i + 1 < w.length && !has; i++) has = w[i] === a && w[i + 1] === b;
      if (!has) continue;
      addPairs(wi, -1);
      const merged: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          merged.push(id!);
          i++;
        } else merged.push(w[i]);
      }
      words[wi] = merged;
      addPairs(wi, 1, touched);
    }
    pairCount.delete(key);
    where.delete(key);
    for (const t of touched) {
      const n = pairCount.get(t)!;
      if (n > 0) heap.push(n, t);
    }
  }

  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: "NFC" },
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel },
    decoder: { ...byteLevel },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(symbols.map((s, i) => [s, i])),
      merges,
    },
  };
}
