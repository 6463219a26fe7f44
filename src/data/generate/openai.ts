/**
 * Any OpenAI-compatible chat-completions endpoint as a `Generator` (OpenAI, vLLM, llama.cpp's server, Ollama,
 * LM Studio, ...): `POST {baseUrl}/chat/completions`, `GET {baseUrl}/models`, with Node's fetch.
 *
 * - The API key comes from an environment variable (`OPENAI_API_KEY` unless told otherwise); it is kept in a
 *   private field, sent only in the Authorization header, and scrubbed from every error message.
 * - Each attempt has a timeout (AbortController), covering the reply's body too: `timeoutMs`, else
 *   `$TUNEBOOK_OPENAI_TIMEOUT_S` seconds, else 60 s. While a request waits, a line goes to `onProgress` (stderr by
 *   default) every `progressEveryMs`, naming the URL, so a stalled server is never silent; so does each retry.
 * - 408/409/429/5xx, network errors and timeouts are retried with exponential back-off and full jitter; a
 *   `Retry-After` header (429/503) is honoured instead, up to `maxRetryAfterMs`. 401/403 and other 4xx are not
 *   retried. Retries are bounded by `maxRetries`.
 * - A client-side rate limiter spaces request starts and caps the requests in flight.
 * - A reply that is not JSON or lacks a field gives a `GeneratorError` naming the field (`choices[0].message.content`).
 */
import { RateLimiter, type RateLimitOptions, DEFAULT_RATE_LIMIT } from "./rate-limit";
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter, type RetryOptions, RETRYABLE_STATUS } from "./retry";
import {
  cutAtStop,
  type Generation,
  type GenerationOptions,
  type Generator,
  GeneratorError,
  validateGenerationOptions,
} from "./types";

export interface OpenAIGeneratorOptions {
  /** The API root, with its version: "https://api.openai.com/v1", "http://127.0.0.1:8000/v1". */
  baseUrl: string;
  /** Model name as the endpoint knows it. */
  model: string;
  /** Environment variable holding the API key (default "OPENAI_API_KEY"); unset = no Authorization header
   * (fine for local servers). */
  apiKeyEnv?: string;
  /** Milliseconds one attempt may take, reply body included (default: `$TUNEBOOK_OPENAI_TIMEOUT_S` seconds, else 60 s). */
  timeoutMs?: number;
  /** Where waiting and retry notes go, one line each (default: stderr). Never given the API key. */
  onProgress?: (line: string) => void;
  /** Milliseconds between "still waiting" lines while a request is open (0 = none; default 10 s). */
  progressEveryMs?: number;
  retry?: RetryOptions;
  rateLimit?: RateLimitOptions;
  /** Generation defaults for every call. */
  defaults?: GenerationOptions;
  /** Source of jitter in [0, 1) (tests pass a fixed one). */
  random?: () => number;
  /** Environment to read the key from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

export const DEFAULT_OPENAI_GENERATION: Required<Omit<GenerationOptions, "system" | "stop">> &
  Pick<GenerationOptions, "system" | "stop"> = {
  temperature: 0.7, // varied but sensible paraphrases
  topP: 1, // let temperature alone shape the distribution (providers' own advice)
  maxNewTokens: 256, // a full answer, bounded cost
  seed: 0, // honoured by endpoints that support seeds; recorded either way
  system: "You write training data for a question-answering model. Answer concisely and factually.",
  stop: undefined,
};

/** Counters over the client's lifetime. */
export interface OpenAIStats {
  requests: number;
  retries: number;
  failures: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The environment variable that sets the default per-attempt timeout, in seconds. */
export const OPENAI_TIMEOUT_ENV = "TUNEBOOK_OPENAI_TIMEOUT_S";
/** Defaults of the client's waiting behaviour. */
export const DEFAULT_OPENAI_TIMEOUT_MS = 60_000; // a long completion on a busy server takes tens of seconds
export const DEFAULT_OPENAI_PROGRESS_EVERY_MS = 10_000; // often enough to see it is alive, rare enough not to flood

/**
 * The endpoint named by `OPENAI_BASE_URL` (and `OPENAI_MODEL`, default "gpt-4o-mini"), or null when it is not
 * set — so notebooks run the API step only when the user has configured one.
 *
 * @example
 * const api = openAIGeneratorFromEnv();
 * if (api) console.log((await api.generate(["Say hi"]))[0].text);
 */
export function openAIGeneratorFromEnv(
  opts: Partial<OpenAIGeneratorOptions> = {},
  env: Record<string, string | undefined> = process.env,
): OpenAIGenerator | null {
  const baseUrl = opts.baseUrl ?? env.OPENAI_BASE_URL;
  if (!baseUrl) return null;
  return new OpenAIGenerator({ ...opts, baseUrl, model: opts.model ?? env.OPENAI_MODEL ?? "gpt-4o-mini", env });
}

/**
 * A `Generator` over an OpenAI-compatible chat-completions endpoint.
 *
 * @example
 * const gen = new OpenAIGenerator({ baseUrl: "http://127.0.0.1:8000/v1", model: "qwen2.5-7b-instruct",
 *   rateLimit: { requestsPerMinute: 30, concurrency: 2 }, timeoutMs: 30_000 });
 * const gens = await gen.generate(["Write one question a user might ask about npm install."], { temperature: 0.9, seed: 1 });
 */
export class OpenAIGenerator implements Generator {
  readonly name: string;
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKeyEnv: string;
  readonly timeoutMs: number;
  readonly progressEveryMs: number;
  readonly stats: OpenAIStats = { requests: 0, retries: 0, failures: 0 };
  readonly #key: string | undefined;
  private readonly retry: Required<RetryOptions>;
  private readonly limiter: RateLimiter;
  private readonly defaults: GenerationOptions;
  private readonly random: () => number;
  private readonly progress: (line: string) => void;

  constructor(opts: OpenAIGeneratorOptions) {
    if (!opts || typeof opts.baseUrl !== "string" || !/^https?:\/\/[^/]/.test(opts.baseUrl)) {
      throw new GeneratorError(
        `OpenAIGenerator: baseUrl must be an http(s) URL such as "https://api.openai.com/v1", got ${JSON.stringify(opts?.baseUrl)}`,
        "config",
      );
    }
    if (typeof opts.model !== "string" || opts.model.trim() === "")
      throw new GeneratorError(
        `OpenAIGenerator: model must be a non-empty string, got ${JSON.stringify(opts.model)}`,
        "config",
      );
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.model = opts.model;
    this.name = `openai:${this.baseUrl}/${this.model}`;
    this.apiKeyEnv = opts.apiKeyEnv ?? "OPENAI_API_KEY";
    const key = (opts.env ?? process.env)[this.apiKeyEnv];
    this.#key = key && key.trim() !== "" ? key.trim() : undefined;
    const env = opts.env ?? process.env;
    const fromEnv = env[OPENAI_TIMEOUT_ENV];
    if (opts.timeoutMs === undefined && fromEnv !== undefined && fromEnv.trim() !== "") {
      const sec = /^\s*\d+(\.\d+)?\s*$/.test(fromEnv) ? Number(fromEnv) : NaN;
      if (!(sec > 0))
        throw new GeneratorError(
          `OpenAIGenerator: $${OPENAI_TIMEOUT_ENV} must be a number of seconds > 0, got ${JSON.stringify(fromEnv)}`,
          "config",
        );
      this.timeoutMs = sec * 1000;
    } else this.timeoutMs = opts.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
    if (!(this.timeoutMs > 0 && Number.isFinite(this.timeoutMs)))
      throw new GeneratorError(
        `OpenAIGenerator: timeoutMs must be a finite number > 0, got ${this.timeoutMs}`,
        "config",
      );
    this.progressEveryMs = opts.progressEveryMs ?? DEFAULT_OPENAI_PROGRESS_EVERY_MS;
    if (!(this.progressEveryMs >= 0 && Number.isFinite(this.progressEveryMs)))
      throw new GeneratorError(
        `OpenAIGenerator: progressEveryMs must be a number >= 0, got ${this.progressEveryMs}`,
        "config",
      );
    const sink = opts.onProgress ?? ((line: string) => void process.stderr.write(line + "\n"));
    this.progress = (line) => sink(this.scrub(line));
    this.retry = { ...DEFAULT_RETRY, ...(opts.retry ?? {}) };
    if (!(Number.isInteger(this.retry.maxRetries) && this.retry.maxRetries >= 0))
      throw new GeneratorError(
        `OpenAIGenerator: retry.maxRetries must be an integer >= 0, got ${this.retry.maxRetries}`,
        "config",
      );
    this.limiter = new RateLimiter({ ...DEFAULT_RATE_LIMIT, ...(opts.rateLimit ?? {}) });
    this.defaults = { ...DEFAULT_OPENAI_GENERATION, ...(opts.defaults ?? {}) };
    validateGenerationOptions(this.defaults, this.name);
    this.random = opts.random ?? Math.random;
  }

  /** Whether a key was found (never the key itself). */
  get hasApiKey(): boolean {
    return this.#key !== undefined;
  }

  /** Model ids the endpoint lists (`GET {baseUrl}/models`). */
  async listModels(): Promise<string[]> {
    const { body } = await this.request("GET", "/models");
    const data = (body as any)?.data;
    if (!Array.isArray(data)) throw this.malformed("/models", "data", "an array", data);
    return data.map((m: any, i: number) => {
      if (typeof m?.id !== "string") throw this.malformed("/models", `data[${i}].id`, "a string", m?.id);
      return m.id;
    });
  }

  /** One chat completion per prompt (in parallel up to the rate limiter's concurrency), in prompt order. */
  async generate(prompts: string[], opts: GenerationOptions = {}): Promise<Generation[]> {
    const o = { ...this.defaults, ...opts };
    validateGenerationOptions(o, this.name);
    if (!Array.isArray(prompts))
      throw new GeneratorError(`${this.name}: prompts must be an array of strings`, "config");
    prompts.forEach((p, i) => {
      if (typeof p !== "string")
        throw new GeneratorError(`${this.name}: prompt ${i} must be a string, got ${typeof p}`, "config");
    });
    return Promise.all(prompts.map((p, i) => this.complete(p, { ...o, seed: (o.seed ?? 0) + i })));
  }

  private async complete(prompt: string, o: GenerationOptions): Promise<Generation> {
    const messages = [...(o.system ? [{ role: "system", content: o.system }] : []), { role: "user", content: prompt }];
    const payload: Record<string, unknown> = {
      model: this.model,
      messages,
      temperature: o.temperature,
      top_p: o.topP,
      max_tokens: o.maxNewTokens,
      seed: o.seed,
    };
    if (o.stop?.length) payload.stop = o.stop.slice(0, 4); // OpenAI accepts up to 4; the rest are cut client-side
    const { body, attempts } = await this.request("POST", "/chat/completions", payload);
    const where = "/chat/completions";
    const b = body as any;
    if (b === null || typeof b !== "object" || Array.isArray(b))
      throw this.malformed(where, "(body)", "a JSON object", b);
    if (!Array.isArray(b.choices)) throw this.malformed(where, "choices", "an array", b.choices);
    if (b.choices.length === 0) throw this.malformed(where, "choices", "at least one choice", b.choices);
    const c = b.choices[0];
    if (c === null || typeof c !== "object") throw this.malformed(where, "choices[0]", "an object", c);
    if (c.message === null || typeof c.message !== "object")
      throw this.malformed(where, "choices[0].message", "an object", c.message);
    if (typeof c.message.content !== "string")
      throw this.malformed(where, "choices[0].message.content", "a string", c.message.content);
    if (c.finish_reason != null && typeof c.finish_reason !== "string")
      throw this.malformed(where, "choices[0].finish_reason", "a string or null", c.finish_reason);
    const cut = cutAtStop(c.message.content, o.stop);
    return {
      prompt,
      text: cut.text.trim(),
      finishReason: cut.stopped ? "stop" : (c.finish_reason ?? "stop"),
      generator: this.name,
      temperature: o.temperature!,
      seed: o.seed!,
      attempts,
    };
  }

  private malformed(where: string, field: string, want: string, got: unknown): GeneratorError {
    this.stats.failures++;
    const shown =
      got === undefined ? "nothing (field missing)" : this.scrub(JSON.stringify(got) ?? String(got)).slice(0, 120);
    return new GeneratorError(
      `${this.baseUrl}${where}: malformed reply: field ${field} should be ${want}, got ${shown}`,
      "malformed",
    );
  }

  /** Remove the key from any text that could end up in a message. */
  private scrub(s: string): string {
    return this.#key ? s.split(this.#key).join("***") : s;
  }

  /** One call with timeout, retries and rate limiting; returns the parsed JSON body and the attempts used. */
  private async request(
    method: "GET" | "POST",
    route: string,
    payload?: unknown,
  ): Promise<{ body: unknown; attempts: number }> {
    const url = this.baseUrl + route;
    const headers: Record<string, string> = { accept: "application/json" };
    if (payload !== undefined) headers["content-type"] = "application/json";
    if (this.#key) headers.authorization = `Bearer ${this.#key}`;
    const total = this.retry.maxRetries + 1;
    let last: GeneratorError | undefined;
    for (let attempt = 1; attempt <= total; attempt++) {
      if (attempt > 1) this.stats.retries++;
      let waitMs: number | undefined;
      const outcome = await this.limiter.run(async () => {
        this.stats.requests++;
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), this.timeoutMs);
        const started = Date.now();
        const ticker =
          this.progressEveryMs > 0
            ? setInterval(() => {
                const s = Math.round((Date.now() - started) / 1000);
                this.progress(
                  `${url}: waiting for a reply, ${s} s so far (attempt ${attempt} of ${total}; gives up on it after ${this.timeoutMs / 1000} s)`,
                );
              }, this.progressEveryMs)
            : undefined;
        try {
          const res = await fetch(url, {
            method,
            headers,
            body: payload === undefined ? undefined : JSON.stringify(payload),
            signal: ctl.signal,
          });
          const text = await res.text(); // inside the timeout: a server that stalls mid-body times out too
          return { res, text };
        } catch (e: any) {
          if (ctl.signal.aborted)
            return {
              error: new GeneratorError(
                `${url}: no reply within ${this.timeoutMs} ms (attempt ${attempt} of ${total})`,
                "timeout",
                undefined,
                attempt,
              ),
            };
          return {
            error: new GeneratorError(
              `${url}: network error: ${this.scrub(String(e?.cause?.message ?? e?.message ?? e))} (attempt ${attempt} of ${total})`,
              "network",
              undefined,
              attempt,
            ),
          };
        } finally {
          clearTimeout(timer);
          clearInterval(ticker);
        }
      });
      if ("error" in outcome) {
        last = outcome.error;
      } else {
        const { res, text } = outcome;
        if (res.ok) {
          try {
            return { body: JSON.parse(text), attempts: attempt };
          } catch {
            this.stats.failures++;
            throw new GeneratorError(
              `${url}: malformed reply: the body is not JSON (HTTP ${res.status}, starts with ${JSON.stringify(this.scrub(text.slice(0, 80)))})`,
              "malformed",
              res.status,
              attempt,
            );
          }
        }
        const detail = this.serverMessage(text);
        if (res.status === 401 || res.status === 403) {
          this.stats.failures++;
          const hint = this.#key ? `the key in $${this.apiKeyEnv} was refused` : `no API key: set $${this.apiKeyEnv}`;
          throw new GeneratorError(
            `${url}: authentication failed (HTTP ${res.status}): ${hint}${detail}`,
            "auth",
            res.status,
            attempt,
          );
        }
        if (!RETRYABLE_STATUS.has(res.status)) {
          this.stats.failures++;
          throw new GeneratorError(`${url}: HTTP ${res.status}${detail}`, "http", res.status, attempt);
        }
        waitMs = parseRetryAfter(res.headers.get("retry-after"), Date.now(), res.headers.get("retry-after-ms"));
        const code = res.status === 429 ? "rate_limit" : "http";
        last = new GeneratorError(
          `${url}: HTTP ${res.status}${detail} (attempt ${attempt} of ${total})`,
          code,
          res.status,
          attempt,
        );
        if (waitMs !== undefined && waitMs > this.retry.maxRetryAfterMs) {
          this.stats.failures++;
          throw new GeneratorError(
            `${url}: HTTP ${res.status}: the server asks to wait ${Math.round(waitMs / 1000)} s (Retry-After), more than retry.maxRetryAfterMs = ${this.retry.maxRetryAfterMs} ms`,
            code,
            res.status,
            attempt,
          );
        }
      }
      if (attempt < total) {
        const delay = waitMs ?? backoffDelay(attempt, this.retry, this.random);
        if (this.progressEveryMs > 0)
          this.progress(
            `${last!.message.replace(/ \(attempt \d+ of \d+\)$/, "")}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${total})`,
          );
        await sleep(delay);
      }
    }
    this.stats.failures++;
    throw new GeneratorError(
      `${last!.message.replace(/ \(attempt \d+ of \d+\)$/, "")}: gave up after ${total} attempt${total > 1 ? "s" : ""}`,
      last!.code,
      last!.status,
      total,
    );
  }

  /** The server's own error message, if it sent one (`{"error": {"message": ...}}`), scrubbed and shortened. */
  private serverMessage(text: string): string {
    let msg = "";
    try {
      const j = JSON.parse(text);
      msg = typeof j?.error === "string" ? j.error : typeof j?.error?.message === "string" ? j.error.message : "";
    } catch {
      msg = text;
    }
    msg = this.scrub(msg).replace(/\s+/g, " ").trim().slice(0, 200);
    return msg ? `: ${msg}` : "";
  }
}
