/**
 * `tunebook train --config FILE.json` (or flags): fine-tune with the library's trainer. A progress bar
 * (loss, tokens/s, ETA) on stderr, checkpoints in OUT/checkpoints, `--resume` to continue from the newest,
 * the final model folder in OUT (config.json, model.safetensors, the tokenizer files) and a JSON summary on
 * stdout (also written to OUT/train_summary.json).
 *
 * The config file holds the trainer's fields (`lr`, `numSteps`, `batchSize`, ... as in `DEFAULT_TRAIN_CONFIG`)
 * plus `model`, `data`, `evalData` (a JSONL path or dataset name), `template`, `labels`, `out`, `limit`,
 * `lora` and `dtype`. Flags override the file; an unknown field is an error that names it.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs, bool, str, int, num, UsageError } from "./args";
import type { CliIO } from "./eval";
import { writeFileAtomic, tempSibling, replaceDir } from "../runtime/atomic";
import { textProgress } from "../hub";
import { loadModel } from "../model/pretrained";
import { saveModel } from "../model/load";
import { initBackend } from "../runtime/backend";
import { SPECIAL_TOKENS_MAP_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "../tokenizer";
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, TrainConfigError, type StepInfo, type TrainConfig } from "../train/config";
import { attachLora, parseLoraOption } from "../eval/adapters";
import { fineTune } from "../eval/finetune";
import { loadTask, TEMPLATE_NAMES } from "../eval/task";

const HELP = `usage: tunebook train (--config FILE.json | --model M --data FILE|DATASET --out DIR) [options]
  --config FILE.json     trainer fields (lr, numSteps, batchSize, ...) + model, data, evalData, template, labels, out, limit, lora, dtype
                         (paths relative to the current directory)
  --model M              "default", a folder, or a repo id          --out DIR   where the model and checkpoints go
  --data FILE|DATASET    training JSONL, or a shipped dataset (its train split)
  --eval-data FILE|DS    held-out JSONL (a dataset name: its test split): eval loss at the end and every --eval-every
  --template T           ${TEMPLATE_NAMES.join("|")}     --labels a,b   --limit N (first N records)
  --lr X --steps N --epochs N --batch-size N --grad-accum N --max-length N --warmup N --schedule S
  --optimizer adamw|adafactor --weight-decay X --max-grad-norm X --seed N
  --eval-every N --checkpoint-every N --keep-checkpoints N
  --resume               continue from the newest checkpoint in OUT/checkpoints
  --lora r=8,alpha=16[,targets=a+b][,dropout=0.05]   train a LoRA adapter instead of every weight
  --dtype F32|F16|BF16   saved weights (default F32)      --quiet   no progress bar`;

const CLI_FIELDS = ["model", "data", "evalData", "template", "labels", "out", "limit", "lora", "dtype"] as const;
type CliField = (typeof CLI_FIELDS)[number];

export interface TrainJob {
  model: string;
  data: string;
  out: string;
  evalData?: string;
  template?: string;
  labels?: string[];
  limit?: number;
  lora?: string;
  dtype: "F32" | "F16" | "BF16";
  /** No progress output. */
  quiet: boolean;
  train: Partial<TrainConfig>;
}

/** Read a config file: trainer fields and CLI fields, every other field refused by name. */
export function readTrainConfigFile(file: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e: any) {
    throw new UsageError(`${file}: ${e?.code === "ENOENT" ? "no such file" : `not valid JSON (${e?.message ?? e})`}`);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new UsageError(`${file}: expected a JSON object of fields`);
  const known = new Set<string>([...Object.keys(DEFAULT_TRAIN_CONFIG).filter((k) => k !== "evalData"), ...CLI_FIELDS]);
  for (const k of Object.keys(json)) if (!known.has(k)) throw new UsageError(`${file}: unknown field "${k}" (known: ${[...known].join(", ")})`);
  return json as Record<string, unknown>;
}

function fieldStr(src: string, o: Record<string, unknown>, k: CliField): string | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") throw new UsageError(`${src}: field "${k}" must be a non-empty string, found ${JSON.stringify(v)}`);
  return v;
}

/** Config file + flags → one job (flags win). Checks the trainer fields before anything is loaded. */
export function resolveTrainJob(argv: string[]): TrainJob | "help" {
  const p = parseArgs(argv, {
    booleans: ["resume", "quiet", "help"],
    values: ["config", "model", "data", "eval-data", "template", "labels", "out", "limit", "lora", "dtype", "lr", "steps", "epochs", "batch-size",
      "grad-accum", "max-length", "warmup", "schedule", "optimizer", "weight-decay", "max-grad-norm", "seed", "eval-every", "checkpoint-every", "keep-checkpoints"],
  }, "tunebook train");
  if (bool(p, "help")) return "help";
  if (p.positional.length) throw new UsageError(`tunebook train: unexpected argument ${JSON.stringify(p.positional[0])}`);
  const cfgFile = str(p, "config");
  const file = cfgFile ? readTrainConfigFile(cfgFile) : {};
  const src = cfgFile ?? "flags";
  const { model: _m, data: _d, evalData: _e, template: _t, labels: fileLabels, out: _o, limit: fileLimit, lora: _l, dtype: _dt, ...trainFile } = file;
  const train: Record<string, unknown> = { ...trainFile };
  const set = (k: keyof TrainConfig, v: unknown) => v !== undefined && (train[k] = v);
  set("lr", num(p, "lr"));
  set("numSteps", int(p, "steps"));
  set("numEpochs", num(p, "epochs"));
  set("batchSize", int(p, "batch-size"));
  set("gradAccumSteps", int(p, "grad-accum"));
  set("maxLength", int(p, "max-length", undefined, 2));
  set("warmupSteps", int(p, "warmup", undefined, 0));
  set("schedule", str(p, "schedule"));
  set("optimizer", str(p, "optimizer"));
  set("weightDecay", num(p, "weight-decay"));
  set("maxGradNorm", num(p, "max-grad-norm"));
  set("seed", int(p, "seed", undefined, 0));
  set("evalEvery", int(p, "eval-every", undefined, 0));
  set("checkpointEvery", int(p, "checkpoint-every", undefined, 0));
  set("keepCheckpoints", int(p, "keep-checkpoints", undefined, 0));
  if (bool(p, "resume")) train.resume = true;

  const model = str(p, "model") ?? fieldStr(src, file, "model");
  const data = str(p, "data") ?? fieldStr(src, file, "data");
  const out = str(p, "out") ?? fieldStr(src, file, "out");
  const missing = [!model && "model", !data && "data", !out && "out"].filter(Boolean);
  if (missing.length) throw new UsageError(`tunebook train: ${missing.map((m) => `--${m}`).join(", ")} required (as flags or config fields)\n${HELP}`);
  if (train.checkpointDir === undefined) train.checkpointDir = path.join(out!, "checkpoints");
  try {
    resolveTrainConfig({ ...(train as Partial<TrainConfig>), evalData: [], evalEvery: 0 });
  } catch (e: any) {
    if (e instanceof TrainConfigError) throw new UsageError(`${src}: ${e.message}`);
    throw e;
  }
  let labels = str(p, "labels")?.split(",").map((s) => s.trim()).filter(Boolean);
  if (!labels && fileLabels !== undefined) {
    if (!Array.isArray(fileLabels) || !fileLabels.every((l) => typeof l === "string")) throw new UsageError(`${src}: field "labels" must be an array of strings`);
    labels = fileLabels as string[];
  }
  if (fileLimit !== undefined && !(Number.isInteger(fileLimit) && (fileLimit as number) > 0))
    throw new UsageError(`${src}: field "limit" must be a positive integer, found ${JSON.stringify(fileLimit)}`);
  const limit = int(p, "limit") ?? (fileLimit as number | undefined);
  const dtype = (str(p, "dtype") ?? fieldStr(src, file, "dtype") ?? "F32").toUpperCase();
  if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") throw new UsageError(`--dtype must be F32, F16 or BF16, got ${JSON.stringify(dtype)}`);
  const lora = str(p, "lora") ?? fieldStr(src, file, "lora");
  if (lora) parseLoraOption(lora); // syntax errors before loading anything
  return {
    model: model!, data: data!, out: out!, evalData: str(p, "eval-data") ?? fieldStr(src, file, "evalData"), template: str(p, "template") ?? fieldStr(src, file, "template"),
    labels, limit, lora, dtype, quiet: bool(p, "quiet"), train: train as Partial<TrainConfig>,
  };
}

const clock = (s: number) => {
  if (!Number.isFinite(s)) return "?";
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
};

/**
 * One progress line.
 * @example
 * formatProgress({ step: 5, numSteps: 10, loss: 2.5, lr: 1e-3, tokensPerSec: 800, eta: 12, ... });
 * // "step 5/10 [##########----------]  50% loss 2.5000 lr 1.00e-3 800 tok/s ETA 0:12"
 */
export function formatProgress(s: StepInfo, width = 20): string {
  const done = Math.round((width * s.step) / s.numSteps);
  const pct = `${Math.floor((100 * s.step) / s.numSteps)}%`.padStart(4);
  return `step ${s.step}/${s.numSteps} [${"#".repeat(done)}${"-".repeat(width - done)}] ${pct} loss ${s.loss.toFixed(4)} lr ${s.lr.toExponential(2)} ${Math.round(s.tokensPerSec)} tok/s ETA ${clock(s.eta)}`;
}

function copyTokenizerFiles(fromDir: string, toDir: string): string[] {
  const copied: string[] = [];
  if (path.resolve(fromDir) === path.resolve(toDir)) return [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE].filter((f) => fs.existsSync(path.join(toDir, f)));
  for (const f of [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE]) {
    const src = path.join(fromDir, f);
    if (!fs.existsSync(src)) continue;
    writeFileAtomic(path.join(toDir, f), fs.readFileSync(src));
    copied.push(f);
  }
  return copied;
}

const STD_IO: CliIO = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function run(argv: string[], io: CliIO = STD_IO): Promise<number> {
  const job = resolveTrainJob(argv);
  if (job === "help") return io.out(HELP + "\n"), 0;
  const quiet = job.quiet;
  const trainTask = await loadTask({ data: job.data, template: job.template, labels: job.labels, split: "train" });
  const evalTask = job.evalData ? await loadTask({ data: job.evalData, template: job.template ?? trainTask.dataset, labels: trainTask.labels, split: "test" }) : undefined;
  if (job.train.resume === true && !fs.existsSync(job.train.checkpointDir!)) throw new UsageError(`tunebook train: --resume but ${job.train.checkpointDir} does not exist`);
  const records = job.limit ? trainTask.records.slice(0, job.limit) : trainTask.records;

  await initBackend({ verbose: false });
  const loaded = await loadModel(job.model, { onProgress: textProgress() });
  const { model, tokenizer } = loaded;
  const tty = !quiet && io === STD_IO && Boolean(process.stderr.isTTY); // redraw one line in a terminal
  let lastLine = 0;
  const onSigint = () => stopper?.();
  let stopper: (() => void) | undefined;
  process.once("SIGINT", onSigint);
  try {
    const lora = job.lora ? await attachLora(model, parseLoraOption(job.lora), { baseModelNameOrPath: job.model }) : undefined;
    const result = await fineTune(model, tokenizer, trainTask.template, records, job.train, {
      evalRecords: evalTask?.records,
      trainable: lora?.trainable,
      onTrainer: (t) => (stopper = () => (io.err("\nstopping after this step (a checkpoint is saved)…\n"), t.stop())),
      callbacks: quiet ? {} : {
        onStep: (s) => {
          const every = Math.max(1, Math.floor(s.numSteps / 20));
          if (tty) io.err(`\r${formatProgress(s)}${s.step === s.numSteps ? "\n" : ""}`);
          else if (s.step % every === 0 || s.step === s.numSteps || s.step - lastLine >= every) {
            io.err(formatProgress(s) + "\n");
            lastLine = s.step;
          }
        },
        onEval: (e) => io.err(`${tty ? "\n" : ""}eval at step ${e.step}: loss ${e.evalLoss.toFixed(4)} (${e.numTokens} tokens)\n`),
        onCheckpoint: (c) => io.err(`${tty ? "\n" : ""}checkpoint: ${c.path}\n`),
      },
    });
    if (!quiet && result.evalLoss !== undefined) io.err(`eval loss after step ${result.summary.step}: ${result.evalLoss.toFixed(4)}\n`);
    fs.mkdirSync(job.out, { recursive: true });
    const files: string[] = [];
    if (lora) {
      // written beside, then swapped in: a crash never leaves new weights next to an old run's config
      const adapterDir = path.join(job.out, "adapter");
      const tmp = tempSibling(adapterDir);
      try {
        await lora.save(tmp);
        replaceDir(tmp, adapterDir);
      } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw e;
      }
      files.push("adapter");
    } else {
      await saveModel(model, job.out, { dtype: job.dtype });
      files.push("config.json", "model.safetensors");
    }
    files.push(...copyTokenizerFiles(loaded.dir, job.out));
    const s = result.summary;
    const summary = {
      model: job.model, data: trainTask.file, evalData: evalTask?.file ?? null, template: trainTask.template.name, out: job.out,
      step: s.step, stepsRun: s.stepsRun, finalLoss: s.finalLoss, evalLoss: result.evalLoss ?? null,
      firstLoss: s.losses[0] ?? null, tokensPerSec: s.tokensPerSec, tokens: s.tokens, elapsed: s.elapsed, trainExamples: result.trainStats.count,
      droppedExamples: s.droppedExamples, stopped: s.stopped, resumedFrom: s.resumedFrom ?? null, lastCheckpoint: s.lastCheckpoint ?? null,
      checkpointDir: result.config.checkpointDir || null, files, losses: s.losses,
    };
    const text = JSON.stringify(summary, null, 2) + "\n";
    writeFileAtomic(path.join(job.out, "train_summary.json"), text);
    io.out(text);
  } finally {
    process.removeListener("SIGINT", onSigint);
    model.dispose();
  }
  return 0;
}
