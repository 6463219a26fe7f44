/**
 * Seeded randomness: one small, fast PRNG (mulberry32) used wherever tunebook draws numbers itself
 * (data shuffles, splits, sampling, initialisation, LoRA dropout masks), so the same seed gives the same
 * result. Its whole state is one uint32 (`rng.state`): a training checkpoint saves it, and a generator
 * restored from it continues with exactly the numbers the original would have drawn.
 */

/**
 * A seeded generator of floats in [0, 1). State is one uint32, so it can be saved and restored.
 *
 * @example
 * const rng = new Rng(42);
 * const a = rng.next();           // the same first number on every machine for seed 42
 * const saved = rng.state;        // restore with `new Rng(0)` then `rng.state = saved`
 */
export class Rng {
  state: number;
  constructor(seed = 0) {
    this.state = seed >>> 0;
  }
  /** Next float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

/**
 * One uint32 seed from several numbers (murmur3's mixing and finaliser), for independent streams from one
 * user seed: `deriveSeed(seed, layer, STREAM)` differs per layer and per purpose, so e.g. a dropout stream
 * never repeats the draws that initialised the same layer's weights.
 * @example
 * new Rng(deriveSeed(42, 3, 0x44524f50)); // layer 3's dropout stream for seed 42
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.imul(p >>> 0, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h = Math.imul(((h ^ k) << 13) | ((h ^ k) >>> 19), 5) + 0xe6546b64;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
