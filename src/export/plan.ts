/**
 * The cluster plan of an exported job: how many GPUs, which DeepSpeed ZeRO stage and which micro-batch,
 * decided by the sizing calculator (src/sizing) rather than guessed.
 *
 * The search keeps the local run's effective batch (`batchSize · gradAccumSteps`) and prefers, in order:
 * fewer GPUs, then a lower ZeRO stage (less communication), then the largest micro-batch that fits (fewer
 * accumulation steps). With one GPU there is nothing to shard, so ZeRO is never used there. When nothing fits
 * even with ZeRO-3 over the most GPUs allowed, `clusterPlan` throws an `ExportPlanError` carrying the
 * calculator's own breakdown of the closest attempt — no export is written.
 */
import { estimateMemory, type JobOptions, type SizingResult } from "../sizing/estimate";
import { getGpu, usableBytes, type Gpu } from "../sizing/gpus";
import { modelShape } from "../sizing/models";
import { formatEstimate } from "../sizing/report";
import type { ModelShape } from "../sizing/shape";
import type { SizingOptimizer } from "../sizing/formulas";
import { formatGiB } from "../sizing/units";

/** Training precision on the cluster: bf16/fp16 mixed precision (fp32 master weights) or plain fp32. */
export type Precision = "bf16" | "fp16" | "fp32";
export const PRECISIONS: readonly Precision[] = ["bf16", "fp16", "fp32"];

/** What `clusterPlan` plans for (merged over `DEFAULT_CLUSTER_PLAN`). */
export interface ClusterPlanOptions {
  /** A GPU id from the sizing catalog (`tunebook sizing --gpus` lists them). */
  gpu: string;
  /** GPU count, or "auto": the fewest of 1, 2, 4, … `maxGpus` that fit. */
  gpus: number | "auto";
  /** Upper bound of the automatic search. */
  maxGpus: number;
  /** Full fine-tuning ("train") or LoRA. */
  job: "train" | "lora";
  precision: Precision;
  /** Tokens per sequence (the run's maxLength). */
  seq: number;
  /** Sequences per optimizer update over all GPUs (the local batchSize · gradAccumSteps). */
  effectiveBatch: number;
  optimizer: SizingOptimizer;
  loraRank: number;
  /** LoRA target module names; null = the family's default. */
  loraTargets: string[] | null;
}

export const DEFAULT_CLUSTER_PLAN: ClusterPlanOptions = {
  gpu: "a100-80gb", // the most common rented training GPU
  gpus: "auto",
  maxGpus: 64, // eight 8-GPU nodes: past that, a bigger GPU or LoRA is the better answer
  job: "train",
  precision: "bf16", // what Ampere and newer GPUs train in; fp32 master weights are kept
  seq: 256,
  effectiveBatch: 4,
  optimizer: "adamw",
  loraRank: 8,
  loraTargets: null,
};

/** One (GPU count, ZeRO stage) the search looked at, with micro-batch 1. */
export interface PlanAttempt {
  gpus: number;
  zeroStage: 0 | 1 | 2 | 3;
  /** Memory per GPU at micro-batch 1. */
  bytesPerGpu: number;
  fits: boolean;
}

/** The chosen layout. */
export interface ClusterPlan {
  gpu: { id: string; name: string; usableBytes: number };
  /** accelerate's `num_processes`: one process per GPU. */
  numProcesses: number;
  zeroStage: 0 | 1 | 2 | 3;
  /** accelerate's `distributed_type`. */
  distributedType: "NO" | "MULTI_GPU" | "DEEPSPEED";
  /** Sequences per GPU per forward pass (`per_device_train_batch_size`). */
  microBatch: number;
  gradAccumSteps: number;
  /** microBatch · gradAccumSteps · numProcesses. */
  effectiveBatch: number;
  /** The local run's effective batch (differs only when it cannot be split evenly over the GPUs). */
  requestedEffectiveBatch: number;
  precision: Precision;
  seq: number;
  job: "train" | "lora";
  /** The calculator's estimate for the chosen layout. */
  estimate: SizingResult;
  attempts: PlanAttempt[];
  /** One paragraph: why this layout. */
  reason: string;
  notes: string[];
}

/** A plan that cannot fit (or bad plan options); the message is the calculator's explanation. */
export class ExportPlanError extends Error {
  override name = "ExportPlanError";
}

const sizingDtype = (p: Precision) => p; // the calculator names precisions the same way

function jobOptions(o: ClusterPlanOptions, gpus: number, zero: 0 | 1 | 2 | 3, batch: number): Partial<JobOptions> {
  return {
    job: o.job,
    dtype: sizingDtype(o.precision),
    optimizer: o.optimizer,
    batch,
    seq: o.seq,
    gpus,
    zero,
    loraRank: o.loraRank,
    loraTargets: o.loraTargets,
    recompute: "none",
    kvCache: false,
  };
}

function check(o: ClusterPlanOptions): void {
  const int = (v: unknown, name: string, min: number) => {
    if (!Number.isInteger(v) || (v as number) < min)
      throw new ExportPlanError(`cluster plan: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  };
  if (o.gpus !== "auto") int(o.gpus, "gpus", 1);
  int(o.maxGpus, "maxGpus", 1);
  int(o.seq, "seq", 1);
  int(o.effectiveBatch, "effectiveBatch", 1);
  int(o.loraRank, "loraRank", 1);
  if (o.job !== "train" && o.job !== "lora")
    throw new ExportPlanError(`cluster plan: job must be "train" or "lora", got ${JSON.stringify(o.job)}`);
  if (!PRECISIONS.includes(o.precision))
    throw new ExportPlanError(
      `cluster plan: precision must be one of ${PRECISIONS.join(", ")}, got ${JSON.stringify(o.precision)}`,
    );
}

const divisorsDesc = (n: number) => Array.from({ length: n }, (_, i) => n - i).filter((d) => n % d === 0);

/**
 * Choose GPU count, ZeRO stage and micro-batch for a training job with the sizing calculator.
 * @example
 * const plan = clusterPlan("pythia-1.4b", { job: "train", gpu: "a10g-24gb", effectiveBatch: 16, seq: 512 });
 * plan.numProcesses; plan.zeroStage; plan.microBatch; plan.gradAccumSteps; // 2, 3, 2, 4 (say)
 */
export function clusterPlan(
  model: ModelShape | string | number,
  options: Partial<ClusterPlanOptions> = {},
): ClusterPlan {
  const o: ClusterPlanOptions = {
    ...DEFAULT_CLUSTER_PLAN,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  check(o);
  const shape = modelShape(model);
  let g: Gpu;
  try {
    g = getGpu(o.gpu);
  } catch (e: any) {
    throw new ExportPlanError(`cluster plan: ${e?.message ?? e}`);
  }
  if (g.kind !== "nvidia")
    throw new ExportPlanError(
      `cluster plan: ${g.id} is not a CUDA GPU; DeepSpeed and accelerate's multi-GPU launch need NVIDIA GPUs (e.g. a100-80gb, h100-80gb, a10g-24gb)`,
    );
  const limit = usableBytes(g);
  const counts: number[] = [];
  if (o.gpus === "auto") for (let n = 1; n <= o.maxGpus; n *= 2) counts.push(n);
  else counts.push(o.gpus);
  const attempts: PlanAttempt[] = [];
  let last: SizingResult | undefined;
  for (const n of counts) {
    const stages: (0 | 1 | 2 | 3)[] = n === 1 ? [0] : [0, 1, 2, 3];
    for (const zero of stages) {
      const r = estimateMemory(shape, jobOptions(o, n, zero, 1), g);
      last = r;
      const fits = r.totalBytes <= limit;
      attempts.push({ gpus: n, zeroStage: zero, bytesPerGpu: r.totalBytes, fits });
      if (!fits) continue;
      // Per-GPU sequences per update; rounded up when the effective batch does not split evenly.
      const perGpu = Math.ceil(o.effectiveBatch / n);
      let micro = 1;
      let est = r;
      for (const m of divisorsDesc(perGpu)) {
        const e = m === 1 ? r : estimateMemory(shape, jobOptions(o, n, zero, m), g);
        if (e.totalBytes <= limit) {
          micro = m;
          est = e;
          break;
        }
      }
      const notes: string[] = [];
      const effective = micro * (perGpu / micro) * n;
      if (effective !== o.effectiveBatch)
        notes.push(
          `the local effective batch ${o.effectiveBatch} does not split evenly over ${n} GPUs: the exported run uses ${effective} sequences per update (${n} × ${perGpu}); scale lr if you care about exact parity`,
        );
      if (o.optimizer !== "adamw") notes.push(`optimizer memory sized as ${o.optimizer}`);
      const why = [
        n === 1
          ? `one ${g.name} holds the whole job, so nothing needs sharding (no ZeRO)`
          : `${n} × ${g.name}: fewer GPUs did not fit`,
        ...(n === 1
          ? []
          : [
              zero === 0
                ? "plain data parallelism (a full copy per GPU) fits, so no ZeRO"
                : `ZeRO-${zero} (${["", "optimizer states", "optimizer states and gradients", "optimizer states, gradients and parameters"][zero]} sharded over the GPUs) is the lowest stage that fits`,
            ]),
        `micro-batch ${micro} is the largest that fits (${formatGiB(est.totalBytes)} of ${formatGiB(limit)} per GPU), with ${perGpu / micro} accumulation step(s) for ${effective} sequences per update`,
      ];
      return {
        gpu: { id: g.id, name: g.name, usableBytes: limit },
        numProcesses: n,
        zeroStage: zero,
        distributedType: zero > 0 ? "DEEPSPEED" : n > 1 ? "MULTI_GPU" : "NO",
        microBatch: micro,
        gradAccumSteps: perGpu / micro,
        effectiveBatch: effective,
        requestedEffectiveBatch: o.effectiveBatch,
        precision: o.precision,
        seq: o.seq,
        job: o.job,
        estimate: est,
        attempts,
        reason: why.join("; ") + ".",
        notes,
      };
    }
  }
  const most = counts[counts.length - 1];
  throw new ExportPlanError(
    `${shape.name}: ${o.job === "lora" ? "LoRA" : "full fine-tuning"} does not fit on ${most} × ${g.name} even with ZeRO-3 and micro-batch 1 ` +
      `(${formatGiB(last!.totalBytes)} per GPU needed, ${formatGiB(limit)} usable). The calculator's estimate:\n\n${formatEstimate(last!)}\n\n` +
      `Options: more GPUs (--gpus N${o.gpus === "auto" ? `, above the automatic limit ${o.maxGpus}` : ""}), a bigger GPU (--gpu h100-80gb, h200-141gb), ` +
      `${o.job === "lora" ? "" : "LoRA (--lora r=8,alpha=16), "}or a shorter maxLength.`,
  );
}

/** The plan as table rows (notebooks): one row per layout tried. */
export function planAttemptRows(plan: ClusterPlan): { gpus: number; zero: string; perGpu: string; fits: string }[] {
  return plan.attempts.map((a) => ({
    gpus: a.gpus,
    zero: a.zeroStage ? `ZeRO-${a.zeroStage}` : "none",
    perGpu: formatGiB(a.bytesPerGpu),
    fits: a.fits ? "yes" : "no",
  }));
}

/**
 * Plans side by side (one row each): job, GPUs, ZeRO stage, micro-batch, accumulation, memory per GPU.
 * @example
 * show(table(planSummaryRows([clusterPlan("pythia-1.4b", { job: "train" }), clusterPlan("pythia-1.4b", { job: "lora" })])));
 */
export function planSummaryRows(plans: ClusterPlan[]): Record<string, string | number>[] {
  return plans.map((p) => ({
    job: p.job === "lora" ? "LoRA" : "full",
    gpu: p.gpu.id,
    gpus: p.numProcesses,
    zero: p.zeroStage ? `ZeRO-${p.zeroStage}` : "none",
    microBatch: p.microBatch,
    gradAccum: p.gradAccumSteps,
    perUpdate: p.effectiveBatch,
    perGpu: formatGiB(p.estimate.totalBytes),
    usable: formatGiB(p.gpu.usableBytes),
  }));
}
