// Limits and input validation across the commands: numeric flags that make no sense, --max-new-tokens past the
// model's context, NaN weights in score/eval, non-regular input files. Each is one line naming the flag or path.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { captureIO, useTinyTask, writeJsonlFile, qaRecords } from "../eval/helpers/tiny-task";
import { parseNumberFlag, UsageError } from "../../src/cli/args";
import { run as evalCli } from "../../src/cli/eval";
import { run as generateCli } from "../../src/cli/generate";
import { assertFiniteWeights } from "../../src/cli/common";
import { run as scoreCli } from "../../src/cli/score";
import { run as datagenCli } from "../../src/cli/datagen";
import { run as exportCli } from "../../src/cli/export";
import * as tf from "@tensorflow/tfjs";
import { loadPretrained, modelStateDict } from "../../src/model/load";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { LoraModel } from "../../src/lora/model";
import { writeSafetensorsFile } from "../../src/model/safetensors";
import { makeFifo } from "../helpers/fifo";

const t = useTinyTask();

const usage = (re: RegExp) => (e: unknown) =>
  e instanceof UsageError && re.test(e.message) && !e.message.includes("\n");

test("parseNumberFlag: only plain decimal numbers, in range, integers where asked; the error names flag and value", () => {
  assert.equal(parseNumberFlag("12", "n", {}, true), 12);
  assert.equal(parseNumberFlag("1e3", "n", {}, true), 1000);
  assert.equal(parseNumberFlag("0.5", "p", { min: 0, exclusiveMin: true, max: 1 }), 0.5);
  assert.equal(parseNumberFlag(".5", "p"), 0.5);
  const bad: [string, string, object, boolean, string][] = [
    ["", "limit", { min: 1 }, true, '--limit must be an integer >= 1, got ""'],
    [" 5", "limit", { min: 1 }, true, '--limit must be an integer >= 1, got " 5"'],
    ["0x10", "limit", { min: 1 }, true, '--limit must be an integer >= 1, got "0x10"'],
    ["1.5", "params", { min: 1 }, true, '--params must be an integer >= 1, got "1.5"'],
    ["1e999", "seq", { min: 1 }, true, '--seq must be an integer >= 1, got "1e999"'],
    ["1e300", "seq", { min: 1 }, true, '--seq must be an integer >= 1, got "1e300"'], // not a safe integer
    ["NaN", "lr", {}, false, '--lr must be a number, got "NaN"'],
    ["Infinity", "lr", {}, false, '--lr must be a number, got "Infinity"'],
    ["-Infinity", "lr", {}, false, '--lr must be a number, got "-Infinity"'],
    ["1_000", "lr", {}, false, '--lr must be a number, got "1_000"'],
    ["0", "top-p", { min: 0, exclusiveMin: true, max: 1 }, false, '--top-p must be a number > 0 and <= 1, got "0"'],
    [
      "1.01",
      "top-p",
      { min: 0, exclusiveMin: true, max: 1 },
      false,
      '--top-p must be a number > 0 and <= 1, got "1.01"',
    ],
  ];
  for (const [v, flag, bounds, integer, msg] of bad)
    assert.throws(
      () => parseNumberFlag(v, flag, bounds, integer),
      (e: any) => e instanceof UsageError && e.message === msg,
      v,
    );
});

test("eval: --limit 0, negative or fractional, and other nonsense numbers are refused before the model loads", async () => {
  const cases: [string[], RegExp][] = [
    [["--limit", "0"], /^--limit must be an integer >= 1, got "0"$/],
    [["--limit", "-3"], /^--limit must be an integer >= 1, got "-3"$/],
    [["--limit", "1.5"], /^--limit must be an integer >= 1, got "1\.5"$/],
    [["--limit", ""], /^--limit must be an integer >= 1, got ""$/],
    [["--batch-size", "NaN"], /^--batch-size must be an integer >= 1, got "NaN"$/],
    [["--max-new-tokens", "0"], /^--max-new-tokens must be an integer >= 1, got "0"$/],
  ];
  for (const [flags, re] of cases)
    await assert.rejects(
      evalCli(["--model", path.join(t.dir, "no-such-model"), "--data", t.testFile, ...flags], captureIO()),
      usage(re),
      flags.join(" "),
    );
  // past the context: named with the limit once the model (context 128) is known
  await assert.rejects(
    evalCli(["--model", t.modelDir, "--data", t.testFile, "--max-new-tokens", "1e9"], captureIO()),
    usage(/^--max-new-tokens 1000000000 is over the limit of 127: .*context is 128 tokens/),
  );
});

test("generate: --max-new-tokens is capped by the context minus the prompt, naming the flag, the value and the limit", async (tc) => {
  const forward = tc.mock.method(GPTNeoXForCausalLM.prototype, "forward"); // counted, not timed
  await assert.rejects(
    generateCli(["--model", t.modelDir, "--prompt-ids", "1,2,3", "--max-new-tokens", "1e9"]),
    usage(
      /^--max-new-tokens 1000000000 is over the limit of 125: .*context is 128 tokens \(max_position_embeddings\) and the prompt has 3$/,
    ),
  );
  assert.equal(forward.mock.callCount(), 0, "refused, not generated");
  await assert.rejects(
    generateCli([
      "--model",
      t.modelDir,
      "--prompt-ids",
      Array.from({ length: 128 }, () => 1).join(","),
      "--max-new-tokens",
      "1",
    ]),
    usage(/the prompt has 128 tokens and fills .*context of 128/),
  );
  for (const [flag, v, re] of [
    ["--max-new-tokens", "0", /--max-new-tokens must be an integer >= 1/],
    ["--temperature", "0", /--temperature must be a number > 0, got "0"/],
    ["--top-p", "2", /--top-p must be a number > 0 and <= 1/],
    ["--top-k", "-1", /--top-k must be an integer >= 0/],
    ["--repetition-penalty", "Infinity", /--repetition-penalty must be a number > 0/],
    ["--seed", "1.5", /--seed must be an integer >= 0/],
  ] as const)
    await assert.rejects(
      generateCli(["--model", path.join(t.dir, "no-such-model"), "--prompt-ids", "1", flag, v]),
      usage(re),
      `${flag} ${v}`,
    );
});

test("score and eval refuse NaN/Infinity weights with one line naming the model folder and the first bad tensor", async () => {
  const dir = path.join(t.dir, "nan-model");
  fs.mkdirSync(dir);
  for (const f of ["config.json", "tokenizer.json"]) fs.copyFileSync(path.join(t.modelDir, f), path.join(dir, f));
  const sd = modelStateDict(t.model);
  const name = "gpt_neox.layers.0.mlp.dense_h_to_4h.weight";
  (sd.get(name)!.data as Float32Array)[5] = NaN;
  await writeSafetensorsFile(path.join(dir, "model.safetensors"), sd);
  const re = new RegExp(
    `^${dir.replace(/[.\\/]/g, "\\$&")}: weight ${name.replace(/\./g, "\\.")} holds NaN \\(first at index 5\\); the checkpoint is corrupt or comes from a run that diverged$`,
  );
  const log = console.log;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => void printed.push(a.join(" "));
  try {
    await assert.rejects(
      scoreCli(["--model", dir, "--ids", "1,2,3", "--json"]),
      (e: any) => re.test(e.message),
      "score",
    );
  } finally {
    console.log = log;
  }
  assert.deepEqual(printed, [], 'nothing printed (no {"loss": null})');
  const io = captureIO();
  await assert.rejects(
    evalCli(["--model", dir, "--data", t.testFile, "--limit", "1", "--json"], io),
    (e: any) => re.test(e.message),
    "eval",
  );
  assert.equal(io.stdout(), "");
});

test("datagen and export: numeric flags in range; an input that is a FIFO is refused at once", async () => {
  const input = writeJsonlFile(path.join(t.dir, "pairs.jsonl"), qaRecords(4));
  const out = path.join(t.dir, "out.jsonl");
  await assert.rejects(
    datagenCli(["dedup", input, "--out", out, "--threshold", "2"]),
    usage(/^--threshold must be a number > 0 and <= 1, got "2"$/),
  );
  await assert.rejects(
    datagenCli(["filter", input, "--out", out, "--min-answer-chars", "9", "--max-answer-chars", "3"]),
    usage(/--max-answer-chars 3 is below --min-answer-chars 9/),
  );
  await assert.rejects(
    datagenCli(["expand", input, "--out", out, "--per-item", "0"]),
    usage(/^--per-item must be an integer >= 1, got "0"$/),
  );
  await assert.rejects(
    exportCli(["--out", path.join(t.dir, "exp"), "--gpus", "0x2"], captureIO()),
    usage(/^--gpus must be a positive integer or auto, got "0x2"$/),
  );
  const fifo = makeFifo(path.join(t.dir, "pipe.jsonl"));
  try {
    await assert.rejects(
      datagenCli(["dedup", fifo.path, "--out", out]),
      usage(/pipe\.jsonl is a FIFO \(named pipe\), not a regular file$/),
    );
    assert.ok(!fifo.wasOpened(), "refused before opening the FIFO");
  } finally {
    fifo.close();
  }
  assert.ok(!fs.existsSync(out));
});

test("assertFiniteWeights also checks the adapters put on the model, naming the adapter's folder", async () => {
  const model = await loadPretrained(t.modelDir);
  try {
    assert.doesNotThrow(() => assertFiniteWeights(model, t.modelDir));
    const lora = LoraModel.of(model);
    lora.addAdapter("default", { r: 2, alpha: 4 });
    assert.doesNotThrow(() => assertFiniteWeights(model, t.modelDir, "runs/x/adapter"));
    const [name, v] = [...lora.adapterVariables("default")].find(([n]) => n.endsWith("lora_B.weight"))!;
    v.assign(tf.fill(v.shape, Infinity));
    assert.throws(
      () => assertFiniteWeights(model, t.modelDir, "runs/x/adapter"),
      (e: any) =>
        e.message ===
        `runs/x/adapter: adapter weight ${name} holds Infinity (first at index 0); the adapter is corrupt or comes from a run that diverged`,
    );
  } finally {
    model.dispose();
  }
});

test("params --revision: checked even when a preset answers (a bad revision is never silently ignored)", async () => {
  const { run: paramsCli } = await import("../../src/cli/params");
  await assert.rejects(
    paramsCli(["EleutherAI/pythia-70m", "--revision", "../.."]),
    /invalid --revision "\.\.\/\.\.": it contains "\.\."/,
  );
  const log = console.log;
  let printed = "";
  console.log = (t: unknown) => void (printed += String(t));
  try {
    assert.equal(await paramsCli(["EleutherAI/pythia-70m", "--revision", "step3000"]), 0);
  } finally {
    console.log = log;
  }
  assert.equal(printed, "70426624");
});
