/**
 * `tunebook train`'s job: the config file and the flags resolved into one `TrainJob` (flags win), checked before
 * anything is loaded. `tunebook export` resolves its job the same way, so a job exports exactly as it trains.
 *
 * The config file holds the trainer's fields (`lr`, `numSteps`, `batchSize`, ... as in `DEFAULT_TRAIN_CONFIG`)
 * plus `model`, `data`, `evalData` (a JSONL path or dataset name), `template`, `labels`, `out`, `limit`,
 * `lora` and `dtype`. Flags override the file; an unknown field is an error that names it.
 *
 * A model folder may carry a card (`model-card.json`, src/model/card.ts) with a recommended recipe per shipped
 * dataset; for `--data <that dataset>` its lr, numSteps, batchSize (and warmupSteps, maxLength when given) fill
 * the fields that neither a flag nor the config file set. The trainer's own defaults (transformers' lr 5e-5) suit
 * a 70M+ model, not the course's small ones, so a learner who gives no flag should get the measured recipe.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs, bool, str, int, num, UsageError } from "./args";
import { readRegularFileSync } from "../runtime/files";
import { findDuplicateKey } from "../runtime/json-keys";
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, TrainConfigError, type TrainConfig } from "../train/config";
import { DATASET_NAMES } from "../data/datasets";
import {
  CARD_FILE,
  ModelCardError,
  readModelCard,
  RECIPE_FIELDS,
  type RecipeField,
  type ModelCard,
} from "../model/card";
import { DEFAULT_MODEL, defaultModelDir, parseLoraOption, TEMPLATE_NAMES } from "../pipeline";

export const HELP = `usage: tunebook train (--config FILE.json | --model M --data FILE|DATASET --out DIR) [options]
  --config FILE.json     trainer fields (lr, numSteps, batchSize, ...) + model, data, evalData, template, labels, out, limit, lora, dtype
                         (paths relative to the current directory)
  --model M              "default", a folder, or a repo id          --out DIR   where the model and checkpoints go
  --data FILE|DATASET    training JSONL, or a shipped dataset (its train split)
  --eval-data FILE|DS    held-out JSONL (a dataset name: its test split): eval loss at the end and every --eval-every
  --template T           ${TEMPLATE_NAMES.join("|")}     --labels a,b   --limit N (first N records)
  --lr X --steps N --epochs N --batch-size N --grad-accum N --max-length N --warmup N --schedule S
  --optimizer adamw|adafactor --weight-decay X --max-grad-norm X --seed N
                         (lr, steps, batch size, warm-up and max length not given come from the model's
                         model-card.json recipe for a shipped dataset, when it has one; the first line says so)
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
  config: "a JSON config file",
  model: '"default", a folder or a repo id',
  data: "a JSONL file or a dataset name",
  "eval-data": "a JSONL file or a dataset name",
  template: TEMPLATE_NAMES.join("|"),
  labels: "labels joined by commas (a,b)",
  out: "a folder",
  lora: "a LoRA spec such as r=8,alpha=16 (leave the flag out for a full fine-tune)",
  dtype: "F32, F16 or BF16",
  schedule: "a schedule name",
  optimizer: "adamw or adafactor",
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
  /** Where each recipe field's value came from, when the model's card supplied at least one. */
  recipe?: RecipeOrigin;
}

export interface RecipeOrigin {
  /** The card file and the recipe's key, e.g. `data/default-model/model-card.json` and `email-subject`. */
  card: string;
  dataset: string;
  /** Where the card's recipe was measured (its `source`). */
  measured: string;
  fields: Record<RecipeField, { value: unknown; from: "flag" | "config" | "card" | "tunebook default" }>;
}

/** The folder a model name points at on this machine, if any: "default" or an existing folder (hub repo ids carry no card). */
function localModelDir(model: string): string | undefined {
  if (model === DEFAULT_MODEL) return defaultModelDir();
  return fs.statSync(model, { throwIfNoEntry: false })?.isDirectory() ? model : undefined;
}

/**
 * Fill the recipe fields that `train` (flags + config file) leaves unset from the model card's recipe for
 * `data`; returns where each value came from, or undefined when no card recipe applies.
 */
function applyCardRecipe(
  model: string,
  data: string,
  train: Record<string, unknown>,
  fromFile: Set<string>,
  fromFlags: Set<string>,
): RecipeOrigin | undefined {
  if (!DATASET_NAMES.includes(data)) return undefined;
  const dir = localModelDir(model);
  if (!dir) return undefined;
  let card: ModelCard | undefined;
  try {
    card = readModelCard(dir);
  } catch (e) {
    if (e instanceof ModelCardError) throw new UsageError(`tunebook train: ${e.message}`);
    throw e;
  }
  const r = card?.recipes[data];
  if (!r) return undefined;
  const epochs = typeof train.numEpochs === "number" && train.numEpochs > 0; // steps then follow from the epochs
  const fields = {} as RecipeOrigin["fields"];
  for (const f of RECIPE_FIELDS) {
    const given = fromFlags.has(f) ? "flag" : fromFile.has(f) ? "config" : undefined;
    if (given) fields[f] = { value: train[f], from: given };
    else if (r[f] !== undefined && !(f === "numSteps" && epochs)) {
      train[f] = r[f];
      fields[f] = { value: r[f], from: "card" };
    } else fields[f] = { value: (DEFAULT_TRAIN_CONFIG as any)[f], from: "tunebook default" };
  }
  if (!Object.values(fields).some((v) => v.from === "card")) return undefined;
  const rel = path.relative(process.cwd(), path.join(dir, CARD_FILE));
  return { card: rel.startsWith("..") ? path.join(dir, CARD_FILE) : rel, dataset: data, measured: r.source, fields };
}

/**
 * The first line `tunebook train` prints when a model card supplied part of the recipe: every recipe field with
 * its value and where it came from.
 *
 * @example
 * recipeLine(job.recipe!);
 * // "recipe for email-subject: lr 0.005 (model card), numSteps 240 (model card), batchSize 4 (--batch-size), ...; model card: data/default-model/model-card.json, measured in ..."
 */
export function recipeLine(o: RecipeOrigin): string {
  const flag: Record<RecipeField, string> = {
    lr: "--lr",
    numSteps: "--steps",
    batchSize: "--batch-size",
    warmupSteps: "--warmup",
    maxLength: "--max-length",
  };
  const parts = RECIPE_FIELDS.map((f) => {
    const { value, from } = o.fields[f];
    const why =
      from === "flag"
        ? flag[f]
        : from === "config"
          ? "config file"
          : from === "card"
            ? "model card"
            : "tunebook default";
    return `${f} ${value} (${why})`;
  });
  return `recipe for ${o.dataset}: ${parts.join(", ")}; model card: ${o.card}, measured in ${o.measured}`;
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
  if (dup)
    throw new UsageError(
      `${file}: duplicate key "${dup.key}"${dup.path ? ` in ${dup.path}` : ""} (JSON would silently keep the last)`,
    );
  if (!json || typeof json !== "object" || Array.isArray(json))
    throw new UsageError(`${file}: expected a JSON object of fields`);
  const known = new Set<string>([...Object.keys(DEFAULT_TRAIN_CONFIG).filter((k) => k !== "evalData"), ...CLI_FIELDS]);
  for (const k of Object.keys(json))
    if (!known.has(k)) throw new UsageError(`${file}: unknown field "${k}" (known: ${[...known].join(", ")})`);
  return json as Record<string, unknown>;
}

function fieldStr(src: string, o: Record<string, unknown>, k: CliField): string | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "")
    throw new UsageError(`${src}: field "${k}" must be a non-empty string, found ${JSON.stringify(v)}`);
  return v;
}

/** Config file + flags → one job (flags win). Checks the trainer fields before anything is loaded. */
export function resolveTrainJob(argv: string[]): TrainJob | "help" {
  const p = parseArgs(
    argv,
    {
      booleans: ["resume", "quiet", "help", "force"],
      values: [
        "config",
        "model",
        "data",
        "eval-data",
        "template",
        "labels",
        "out",
        "limit",
        "lora",
        "dtype",
        "lr",
        "steps",
        "epochs",
        "batch-size",
        "grad-accum",
        "max-length",
        "warmup",
        "schedule",
        "optimizer",
        "weight-decay",
        "max-grad-norm",
        "seed",
        "eval-every",
        "checkpoint-every",
        "keep-checkpoints",
        "divergence-factor",
        "divergence-patience",
        "divergence-floor",
      ],
    },
    "tunebook train",
  );
  if (bool(p, "help")) return "help";
  if (p.positional.length)
    throw new UsageError(`tunebook train: unexpected argument ${JSON.stringify(p.positional[0])}`);
  for (const [flag, expected] of Object.entries(NON_EMPTY_FLAGS)) {
    const v = str(p, flag);
    if (v !== undefined && v.trim() === "")
      throw new UsageError(`tunebook train: --${flag} is empty; expected ${expected}`);
  }
  const cfgFile = str(p, "config");
  const file = cfgFile ? readTrainConfigFile(cfgFile) : {};
  const src = cfgFile ?? "flags";
  const {
    model: _m,
    data: _d,
    evalData: _e,
    template: _t,
    labels: fileLabels,
    out: _o,
    limit: fileLimit,
    lora: _l,
    dtype: _dt,
    ...trainFile
  } = file;
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
    Object.entries({
      factor: num(p, "divergence-factor"),
      patience: int(p, "divergence-patience"),
      floor: num(p, "divergence-floor"),
    }).filter(([, v]) => v !== undefined),
  );
  if (Object.keys(divergence).length) {
    const fromFile =
      train.divergence && typeof train.divergence === "object" ? (train.divergence as Record<string, unknown>) : {};
    train.divergence = { ...fromFile, ...divergence };
  }

  const model = str(p, "model") ?? fieldStr(src, file, "model");
  const data = str(p, "data") ?? fieldStr(src, file, "data");
  const out = str(p, "out") ?? fieldStr(src, file, "out");
  const missing = [!model && "model", !data && "data", !out && "out"].filter(Boolean);
  if (missing.length)
    throw new UsageError(
      `tunebook train: ${missing.map((m) => `--${m}`).join(", ")} required (as flags or config fields)\n${HELP}`,
    );
  if (train.checkpointDir === undefined) train.checkpointDir = path.join(out!, "checkpoints");
  const flagFields = new Set(
    Object.entries({
      lr: "lr",
      numSteps: "steps",
      batchSize: "batch-size",
      warmupSteps: "warmup",
      maxLength: "max-length",
    })
      .filter(([, f]) => str(p, f) !== undefined)
      .map(([k]) => k),
  );
  const recipe = applyCardRecipe(model!, data!, train, new Set(Object.keys(trainFile)), flagFields);
  try {
    resolveTrainConfig({ ...(train as Partial<TrainConfig>), evalData: [], evalEvery: 0 });
  } catch (e: any) {
    if (e instanceof TrainConfigError) throw new UsageError(`${src}: ${e.message}`);
    throw e;
  }
  let labels = str(p, "labels")
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (labels?.length === 0)
    throw new UsageError(`tunebook train: --labels has no labels; expected labels joined by commas (a,b)`);
  if (!labels && fileLabels !== undefined) {
    if (!Array.isArray(fileLabels) || !fileLabels.every((l) => typeof l === "string"))
      throw new UsageError(`${src}: field "labels" must be an array of strings`);
    labels = fileLabels as string[];
  }
  if (fileLimit !== undefined && !(Number.isInteger(fileLimit) && (fileLimit as number) > 0))
    throw new UsageError(`${src}: field "limit" must be a positive integer, found ${JSON.stringify(fileLimit)}`);
  const limit = int(p, "limit") ?? (fileLimit as number | undefined);
  const dtype = (str(p, "dtype") ?? fieldStr(src, file, "dtype") ?? "F32").toUpperCase();
  if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16")
    throw new UsageError(`--dtype must be F32, F16 or BF16, got ${JSON.stringify(dtype)}`);
  const lora = str(p, "lora") ?? fieldStr(src, file, "lora");
  if (lora) parseLoraOption(lora); // syntax errors before loading anything
  return {
    model: model!,
    data: data!,
    out: out!,
    evalData: str(p, "eval-data") ?? fieldStr(src, file, "evalData"),
    template: str(p, "template") ?? fieldStr(src, file, "template"),
    labels,
    limit,
    lora,
    dtype,
    quiet: bool(p, "quiet"),
    force: bool(p, "force"),
    train: train as Partial<TrainConfig>,
    ...(recipe ? { recipe } : {}),
  };
}
