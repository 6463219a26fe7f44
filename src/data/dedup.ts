/**
 * Deduplication of a dataset, in two passes over the items in order (the first occurrence is kept):
 *
 * 1. **Exact after normalisation**: Unicode NFC, lower case, punctuation and symbols removed, white space
 *    collapsed — "What is X?" and "what is  x" are the same item.
 * 2. **Near duplicates**: the Jaccard similarity of n-gram sets (word 3-grams by default, or character
 *    5-grams), found with MinHash signatures and LSH banding (Broder 1997; Leskovec, Rajaraman & Ullman,
 *    "Mining of Massive Datasets", ch. 3) so that 10k items are compared in well under a second; every LSH
 *    candidate is then checked with the exact Jaccard, so a pair is only removed for a real similarity ≥ threshold.
 *    Items are compared with the items already kept, so near-duplicate chains do not cascade.
 *
 * The report says which kept item each removed one duplicated, and how similar they were.
 */
import { hashString } from "./generate/text";

export interface DedupOptions<T> {
  /** The text compared for an item (default: `defaultDedupKey`, i.e. question + answer, or a string item itself). */
  key?: (item: T) => string;
  /** Also remove near duplicates (false = exact only). */
  near?: boolean;
  /** Jaccard similarity at or above which two items are near duplicates. */
  threshold?: number;
  /** Shingles: word n-grams or character n-grams. */
  unit?: "word" | "char";
  /** n of the n-grams (default 3 for words, 5 for characters). */
  n?: number;
  /** MinHash signature length = bands × rows. */
  bands?: number;
  rows?: number;
  /** Seed of the MinHash functions. */
  seed?: number;
}

export const DEFAULT_DEDUP = {
  near: true,
  threshold: 0.8, // 80% shared n-grams: a reworded copy, not a different item on the same topic
  unit: "word" as "word" | "char",
  bands: 32, // 32 bands of 4 rows: a pair at J = 0.8 becomes a candidate with probability > 0.99999
  rows: 4,
  seed: 0,
};

/** One removed item. */
export interface DuplicateRecord<T> {
  index: number;
  item: T;
  /** Index (in the input) of the kept item it duplicates. */
  duplicateOf: number;
  kind: "exact" | "near";
  /** Jaccard similarity of their n-gram sets (1 for exact duplicates). */
  similarity: number;
}

export interface DedupResult<T> {
  kept: T[];
  keptIndices: number[];
  removed: DuplicateRecord<T>[];
  counts: { input: number; exact: number; near: number; kept: number };
}

/** Text used to compare an item: a string itself; `question`+`answer`, `instruction`+`input`+`output`, or `text`. */
export function defaultDedupKey(item: unknown): string {
  if (typeof item === "string") return item;
  if (item && typeof item === "object") {
    const r = item as Record<string, unknown>;
    const parts = ["question", "instruction", "input", "text", "answer", "output", "label"]
      .filter((f) => typeof r[f] === "string")
      .map((f) => r[f] as string);
    if (parts.length) return parts.join("\n");
  }
  throw new TypeError(`dedup: cannot read text from ${JSON.stringify(item)?.slice(0, 80)}; pass options.key`);
}

/**
 * NFC, lower case, punctuation and symbols dropped, white space collapsed.
 *
 * @example
 * normalizeText("  What IS a Tensor?! ");  // "what is a tensor"
 */
export function normalizeText(s: string): string {
  return s
    .normalize("NFC")
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, " ")
    .replace(/\s+/gu, " ")
    .trim();
}

/**
 * The set of n-grams of a normalised text (a text shorter than n gives one shingle: itself).
 *
 * @example
 * shingles("the cat sat on the mat", "word", 3); // Set {"the cat sat", "cat sat on", "sat on the", "on the mat"}
 */
export function shingles(text: string, unit: "word" | "char" = "word", n = unit === "word" ? 3 : 5): Set<string> {
  const norm = normalizeText(text);
  const toks = unit === "word" ? norm.split(" ").filter(Boolean) : [...norm];
  const out = new Set<string>();
  if (toks.length === 0) return out;
  if (toks.length <= n) {
    out.add(toks.join(unit === "word" ? " " : ""));
    return out;
  }
  for (let i = 0; i + n <= toks.length; i++) out.add(toks.slice(i, i + n).join(unit === "word" ? " " : ""));
  return out;
}

/** |A ∩ B| / |A ∪ B| (1 for two empty sets). */
export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  let inter = 0;
  for (const x of small) if (big.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** murmur3's 32-bit finaliser: a cheap, well-mixed hash of an integer. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MinHash signature: for each of k seeded hash functions, the smallest hash over the shingles. */
export function minhash(sh: Set<string>, k: number, seed = 0): Uint32Array {
  const sig = new Uint32Array(k).fill(0xffffffff);
  const salts = Array.from({ length: k }, (_, i) => mix((seed * 0x9e3779b1 + i * 0x7f4a7c15 + 1) >>> 0));
  for (const s of sh) {
    const base = hashString(s);
    for (let i = 0; i < k; i++) {
      const h = mix(base ^ salts[i]);
      if (h < sig[i]) sig[i] = h;
    }
  }
  return sig;
}

/**
 * Remove exact (after normalisation) and near duplicates; keep the first occurrence.
 *
 * @example
 * const { kept, removed, counts } = dedup(pairs, { key: (p) => p.question, threshold: 0.7 });
 * removed.forEach((r) => console.log(r.index, "duplicates", r.duplicateOf, r.kind, r.similarity.toFixed(2)));
 */
export function dedup<T>(items: readonly T[], options: DedupOptions<T> = {}): DedupResult<T> {
  const o = { ...DEFAULT_DEDUP, ...options };
  const n = o.n ?? (o.unit === "word" ? 3 : 5);
  if (!(o.threshold > 0 && o.threshold <= 1))
    throw new RangeError(`dedup: threshold must be in (0, 1], got ${o.threshold}`);
  if (o.unit !== "word" && o.unit !== "char")
    throw new RangeError(`dedup: unit must be "word" or "char", got ${JSON.stringify(o.unit)}`);
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`dedup: n must be an integer >= 1, got ${n}`);
  if (!(Number.isInteger(o.bands) && o.bands >= 1 && Number.isInteger(o.rows) && o.rows >= 1))
    throw new RangeError(`dedup: bands and rows must be integers >= 1, got ${o.bands} and ${o.rows}`);
  const key = o.key ?? (defaultDedupKey as (item: T) => string);

  const exactSeen = new Map<string, number>();
  const buckets = new Map<string, number[]>();
  const keptShingles = new Map<number, Set<string>>();
  const kept: T[] = [];
  const keptIndices: number[] = [];
  const removed: DuplicateRecord<T>[] = [];
  let exact = 0;
  let near = 0;
  items.forEach((item, index) => {
    const text = key(item);
    if (typeof text !== "string")
      throw new TypeError(`dedup: the key of item ${index} is ${typeof text}, expected a string`);
    const norm = normalizeText(text);
    const first = exactSeen.get(norm);
    if (first !== undefined) {
      exact++;
      removed.push({ index, item, duplicateOf: first, kind: "exact", similarity: 1 });
      return;
    }
    exactSeen.set(norm, index);
    let bandKeys: string[] = [];
    if (o.near) {
      const sh = shingles(norm, o.unit, n);
      const sig = minhash(sh, o.bands * o.rows, o.seed);
      bandKeys = Array.from(
        { length: o.bands },
        (_, b) => `${b}:${Array.from(sig.subarray(b * o.rows, (b + 1) * o.rows)).join(",")}`,
      );
      const candidates = new Set<number>();
      for (const bk of bandKeys) for (const c of buckets.get(bk) ?? []) candidates.add(c);
      let best = -1;
      let bestSim = 0;
      for (const c of [...candidates].sort((a, b) => a - b)) {
        const sim = jaccard(sh, keptShingles.get(c)!);
        if (sim > bestSim) [best, bestSim] = [c, sim];
      }
      if (best >= 0 && bestSim >= o.threshold) {
        near++;
        removed.push({ index, item, duplicateOf: best, kind: "near", similarity: bestSim });
        return;
      }
      keptShingles.set(index, sh);
      for (const bk of bandKeys) {
        const list = buckets.get(bk);
        if (list) list.push(index);
        else buckets.set(bk, [index]);
      }
    }
    kept.push(item);
    keptIndices.push(index);
  });
  return { kept, keptIndices, removed, counts: { input: items.length, exact, near, kept: kept.length } };
}
