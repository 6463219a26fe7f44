// An exported job runs for 2 steps under the real `accelerate launch` (accelerate 0.21, transformers 4.31,
// PEFT 0.5) on a tiny model, and its result loads back in tunebook; the accelerate configs load in accelerate
// 0.21; a job whose floor is not met stops first with one line naming the package, the versions and the pip
// command. The Rust `tokenizers` package is missing here, so train.py gets a stand-in tokenizer through
// tests/interop/standin/sitecustomize.py (it returns the ids tunebook's tokenizer gives each exported row).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { useTinyTask } from "../eval/helpers/tiny-task";
import { exportJob, type ExportOptions } from "../../src/export/export";
import { readJsonl } from "../../src/data/jsonl";
import { loadPretrained } from "../../src/model/load";
import { loadAdapter } from "../../src/lora/peft";
import { LoraModel } from "../../src/lora/model";
import { hfStack, runPython, STANDIN_DIR, type HfStack } from "./helpers";

const t = useTinyTask();

async function exported(name: string, opts: Partial<ExportOptions>): Promise<string> {
  const out = path.join(t.dir, name);
  await exportJob({
    out,
    model: t.modelDir,
    data: t.trainFile,
    evalData: t.testFile,
    template: "qa",
    train: { maxLength: 48, batchSize: 2, numSteps: 2 },
    ...opts,
  });
  return out;
}

/** The ids tunebook's tokenizer gives every exported prompt and completion, for the stand-in tokenizer. */
async function tokenTable(out: string): Promise<string> {
  const enc: Record<string, number[]> = {};
  for (const split of ["train", "test"]) {
    for (const r of (await readJsonl(path.join(out, "data", `${split}.jsonl`), { warnUnknownFields: false })).records) {
      enc["1" + r.prompt] = t.tokenizer.encode(r.prompt as string, { addSpecialTokens: true });
      enc["0" + r.completion] = t.tokenizer.encode(r.completion as string, { addSpecialTokens: false });
    }
  }
  const file = path.join(out, "standin-tokens.json");
  fs.writeFileSync(file, JSON.stringify({ enc, eos: t.tokenizer.eosTokenId, pad: t.tokenizer.padTokenId ?? null }));
  return file;
}

function launch(hf: HfStack, out: string, tokens: string): { status: number | null; log: string } {
  const r = runPython(hf, ["-m", "accelerate.commands.launch", "--config_file", "accelerate_config.yaml", "train.py"], {
    cwd: out,
    env: { PYTHONPATH: `${STANDIN_DIR}:${hf.pythonPath}`, TUNEBOOK_STANDIN_TOKENS: tokens, OMP_NUM_THREADS: "1" },
    timeoutMs: 300_000,
  });
  return { status: r.status, log: r.stdout + r.stderr };
}

function summary(out: string): any {
  return JSON.parse(fs.readFileSync(path.join(out, "output", "train_summary.json"), "utf8"));
}

test("a LoRA job with the docs' regex target trains 2 steps under accelerate launch; its adapter loads in tunebook", async (c) => {
  const hf = hfStack(c);
  if (!hf) return;
  const out = await exported("job-lora", { lora: "r=2,alpha=4,targets=/.+mlp.+/" });
  const r = launch(hf, out, await tokenTable(out));
  assert.equal(r.status, 0, `accelerate launch train.py failed:\n${r.log.slice(-4000)}`);
  const s = summary(out);
  assert.equal(s.steps, 2);
  assert.equal(s.losses.length, 2);
  assert.ok(
    s.losses.every((l: number) => Number.isFinite(l)),
    `losses ${s.losses}`,
  );
  assert.deepEqual([s.versions.transformers, s.versions.accelerate, s.versions.peft].length, 3);
  c.diagnostic(
    `train.py under accelerate ${s.versions.accelerate}, transformers ${s.versions.transformers}, PEFT ${s.versions.peft}: losses ${s.losses.map((l: number) => l.toFixed(4)).join(", ")}`,
  );
  // The regex became the MLP Linear layers' full names, which PEFT saved and tunebook loads onto the same layers.
  const cfg = JSON.parse(fs.readFileSync(path.join(out, "output", "adapter", "adapter_config.json"), "utf8"));
  assert.deepEqual([...cfg.target_modules].sort(), [
    "gpt_neox.layers.0.mlp.dense_4h_to_h",
    "gpt_neox.layers.0.mlp.dense_h_to_4h",
  ]);
  const model = await loadPretrained(path.join(out, "model"));
  try {
    await loadAdapter(model, path.join(out, "output", "adapter"));
    assert.deepEqual(LoraModel.of(model).targetModules("default"), [
      "gpt_neox.layers.0.mlp.dense_h_to_4h",
      "gpt_neox.layers.0.mlp.dense_4h_to_h",
    ]);
  } finally {
    model.dispose();
  }
});

test("a full fine-tuning job trains 2 steps under accelerate launch; the checkpoint loads in tunebook", async (c) => {
  const hf = hfStack(c);
  if (!hf) return;
  const out = await exported("job-full", {});
  const r = launch(hf, out, await tokenTable(out));
  assert.equal(r.status, 0, `accelerate launch train.py failed:\n${r.log.slice(-4000)}`);
  assert.equal(summary(out).steps, 2);
  const files = fs.readdirSync(path.join(out, "output"));
  assert.ok(files.includes("model.safetensors"), `train.py asks for safetensors; output/ has ${files.join(", ")}`);
  (await loadPretrained(path.join(out, "output"))).dispose();
});

test("accelerate 0.21 loads every exported accelerate_config.yaml (single GPU, and multi-GPU DeepSpeed ZeRO)", async (c) => {
  const hf = hfStack(c);
  if (!hf) return;
  const single = await exported("cfg-single", {});
  const zero = path.join(t.dir, "cfg-zero");
  await exportJob({ out: zero, model: "EleutherAI/pythia-6.9b", data: t.trainFile, template: "qa", gpu: "t4-16gb" });
  const code = [
    "import json, sys",
    "from accelerate.commands.config.config_args import load_config_from_file",
    "print(json.dumps([load_config_from_file(f).to_dict() for f in sys.argv[1:]]))",
  ].join("\n");
  const r = runPython(hf, [
    "-c",
    code,
    path.join(single, "accelerate_config.yaml"),
    path.join(zero, "accelerate_config.yaml"),
  ]);
  assert.equal(r.status, 0, `accelerate refused a config:\n${r.stderr.slice(-2000)}`);
  const [a, z] = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(a.distributed_type, "NO");
  assert.equal(z.distributed_type, "DEEPSPEED");
  assert.equal(z.deepspeed_config.zero_stage, 3);
});

test("an rsLoRA job under PEFT 0.5 stops first, in one line: installed version, floor, reason, pip command", async (c) => {
  const hf = hfStack(c);
  if (!hf) return;
  const out = await exported("job-rslora", { lora: "r=4,alpha=8,rslora" });
  // train.py's check runs before anything else; accelerate launch would only run this same process.
  const r = runPython(hf, ["train.py"], { cwd: out });
  const peft = runPython(hf, ["-c", "import peft; print(peft.__version__)"]).stdout.trim();
  if (!/^0\.[0-7]\./.test(peft)) return c.skip(`the gate is for PEFT < 0.8 (found ${peft})`);
  assert.notEqual(r.status, 0);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(
    lines[0],
    new RegExp(
      `^train\\.py: peft ${peft.replace(/\./g, "\\.")} \\(needs >= 0\\.8 \\(rsLoRA \\(use_rslora\\) arrived in PEFT 0\\.8.*\\)\\)\\. Fix: pip install -U "peft>=0\\.8"$`,
    ),
  );
  assert.equal(fs.existsSync(path.join(out, "output")), false, "nothing ran");
});
