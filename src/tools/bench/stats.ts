/**
 * Summary statistics of repeated timings: the benchmark protocol reports the MEDIAN of the timed runs after
 * the warm-up runs (robust to one slow run on a shared machine), and keeps every run for the notes.
 */

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median: no values (was --iters 0?)");
  if (xs.some((x) => !Number.isFinite(x))) throw new Error(`median: non-finite value in [${xs.join(", ")}]`);
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** What `summarize` returns: the median, the spread, and every value in run order. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  all: number[];
}

/**
 * Median, min, max and all values.
 *
 * @example
 * summarize([3, 1, 2]); // { median: 2, min: 1, max: 3, all: [3, 1, 2] }
 */
export function summarize(xs: readonly number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), all: [...xs] };
}

/**
 * Time `fn` `warmup + iters` times and return the seconds of the timed (post-warm-up) runs.
 *
 * @example
 * const secs = await timeRuns(() => step(), { warmup: 2, iters: 5 }); // 5 numbers
 */
export async function timeRuns(
  fn: () => unknown | Promise<unknown>,
  opts: { warmup: number; iters: number; onRun?: (index: number, seconds: number, warmup: boolean) => void },
): Promise<number[]> {
  if (!Number.isInteger(opts.iters) || opts.iters < 1)
    throw new Error(`timeRuns: iters must be an integer >= 1, got ${opts.iters}`);
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0)
    throw new Error(`timeRuns: warmup must be an integer >= 0, got ${opts.warmup}`);
  const out: number[] = [];
  for (let i = 0; i < opts.warmup + opts.iters; i++) {
    const t0 = performance.now();
    await fn();
    const s = (performance.now() - t0) / 1000;
    opts.onRun?.(i, s, i < opts.warmup);
    if (i >= opts.warmup) out.push(s);
  }
  return out;
}

/** Peak resident memory of this process so far, MiB (Linux `ru_maxrss`, the number PyTorch's script reads too). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
