/**
 * Client-side rate limiting for API calls: at most `concurrency` requests in flight, and request starts spaced
 * at least `60000 / requestsPerMinute` ms apart (a steady pace rather than bursts, so a provider's per-minute
 * quota is never hit by the client's own fault). Retries go through the limiter too.
 */

export interface RateLimitOptions {
  /** Request starts per minute at most (Infinity = no spacing). */
  requestsPerMinute?: number;
  /** Requests in flight at once at most. */
  concurrency?: number;
}

export const DEFAULT_RATE_LIMIT: Required<RateLimitOptions> = {
  requestsPerMinute: 60, // one a second: under the free tiers of most providers
  concurrency: 4, // a few in flight hide latency without flooding the server
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A limiter: `run(fn)` waits for a free slot and for its turn in the pace, then calls `fn`.
 *
 * @example
 * const limit = new RateLimiter({ requestsPerMinute: 120, concurrency: 2 });
 * const replies = await Promise.all(urls.map((u) => limit.run(() => fetch(u))));
 */
export class RateLimiter {
  readonly requestsPerMinute: number;
  readonly concurrency: number;
  private readonly interval: number;
  private nextStart = 0;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: RateLimitOptions = {}) {
    const o = { ...DEFAULT_RATE_LIMIT, ...opts };
    if (!(o.requestsPerMinute > 0))
      throw new RangeError(
        `RateLimiter: requestsPerMinute must be > 0 (Infinity = no limit), got ${o.requestsPerMinute}`,
      );
    if (!(Number.isInteger(o.concurrency) && o.concurrency >= 1))
      throw new RangeError(`RateLimiter: concurrency must be an integer >= 1, got ${o.concurrency}`);
    this.requestsPerMinute = o.requestsPerMinute;
    this.concurrency = o.concurrency;
    this.interval = Number.isFinite(o.requestsPerMinute) ? 60000 / o.requestsPerMinute : 0;
  }

  /** Run `fn` when a slot is free and the pace allows. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      // Reserve the next start time synchronously so concurrent callers queue up behind each other.
      const now = Date.now();
      const start = Math.max(now, this.nextStart);
      this.nextStart = start + this.interval;
      if (start > now) await sleep(start - now);
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve)); // the slot is handed over by release()
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
