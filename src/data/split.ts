/**
 * Seeded splits and subsets. Both draw one permutation from the seeded `Rng`, so the same items and the same
 * seed give the same result on every machine.
 *
 * - `splitTrainTest`: a held-out test set (optionally stratified, so every class keeps its share). Both parts
 *   keep the input order, which keeps committed files stable and diffs readable.
 * - `nestedSubsets`: subsets of growing size for the "how much data do I need?" sweep. They are nested — each
 *   contains every smaller one — so a curve over them measures the amount of data, not a change of examples.
 */
import { Rng } from "../runtime/seed";

/** Options of `splitTrainTest`, merged over `DEFAULT_SPLIT`. */
export interface SplitOptions<T = unknown> {
  /** Share of items that go to the test set, in (0, 1). */
  testFraction: number;
  seed: number;
  /** Class of an item: each class is split on its own, so the test set has the same class balance. */
  stratify?: (item: T) => string;
}

export const DEFAULT_SPLIT: Readonly<SplitOptions> = { testFraction: 0.1, seed: 0 };

/**
 * Split items into train and test. The test part of each group is `round(n × testFraction)` items.
 * @example
 * const { train, test } = splitTrainTest(records, { testFraction: 0.1, seed: 42 });
 */
export function splitTrainTest<T>(
  items: readonly T[],
  options: Partial<SplitOptions<T>> = {},
): { train: T[]; test: T[] } {
  const o = { ...DEFAULT_SPLIT, ...options } as SplitOptions<T>;
  if (!Array.isArray(items)) throw new Error(`splitTrainTest: expected an array of items, found ${typeof items}`);
  if (!(o.testFraction > 0 && o.testFraction < 1))
    throw new Error(`splitTrainTest: testFraction must be in (0, 1), found ${o.testFraction}`);
  if (!Number.isInteger(o.seed)) throw new Error(`splitTrainTest: seed must be an integer, found ${o.seed}`);
  const groups = new Map<string, number[]>();
  items.forEach((it, i) => {
    const k = o.stratify ? o.stratify(it) : "";
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(i);
  });
  const rng = new Rng(o.seed);
  const inTest = new Uint8Array(items.length);
  for (const k of [...groups.keys()].sort()) {
    const idx = rng.shuffle(groups.get(k)!.slice());
    const nTest = Math.round(idx.length * o.testFraction);
    for (const i of idx.slice(0, nTest)) inTest[i] = 1;
  }
  const train: T[] = [];
  const test: T[] = [];
  items.forEach((it, i) => (inTest[i] ? test : train).push(it));
  return { train, test };
}

/** One subset of `nestedSubsets`. */
export interface Subset<T> {
  /** The requested share of the items. */
  fraction: number;
  /** `items.length`: `max(1, round(n × fraction))`. */
  size: number;
  items: T[];
}

/** The default sweep: 10, 25, 50 and 100 % of the data. */
export const DEFAULT_SUBSET_FRACTIONS: readonly number[] = [0.1, 0.25, 0.5, 1];

/**
 * Nested, seeded subsets: one permutation, and each subset is a prefix of it (so each contains the smaller
 * ones). Items inside a subset are in permutation order.
 * @example
 * const subsets = nestedSubsets(train, [0.1, 0.25, 0.5, 1], 0);
 * subsets.map((s) => s.size); // e.g. [126, 315, 630, 1260]
 */
export function nestedSubsets<T>(
  items: readonly T[],
  fractions: readonly number[] = DEFAULT_SUBSET_FRACTIONS,
  seed = 0,
): Subset<T>[] {
  if (!Array.isArray(items) || items.length === 0)
    throw new Error("nestedSubsets: expected a non-empty array of items");
  for (const f of fractions)
    if (!(f > 0 && f <= 1)) throw new Error(`nestedSubsets: each fraction must be in (0, 1], found ${f}`);
  const order = new Rng(seed).shuffle(items.map((_, i) => i));
  return [...fractions]
    .sort((a, b) => a - b)
    .map((fraction) => {
      const size = Math.max(1, Math.round(items.length * fraction));
      return { fraction, size, items: order.slice(0, size).map((i) => items[i]) };
    });
}

/**
 * `n` items drawn at random without replacement (seeded), e.g. to look at a few rows of a file whose order
 * is not random. Returns all items (shuffled) when `n` ≥ their number.
 * @example
 * show(table(sampleItems(ds.train, 5, 0)));
 */
export function sampleItems<T>(items: readonly T[], n: number, seed = 0): T[] {
  if (!Array.isArray(items)) throw new Error(`sampleItems: expected an array of items, found ${typeof items}`);
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`sampleItems: n must be a non-negative integer, found ${n}`);
  return new Rng(seed).shuffle(items.slice()).slice(0, n);
}
