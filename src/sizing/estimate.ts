/**
 * `estimateMemory(model, job, gpu?)`: the memory (per GPU) and compute of one job — inference, full
 * training, LoRA or QLoRA — as a total, a breakdown (weights, kvCache, activations, gradients,
 * optimizer, overhead; bytes, 0 where a part does not apply), the formula behind each part, the
 * assumptions made, and, with a GPU, whether it fits and how long a step takes.
 */
import {
  activationBytesFor,
  CONVENTIONS,
  type Convention,
  flopsPerToken,
  kvCacheBytes,
  loraParams,
  OPTIMIZERS,
  type Precision,
  qloraBaseBytes,
  type Recompute,
  RECOMPUTE,
  type SizingOptimizer,
  trainingBytesPerParam,
  weightBytes,
} from "./formulas";
import { getGpu, type Gpu, peakTflops, usableBytes } from "./gpus";
import { modelShape } from "./models";
import { type ModelShape, targetLinears } from "./shape";
import { BYTES_PER_PARAM, checkNumber, type Dtype, formatParams, parseDtype, SizingError } from "./units";
import type { GPTNeoXConfig } from "../model/config";

/** The jobs the calculator sizes. */
export const JOBS = ["inference", "train", "lora", "qlora"] as const;
export type Job = (typeof JOBS)[number];

/** Memory parts, in bytes per GPU. */
export interface Breakdown {
  weights: number;
  kvCache: number;
  activations: number;
  gradients: number;
  optimizer: number;
  overhead: number;
}
export const BREAKDOWN_PARTS: readonly (keyof Breakdown)[] = [
  "weights",
  "kvCache",
  "activations",
  "gradients",
  "optimizer",
  "overhead",
];

/** What to size. */
export interface JobOptions {
  job: Job;
  /** Inference: the weights' dtype. Training/LoRA: fp32, or fp16/bf16 for mixed precision. QLoRA: compute dtype. */
  dtype: Dtype;
  optimizer: SizingOptimizer;
  /** Mixed-precision bytes convention: EleutherAI's 16 B/param or Hugging Face's 18 B/param (AdamW). */
  convention: Convention;
  /** Sequences per GPU (micro-batch). */
  batch: number;
  /** Tokens per sequence (context). */
  seq: number;
  /** Activation recomputation (training jobs). */
  recompute: Recompute;
  /** Extra memory as a fraction of the weights; null: 0.2 for inference (EleutherAI's 1.2×), 0 for training. */
  overhead: number | null;
  /** Keep a KV cache for `seq` tokens (inference). */
  kvCache: boolean;
  /** GPUs: inference splits weights and cache evenly (tensor parallel); training replicates (data parallel) unless ZeRO shards. */
  gpus: number;
  /** ZeRO stage over `gpus`: 0 none, 1 optimizer states, 2 + gradients, 3 + parameters. */
  zero: 0 | 1 | 2 | 3;
  /** LoRA/QLoRA rank. */
  loraRank: number;
  /** LoRA target modules by name, "all-linear", or null for the family's default (PEFT: query_key_value / q_proj+v_proj). */
  loraTargets: string[] | "all-linear" | null;
  /** Model FLOPs utilisation assumed for time estimates. */
  mfu: number;
  /** Total training tokens (or generated tokens for inference) for a total time; null: per step only. */
  tokens: number | null;
}

/** Defaults: one GPU, batch 1, a short 512-token context, mixed-precision AdamW under EleutherAI's convention. */
export const DEFAULT_JOB: JobOptions = {
  job: "inference",
  dtype: "fp16",
  optimizer: "adamw",
  convention: "eleutherai-16",
  batch: 1,
  seq: 512,
  recompute: "none",
  overhead: null,
  kvCache: true,
  gpus: 1,
  zero: 0,
  loraRank: 8,
  loraTargets: null,
  mfu: 0.4,
  tokens: null,
};

/** Compute and time. FLOPs count multiply-adds as 2. */
export interface ComputeEstimate {
  flopsPerToken: number;
  formula: string;
  /** Tokens in one step over all GPUs (batch · seq · gpus). */
  stepTokens: number;
  stepFlops: number;
  /** Seconds per step at `mfu` of the GPUs' peak (null without a GPU or its TFLOPS). */
  stepSeconds: number | null;
  tokensPerSecond: number | null;
  /** Inference: the memory-bound decode ceiling, batch × bandwidth / weight bytes per GPU. */
  decodeTokensPerSecond: number | null;
  totalFlops: number | null;
  totalSeconds: number | null;
}

/** One job's estimate. */
export interface SizingResult {
  model: Pick<
    ModelShape,
    "name" | "family" | "params" | "layers" | "hidden" | "heads" | "kvHeads" | "headDim" | "vocab" | "intermediate"
  >;
  job: JobOptions & { loraTargets: string[] | "all-linear" | null };
  /** Bytes per GPU. */
  totalBytes: number;
  breakdown: Breakdown;
  formulas: Record<keyof Breakdown, string>;
  sources: Record<keyof Breakdown, string>;
  trainableParams: number;
  assumptions: string[];
  gpu: { id: string; name: string; usableBytes: number; fits: boolean; headroomBytes: number } | null;
  compute: ComputeEstimate;
}

/**
 * A complete, checked job from partial options; errors name the field and what it accepts.
 *
 * @example
 * resolveJob({ job: "train", batch: 4 }).optimizer; // "adamw"
 */
export function resolveJob(opts: Partial<JobOptions> = {}): JobOptions {
  const unknown = Object.keys(opts).filter((k) => !(k in DEFAULT_JOB));
  if (unknown.length)
    throw new SizingError(
      `unknown job option ${unknown.map((k) => JSON.stringify(k)).join(", ")}; known: ${Object.keys(DEFAULT_JOB).join(", ")}`,
    );
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o = { ...DEFAULT_JOB, ...defined } as JobOptions;
  if (!(JOBS as readonly string[]).includes(o.job))
    throw new SizingError(`job ${JSON.stringify(o.job)} is not known; use one of: ${JOBS.join(", ")}`);
  o.dtype = parseDtype(o.dtype);
  if (!(OPTIMIZERS as readonly string[]).includes(o.optimizer))
    throw new SizingError(
      `optimizer ${JSON.stringify(o.optimizer)} is not known; use one of: ${OPTIMIZERS.join(", ")}`,
    );
  if (!(CONVENTIONS as readonly string[]).includes(o.convention))
    throw new SizingError(
      `convention ${JSON.stringify(o.convention)} is not known; use one of: ${CONVENTIONS.join(", ")}`,
    );
  if (!(RECOMPUTE as readonly string[]).includes(o.recompute))
    throw new SizingError(`recompute ${JSON.stringify(o.recompute)} is not known; use one of: ${RECOMPUTE.join(", ")}`);
  checkNumber(o.batch, "batch", { min: 1, max: 1e6, integer: true });
  checkNumber(o.seq, "seq", { min: 1, max: 1e7, integer: true });
  checkNumber(o.gpus, "gpus", { min: 1, max: 1e6, integer: true });
  checkNumber(o.zero, "zero (ZeRO stage)", { min: 0, max: 3, integer: true });
  checkNumber(o.loraRank, "loraRank", { min: 1, max: 65536, integer: true });
  checkNumber(o.mfu, "mfu", { min: 0, max: 1, exclusiveMin: true });
  if (o.overhead !== null) checkNumber(o.overhead, "overhead", { min: 0, max: 10 });
  if (o.tokens !== null) checkNumber(o.tokens, "tokens", { min: 0, max: 1e16, exclusiveMin: true });
  if (typeof o.kvCache !== "boolean")
    throw new SizingError(`kvCache must be true or false, got ${JSON.stringify(o.kvCache)}`);
  if (o.job === "inference" && o.zero !== 0)
    throw new SizingError("zero (ZeRO stage) applies to training jobs (train, lora, qlora), not inference");
  if ((o.job === "train" || o.job === "lora") && (o.dtype === "int8" || o.dtype === "int4")) {
    throw new SizingError(
      `dtype ${o.dtype} cannot be trained directly; use fp32, fp16 or bf16 (mixed precision), or job qlora for a 4-bit base`,
    );
  }
  if (o.job === "qlora" && (o.dtype === "int8" || o.dtype === "int4"))
    throw new SizingError(
      "job qlora quantises the base to NF4 itself; dtype sets the compute dtype: bf16, fp16 or fp32",
    );
  if (
    o.loraTargets !== null &&
    o.loraTargets !== "all-linear" &&
    !(Array.isArray(o.loraTargets) && o.loraTargets.every((t) => typeof t === "string"))
  ) {
    throw new SizingError(
      `loraTargets must be a list of module names, "all-linear" or null, got ${JSON.stringify(o.loraTargets)}`,
    );
  }
  return o;
}

/**
 * PEFT's default LoRA targets per family (query/value projections).
 *
 * @example
 * defaultLoraTargets(modelShape("pythia-70m")); // ["query_key_value"]
 */
export function defaultLoraTargets(shape: ModelShape): string[] {
  return shape.family === "gpt_neox" ? ["query_key_value"] : ["q_proj", "v_proj"];
}

function zeroSplit(o: JobOptions) {
  const N = o.gpus;
  return { states: o.zero >= 1 ? N : 1, grads: o.zero >= 2 ? N : 1, params: o.zero >= 3 ? N : 1 };
}

/**
 * Estimate the memory per GPU (and compute) of a job.
 *
 * @example
 * const r = estimateMemory("pythia-1b", { job: "train" }, "v100-16gb");
 * r.totalBytes;        // ≈ 16.9e9: 16 B/param + activations
 * r.breakdown.optimizer; // 12 B/param (fp32 master + AdamW states)
 * r.gpu?.fits;         // true
 */
export function estimateMemory(
  model: ModelShape | GPTNeoXConfig | number | string,
  opts: Partial<JobOptions> = {},
  gpu?: Gpu | string | null,
): SizingResult {
  const shape = modelShape(model);
  const o = resolveJob(opts);
  const g = gpu == null ? null : typeof gpu === "string" ? getGpu(gpu) : gpu;
  const P = shape.params;
  const N = o.gpus;
  const b: Breakdown = { weights: 0, kvCache: 0, activations: 0, gradients: 0, optimizer: 0, overhead: 0 };
  const f: Record<keyof Breakdown, string> = {
    weights: "",
    kvCache: "",
    activations: "",
    gradients: "",
    optimizer: "",
    overhead: "",
  };
  const src: Record<keyof Breakdown, string> = {
    weights: "",
    kvCache: "",
    activations: "",
    gradients: "",
    optimizer: "",
    overhead: "",
  };
  const assumptions = [...shape.assumptions];
  let trainable = 0;
  const overheadFrac = o.overhead ?? (o.job === "inference" ? 0.2 : 0);
  const actBytes = o.dtype === "fp32" ? 4 : 2;

  if (o.job === "inference") {
    const w = weightBytes(P, o.dtype);
    b.weights = w.value / N;
    f.weights = `${w.formula}${N > 1 ? ` / ${N} GPUs` : ""}`;
    src.weights = w.source;
    if (o.kvCache) {
      const kv = kvCacheBytes(shape, o.seq, o.batch, actBytes);
      b.kvCache = kv.value / N;
      f.kvCache = `${kv.formula}${N > 1 ? ` / ${N} GPUs` : ""}`;
      src.kvCache = kv.source;
    }
    if (o.dtype === "int8" || o.dtype === "int4")
      assumptions.push(
        `${o.dtype} weights: quantisation scales (≈1–3% more) are left to the overhead; activations and the KV cache stay 16-bit`,
      );
    if (N > 1)
      assumptions.push(
        `inference over ${N} GPUs: weights and KV cache split evenly (tensor/pipeline parallel), communication buffers ignored`,
      );
    assumptions.push("inference activations are transient (one layer at a time) and counted in the overhead");
  } else {
    const precision: Precision = o.dtype === "fp32" ? "fp32" : "mixed";
    const pp = trainingBytesPerParam(o.optimizer, precision, o.convention);
    const z = zeroSplit(o);
    const act = activationBytesFor(shape, o.seq, o.batch, o.recompute, actBytes);
    b.activations = act.value;
    f.activations = act.formula;
    src.activations = act.source;
    let baseW = 0;
    let baseText = "";
    if (o.job === "train") trainable = P;
    else {
      const targets = o.loraTargets === null ? defaultLoraTargets(shape) : o.loraTargets;
      const lin = targetLinears(shape, targets);
      const lp = loraParams(shape.layers, lin, o.loraRank);
      trainable = lp.value;
      assumptions.push(
        `LoRA rank ${o.loraRank} on ${lin.map((l) => l.name).join(", ")}: ${formatParams(trainable)} trainable parameters = ${lp.formula} (${Number(((100 * trainable) / P).toPrecision(3))}% of ${formatParams(P)})`,
      );
      if (o.job === "lora") {
        const frozenDtype: Dtype = o.dtype === "fp32" ? "fp32" : o.dtype;
        baseW = P * BYTES_PER_PARAM[frozenDtype];
        baseText = `frozen base ${P} × ${BYTES_PER_PARAM[frozenDtype]} B (${frozenDtype})`;
      } else {
        const q = qloraBaseBytes(shape);
        baseW = q.value;
        baseText = `frozen NF4 base: ${q.formula}`;
        assumptions.push(
          "QLoRA: blocks' linear weights in NF4 with double quantisation (4.127 bits/param), embeddings/norms/output layer in bf16",
        );
      }
    }
    const master = (trainable * pp.master) / z.states;
    b.weights = baseW / z.params + (trainable * pp.weights) / z.params + (pp.masterIn === "weights" ? master : 0);
    b.gradients = (trainable * pp.gradients) / z.grads;
    b.optimizer = (trainable * pp.states) / z.states + (pp.masterIn === "optimizer" ? master : 0);
    const zt = (d: number) => (d > 1 ? ` / ${d} GPUs (ZeRO-${o.zero})` : "");
    const tp = o.job === "train" ? `${P} params` : `${trainable} LoRA params`;
    f.weights = `${baseText ? `${baseText}${zt(z.params)} + ` : ""}${tp} × ${pp.weights} B${zt(z.params)}${pp.masterIn === "weights" && pp.master ? ` + fp32 master ${pp.master} B${zt(z.states)}` : ""}`;
    f.gradients = `${tp} × ${pp.gradients} B${zt(z.grads)}`;
    f.optimizer = `${tp} × ${pp.states} B states${pp.masterIn === "optimizer" && pp.master ? ` + fp32 master ${pp.master} B` : ""}${zt(z.states)}`;
    src.weights = src.gradients = src.optimizer = o.zero ? `${pp.source}, ZeRO` : pp.source;
    assumptions.push(`${pp.formula}${o.job === "train" ? "" : " (for the LoRA parameters only)"}`);
    if (N > 1 && o.zero === 0)
      assumptions.push(
        `${N} GPUs without ZeRO: data parallel, every GPU holds a full copy, so the per-GPU memory is that of one GPU`,
      );
    if (o.zero > 0 && N === 1) assumptions.push(`ZeRO-${o.zero} on 1 GPU shards nothing`);
    assumptions.push(
      `activations for a micro-batch of ${o.batch} × ${o.seq} tokens per GPU, recomputation "${o.recompute}" (Korthikanti et al. 2022, no tensor/sequence parallelism)`,
    );
  }
  b.overhead = overheadFrac * b.weights;
  f.overhead = overheadFrac
    ? `${overheadFrac} × weights (CUDA context, allocator fragmentation, temporary buffers)`
    : "none assumed (set overhead to add a fraction of the weights)";
  src.overhead = overheadFrac ? "TM101 (inference ≈ 1.2 × weights)" : "";
  for (const k of BREAKDOWN_PARTS) if (!b[k]) f[k] ||= "does not apply";

  const totalBytes = BREAKDOWN_PARTS.reduce((a, k) => a + b[k], 0);
  const gpuOut = g
    ? {
        id: g.id,
        name: g.name,
        usableBytes: usableBytes(g),
        fits: totalBytes <= usableBytes(g),
        headroomBytes: usableBytes(g) - totalBytes,
      }
    : null;
  if (g && g.usableFraction < 1)
    assumptions.push(`${g.name}: ${Math.round(g.usableFraction * 100)}% of its memory assumed usable`);
  return {
    model: {
      name: shape.name,
      family: shape.family,
      params: P,
      layers: shape.layers,
      hidden: shape.hidden,
      heads: shape.heads,
      kvHeads: shape.kvHeads,
      headDim: shape.headDim,
      vocab: shape.vocab,
      intermediate: shape.intermediate,
    },
    job: {
      ...o,
      loraTargets: o.job === "lora" || o.job === "qlora" ? (o.loraTargets ?? defaultLoraTargets(shape)) : o.loraTargets,
    },
    totalBytes,
    breakdown: b,
    formulas: f,
    sources: src,
    trainableParams: trainable,
    assumptions,
    gpu: gpuOut,
    compute: estimateCompute(shape, o, b.weights, g),
  };
}

function estimateCompute(shape: ModelShape, o: JobOptions, weightsPerGpu: number, g: Gpu | null): ComputeEstimate {
  const fpt = flopsPerToken(shape.params, o.job, o.recompute);
  const stepTokens = o.batch * o.seq * o.gpus;
  const stepFlops = fpt.value * stepTokens;
  const peak = g ? peakTflops(g, o.dtype) : null;
  const rate = peak ? peak * 1e12 * o.mfu * o.gpus : null;
  const decode =
    o.job === "inference" && g?.bandwidthGBs && weightsPerGpu > 0
      ? (o.batch * g.bandwidthGBs * 1e9) / weightsPerGpu
      : null;
  const totalFlops = o.tokens !== null ? fpt.value * o.tokens : null;
  return {
    flopsPerToken: fpt.value,
    formula: `${fpt.formula}${peak ? `; time = FLOPs / (${o.gpus} GPU × ${peak} TFLOPS × MFU ${o.mfu})` : ""}`,
    stepTokens,
    stepFlops,
    stepSeconds: rate ? stepFlops / rate : null,
    tokensPerSecond: rate ? rate / fpt.value : null,
    decodeTokensPerSecond: decode,
    totalFlops,
    totalSeconds: rate && totalFlops !== null ? totalFlops / rate : null,
  };
}
