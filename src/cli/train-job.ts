/**
 * `tunebook train`'s job: the config file and the flags resolved into one `TrainJob` (flags win), checked before
 * anything is loaded. `tunebook export` resolves its job the same way, so a job exports exactly as it trains.
 *
 * The config file holds the trainer's fields (`lr`, `numSteps`, `batchSize`, ... as in `DEFAULT_TRAIN_CONFIG`)
 * plus `model`, `data`, `evalData` (a JSONL path or dataset name), `template`, `labels`, `out`, `limit`,
 * `lora` and `dtype`. Flags override the file; an unknown field is an error that names it.
 */
import * as path from "path";
import { parseArgs, bool, str, int, num, UsageError } from "./args";
import { readRegularFileSync } from "../runtime/files";
import { findDuplicateKey } from "../runtime/json-keys";
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, TrainConfigError, type TrainConfig } from "../train/config";
import { parseLoraOption } from "../eval/adapters";
import { TEMPLATE_NAMES } from "../eval/task";

export const HELP = `usage: tunebook train (--config FILE.json | --model M --data FILE|DATASET --out DIR) [options]
  --config FILE.json     trainer fields (lr, numSteps, batchSize, ...) + model, data, evalData, template, labels, out, limit, lora, dtype
                         (paths relative to the current directory)
  --model M              "default", a folder, or a repo id          --out DIR   where the model and checkpoints go
  --data FILE|DATASET    training JSONL, or a shipped dataset (its train split)
  --eval-data FILE|DS    held-out JSONL (a dataset name: its test split): eval loss at the end and every --eval-every
  --template T           ${TEMPLATE_NAMES.join("|")}     --labels a,b   --limit N (first N records)
  --lr X --steps N --epochs N --batch-size N --grad-accum N --max-length N --warmup N --schedule S
  --optimizer adamw|adafactor --weight-decay X --max-grad-norm X --seed N
  --eval-every N --checkpoint-every N --keep-checkpoints N
  --divergence-factor X  stop when the loss stays above X × its running minimum (default 4; 0 = only NaN/Inf stop)
  --divergence-patience N  … for N updates in a row (default 5)     --divergence-floor X  losses ≤ X never count (default 1)
  --resume               continue from the newest checkpoint in OUT/checkpoints (refused if the data or a
                         hyper-parameter differs from the run's tunebook_run.json)
  --force                write into a non-empty folder that is not a tunebook run, start over in a finished
                         run's folder (its checkpoints are deleted), or resume with changed settings
  --lora r=8,alpha=16[,targets=a+b][,dropout=0.05]   train a LoRA adapter instead of every weight
  --dtype F32|F16|BF16   saved weights (default F32)      --quiet   no progress bar`;

/** Flags whose value is a name, path or spec: an empty value is a mistake, never "use the default". */
const NON_EMPTY_FLAGS: Record<string, string> = {
  config: "a JSON config file", model: '"default", a folder or a repo id', data: "a JSONL file or a dataset name", "eval-data": "a JSONL file or a dataset name",
  template: TEMPLATE_NAMES.join("|"), labels: "labels joined by commas (a,b)", out: "a folder", lora: "a LoRA spec such as r=8,alpha=16 (leave the flag out for a full fine-tune)",
  dtype: "F32, F16 or BF16", schedule: "a schedule name", optimizer: "adamw or adafactor",
};

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
  /** Override the run folder's safety checks (never the model-folder one). */
  force: boolean;
  train: Partial<TrainConfig>;
}

/** Read a config file: trainer fields and CLI fields, every other field refused by name. */
export function readTrainConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readRegularFileSync(file, "the config file").toString("utf8");
  } catch (e: any) {
    throw new UsageError(e?.message ?? String(e));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: any) {
    throw new UsageError(`${file}: not valid JSON (${e?.message ?? e})`);
  }
  const dup = findDuplicateKey(text);
  if (dup) throw new UsageError(`${file}: duplicate key "${dup.key}"${dup.path ? ` in ${dup.path}` : ""} (JSON would silently keep the last)`);
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
    booleans: ["resume", "quiet", "help", "force"],
    values: ["config", "model", "data", "eval-data", "template", "labels", "out", "limit", "lora", "dtype", "lr", "steps", "epochs", "batch-size",
      "grad-accum", "max-length", "warmup", "schedule", "optimizer", "weight-decay", "max-grad-norm", "seed", "eval-every", "checkpoint-every", "keep-checkpoints",
      "divergence-factor", "divergence-patience", "divergence-floor"],
  }, "tunebook train");
  if (bool(p, "help")) return "help";
  if (p.positional.length) throw new UsageError(`tunebook train: unexpected argument ${JSON.stringify(p.positional[0])}`);
  for (const [flag, expected] of Object.entries(NON_EMPTY_FLAGS)) {
    const v = str(p, flag);
    if (v !== undefined && v.trim() === "") throw new UsageError(`tunebook train: --${flag} is empty; expected ${expected}`);
  }
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
  const divergence = Object.fromEntries(
    Object.entries({ factor: num(p, "divergence-factor"), patience: int(p, "divergence-patience"), floor: num(p, "divergence-floor") }).filter(([, v]) => v !== undefined),
  );
  if (Object.keys(divergence).length) {
    const fromFile = train.divergence && typeof train.divergence === "object" ? (train.divergence as Record<string, unknown>) : {};
    train.divergence = { ...fromFile, ...divergence };
  }

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
  if (labels?.length === 0) throw new UsageError(`tunebook train: --labels has no labels; expected labels joined by commas (a,b)`);
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
    labels, limit, lora, dtype, quiet: bool(p, "quiet"), force: bool(p, "force"), train: train as Partial<TrainConfig>,
  };
}
