import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { captureIO, useTinyTask } from "../eval/helpers/tiny-task";
import { exportJob, ExportError } from "../../src/export/export";
import { ExportPlanError } from "../../src/export/plan";
import { recordsFromRows } from "../../src/export/dataset";
import { recordsHash, sha256, type ExportedJob } from "../../src/export/job";
import { run } from "../../src/cli/export";
import { resolveTrainJob } from "../../src/cli/train";
import { readJsonl } from "../../src/data/jsonl";
import { QA_TEMPLATE } from "../../src/data/templates";
import { tokenizeExample, padBatch } from "../../src/data/prepare";
import { resolveTrainConfig } from "../../src/train/config";

const PY = "/usr/bin/python3";
const t = useTinyTask();

const jobArgs = () => [
  "--model",
  t.modelDir,
  "--data",
  t.trainFile,
  "--eval-data",
  t.testFile,
  "--template",
  "qa",
  "--lr",
  "0.003",
  "--steps",
  "7",
  "--batch-size",
  "2",
  "--grad-accum",
  "3",
  "--warmup",
  "2",
  "--schedule",
  "cosine",
  "--weight-decay",
  "0.1",
  "--max-grad-norm",
  "0.5",
  "--seed",
  "11",
  "--max-length",
  "48",
];
const readJob = (dir: string): ExportedJob => JSON.parse(fs.readFileSync(path.join(dir, "job.json"), "utf8"));
const siblings = (dir: string) =>
  fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`.${path.basename(dir)}.`));

test("tunebook export: the file structure, and job.json holds the local run's exact config", async () => {
  const out = path.join(t.dir, "exp-full");
  const io = captureIO();
  assert.equal(await run(["--engine", "hf", "--out", out, ...jobArgs(), "--json"], io), 0);
  const files = fs.readdirSync(out).sort();
  assert.deepEqual(files, [
    "README.md",
    "accelerate_config.yaml",
    "axolotl.yaml",
    "data",
    "job.json",
    "model",
    "train.py",
  ]);
  assert.deepEqual(fs.readdirSync(path.join(out, "data")).sort(), ["README.md", "test.jsonl", "train.jsonl"]);
  assert.deepEqual(fs.readdirSync(path.join(out, "model")).sort(), [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
  ]);
  assert.deepEqual(
    fs.readFileSync(path.join(out, "model", "model.safetensors")),
    fs.readFileSync(path.join(t.modelDir, "model.safetensors")),
  );
  assert.equal(JSON.parse(io.stdout()).out, out);

  const job = readJob(out);
  const local = resolveTrainJob([...jobArgs(), "--out", path.join(t.dir, "local-run")]);
  assert.ok(local !== "help");
  const { checkpointDir: _c, ...localTrain } = local.train;
  const { evalData: _e, ...expected } = resolveTrainConfig({ ...localTrain, evalData: [], evalEvery: 0 });
  assert.deepEqual(job.train, expected);
  assert.equal(job.train.lr, 0.003);
  assert.equal(job.resolved.numSteps, 7);
  assert.equal(job.resolved.effectiveBatch, 6);
  assert.equal(job.lora, null);
  // The transformers side carries the same values.
  assert.equal(job.hf.learning_rate, 0.003);
  assert.equal(job.hf.max_steps, 7);
  assert.equal(job.hf.warmup_steps, 2);
  assert.equal(job.hf.lr_scheduler_type, "cosine");
  assert.equal(job.hf.weight_decay, 0.1);
  assert.equal(job.hf.max_grad_norm, 0.5);
  assert.equal(job.hf.seed, 11);
  assert.equal(job.hf.max_length, 48);
  assert.equal(job.hf.per_device_train_batch_size * job.hf.gradient_accumulation_steps * job.cluster.numProcesses, 6);
  assert.equal(job.hf.model_name_or_path, "model");
  assert.deepEqual([job.hf.mask_prompt, job.hf.add_eos, job.hf.truncation_side], [true, true, "left"]);
  assert.equal(job.cluster.zeroStage, 0);
  assert.equal(job.cluster.numProcesses, 1);
  assert.equal(fs.existsSync(path.join(out, "ds_config.json")), false);
  const readme = fs.readFileSync(path.join(out, "README.md"), "utf8");
  assert.match(readme, /accelerate launch --config_file accelerate_config.yaml train.py/);
  // The bring-back command reads the export's own copy of the test split, relative to the export folder.
  assert.match(readme, /tunebook eval --model output --data data\/test\.jsonl --template qa\n/);
  assert.match(readme, /pip install torch "transformers>=4\.31" "accelerate>=0\.21"\n/);
  assert.deepEqual(job.requires, { transformers: "4.31", accelerate: "0.21" });
  assert.match(
    fs.readFileSync(path.join(out, "train.py"), "utf8"),
    /^REQUIRES = \{\n {4}"transformers": "4\.31",\n {4}"accelerate": "0\.21",\n\}$/m,
  );
  assert.doesNotMatch(
    fs.readFileSync(path.join(out, "accelerate_config.yaml"), "utf8"),
    /^debug:/m,
    "accelerate < 0.22 refuses a debug key",
  );
  assert.match(readme, /What the sizing calculator chose/);
  assert.match(
    fs.readFileSync(path.join(out, "data", "README.md"), "utf8"),
    /^---\nconfigs:\n- config_name: default\n {2}data_files:\n {2}- split: train\n {4}path: train.jsonl\n {2}- split: test\n {4}path: test.jsonl\n/,
  );
});

test("the exported dataset re-imports to the same examples, and renders the prompt/completion the local tokenizer sees", async () => {
  const out = path.join(t.dir, "exp-data");
  await exportJob({
    out,
    model: t.modelDir,
    data: t.trainFile,
    evalData: t.testFile,
    template: "qa",
    train: { maxLength: 48 },
  });
  const job = readJob(out);
  const original = (await readJsonl(t.trainFile)).records;
  const rows = (await readJsonl(path.join(out, "data", "train.jsonl"), { warnUnknownFields: false })).records;
  assert.deepEqual(recordsFromRows(rows), original);
  assert.equal(job.data.train.rows, original.length);
  assert.equal(job.data.train.recordsSha256, recordsHash(recordsFromRows(rows)));
  assert.equal(job.data.train.sha256, sha256(fs.readFileSync(path.join(out, "data", "train.jsonl"))));
  assert.deepEqual(
    recordsFromRows((await readJsonl(path.join(out, "data", "test.jsonl"), { warnUnknownFields: false })).records),
    (await readJsonl(t.testFile)).records,
  );
  for (const [i, row] of rows.entries()) {
    const local = QA_TEMPLATE.render(original[i]);
    assert.equal(row.prompt, local.prompt);
    assert.equal(row.completion, local.completion);
    // What the trainer would tokenize from the exported row is what it tokenizes from the record.
    const fromRecord = tokenizeExample(QA_TEMPLATE, t.tokenizer, original[i], { maxLength: 48 });
    const p = t.tokenizer.encode(row.prompt as string);
    const c = [...t.tokenizer.encode(row.completion as string, { addSpecialTokens: false }), t.tokenizer.eosTokenId!];
    assert.deepEqual(fromRecord.inputIds, [...p, ...c].slice(-48));
    assert.equal(fromRecord.labels.filter((l) => l !== -100).length, c.length);
  }
});

test("train.py compiles, its JOB literal equals job.json, and its tokenize/collate match tunebook's tokenizeExample/padBatch", async () => {
  const out = path.join(t.dir, "exp-py");
  await exportJob({
    out,
    model: t.modelDir,
    data: t.trainFile,
    template: "qa",
    lora: "r=2,alpha=4,dropout=0.05",
    train: { maxLength: 48 },
  });
  execFileSync(PY, ["-m", "py_compile", path.join(out, "train.py")]);
  const job = readJob(out);
  assert.deepEqual(job.hf.lora, {
    r: 2,
    lora_alpha: 4,
    lora_dropout: 0.05,
    target_modules: ["query_key_value"],
    use_rslora: false,
    layers_to_transform: null,
    bias: "none",
    task_type: "CAUSAL_LM",
  });
  const rows = (await readJsonl(path.join(out, "data", "train.jsonl"), { warnUnknownFields: false })).records.slice(
    0,
    6,
  );
  const maxLengths = [48, 20, 9, 3];
  const enc: Record<string, number[]> = {};
  for (const r of rows) {
    enc["1" + r.prompt] = t.tokenizer.encode(r.prompt as string, { addSpecialTokens: true });
    enc["0" + r.completion] = t.tokenizer.encode(r.completion as string, { addSpecialTokens: false });
  }
  const input = path.join(t.dir, "py-input.json");
  fs.writeFileSync(input, JSON.stringify({ rows, enc, eos: t.tokenizer.eosTokenId, pad: 1, maxLengths }));
  const harness = [
    "import importlib.util, json, sys, types",
    "fake = types.ModuleType('transformers')",
    "for n in ['AutoModelForCausalLM', 'AutoTokenizer', 'Trainer', 'TrainingArguments']: setattr(fake, n, object)",
    "fake.set_seed = lambda s: None",
    "sys.modules['transformers'] = fake",
    "spec = importlib.util.spec_from_file_location('train', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)",
    "d = json.load(open(sys.argv[2]))",
    "class Tok:",
    "    eos_token_id = d['eos']",
    "    def __call__(self, text, add_special_tokens=True): return {'input_ids': list(d['enc'][('1' if add_special_tokens else '0') + text])}",
    "job = dict(m.JOB)",
    "tok = []",
    "for n in d['maxLengths']:",
    "    m.JOB['max_length'] = n",
    "    tok.append([m.tokenize(r, Tok()) for r in d['rows']])",
    "m.JOB['max_length'] = d['maxLengths'][0]",
    "batch = m.Collator(d['pad'])(m.Examples(d['rows'], Tok()).examples[:3])",
    "print(json.dumps({'job': job, 'tok': tok, 'collated': {k: v.tolist() for k, v in batch.items()}}))",
  ].join("\n");
  const res = JSON.parse(execFileSync(PY, ["-c", harness, path.join(out, "train.py"), input], { encoding: "utf8" }));
  assert.deepEqual(res.job, job.hf);
  maxLengths.forEach((n, k) =>
    rows.forEach((r, i) => {
      const ex = tokenizeExample(QA_TEMPLATE, t.tokenizer, recordsFromRows([r])[0], { maxLength: n });
      assert.deepEqual(res.tok[k][i], { input_ids: ex.inputIds, labels: ex.labels }, `row ${i}, maxLength ${n}`);
    }),
  );
  const local = padBatch(
    rows.slice(0, 3).map((r) => tokenizeExample(QA_TEMPLATE, t.tokenizer, recordsFromRows([r])[0], { maxLength: 48 })),
    { padTokenId: 1 },
  );
  assert.deepEqual(res.collated, {
    input_ids: local.inputIds,
    attention_mask: local.attentionMask,
    labels: local.labels,
  });
});

test("ZeRO comes from the calculator: a big model on small GPUs gets DeepSpeed ZeRO-3 in every config", async () => {
  const out = path.join(t.dir, "exp-big");
  const r = await exportJob({
    out,
    model: "EleutherAI/pythia-6.9b",
    data: t.trainFile,
    template: "qa",
    gpu: "t4-16gb",
    train: { batchSize: 4, gradAccumSteps: 4, numEpochs: 2 },
  });
  assert.equal(r.job.model.copied, false);
  assert.equal(r.job.hf.model_name_or_path, "EleutherAI/pythia-6.9b");
  assert.equal(r.job.resolved.numSteps, Math.ceil((2 * 24) / 16));
  assert.equal(r.plan.zeroStage, 3);
  const parsed = JSON.parse(
    execFileSync(
      PY,
      [
        "-c",
        "import json, sys, yaml; print(json.dumps([yaml.safe_load(open(f)) for f in sys.argv[1:]]))",
        path.join(out, "accelerate_config.yaml"),
        path.join(out, "axolotl.yaml"),
      ],
      { encoding: "utf8" },
    ),
  );
  const [acc, axo] = parsed;
  assert.equal(acc.distributed_type, "DEEPSPEED");
  assert.equal(acc.num_processes, r.plan.numProcesses);
  assert.equal(acc.deepspeed_config.zero_stage, 3);
  assert.equal(acc.deepspeed_config.gradient_accumulation_steps, r.plan.gradAccumSteps);
  assert.equal(acc.deepspeed_config.zero3_save_16bit_model, true);
  assert.equal(acc.mixed_precision, "fp16", "T4s have no bf16: auto precision is fp16");
  assert.deepEqual([r.job.hf.bf16, r.job.hf.fp16], [false, true]);
  const ds = JSON.parse(fs.readFileSync(path.join(out, "ds_config.json"), "utf8"));
  assert.equal(ds.zero_optimization.stage, 3);
  assert.equal(axo.deepspeed, "ds_config.json");
  assert.equal(axo.micro_batch_size, r.plan.microBatch);
  assert.equal(axo.max_steps, r.job.resolved.numSteps);
  assert.equal(axo.adam_epsilon, 1e-8);
  assert.equal(axo.train_on_inputs, false);
});

test("a plan that cannot fit: the calculator's explanation, and no folder at all", async () => {
  const out = path.join(t.dir, "exp-too-big");
  await assert.rejects(
    exportJob({ out, model: "EleutherAI/pythia-12b", data: t.trainFile, template: "qa", gpu: "t4-16gb", gpus: 2 }),
    (e: any) =>
      e instanceof ExportPlanError && /even with ZeRO-3/.test(e.message) && /Total: .* per GPU/.test(e.message),
  );
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(siblings(out), []);
  const io = captureIO();
  await assert.rejects(
    run(
      ["--out", out, "--model", "EleutherAI/pythia-12b", "--data", t.trainFile, "--gpu", "t4-16gb", "--gpus", "2"],
      io,
    ),
    /tunebook export: .*does not fit/,
  );
});

test("an existing folder is refused without --force and replaced (not merged) with it", async () => {
  const out = path.join(t.dir, "exp-force");
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, "keep.txt"), "mine");
  await assert.rejects(
    exportJob({ out, model: t.modelDir, data: t.trainFile, template: "qa" }),
    (e: any) => e instanceof ExportError && /already exists; pass --force/.test(e.message),
  );
  assert.deepEqual(fs.readdirSync(out), ["keep.txt"]);
  await exportJob({ out, model: t.modelDir, data: t.trainFile, template: "qa", force: true });
  assert.equal(fs.existsSync(path.join(out, "keep.txt")), false);
  assert.ok(fs.existsSync(path.join(out, "train.py")));
  assert.deepEqual(siblings(out), []);
});

test("atomic: a failure while writing leaves no partial folder, and --force keeps the old export intact", async () => {
  const out = path.join(t.dir, "exp-atomic");
  const boom = {
    beforeRename: (tmp: string) => {
      assert.ok(fs.existsSync(path.join(tmp, "train.py")));
      throw new Error("disk full (injected)");
    },
  };
  await assert.rejects(exportJob({ out, model: t.modelDir, data: t.trainFile, template: "qa" }, boom), /disk full/);
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(siblings(out), []);
  await exportJob({ out, model: t.modelDir, data: t.trainFile, template: "qa", train: { lr: 0.001 } });
  await assert.rejects(
    exportJob({ out, model: t.modelDir, data: t.trainFile, template: "qa", train: { lr: 0.5 }, force: true }, boom),
    /disk full/,
  );
  assert.equal(readJob(out).train.lr, 0.001);
  assert.deepEqual(siblings(out), []);
});

test("bad input names what is wrong", async () => {
  const out = path.join(t.dir, "exp-bad");
  await assert.rejects(
    exportJob({ out, model: t.modelDir, data: t.trainFile, template: "qa", engine: "ray" as any }),
    /engine "ray" is not supported/,
  );
  await assert.rejects(
    exportJob({ out, model: path.join(t.dir, "nowhere"), data: t.trainFile }),
    /not a folder, "default", nor a hub repo id/,
  );
  await assert.rejects(
    exportJob({ out, model: t.modelDir, data: t.trainFile, train: { lr: -1 } }),
    /lr: expected a finite number ≥ 0/,
  );
  await assert.rejects(
    exportJob({ out, model: t.modelDir, data: t.trainFile, lora: "r=0" }),
    /r must be a positive integer/,
  );
  const clash = path.join(t.dir, "clash.jsonl");
  fs.writeFileSync(clash, JSON.stringify({ question: "q?", answer: "a", prompt: "mine" }) + "\n");
  await assert.rejects(
    exportJob({ out, model: t.modelDir, data: clash, template: "qa" }),
    /record 1 already has a field "prompt"/,
  );
  assert.equal(fs.existsSync(out), false);
  await assert.rejects(
    run(["--out", out, "--model", t.modelDir, "--data", t.trainFile, "--gpus", "two"], captureIO()),
    /--gpus must be a positive integer or auto/,
  );
  await assert.rejects(run(["--model", t.modelDir, "--data", t.trainFile], captureIO()), /--out DIR is required/);
  await assert.rejects(
    run(["--out", out, "--model", t.modelDir, "--data", t.trainFile, "--bogus", "1"], captureIO()),
    /unknown option --bogus/,
  );
});

test("train.py's floor check: parses releases like 1.13.0a0+git, and names each package below its floor in one line", async () => {
  const out = path.join(t.dir, "exp-floors");
  await exportJob({ out, model: t.modelDir, data: t.trainFile, template: "qa", lora: "r=2,alpha=4,rslora" });
  assert.deepEqual(readJob(out).requires, { transformers: "4.31", accelerate: "0.21", peft: "0.8" });
  const harness = [
    "import importlib.util, json, sys, types",
    "fake = types.ModuleType('transformers')",
    "for n in ['AutoModelForCausalLM', 'AutoTokenizer', 'Trainer', 'TrainingArguments']: setattr(fake, n, object)",
    "fake.set_seed = lambda s: None",
    "sys.modules['transformers'] = fake",
    "spec = importlib.util.spec_from_file_location('train', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)",
    "versions = {'transformers': '4.30.2', 'accelerate': '0.21.0'}",
    "def version(pkg):",
    "    if pkg not in versions: raise m.metadata.PackageNotFoundError(pkg)",
    "    return versions[pkg]",
    "m.metadata.version = version",
    "try:",
    "    m.check_requirements(); msg = None",
    "except SystemExit as e:",
    "    msg = str(e)",
    "print(json.dumps({'release': [m.release(v) for v in ['1.13.0a0+git', '4.31.0', '0.8', '2.1.0.dev20240101']], 'msg': msg}))",
  ].join("\n");
  const res = JSON.parse(execFileSync(PY, ["-c", harness, path.join(out, "train.py")], { encoding: "utf8" }));
  assert.deepEqual(res.release, [
    [1, 13, 0],
    [4, 31, 0],
    [0, 8],
    [2, 1, 0],
  ]);
  assert.equal(
    res.msg,
    'train.py: transformers 4.30.2 (needs >= 4.31); peft not installed (needs >= 0.8 (rsLoRA (use_rslora) arrived in PEFT 0.8; older releases ignore it and scale by lora_alpha/r)). Fix: pip install -U "transformers>=4.31" "peft>=0.8"',
  );
});
