// The online path end to end, offline: `tunebook generate`, `score`, `train` (full and --lora), `eval` and
// `merge` on EleutherAI/pythia-70m from a local hub (tests/helpers/pythia-hub.ts: the real config and
// tokenizer, seeded random F16 weights with the real names and shapes). The files are downloaded once into a
// temp HF_HUB_CACHE (the weights' connection drops once and the download resumes with a Range request); with
// the server stopped every command works again from that cache.
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { PYTHIA_REPO, type PythiaHub, startPythiaHub } from "../helpers/pythia-hub";
import { captureIO } from "../eval/helpers/tiny-task";
import { run as generate } from "../../src/cli/generate";
import { run as score } from "../../src/cli/score";
import { run as train } from "../../src/cli/train";
import { run as evaluate } from "../../src/cli/eval";
import { run as merge } from "../../src/cli/merge";
import { loadModel, loadTokenizerFrom } from "../../src/pipeline/pretrained";

const ENV_KEYS = ["HF_ENDPOINT", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"] as const;
const savedEnv: Record<string, string | undefined> = {};
let hub: PythiaHub;
let work: string;
let cache: string;

before(async () => {
  await useTestBackend();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-online-"));
  cache = path.join(work, "hf-cache");
  hub = await startPythiaHub({ dir: path.join(work, "repo") });
  for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_HUB_CACHE = cache;
  // the unit runner sets HF_HUB_OFFLINE=1 for every test; these are the online path
  delete process.env.HF_HUB_OFFLINE;
  delete process.env.TRANSFORMERS_OFFLINE;
});

after(async () => {
  await hub?.dispose();
  for (const k of ENV_KEYS) savedEnv[k] === undefined ? delete process.env[k] : (process.env[k] = savedEnv[k]);
  fs.rmSync(work, { recursive: true, force: true });
});

/** Run a command that writes to process.stdout/stderr (generate, score, merge); returns its exit code and stdout. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = process.stdout.write;
  const err = process.stderr.write;
  let stdout = "";
  let stderr = "";
  process.stdout.write = ((chunk: string | Uint8Array) => (
    (stdout += String(chunk)), true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    (stderr += String(chunk)), true
  )) as typeof process.stderr.write;
  try {
    return { code: await fn(), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** Every command must leave no tensor behind. */
async function noLeak<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const r = await fn();
  assert.equal(tf.memory().numTensors, before, `${what} leaked tensors`);
  return r;
}

const PROMPT = "Subject: quarterly report\nFrom: alice@example.com\n\nThe subject line is";
const GEN = ["--model", PYTHIA_REPO, "--prompt", PROMPT, "--greedy", "--max-new-tokens", "8", "--json"];
const SCORE = ["--model", PYTHIA_REPO, "--text", "The quick brown fox jumps over the lazy dog.", "--json"];
const TRAIN = [
  "--model",
  PYTHIA_REPO,
  "--data",
  "email-subject",
  "--limit",
  "4",
  "--batch-size",
  "2",
  "--max-length",
  "64",
  "--lr",
  "1e-4",
  "--seed",
  "0",
  "--quiet",
];
const EVAL = [
  "--model",
  PYTHIA_REPO,
  "--data",
  "email-subject",
  "--limit",
  "2",
  "--max-new-tokens",
  "6",
  "--batch-size",
  "2",
  "--json",
];

/** What the first pass printed, compared with the pass from the cache. */
const first: { generate?: any; score?: any; eval?: any } = {};

test("online: every command downloads EleutherAI/pythia-70m once into HF_HUB_CACHE and works on it", {
  timeout: 30 * 60_000,
}, async () => {
  // the connection drops 48 MiB into the weights: the download resumes with a Range request
  hub.server.dropAfter("model.safetensors", 48 << 20);
  const g = await noLeak("generate", () => captured(() => generate(GEN)));
  assert.equal(g.code, 0);
  const resumes = hub.resumes("model.safetensors");
  assert.equal(resumes.length, 1, JSON.stringify(resumes));
  const from = Number(/^bytes=(\d+)-$/.exec(resumes[0])?.[1]);
  assert.ok(from > 0 && from <= 48 << 20, resumes[0]);
  first.generate = JSON.parse(g.stdout);
  assert.equal(first.generate.ids.length, 8);
  assert.ok(
    first.generate.ids.every((id: number) => Number.isInteger(id) && id >= 0 && id < 50304),
    g.stdout,
  );
  assert.equal(typeof first.generate.text, "string");
  assert.match(g.stderr, /model\.safetensors/, "the download shows its progress");
  // the first command fetched everything; every later one reads the cache without asking the hub
  const afterFirst = hub.server.requests.length;
  const snapshot = path.join(cache, "models--EleutherAI--pythia-70m", "snapshots", hub.commit);
  for (const f of [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "model.safetensors",
  ]) {
    assert.ok(fs.existsSync(path.join(snapshot, f)), `${f} is in the cache snapshot`);
  }
  assert.equal(
    fs.readFileSync(path.join(cache, "models--EleutherAI--pythia-70m", "refs", "main"), "utf8").trim(),
    hub.commit,
  );

  const s = await noLeak("score", () => captured(() => score(SCORE)));
  assert.equal(s.code, 0);
  first.score = JSON.parse(s.stdout);
  assert.ok(Number.isFinite(first.score.loss) && first.score.loss > 0, s.stdout);
  // random weights of std 0.02 predict close to uniformly over 50,304 tokens
  assert.ok(
    Math.abs(first.score.loss - Math.log(50304)) < 1.5,
    `loss ${first.score.loss} vs ln(50304) ${Math.log(50304)}`,
  );

  const full = path.join(work, "full");
  const io = captureIO();
  assert.equal(await noLeak("train", () => train([...TRAIN, "--out", full, "--steps", "2", "--dtype", "F16"], io)), 0);
  const summary = JSON.parse(io.stdout());
  assert.equal(summary.model, PYTHIA_REPO);
  assert.equal(summary.step, 2);
  assert.ok(summary.losses.every(Number.isFinite), io.stdout());
  for (const f of ["config.json", "model.safetensors", "tokenizer.json"])
    assert.ok(fs.existsSync(path.join(full, f)), f);
  // the fine-tuned folder loads with the hub model's config and tokenizer
  const saved = await loadModel(full);
  assert.equal(saved.model.config.vocabSize, 50304);
  assert.deepEqual(saved.tokenizer.encode(PROMPT), (await loadTokenizerFrom(PYTHIA_REPO)).encode(PROMPT));
  saved.model.dispose();

  const lora = path.join(work, "lora");
  const lio = captureIO();
  assert.equal(
    await noLeak("train --lora", () => train([...TRAIN, "--out", lora, "--steps", "2", "--lora", "r=4,alpha=8"], lio)),
    0,
  );
  const adapterConfig = JSON.parse(fs.readFileSync(path.join(lora, "adapter", "adapter_config.json"), "utf8"));
  assert.equal(adapterConfig.base_model_name_or_path, PYTHIA_REPO);

  const eio = captureIO();
  assert.equal(await noLeak("eval", () => evaluate(EVAL, eio)), 0);
  first.eval = JSON.parse(eio.stdout());
  assert.equal(first.eval.count, 2);
  assert.equal(first.eval.model, PYTHIA_REPO);
  assert.ok(Number.isFinite(first.eval.perplexity), eio.stdout());

  const merged = path.join(work, "merged");
  const m = await noLeak("merge", () =>
    captured(() => merge(["--model", PYTHIA_REPO, "--adapter", path.join(lora, "adapter"), "--out", merged, "--json"])),
  );
  assert.equal(m.code, 0);
  assert.deepEqual(JSON.parse(m.stdout).files, [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
  ]);

  assert.equal(
    hub.server.requests.length,
    afterFirst,
    `no request after the first download: ${JSON.stringify(hub.server.requests.slice(afterFirst))}`,
  );
  assert.deepEqual(hub.bodyFetches(), {
    "config.json": 1,
    "special_tokens_map.json": 1,
    "tokenizer_config.json": 1,
    "tokenizer.json": 1,
    "model.safetensors": 1,
  });
});

test("online: with the hub server stopped, the same commands work from the cache and give the same answers", {
  timeout: 30 * 60_000,
}, async () => {
  assert.ok(first.generate && first.score && first.eval, "the online test ran first");
  await hub.stop();
  const unreachable = await fetch(hub.url).then(
    () => false,
    () => true,
  );
  assert.ok(unreachable, "the server is down");

  const g = await captured(() => generate(GEN));
  assert.equal(g.code, 0);
  assert.deepEqual(JSON.parse(g.stdout), first.generate);
  assert.doesNotMatch(g.stderr, /model\.safetensors/, "nothing downloaded");
  const s = await captured(() => score(SCORE));
  assert.deepEqual(JSON.parse(s.stdout), first.score);
  const eio = captureIO();
  assert.equal(await evaluate(EVAL, eio), 0);
  const { seconds: _s1, ...again } = JSON.parse(eio.stdout());
  const { seconds: _s2, ...before } = first.eval;
  assert.deepEqual(again, before);

  const lora = path.join(work, "lora-offline");
  assert.equal(await train([...TRAIN, "--out", lora, "--steps", "1", "--lora", "r=2,alpha=4"], captureIO()), 0);
  const full = path.join(work, "full-offline");
  assert.equal(await train([...TRAIN, "--out", full, "--steps", "1", "--dtype", "F16"], captureIO()), 0);
  const m = await captured(() =>
    merge([
      "--model",
      PYTHIA_REPO,
      "--adapter",
      path.join(lora, "adapter"),
      "--out",
      path.join(work, "merged-offline"),
      "--json",
    ]),
  );
  assert.equal(m.code, 0);
  assert.ok(fs.existsSync(path.join(work, "merged-offline", "model.safetensors")));
});
