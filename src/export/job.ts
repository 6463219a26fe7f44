/**
 * The exported job as data (`job.json`): what `tunebook train` would run locally — model, records, template,
 * tokenization rules, every trainer hyper-parameter, the LoRA settings — plus its translation into Hugging
 * Face `TrainingArguments` / PEFT terms and the cluster plan. `train.py`, the accelerate and axolotl configs
 * and the README are all rendered from this one object, so they cannot disagree.
 */
import { createHash } from "node:crypto";
import { DEFAULT_ADAMW } from "../train/adamw";
import { DEFAULT_PREPARE } from "../data/prepare";
import type { TrainConfig } from "../train/config";
import type { LoraConfig } from "../lora/config";
import { peftFloor } from "../lora/peft";
import type { ClusterPlan, Precision } from "./plan";

export const JOB_FORMAT = "tunebook-export";
export const JOB_VERSION = 1;

/** One exported split. */
export interface SplitInfo {
  /** Path inside the export (`data/train.jsonl`). */
  file: string;
  rows: number;
  /** sha256 of the file's bytes. */
  sha256: string;
  /** sha256 of the original records (one JSON line each): survives any re-serialisation of prompt/completion. */
  recordsSha256: string;
}

/** The PEFT `LoraConfig` arguments. */
export interface PeftLora {
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[] | string;
  use_rslora: boolean;
  layers_to_transform: number[] | null;
  bias: "none";
  task_type: "CAUSAL_LM";
}

/** What train.py reads: transformers `TrainingArguments` values and the tokenization rules. */
export interface HfArgs {
  model_name_or_path: string;
  per_device_train_batch_size: number;
  gradient_accumulation_steps: number;
  learning_rate: number;
  max_steps: number;
  warmup_steps: number;
  lr_scheduler_type: "linear" | "cosine" | "constant_with_warmup";
  weight_decay: number;
  max_grad_norm: number;
  seed: number;
  optim: "adamw_torch" | "adafactor";
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  bf16: boolean;
  fp16: boolean;
  max_length: number;
  pad_to_max_length: boolean;
  mask_prompt: boolean;
  add_eos: boolean;
  add_special_tokens: boolean;
  truncation_side: "left" | "right";
  lora: PeftLora | null;
}

/**
 * The oldest releases the exported job is known to run on, by package: transformers 4.31 / accelerate 0.21 /
 * PEFT 0.5 are the versions CI runs train.py and loads the files with (tests/interop); PEFT 0.8 added
 * `use_rslora`, and older releases ignore the field (wrong scaling, no error).
 */
export type Requirements = Record<string, string>;

/**
 * The floors for a job: transformers and accelerate always, PEFT for LoRA (0.8 with rsLoRA).
 * @example
 * jobRequirements({ useRslora: true }); // { transformers: "4.31", accelerate: "0.21", peft: "0.8" }
 */
export function jobRequirements(lora: Pick<LoraConfig, "useRslora"> | null): Requirements {
  return { transformers: "4.31", accelerate: "0.21", ...(lora ? { peft: peftFloor(lora) } : {}) };
}

/** `pip install` arguments for the floors: `"transformers>=4.31" "accelerate>=0.21"`. */
export function pipRequirements(req: Requirements): string[] {
  return Object.entries(req).map(([pkg, v]) => `"${pkg}>=${v}"`);
}

/** job.json. */
export interface ExportedJob {
  format: typeof JOB_FORMAT;
  version: number;
  engine: "hf";
  model: {
    /** What the user named (`default`, a folder, a repo id). */
    source: string;
    /** What train.py loads: `model` (copied into the export), an absolute folder, or a repo id. */
    path: string;
    copied: boolean;
    params: number;
    maxPositionEmbeddings: number | null;
  };
  task: {
    data: string;
    evalData: string | null;
    template: string;
    schema: string;
    labels: string[] | null;
    limit: number | null;
    dataset: string | null;
    /** What the user passed (a dataset name or a path): `--data`, `--eval-data`, `--template`. */
    spec: { data: string; evalData: string | null; template: string | null };
  };
  data: { train: SplitInfo; test: SplitInfo | null };
  /** Tokenization as src/data/prepare.ts does it. */
  prepare: {
    maskPrompt: boolean;
    addEos: boolean;
    addSpecialTokens: boolean;
    truncationSide: "left" | "right";
    maxLength: number;
  };
  /** The local trainer's resolved config (evalData left out). */
  train: Omit<TrainConfig, "evalData">;
  /** Updates the local run would do (numEpochs resolved) and its effective batch. */
  resolved: { numSteps: number; effectiveBatch: number; maxLength: number; trainExamples: number };
  lora: Omit<LoraConfig, "initLoraWeights" | "baseModelNameOrPath"> | null;
  cluster: {
    gpu: string;
    gpuName: string;
    numProcesses: number;
    zeroStage: number;
    distributedType: string;
    microBatch: number;
    gradAccumSteps: number;
    effectiveBatch: number;
    precision: Precision;
    bytesPerGpu: number;
    usableBytesPerGpu: number;
    reason: string;
  };
  hf: HfArgs;
  /** Oldest package releases the job runs on (train.py checks them before anything else). */
  requires: Requirements;
  /** Where the exported run differs from the local one, in words. */
  notes: string[];
}

/** sha256 of a string or bytes, hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The hash of records as job.json records it: one `JSON.stringify` line per record.
 * @example
 * recordsHash([{ question: "2+2?", answer: "4" }]); // "3f…" (64 hex digits)
 */
export function recordsHash(records: readonly Record<string, unknown>[]): string {
  return sha256(records.map((r) => JSON.stringify(r)).join("\n"));
}

const SCHEDULE_TO_HF = { linear: "linear", cosine: "cosine", constant: "constant_with_warmup" } as const;

/**
 * The local trainer's config in `TrainingArguments` terms (plus tokenization and LoRA), and the notes on
 * what cannot be carried over exactly.
 * @example
 * const { hf, notes } = toHfArgs(config, { numSteps: 100, maxLength: 256 }, plan, null, "model");
 * hf.learning_rate === config.lr; // true
 */
export function toHfArgs(
  train: Omit<TrainConfig, "evalData">,
  resolved: { numSteps: number; maxLength: number },
  plan: ClusterPlan,
  lora: ExportedJob["lora"],
  modelPath: string,
): { hf: HfArgs; notes: string[] } {
  const notes: string[] = [...plan.notes];
  const opt = train.optimizerOptions as Record<string, unknown>;
  const num = (k: string, d: number) => (typeof opt[k] === "number" ? (opt[k] as number) : d);
  if (train.optimizer === "adafactor")
    notes.push(
      "Adafactor: transformers' `optim=\"adafactor\"` (relative_step=False, scale_parameter=False, warmup_init=False) with the same lr; tunebook's optimizerOptions for Adafactor are not carried over",
    );
  if (train.noDecayPattern !== "(^|\\.)bias$|norm")
    notes.push(
      `noDecayPattern ${JSON.stringify(train.noDecayPattern)} is not carried over: transformers decays every weight except biases and LayerNorm parameters`,
    );
  if (!train.shuffle)
    notes.push("shuffle=false is not carried over: transformers' Trainer always shuffles the training data (seeded)");
  if (lora && typeof lora.targetModules === "string")
    notes.push(
      `LoRA targets ${JSON.stringify(lora.targetModules)} (a regular expression): train.py passes PEFT the full names of the Linear layers it matches, as tunebook does; PEFT itself would match the pattern against every module (dropout and activation included) and refuse them`,
    );
  notes.push(
    "data order: the same seed, but PyTorch's sampler, not tunebook's, so the examples come in another order and losses match in distribution, not step by step",
  );
  notes.push(
    "loss averaging: tunebook averages the loss over every answer token of an update; transformers ≥ 4.46 does the same across accumulation steps, older versions average the per-micro-batch means",
  );
  const hf: HfArgs = {
    model_name_or_path: modelPath,
    per_device_train_batch_size: plan.microBatch,
    gradient_accumulation_steps: plan.gradAccumSteps,
    learning_rate: train.lr,
    max_steps: resolved.numSteps,
    warmup_steps: train.warmupSteps,
    lr_scheduler_type: SCHEDULE_TO_HF[train.schedule],
    weight_decay: train.weightDecay,
    max_grad_norm: train.maxGradNorm,
    seed: train.seed,
    optim: train.optimizer === "adafactor" ? "adafactor" : "adamw_torch",
    adam_beta1: num("beta1", DEFAULT_ADAMW.beta1),
    adam_beta2: num("beta2", DEFAULT_ADAMW.beta2),
    adam_epsilon: num("eps", DEFAULT_ADAMW.eps),
    bf16: plan.precision === "bf16",
    fp16: plan.precision === "fp16",
    max_length: resolved.maxLength,
    pad_to_max_length: train.padTo === "maxLength",
    mask_prompt: DEFAULT_PREPARE.maskPrompt,
    add_eos: DEFAULT_PREPARE.addEos,
    add_special_tokens: DEFAULT_PREPARE.addSpecialTokens,
    truncation_side: DEFAULT_PREPARE.truncationSide,
    lora: lora
      ? {
          r: lora.r,
          lora_alpha: lora.alpha,
          lora_dropout: lora.dropout,
          target_modules: lora.targetModules,
          use_rslora: lora.useRslora,
          layers_to_transform: lora.layersToTransform,
          bias: "none",
          task_type: "CAUSAL_LM",
        }
      : null,
  };
  return { hf, notes };
}
