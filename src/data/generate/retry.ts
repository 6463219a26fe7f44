/**
 * When to retry an HTTP call and how long to wait: exponential back-off with full jitter (AWS architecture
 * blog, "Exponential Backoff and Jitter"), and the server's own `Retry-After` (seconds or an HTTP date) when it
 * sends one on 429/503.
 */

export interface RetryOptions {
  /** Retries after the first attempt (0 = try once). */
  maxRetries?: number;
  /** Back-off before retry k (1-based) is drawn from [0, min(maxDelayMs, baseDelayMs · 2^(k−1))]. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A server asking to wait longer than this (Retry-After) is an error rather than a silent long sleep. */
  maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxRetries: 4, // 5 attempts: rides out a short outage or a burst of 429s
  baseDelayMs: 500, // first wait about 0-0.5 s
  maxDelayMs: 20_000, // never more than 20 s between tries
  maxRetryAfterMs: 120_000, // providers ask for seconds, rarely minutes; beyond 2 min something is wrong
};

/** HTTP statuses worth retrying: rate limited, or a transient server/gateway failure. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 409, 429, 500, 502, 503, 504]);

/**
 * Milliseconds a `Retry-After` header asks for (`"3"`, `"1.5"` or an HTTP date), or undefined when absent or
 * unreadable. Also reads `retry-after-ms`, which some providers send.
 *
 * @example
 * parseRetryAfter("2");                               // 2000
 * parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:58 GMT")); // 2000
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
  valueMs?: string | null,
): number | undefined {
  if (valueMs != null && valueMs.trim() !== "") {
    const ms = Number(valueMs);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  if (value == null || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/**
 * Back-off before retry `attempt` (1 = the first retry), with full jitter from `random` in [0, 1).
 *
 * @example
 * backoffDelay(3, { baseDelayMs: 500, maxDelayMs: 20000 }, Math.random); // somewhere in [0, 2000)
 */
export function backoffDelay(
  attempt: number,
  o: { baseDelayMs: number; maxDelayMs: number },
  random: () => number,
): number {
  const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}
