/**
 * Record the PEFT comparison of notebook 06: full fine-tuning, LoRA at several ranks and BitFit, each trained on
 * the spam training split with one recipe and each seed, scored by likelihood accuracy on a fixed sample of the
 * test split, plus one training step's memory per method (each in its own child process). Writes
 * docs/recorded/peft-compare/<date>-<label>.json (format: docs/recorded/peft-compare/README.md), rewritten after
 * every run so a stopped recording keeps what it has.
 *
 *   nice -n 5 node --import tsx scripts/record/peft-compare.ts --label cpu-zen5 [--seeds 0,1] [--steps 60]
 *       [--ranks 2,8,32] [--lr-full 2e-3] [--lr-lora 5e-3] [--lr-bitfit 1e-2] [--test 96] [--only full,lora8]
 *       [--model default] [--out docs/recorded/peft-compare]
 *
 * The learning rates are flags so that a grid can be run beforehand; the record's recipe.lrChoice says how they
 * were chosen (--lr-choice "...").
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/runtime/backend";
import { writeFileAtomic } from "../../src/runtime/atomic";
import { loadModel } from "../../src/pipeline/pretrained";
import { loadDataset } from "../../src/data/datasets";
import { sampleItems } from "../../src/data/split";
import {
  DEFAULT_PEFT_RECIPE,
  clipRecords,
  likelihoodAccuracy,
  peftLabel,
  type PeftMethodSpec,
  trainAndScore,
} from "../../src/course/lora/peft-compare";
import { measureStepMemoryInChild } from "../../src/course/lora/memory";
import {
  PEFT_RECORD_FORMAT,
  PEFT_RECORD_VERSION,
  type PeftRecord,
  validatePeftRecord,
} from "../../src/course/lora/peft-records";

const args = process.argv.slice(2);
function opt(name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? def : (args[i + 1] ?? def);
}
function nums(name: string, def: string): number[] {
  const v = opt(name, def)
    .split(",")
    .map((s) => Number(s.trim()));
  if (v.some((x) => !Number.isFinite(x))) throw new Error(`--${name}: expected numbers separated by commas`);
  return v;
}

/** The CPU model, with /proc/cpuinfo's family and model where the name alone is vague ("AMD EPYC"). */
function cpuModel(): string {
  const name = os.cpus()[0]?.model?.trim() || "unknown";
  try {
    const info = fs.readFileSync("/proc/cpuinfo", "utf8");
    const fam = /^cpu family\s*:\s*(\d+)/m.exec(info)?.[1];
    const model = /^model\s*:\s*(\d+)/m.exec(info)?.[1];
    return fam && model ? `${name} (family ${fam} model ${model})` : name;
  } catch {
    return name;
  }
}

const TARGETS = ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"];

async function main(): Promise<void> {
  const label = opt("label", "");
  if (!/^[a-z0-9-]+$/.test(label)) throw new Error("--label: expected lower-case letters, digits and dashes");
  const seeds = nums("seeds", "0,1");
  const ranks = nums("ranks", "2,8,32");
  const [lrFull] = nums("lr-full", "2e-3");
  const [lrLora] = nums("lr-lora", "5e-3");
  const [lrBitfit] = nums("lr-bitfit", "1e-2");
  const recipe = {
    ...DEFAULT_PEFT_RECIPE,
    numSteps: nums("steps", String(DEFAULT_PEFT_RECIPE.numSteps))[0],
    testExamples: nums("test", "96")[0],
  };
  const only = opt("only", "");
  const modelName = opt("model", "default");
  const outDir = opt("out", path.join("docs", "recorded", "peft-compare"));
  const date = new Date().toISOString().slice(0, 10);
  const file = path.join(outDir, `${date}-${label}.json`);

  const choice = await initBackend({ backend: process.env.TUNEBOOK_BACKEND ?? "wasm", verbose: false });
  const { model, tokenizer, dir } = await loadModel(modelName);
  const spam = await loadDataset("spam");
  const test = clipRecords(tokenizer, sampleItems(spam.test, recipe.testExamples, 0), recipe.textTokens);
  const base = likelihoodAccuracy(model, tokenizer, spam, test);
  const parameters = model.numParameters();
  model.dispose();

  const specs: PeftMethodSpec[] = [
    { method: "full", lr: lrFull },
    ...ranks.map((r) => ({ method: "lora" as const, lr: lrLora, r, alpha: 2 * r, targets: TARGETS })),
    { method: "bitfit", lr: lrBitfit },
  ];
  const key = (s: PeftMethodSpec) => (s.method === "lora" ? `lora${s.r}` : s.method);
  const chosen = only ? specs.filter((s) => only.split(",").includes(key(s))) : specs;

  const record: PeftRecord = {
    format: PEFT_RECORD_FORMAT,
    version: PEFT_RECORD_VERSION,
    label,
    date,
    machine: { cpu: cpuModel(), cores: os.cpus().length, platform: `${os.type()} ${os.arch()}` },
    backend: choice.name,
    software: {
      node: process.versions.node,
      tfjs: tf.version.tfjs,
      tunebook: JSON.parse(fs.readFileSync("package.json", "utf8")).version,
    },
    method:
      "scripts/record/peft-compare.ts: each configuration trained from the embedded model with the same recipe " +
      "and seed list on e-mails clipped to recipe.textTokens tokens, scored by likelihood accuracy on the same " +
      "clipped test sample; one step's memory per method in a child process",
    model: { name: modelName, parameters },
    task: {
      dataset: "spam",
      metric: "accuracy (likelihood)",
      trainRecords: spam.train.length,
      testRecords: test.length,
    },
    recipe: {
      ...recipe,
      seeds,
      lrChoice: opt(
        "lr-choice",
        "no grid was run (CPU budget); full: notebook 04's spam lr for the embedded model; LoRA: notebook 06's " +
          "(alpha = 2r, so the scale alpha/r is the same at every rank); BitFit: 1e-2, above the BitFit paper's " +
          "1e-4 to 1e-3 for BERT, raised like LoRA's because it starts from the trained biases and moves few values",
      ),
    },
    baseAccuracy: base.accuracy,
    rows: [],
    memory: [],
  };
  const save = () => {
    if (record.rows.length > 0) validatePeftRecord(record, file); // (a record needs at least one row)
    fs.mkdirSync(outDir, { recursive: true });
    writeFileAtomic(file, `${JSON.stringify(record, null, 1)}\n`);
  };
  const t0 = performance.now();
  const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}`);
  log(
    `base accuracy ${base.accuracy.toFixed(3)} on ${test.length}; ${chosen.length} configurations × ${seeds.length} seeds`,
  );

  for (const spec of chosen) {
    const mode = spec.method;
    const m = await measureStepMemoryInChild({
      modelDir: dir,
      mode,
      batchSize: recipe.batchSize,
      seqLen: recipe.maxLength,
      lora: spec.method === "lora" ? { r: spec.r, alpha: spec.alpha, targetModules: spec.targets } : {},
    });
    record.memory.push({ ...m, label: peftLabel(spec) });
    log(`${peftLabel(spec)} memory: tensor peak ${(m.tensorPeakBytes / 1e6).toFixed(1)} MB`);
    save();
  }
  // the verdict's configurations (full, LoRA r=8, BitFit) with every seed first, then the other ranks
  const first = (s: PeftMethodSpec) => s.method !== "lora" || s.r === 8;
  const order = [
    ...seeds.flatMap((seed) => chosen.filter(first).map((spec) => ({ seed, spec }))),
    ...seeds.flatMap((seed) => chosen.filter((s) => !first(s)).map((spec) => ({ seed, spec }))),
  ];
  for (const { seed, spec } of order) {
    {
      const row = await trainAndScore(dir, tokenizer, spam, spec, recipe, seed);
      record.rows.push(row);
      log(`${row.label} seed ${seed}: accuracy ${row.accuracy.toFixed(3)}, ${Math.round(row.tokensPerSec)} tokens/s`);
      save();
    }
  }
  log(`wrote ${file}`);
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  process.exit(1);
});
