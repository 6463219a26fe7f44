// The OpenAI-compatible generator against a real HTTP server on 127.0.0.1 (tests/helpers/openai-server.ts):
// normal replies, 429 + Retry-After and 500 then success (retries counted), malformed replies, timeouts,
// auth, rate-limit spacing, and that the key never shows up in errors.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { startOpenAIServer, chatReply } from "../helpers/openai-server";
import { OpenAIGenerator, openAIGeneratorFromEnv } from "../../src/data/generate/openai";
import { GeneratorError } from "../../src/data/generate/types";
import { parseRetryAfter, backoffDelay } from "../../src/data/generate/retry";
import { RateLimiter } from "../../src/data/generate/rate-limit";

const KEY = "sk-test-5ecret-key-value";
const env = { TEST_KEY: KEY };
const fast = { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 40 };
const unlimited = { requestsPerMinute: Infinity, concurrency: 4 };

function client(baseUrl: string, extra: Partial<ConstructorParameters<typeof OpenAIGenerator>[0]> = {}) {
  return new OpenAIGenerator({
    baseUrl,
    model: "test-model",
    apiKeyEnv: "TEST_KEY",
    env,
    retry: fast,
    rateLimit: unlimited,
    timeoutMs: 60_000, // generous: a loaded machine must not turn a slow local reply into a timeout and a retry
    onProgress: () => {},
    ...extra,
  });
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<GeneratorError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof GeneratorError, `expected a GeneratorError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes(KEY), "the API key leaked into an error message");
    return e;
  }
  assert.fail("expected a rejection");
}

test("a normal reply: text, order, provenance name, request body and auth header", async () => {
  const s = await startOpenAIServer({ apiKey: KEY });
  try {
    const gen = client(s.baseUrl);
    assert.equal(gen.name, `openai:${s.baseUrl}/test-model`);
    const out = await gen.generate(["first prompt", "second prompt"], {
      temperature: 0.3,
      seed: 7,
      maxNewTokens: 20,
      system: "be brief",
    });
    assert.deepEqual(
      out.map((g) => g.text),
      ["echo: first prompt", "echo: second prompt"],
    );
    assert.deepEqual(
      out.map((g) => g.seed),
      [7, 8],
    );
    assert.deepEqual(
      out.map((g) => g.attempts),
      [1, 1],
    );
    assert.equal(out[0].temperature, 0.3);
    assert.equal(out[0].generator, gen.name);
    assert.equal(s.requests.length, 2);
    const r = s.requests.find((q) => q.body.messages.at(-1).content === "first prompt")!;
    assert.equal(r.authorization, `Bearer ${KEY}`);
    assert.deepEqual(r.body.messages[0], { role: "system", content: "be brief" });
    assert.equal(r.body.model, "test-model");
    assert.equal(r.body.max_tokens, 20);
    assert.equal(r.body.temperature, 0.3);
    assert.deepEqual(await gen.listModels(), ["test-model"]);
    assert.ok(
      !JSON.stringify(gen).includes(KEY) && !require("node:util").inspect(gen).includes(KEY),
      "the key is visible on the object",
    );
  } finally {
    await s.close();
  }
});

test("stop strings cut the text client-side even when the server ignores them", async () => {
  const s = await startOpenAIServer();
  try {
    s.plan({ status: 200, body: chatReply("Answer one.\n\nQuestion: next", "length") });
    const [g] = await client(s.baseUrl).generate(["q"], { stop: ["\n\n"] });
    assert.equal(g.text, "Answer one.");
    assert.equal(g.finishReason, "stop");
    assert.deepEqual(s.requests[0].body.stop, ["\n\n"]);
  } finally {
    await s.close();
  }
});

test("429 with Retry-After is retried after the time asked, then succeeds", async () => {
  const s = await startOpenAIServer();
  try {
    s.plan({ status: 429, headers: { "retry-after": "0.3" }, body: { error: { message: "slow down" } } });
    const gen = client(s.baseUrl, { retry: { ...fast, baseDelayMs: 1, maxDelayMs: 1 } });
    const [g] = await gen.generate(["hello"]);
    assert.equal(g.text, "echo: hello");
    assert.equal(g.attempts, 2);
    assert.equal(gen.stats.retries, 1);
    assert.equal(s.requests.length, 2);
    const gap = s.requests[1].at - s.requests[0].at;
    assert.ok(gap >= 280, `retried after ${gap} ms, before the 300 ms Retry-After`);
  } finally {
    await s.close();
  }
});

test("500 then success: retried with back-off; too many failures give up with the count", async () => {
  const s = await startOpenAIServer();
  try {
    s.plan({ status: 500, body: { error: { message: "boom" } } });
    const gen = client(s.baseUrl);
    const [g] = await gen.generate(["x"]);
    assert.equal(g.attempts, 2);
    s.plan(...Array.from({ length: 4 }, () => ({ status: 503, body: { error: { message: "overloaded" } } })));
    const before = s.requests.length;
    const e = await rejectsWith(gen.generate(["y"]), "http", /HTTP 503: overloaded: gave up after 4 attempts/);
    assert.equal(e.attempts, 4);
    assert.equal(s.requests.length - before, 4, "the retry loop is bounded by maxRetries");
  } finally {
    await s.close();
  }
});

test("a Retry-After longer than maxRetryAfterMs is an error, not a long sleep", async () => {
  const s = await startOpenAIServer();
  try {
    s.plan({ status: 429, headers: { "retry-after": "3600" } });
    await rejectsWith(
      client(s.baseUrl, { retry: { ...fast, maxRetryAfterMs: 1000 } }).generate(["x"]),
      "rate_limit",
      /asks to wait 3600 s/,
    );
    assert.equal(s.requests.length, 1, "an over-long Retry-After is refused at the first reply, not slept and retried");
  } finally {
    await s.close();
  }
});

test("malformed replies name what is wrong: not JSON, no choices, wrong content type", async () => {
  const s = await startOpenAIServer();
  try {
    const gen = client(s.baseUrl);
    s.plan({ status: 200, raw: "<html>gateway</html>" });
    await rejectsWith(gen.generate(["a"]), "malformed", /body is not JSON.*<html>gateway/);
    s.plan({ status: 200, body: { id: "x", object: "chat.completion" } });
    await rejectsWith(gen.generate(["a"]), "malformed", /field choices should be an array, got nothing/);
    s.plan({ status: 200, body: { choices: [] } });
    await rejectsWith(gen.generate(["a"]), "malformed", /field choices should be at least one choice/);
    s.plan({ status: 200, body: { choices: [{ message: { role: "assistant", content: 42 } }] } });
    await rejectsWith(gen.generate(["a"]), "malformed", /choices\[0\]\.message\.content should be a string, got 42/);
    s.plan({ status: 200, body: { choices: [{ text: "completion-style" }] } });
    await rejectsWith(gen.generate(["a"]), "malformed", /choices\[0\]\.message should be an object/);
    assert.equal(s.requests.length, 5, "malformed replies are not retried");
  } finally {
    await s.close();
  }
});

test("a server that never answers gives a timeout error within the configured time", async () => {
  const s = await startOpenAIServer();
  try {
    s.plan({ hang: true });
    const t0 = Date.now();
    await rejectsWith(
      client(s.baseUrl, { timeoutMs: 300, retry: { maxRetries: 0 } }).generate(["x"]),
      "timeout",
      /no reply within 300 ms.*gave up after 1 attempt$/,
    );
    const took = Date.now() - t0;
    assert.ok(took >= 280, `gave up after ${took} ms, before the 300 ms timeout`);
    // A timeout is retried like a transient failure: hang once, then answer. (The answer gets 1 s, and on a
    // loaded machine may still miss it: the count is at least the hang and one more, each attempt one request.)
    s.plan({ hang: true });
    const before = s.requests.length;
    const [g] = await client(s.baseUrl, { timeoutMs: 1000 }).generate(["again"]);
    assert.equal(g.text, "echo: again");
    assert.ok(g.attempts >= 2, `${g.attempts} attempts`);
    assert.equal(s.requests.length - before, g.attempts);
  } finally {
    await s.close();
  }
});

test("a stalled server: a progress line names the URL while waiting, each retry is announced, the timeout names the URL; never the key", async () => {
  const s = await startOpenAIServer({ apiKey: KEY });
  try {
    s.plan({ hang: true }, { hang: true });
    const lines: string[] = [];
    const gen = client(s.baseUrl, {
      timeoutMs: 450,
      progressEveryMs: 100,
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 10 },
      onProgress: (l) => lines.push(l),
    });
    const url = `${s.baseUrl}/chat/completions`;
    const e = await rejectsWith(
      gen.generate(["x"]),
      "timeout",
      new RegExp(`^${url.replace(/[./]/g, "\\$&")}: no reply within 450 ms: gave up after 2 attempts$`),
    );
    assert.ok(!e.message.includes("\n"));
    const waiting = lines.filter((l) => l.startsWith(`${url}: waiting for a reply, `));
    // The ticker's 100 ms comes due before the 450 ms timeout, so each attempt shows at least one line however
    // late a loaded machine runs the timers (how many lines fit in 450 ms is the clock's business, not asserted).
    assert.match(waiting[0], /waiting for a reply, \d+ s so far \(attempt 1 of 2; gives up on it after 0\.45 s\)$/);
    assert.ok(
      waiting.some((l) => /attempt 2 of 2/.test(l)),
      JSON.stringify(lines),
    );
    assert.ok(
      lines.some((l) => l.startsWith(`${url}: no reply within 450 ms; retrying in `) && /\(attempt 2 of 2\)$/.test(l)),
      JSON.stringify(lines),
    );
    for (const l of lines) assert.ok(!l.includes(KEY), `the API key leaked into a progress line: ${l}`);
    assert.equal(s.requests[0].authorization, `Bearer ${KEY}`, "the key was sent, so it was there to leak");
    // The line repeats while the wait goes on: the server answers only after the third line (events, not a clock).
    s.plan({ hang: true });
    const seen: string[] = [];
    const patient = client(s.baseUrl, {
      progressEveryMs: 20,
      onProgress: (l) => {
        seen.push(l);
        if (seen.length === 3) s.release("at last");
      },
    });
    const [g] = await patient.generate(["y"]);
    assert.equal(g.text, "at last");
    assert.equal(g.attempts, 1);
    assert.ok(
      seen.length >= 3 && seen.every((l) => l.startsWith(`${url}: waiting for a reply, `)),
      JSON.stringify(seen),
    );
  } finally {
    await s.close();
  }
});

test("the per-attempt timeout: an option, else $TUNEBOOK_OPENAI_TIMEOUT_S seconds, else 60 s; bad values are named", async () => {
  const base = { baseUrl: "http://127.0.0.1:9/v1", model: "m", onProgress: () => {} };
  assert.equal(new OpenAIGenerator({ ...base, env: {} }).timeoutMs, 60_000);
  assert.equal(new OpenAIGenerator({ ...base, env: { TUNEBOOK_OPENAI_TIMEOUT_S: "2.5" } }).timeoutMs, 2500);
  assert.equal(
    new OpenAIGenerator({ ...base, env: { TUNEBOOK_OPENAI_TIMEOUT_S: "2.5" }, timeoutMs: 700 }).timeoutMs,
    700,
  );
  for (const bad of ["soon", "0", "-1", "Infinity"])
    assert.throws(
      () => new OpenAIGenerator({ ...base, env: { TUNEBOOK_OPENAI_TIMEOUT_S: bad } }),
      (e: any) =>
        e instanceof GeneratorError &&
        e.message ===
          `OpenAIGenerator: $TUNEBOOK_OPENAI_TIMEOUT_S must be a number of seconds > 0, got ${JSON.stringify(bad)}`,
      bad,
    );
  assert.throws(
    () => new OpenAIGenerator({ ...base, env: {}, timeoutMs: Infinity }),
    /timeoutMs must be a finite number > 0/,
  );
  assert.throws(
    () => new OpenAIGenerator({ ...base, env: {}, progressEveryMs: -1 }),
    /progressEveryMs must be a number >= 0/,
  );
  // the environment's timeout reaches a client made from the environment, and is enforced
  const s = await startOpenAIServer();
  try {
    s.plan({ hang: true });
    const gen = openAIGeneratorFromEnv(
      { retry: { maxRetries: 0 }, onProgress: () => {} },
      { OPENAI_BASE_URL: s.baseUrl, TUNEBOOK_OPENAI_TIMEOUT_S: "0.3" },
    )!;
    assert.equal(gen.timeoutMs, 300);
    await rejectsWith(gen.generate(["x"]), "timeout", /no reply within 300 ms/);
  } finally {
    await s.close();
  }
});

test("auth: a wrong or missing key is refused at once with a hint naming the variable, never the key", async () => {
  const s = await startOpenAIServer({ apiKey: "the-right-key" });
  try {
    const wrong = client(s.baseUrl);
    const e = await rejectsWith(
      wrong.generate(["x"]),
      "auth",
      /authentication failed \(HTTP 401\): the key in \$TEST_KEY was refused: Incorrect API key/,
    );
    assert.equal(e.attempts, 1);
    assert.equal(s.requests.length, 1, "401 is not retried");
    const none = new OpenAIGenerator({
      baseUrl: s.baseUrl,
      model: "m",
      apiKeyEnv: "NO_SUCH_VAR",
      env: {},
      retry: fast,
    });
    assert.equal(none.hasApiKey, false);
    await rejectsWith(none.generate(["x"]), "auth", /no API key: set \$NO_SUCH_VAR/);
    assert.equal(s.requests[1].authorization, undefined);
  } finally {
    await s.close();
  }
});

test("a server echoing the key in its error has it scrubbed", async () => {
  const s = await startOpenAIServer();
  try {
    s.plan({ status: 400, body: { error: { message: `Bad request with key ${KEY}` } } });
    await rejectsWith(client(s.baseUrl).generate(["x"]), "http", /HTTP 400: Bad request with key \*\*\*/);
  } finally {
    await s.close();
  }
});

test("rate limit: request starts are spaced by 60000/requestsPerMinute and concurrency is capped", async () => {
  const s = await startOpenAIServer();
  try {
    const gen = client(s.baseUrl, { rateLimit: { requestsPerMinute: 600, concurrency: 2 } }); // 100 ms apart
    const out = await gen.generate(["a", "b", "c", "d"]);
    assert.deepEqual(
      out.map((g) => g.text),
      ["echo: a", "echo: b", "echo: c", "echo: d"],
    );
    assert.equal(s.requests.length, 4);
    // The pacing itself is checked where the limiter controls it — when it lets a request start — not at the
    // server, where arrival times also carry network and scheduling jitter of a loaded machine.
    const limiter = new RateLimiter({ requestsPerMinute: 600, concurrency: 2 });
    const starts: number[] = [];
    await Promise.all([0, 1, 2, 3].map(() => limiter.run(async () => void starts.push(Date.now()))));
    // The limiter books start i at (first start + i × 100 ms): a start that fires late (a busy event loop)
    // does not push the later ones back, so the guarantee is on the schedule, not on each gap.
    for (let i = 1; i < starts.length; i++)
      assert.ok(
        starts[i] - starts[0] >= 100 * i - 2,
        `start ${i} only ${starts[i] - starts[0]} ms after start 0 (booked at ${100 * i} ms)`,
      );
    // Concurrency: slow replies, no spacing; the server never sees more than 2 open requests.
    const slow = client(s.baseUrl, { rateLimit: { requestsPerMinute: Infinity, concurrency: 2 } });
    s.plan(...Array.from({ length: 6 }, () => ({ status: 200, body: chatReply("slow"), delayMs: 60 })));
    const t0 = Date.now();
    assert.deepEqual(
      (await slow.generate(["1", "2", "3", "4", "5", "6"])).map((g) => g.text),
      Array(6).fill("slow"),
    );
    assert.equal(s.maxInFlight, 2);
    assert.ok(Date.now() - t0 >= 170, "6 replies of 60 ms, 2 at a time, take at least 3 rounds");
  } finally {
    await s.close();
  }
});

test("connection refused is a network error after bounded retries", async () => {
  const s = await startOpenAIServer();
  const url = s.baseUrl;
  await s.close();
  await rejectsWith(
    client(url, { retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 } }).generate(["x"]),
    "network",
    /network error.*gave up after 2 attempts/,
  );
});

test("configuration errors are clear; fromEnv returns null without OPENAI_BASE_URL", () => {
  assert.throws(
    () => new OpenAIGenerator({ baseUrl: "api.openai.com", model: "m" }),
    /baseUrl must be an http\(s\) URL/,
  );
  assert.throws(() => new OpenAIGenerator({ baseUrl: "http://x/v1", model: "" }), /model must be a non-empty string/);
  assert.throws(
    () => new OpenAIGenerator({ baseUrl: "http://x/v1", model: "m", defaults: { temperature: -1 } }),
    /temperature must be a finite number >= 0/,
  );
  assert.equal(openAIGeneratorFromEnv({}, {}), null);
  const g = openAIGeneratorFromEnv({}, { OPENAI_BASE_URL: "http://127.0.0.1:1/v1/", OPENAI_MODEL: "llama" })!;
  assert.equal(g.name, "openai:http://127.0.0.1:1/v1/llama");
});

test("Retry-After parsing and jittered back-off bounds", () => {
  assert.equal(parseRetryAfter("2"), 2000);
  assert.equal(parseRetryAfter("0.5"), 500);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:58 GMT")), 2000);
  assert.equal(parseRetryAfter(null, 0, "150"), 150);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
  const o = { baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(
    backoffDelay(3, o, () => 0.999999),
    399,
  );
  assert.equal(
    backoffDelay(10, o, () => 0.999999),
    999,
  );
  assert.equal(
    backoffDelay(1, o, () => 0),
    0,
  );
});

test("pairsWithModel through the endpoint: pairs record the openai generator, prompt, temperature and seed", async () => {
  const { pairsWithModel } = await import("../../src/data/generate/model-pairs");
  const s = await startOpenAIServer();
  try {
    s.plan({ status: 200, body: chatReply("What is a checkpoint?\n\n### Answer:\nA saved copy of the weights.") });
    const gen = client(s.baseUrl);
    const { pairs, rejected } = await pairsWithModel(
      gen,
      [{ id: "a", question: "What is a tensor?", answer: "An array." }],
      { count: 1, shots: 1, temperature: 0.9, seed: 3 },
    );
    assert.deepEqual(rejected, []);
    assert.deepEqual(
      pairs.map((p) => [p.question, p.answer]),
      [["What is a checkpoint?", "A saved copy of the weights."]],
    );
    assert.deepEqual(pairs[0].provenance, {
      method: "model",
      generator: `openai:${s.baseUrl}/test-model`,
      prompt: s.requests[0].body.messages.at(-1).content,
      temperature: 0.9,
      seed: 3,
      sourceId: "a",
    });
    assert.equal(s.requests[0].body.seed, 3);
    assert.deepEqual(s.requests[0].body.stop, ["### Question:", "<|endoftext|>"]);
  } finally {
    await s.close();
  }
});
