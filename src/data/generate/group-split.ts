/**
 * Train/test splits that keep related pairs together. Expansion makes several pairs from one source (a seed
 * pair's paraphrases, a section's questions, a model's answer to a seed question): if some land in train and
 * others in test, the test set measures recall of near-copies, not generalisation. `splitByGroup` puts whole
 * groups on one side; `sourceGroup` names the group of a pair from its provenance.
 */
import { Rng } from "../../runtime/seed";

/**
 * The group of a pair: the seed or section it was made from (`provenance.sourceId` of template pairs and of
 * model answers to a given question), else its own id. Few-shot model pairs are new questions: their own group.
 *
 * @example
 * sourceGroup({ id: "s1~para.wrap.quick", provenance: { method: "template", template: "para.wrap.quick", seed: 0, sourceId: "s1" } }); // "s1"
 */
export function sourceGroup(item: { id?: string | number; provenance?: unknown }): string {
  const p = item.provenance as { method?: string; sourceId?: string; generator?: string } | undefined;
  if (p && typeof p.sourceId === "string" && (p.method === "template" || p.method === "seed")) return p.sourceId;
  if (
    p &&
    p.method === "model" &&
    typeof p.sourceId === "string" &&
    !p.sourceId.includes(",") &&
    !String(item.id ?? "").startsWith("gen~")
  )
    return p.sourceId;
  if (item.id === undefined)
    throw new Error(
      `sourceGroup: item has neither a provenance.sourceId nor an id: ${JSON.stringify(item).slice(0, 120)}`,
    );
  return String(item.id);
}

export interface GroupSplitOptions<T> {
  /** The group of an item (default: `sourceGroup`). */
  group?: (item: T) => string;
  /** Share of ITEMS that go to test, in (0, 1); reached by whole groups, so it is approximate. */
  testFraction?: number;
  seed?: number;
}

export const DEFAULT_GROUP_SPLIT = { testFraction: 0.1, seed: 0 };

/**
 * Split so that no group has items on both sides. Groups are drawn in a seeded random order into the test set
 * until it holds at least `round(n × testFraction)` items. Both parts keep the input order.
 *
 * @example
 * const { train, test } = splitByGroup(pairs, { testFraction: 0.1, seed: 0 });
 */
export function splitByGroup<T>(
  items: readonly T[],
  options: GroupSplitOptions<T> = {},
): { train: T[]; test: T[]; testGroups: string[] } {
  const o = { ...DEFAULT_GROUP_SPLIT, ...options };
  if (!(o.testFraction > 0 && o.testFraction < 1))
    throw new RangeError(`splitByGroup: testFraction must be in (0, 1), got ${o.testFraction}`);
  const group = o.group ?? ((x: T) => sourceGroup(x as { id?: string; provenance?: unknown }));
  const keys = items.map((x) => group(x));
  const sizes = new Map<string, number>();
  for (const k of keys) sizes.set(k, (sizes.get(k) ?? 0) + 1);
  const order = new Rng(o.seed).shuffle([...sizes.keys()].sort());
  const want = Math.round(items.length * o.testFraction);
  const testGroups = new Set<string>();
  let n = 0;
  for (const g of order) {
    if (n >= want) break;
    testGroups.add(g);
    n += sizes.get(g)!;
  }
  const train: T[] = [];
  const test: T[] = [];
  items.forEach((x, i) => (testGroups.has(keys[i]) ? test : train).push(x));
  return { train, test, testGroups: [...testGroups] };
}
