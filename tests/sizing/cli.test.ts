// `tunebook sizing` (src/cli/sizing.ts), called through its `run` with console output captured.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "../../src/cli/sizing";
import { UsageError } from "../../src/cli/args";
import { FIXTURES } from "../helpers/backend";

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  try {
    const code = await run(argv);
    return { code, out: out.join("\n") };
  } finally {
    console.log = log;
  }
}

const PARTS = ["weights", "kvCache", "activations", "gradients", "optimizer", "overhead"];

test("--params --json: totalBytes and a breakdown of the six parts in bytes", async () => {
  const r = await cli("--params", "7e9", "--job", "inference", "--dtype", "fp16", "--gpu", "v100-16gb", "--json");
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out);
  assert.deepEqual(Object.keys(j.breakdown), PARTS);
  assert.equal(j.breakdown.weights, 14e9);
  assert.equal(j.breakdown.gradients, 0);
  assert.equal(
    j.totalBytes,
    PARTS.reduce((a, k) => a + j.breakdown[k], 0),
  );
  assert.equal(j.gpu.fits, true);
  assert.ok(j.assumptions.length > 0);
});

test("--model with every job, ZeRO over GPUs, batch and seq", async () => {
  for (const job of ["inference", "train", "lora", "qlora"]) {
    const r = await cli("--model", "pythia-410m", "--job", job, "--json");
    const j = JSON.parse(r.out);
    assert.equal(j.job.job, job);
    assert.ok(j.totalBytes > 0);
  }
  const one = JSON.parse((await cli("--model", "pythia-1b", "--job", "train", "--json")).out);
  const z3 = JSON.parse(
    (await cli("--model", "pythia-1b", "--job", "train", "--gpus", "8", "--zero", "3", "--json")).out,
  );
  assert.equal(z3.breakdown.optimizer * 8, one.breakdown.optimizer);
  assert.equal(z3.breakdown.weights * 8, one.breakdown.weights);
  const big = JSON.parse(
    (await cli("--model", "pythia-1b", "--job", "train", "--batch", "4", "--seq", "2048", "--json")).out,
  );
  assert.ok(big.breakdown.activations > 16 * one.breakdown.activations);
});

test("--model reads config.json files and folders (GPT-NeoX fixture, LLaMA-style temp file)", async () => {
  const r = JSON.parse((await cli("--model", path.join(FIXTURES, "neox-tiny", "A"), "--json")).out);
  assert.equal(r.model.family, "gpt_neox");
  assert.equal(r.model.hidden, 32);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-sizing-"));
  const file = path.join(dir, "config.json");
  fs.writeFileSync(
    file,
    JSON.stringify({
      model_type: "llama",
      hidden_size: 8192,
      num_hidden_layers: 80,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      intermediate_size: 28672,
      vocab_size: 32000,
    }),
  );
  const l = JSON.parse((await cli("--model", file, "--seq", "1", "--overhead", "0", "--json")).out);
  assert.equal(l.model.params, 68_976_648_192);
  assert.equal(l.breakdown.kvCache, 327_680);
  fs.writeFileSync(
    file,
    JSON.stringify({
      model_type: "llama",
      hidden_size: 64,
      num_attention_heads: 4,
      intermediate_size: 128,
      vocab_size: 100,
    }),
  );
  await assert.rejects(
    cli("--model", file),
    (e: unknown) => e instanceof UsageError && /missing required field "num_hidden_layers"/.test((e as Error).message),
  );
  fs.writeFileSync(file, "{not json");
  await assert.rejects(cli("--model", file), /not valid JSON/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("--gpu alone: maxParams for inference, train, lora, qlora with assumptions", async () => {
  const r = await cli("--gpu", "v100-16gb", "--json");
  const j = JSON.parse(r.out);
  assert.deepEqual(Object.keys(j.maxParams), ["inference", "train", "lora", "qlora"]);
  assert.ok(j.maxParams.inference > 6.5e9 && j.maxParams.inference < 7.5e9);
  assert.ok(j.maxParams.train > 0.9e9 && j.maxParams.train < 1.1e9);
  assert.ok(Array.isArray(j.assumptions) && j.assumptions.length >= 3);
  const text = await cli("--gpu", "a100-80gb");
  assert.match(text.out, /largest model that fits/);
});

test("text output names the parts and their formulas; --list-gpus lists the catalog", async () => {
  const r = await cli("--model", "llama-2-70b", "--job", "inference", "--gpu", "h100-80gb");
  assert.match(r.out, /does NOT fit/);
  assert.match(r.out, /kvCache: .*2 · 80 layers · 8 kv heads · 128 head dim/);
  const l = await cli("--list-gpus");
  assert.match(l.out, /h200-141gb/);
  assert.match(l.out, /this-machine/);
});

test("bad input: clear usage errors for each case", async () => {
  const cases: [string[], RegExp][] = [
    [["--params", "-7b"], /positive/],
    [["--params", "0"], /positive/],
    [["--params", "NaN"], /not a parameter count/],
    [["--params", "5e15"], /absurd/],
    [["--params", "7b", "--gpu", "h100"], /unknown GPU id "h100"; known: .*h100-80gb/],
    [["--gpu", "x100-1gb"], /known: t4-16gb/],
    [
      ["--params", "7b", "--job", "pretrain"],
      /--job "pretrain" is not known; use one of: inference, train, lora, qlora/,
    ],
    [["--params", "7b", "--dtype", "fp8"], /--dtype "fp8" is not known/],
    [["--params", "7b", "--job", "train", "--zero", "4"], /--zero must be an integer >= 0 and <= 3, got "4"/],
    [["--params", "7b", "--zero", "2"], /training jobs/],
    [["--params", "7b", "--batch", "0"], /--batch must be an integer >= 1/],
    [["--params", "7b", "--seq", "-3"], /--seq/],
    [["--params", "7b", "--gpus", "1.5"], /--gpus/],
    [["--params", "7b", "--job", "train", "--dtype", "int4"], /qlora/],
    [["--model", "pythia-70m", "--params", "7b"], /not both/],
    [["--model", "gpt-17"], /unknown model "gpt-17"/],
    [["--model", "pythia-70m", "--job", "lora", "--targets", "q_proj"], /query_key_value/],
    [[], /give --model M or --params N/],
    [["--params", "7b", "--bogus"], /unknown option --bogus/],
    [["7b"], /unexpected argument/],
    // counts are whole numbers: parseParamCount rounds, and 1.5 parameters must not become 2
    [["--params", "1.5"], /--params must be a whole number of parameters \(e\.g\. 70m, 1\.4b, 7e9\), got "1\.5"/],
    [["--params", "1000000.5"], /--params must be a whole number/],
    [["--params", "7b", "--tokens", "2.5"], /--tokens must be a whole number of tokens/],
    [["--params", "7b", "--mfu", "0"], /--mfu must be a number > 0 and <= 1, got "0"/],
    [["--params", "7b", "--mfu", "NaN"], /--mfu must be a number/],
    [["--params", "7b", "--overhead", "-0.1"], /--overhead must be a number >= 0/],
    [["--params", "7b", "--batch", "0x10"], /--batch must be an integer >= 1, got "0x10"/],
    [["--params", "7b", "--batch", ""], /--batch must be an integer >= 1, got ""/],
    [["--params", "7b", "--seq", "Infinity"], /--seq must be an integer >= 1, got "Infinity"/],
  ];
  for (const [argv, re] of cases)
    await assert.rejects(
      cli(...argv),
      (e: unknown) => e instanceof UsageError && re.test((e as Error).message),
      argv.join(" "),
    );
});

test("--params accepts whole counts in every written form: 70m, 1.4b, 7e9, 123", async () => {
  for (const [v, n] of [
    ["70m", 70e6],
    ["1.4b", 1.4e9],
    ["7e9", 7e9],
    ["123", 123],
    ["2.5k", 2500],
  ] as const) {
    const j = JSON.parse((await cli("--params", v, "--json")).out);
    assert.equal(j.model.params, n, v);
  }
});
