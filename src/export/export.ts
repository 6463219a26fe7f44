/**
 * `exportJob(options)`: write a training job for Hugging Face transformers/PEFT + accelerate (and axolotl)
 * into a folder — the library call behind `tunebook export --engine hf`.
 *
 * Everything is decided before anything is written (records, template, config, LoRA settings, the sizing
 * calculator's cluster plan — a plan that cannot fit throws the calculator's explanation); then every file is
 * written into a temporary folder next to `out`, which is renamed into place at the end. A failure leaves no
 * partial export, and an existing `out` is refused unless `force` (it is then replaced, not merged).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { toJsonl } from "../data/jsonl";
import { loadTask, type Task } from "../pipeline/task";
import { parseLoraSpec } from "../lora/spec";
import { resolveLoraConfig, type LoraConfig } from "../lora/config";
import { defaultModelDir } from "../pipeline/pretrained";
import { loadModelShape } from "../sizing/models";
import { resolveTrainConfig, TrainConfigError, type TrainConfig } from "../train/config";
import { accelerateConfig, axolotlConfig, deepspeedConfig } from "./configs";
import { datasetCard, renderRows } from "./dataset";
import { trainScript } from "./hf-script";
import {
  JOB_FORMAT,
  JOB_VERSION,
  jobRequirements,
  recordsHash,
  sha256,
  toHfArgs,
  type ExportedJob,
  type SplitInfo,
} from "./job";
import { clusterPlan, type ClusterPlan, type Precision } from "./plan";
import { exportReadme } from "./readme";
import { replaceDir } from "../runtime/atomic";

/** Engines `exportJob` writes. */
export const ENGINES = ["hf"] as const;
export type Engine = (typeof ENGINES)[number];

/** What to export (the job is what `tunebook train` takes; merged over `DEFAULT_EXPORT`). */
export interface ExportOptions {
  engine: Engine;
  /** The folder to write (refused if it exists, unless `force`). */
  out: string;
  /** "default", a model folder, or a hub repo id. */
  model: string;
  /** Training JSONL, or a shipped dataset's name (its train split). */
  data: string;
  /** Held-out JSONL or dataset name (default: a shipped dataset's test split, else none). */
  evalData?: string;
  template?: string;
  labels?: string[];
  /** First N training records only. */
  limit?: number;
  /** LoRA instead of full fine-tuning: `r=8,alpha=16,...` (tunebook train --lora syntax) or a config. */
  lora?: string | Partial<LoraConfig>;
  /** The trainer's fields (lr, numSteps, batchSize, ...), as in `DEFAULT_TRAIN_CONFIG`. */
  train: Partial<TrainConfig>;
  /** Sizing catalog GPU id. */
  gpu: string;
  /** GPU count or "auto" (the fewest that fit). */
  gpus: number | "auto";
  maxGpus: number;
  /** "auto": bf16, or fp16 on GPUs older than Ampere (T4, V100 have no bf16). */
  precision: Precision | "auto";
  /** Replace an existing `out`. */
  force: boolean;
  /** Local model folders up to this size are copied into `out/model` (bigger ones are referenced by path). */
  copyModelMaxBytes: number;
  /** Also write axolotl.yaml (when the job maps onto axolotl cleanly). */
  axolotl: boolean;
}

export const DEFAULT_EXPORT: Omit<ExportOptions, "out" | "model" | "data"> = {
  engine: "hf",
  train: {},
  gpu: "a100-80gb",
  gpus: "auto",
  maxGpus: 64,
  precision: "auto",
  force: false,
  copyModelMaxBytes: 200 * 1024 * 1024, // the embedded model and small Pythias; a 1B+ model comes from the hub
  axolotl: true,
};

/** What `exportJob` returns. */
export interface ExportResult {
  out: string;
  /** Files written, relative to `out`. */
  files: string[];
  job: ExportedJob;
  plan: ClusterPlan;
}

/** Bad export input (an existing folder, a missing model file, an unknown engine). */
export class ExportError extends Error {
  override name = "ExportError";
}

/** Test hooks: called with the temporary folder once every file is in it, before the rename. */
export interface ExportHooks {
  beforeRename?(tmpDir: string): void;
}

/** GPUs before Ampere: no bf16, so "auto" precision means fp16 there. */
const NO_BF16 = /^(t4|v100|p100|k80)-/i;

const MODEL_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "model.safetensors.index.json",
];

interface ModelLocation {
  dir: string | null;
  repoId: string | null;
  files: string[];
  bytes: number;
}

function locateModel(model: string): ModelLocation {
  const dir =
    model === "default"
      ? defaultModelDir()
      : fs.existsSync(model) && fs.statSync(model).isDirectory()
        ? path.resolve(model)
        : null;
  if (!dir) {
    if (/^[\w.-]+\/[\w.-]+$/.test(model) && !model.startsWith("."))
      return { dir: null, repoId: model, files: [], bytes: 0 };
    throw new ExportError(`model ${JSON.stringify(model)}: not a folder, "default", nor a hub repo id (owner/name)`);
  }
  const names = fs.readdirSync(dir);
  const files = names.filter((f) => MODEL_FILES.includes(f) || f.endsWith(".safetensors"));
  for (const need of ["config.json", "tokenizer.json"])
    if (!files.includes(need))
      throw new ExportError(`${dir}: no ${need} (the exported job loads the model and its tokenizer from this folder)`);
  if (!files.some((f) => f.endsWith(".safetensors"))) throw new ExportError(`${dir}: no .safetensors weights`);
  return { dir, repoId: null, files, bytes: files.reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0) };
}

function resolveLora(lora: ExportOptions["lora"]): ExportedJob["lora"] {
  if (lora === undefined || lora === null || lora === "") return null;
  const c = typeof lora === "string" ? parseLoraSpec(lora) : resolveLoraConfig(lora, "lora");
  return {
    r: c.r,
    alpha: c.alpha,
    dropout: c.dropout,
    targetModules: c.targetModules,
    useRslora: c.useRslora,
    layersToTransform: c.layersToTransform,
  };
}

function split(file: string, text: string, records: Record<string, unknown>[]): SplitInfo {
  return { file, rows: records.length, sha256: sha256(text), recordsSha256: recordsHash(records) };
}

function tempSibling(out: string, tag: string): string {
  return path.join(
    path.dirname(out),
    `.${path.basename(out)}.${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
}

/**
 * Export a training job for transformers/PEFT + accelerate (and axolotl).
 * @example
 * const { files, plan } = await exportJob({ out: "runs/email-cluster", model: "EleutherAI/pythia-1.4b", data: "email-subject",
 *   lora: "r=8,alpha=16", train: { lr: 2e-4, numSteps: 300, batchSize: 8 }, gpu: "a10g-24gb" });
 * plan.numProcesses; plan.zeroStage; // decided by the sizing calculator
 */
export async function exportJob(
  options: Partial<ExportOptions> & Pick<ExportOptions, "out" | "model" | "data">,
  hooks: ExportHooks = {},
): Promise<ExportResult> {
  const o: ExportOptions = {
    ...DEFAULT_EXPORT,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as ExportOptions;
  if (!(ENGINES as readonly string[]).includes(o.engine))
    throw new ExportError(`engine ${JSON.stringify(o.engine)} is not supported (known: ${ENGINES.join(", ")})`);
  if (!o.out) throw new ExportError("out: the folder to write is required");
  const out = path.resolve(o.out);
  if (fs.existsSync(out) && !o.force)
    throw new ExportError(`${o.out} already exists; pass --force (force: true) to replace it`);

  // 1. Decide everything (no file is written before this is done).
  let config: TrainConfig;
  try {
    config = resolveTrainConfig({ ...o.train, evalData: [], evalEvery: 0 });
  } catch (e: any) {
    throw e instanceof TrainConfigError ? new ExportError(e.message) : e;
  }
  const trainTask: Task = await loadTask({ data: o.data, template: o.template, labels: o.labels, split: "train" });
  const records = o.limit ? trainTask.records.slice(0, o.limit) : trainTask.records;
  const evalSource = o.evalData ?? (trainTask.dataset && trainTask.dataset === o.data ? o.data : undefined);
  const evalTask = evalSource
    ? await loadTask({
        data: evalSource,
        template: o.template ?? trainTask.dataset,
        labels: trainTask.labels,
        split: "test",
      })
    : undefined;
  const trainRows = renderRows(trainTask.template, records, trainTask.file);
  const testRows = evalTask ? renderRows(trainTask.template, evalTask.records, evalTask.file) : null;
  const lora = resolveLora(o.lora);
  const loc = locateModel(o.model);
  const shape = {
    ...(await loadModelShape(o.model === "default" ? loc.dir! : o.model)),
    name: o.model === "default" ? "the embedded default model" : o.model,
  };
  const maxPos = shape.maxContext ?? null;
  const maxLength = maxPos ? Math.min(config.maxLength, maxPos) : config.maxLength;
  const effectiveBatch = config.batchSize * config.gradAccumSteps;
  const numSteps =
    config.numEpochs > 0
      ? Math.max(1, Math.ceil((config.numEpochs * records.length) / effectiveBatch))
      : config.numSteps;
  const precision: Precision = o.precision === "auto" ? (NO_BF16.test(o.gpu) ? "fp16" : "bf16") : o.precision;
  const plan = clusterPlan(shape, {
    gpu: o.gpu,
    gpus: o.gpus,
    maxGpus: o.maxGpus,
    job: lora ? "lora" : "train",
    precision,
    seq: maxLength,
    effectiveBatch,
    optimizer: "adamw",
    loraRank: lora?.r ?? 8,
    loraTargets: lora && Array.isArray(lora.targetModules) ? lora.targetModules : null,
  });
  const copyModel = loc.dir !== null && loc.bytes <= o.copyModelMaxBytes;
  const modelPath = loc.repoId ?? (copyModel ? "model" : loc.dir!);

  const trainText = toJsonl(trainRows);
  const testText = testRows ? toJsonl(testRows) : null;
  const { evalData: _e, ...trainJson } = config;
  const { hf, notes } = toHfArgs(trainJson, { numSteps, maxLength }, plan, lora, modelPath);
  if (config.optimizer === "adafactor")
    notes.push("memory was sized for AdamW: Adafactor's factored states are smaller, so the plan is conservative");
  if (loc.dir && !copyModel)
    notes.push(
      `the model folder (${(loc.bytes / 2 ** 20).toFixed(0)} MiB) is not copied: train.py loads it from ${loc.dir}; copy it to the cluster and edit model_name_or_path`,
    );
  if (maxLength < config.maxLength)
    notes.push(`maxLength ${config.maxLength} is capped at the model's ${maxPos} positions, as the local run does`);
  const job: ExportedJob = {
    format: JOB_FORMAT,
    version: JOB_VERSION,
    engine: "hf",
    model: { source: o.model, path: modelPath, copied: copyModel, params: shape.params, maxPositionEmbeddings: maxPos },
    task: {
      data: trainTask.file,
      evalData: evalTask?.file ?? null,
      template: trainTask.template.name,
      schema: trainTask.schema,
      labels: trainTask.labels ?? null,
      limit: o.limit ?? null,
      dataset: trainTask.dataset ?? null,
      spec: { data: o.data, evalData: evalSource ?? null, template: o.template ?? null },
    },
    data: {
      train: split("data/train.jsonl", trainText, records),
      test: testText && evalTask ? split("data/test.jsonl", testText, evalTask.records) : null,
    },
    prepare: {
      maskPrompt: hf.mask_prompt,
      addEos: hf.add_eos,
      addSpecialTokens: hf.add_special_tokens,
      truncationSide: hf.truncation_side,
      maxLength,
    },
    train: trainJson,
    resolved: { numSteps, effectiveBatch, maxLength, trainExamples: records.length },
    lora,
    cluster: {
      gpu: plan.gpu.id,
      gpuName: plan.gpu.name,
      numProcesses: plan.numProcesses,
      zeroStage: plan.zeroStage,
      distributedType: plan.distributedType,
      microBatch: plan.microBatch,
      gradAccumSteps: plan.gradAccumSteps,
      effectiveBatch: plan.effectiveBatch,
      precision: plan.precision,
      bytesPerGpu: plan.estimate.totalBytes,
      usableBytesPerGpu: plan.gpu.usableBytes,
      reason: plan.reason,
    },
    hf,
    requires: jobRequirements(lora),
    notes,
  };

  const ds = deepspeedConfig(job);
  const axo = o.axolotl ? axolotlConfig(job) : null;
  if (o.axolotl && !axo)
    notes.push("axolotl.yaml is not written: a regular-expression LoRA target has no axolotl equivalent");

  // 2. Write into a temporary sibling folder, then rename it into place.
  const files: Record<string, string | Buffer> = {
    "data/train.jsonl": trainText,
    ...(testText ? { "data/test.jsonl": testText } : {}),
    "data/README.md": datasetCard({
      name: trainTask.dataset ?? path.basename(trainTask.file),
      template: job.task.template,
      schema: job.task.schema,
      source: trainTask.file,
      splits: [
        { name: "train", file: "train.jsonl", rows: trainRows.length },
        ...(testRows ? [{ name: "test" as const, file: "test.jsonl", rows: testRows.length }] : []),
      ],
      fields: [...new Set(records.flatMap((r) => Object.keys(r)))],
    }),
    "train.py": trainScript(job),
    "accelerate_config.yaml": accelerateConfig(job),
    "job.json": JSON.stringify(job, null, 2) + "\n",
  };
  if (ds) files["ds_config.json"] = JSON.stringify(ds, null, 2) + "\n";
  if (axo) files["axolotl.yaml"] = axo;
  const listing = [...Object.keys(files), "README.md", ...(copyModel ? loc.files.map((f) => `model/${f}`) : [])].sort();
  files["README.md"] = exportReadme(job, plan, listing);

  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = tempSibling(out, "tmp");
  try {
    for (const [rel, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
      fs.writeFileSync(path.join(tmp, rel), body);
    }
    if (copyModel) {
      fs.mkdirSync(path.join(tmp, "model"), { recursive: true });
      for (const f of loc.files) fs.copyFileSync(path.join(loc.dir!, f), path.join(tmp, "model", f));
    }
    hooks.beforeRename?.(tmp);
    replaceDir(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { out, files: listing, job, plan };
}
