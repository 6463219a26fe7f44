/**
 * "Which model fits which GPU": the largest parameter count a job fits in (binary search over
 * `shapeFromParams`, whose assumed shape only affects the KV cache, activations and LoRA sizes), a GPU's
 * report for the four jobs under stated defaults, and a models × GPUs fit matrix.
 */
import {
  DEFAULT_JOB,
  estimateMemory,
  type Job,
  type JobOptions,
  JOBS,
  resolveJob,
  type SizingResult,
} from "./estimate";
import { getGpu, type Gpu, GPU_CATALOG, thisMachine, usableBytes } from "./gpus";
import { modelShape } from "./models";
import type { ModelShape } from "./shape";
import { shapeFromParams } from "./shape";
import { formatGiB, formatParams, MAX_PARAMS } from "./units";

/** Defaults behind a GPU's `maxParams`: the `DEFAULT_JOB` (one GPU, fp16/mixed, batch 1, 512 tokens) per job. */
export const DEFAULT_FIT_JOBS: Readonly<Record<Job, Partial<JobOptions>>> = Object.freeze({
  inference: { job: "inference", dtype: "fp16" },
  train: { job: "train", dtype: "fp16", optimizer: "adamw", convention: "eleutherai-16" },
  lora: { job: "lora", dtype: "fp16" },
  qlora: { job: "qlora", dtype: "bf16" },
});

/**
 * The largest parameter count (3 significant digits, rounded down) whose job fits the GPU's usable
 * memory; 0 when not even a 1M-parameter model fits.
 *
 * @example
 * maxParamsFor("v100-16gb", { job: "inference" }); // ≈ 7e9 (fp16 weights + 20% + a 512-token KV cache)
 */
export function maxParamsFor(gpu: Gpu | string, job: Partial<JobOptions> = {}): number {
  const g = typeof gpu === "string" ? getGpu(gpu) : gpu;
  resolveJob(job);
  const limit = usableBytes(g);
  const fits = (p: number) => estimateMemory(shapeFromParams(p), job).totalBytes <= limit;
  let lo = 1e6;
  if (!fits(lo)) return 0;
  let hi = lo;
  while (hi < MAX_PARAMS && fits(hi)) hi = Math.min(MAX_PARAMS, hi * 2);
  if (fits(hi)) return hi;
  for (let i = 0; i < 60 && hi / lo > 1 + 1e-4; i++) {
    const mid = Math.sqrt(lo * hi);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  const digits = 10 ** (Math.floor(Math.log10(lo)) - 2);
  return Math.floor(lo / digits) * digits;
}

/** What `tunebook sizing --gpu ID --json` prints. */
export interface GpuReport {
  gpu: {
    id: string;
    name: string;
    memoryBytes: number;
    usableBytes: number;
    fp16Tflops: number | null;
    fp32Tflops: number | null;
    bandwidthGBs: number | null;
    source: string;
    notes?: string;
  };
  maxParams: Record<Job, number>;
  assumptions: string[];
}

/**
 * The largest model for each job on one GPU (or `gpus` of them with `overrides`), with the assumptions.
 *
 * @example
 * gpuReport("v100-16gb").maxParams; // { inference: ≈7e9, train: ≈1e9, lora: ≈6.7e9, qlora: ≈2.3e10 }
 */
export function gpuReport(gpu: Gpu | string, overrides: Partial<JobOptions> = {}): GpuReport {
  const g = typeof gpu === "string" ? getGpu(gpu) : gpu;
  const { job: _ignored, ...rest } = overrides;
  const maxParams = {} as Record<Job, number>;
  for (const j of JOBS) maxParams[j] = maxParamsFor(g, { ...DEFAULT_FIT_JOBS[j], ...rest });
  const d = { ...DEFAULT_JOB, ...rest };
  const assumptions = [
    `usable memory ${formatGiB(usableBytes(g))} of ${formatGiB(g.memoryBytes)}${g.usableFraction < 1 ? ` (${Math.round(g.usableFraction * 100)}%)` : ""}`,
    `${d.gpus} GPU(s)${d.zero ? `, ZeRO-${d.zero}` : ""}; batch ${d.batch}, context ${d.seq} tokens`,
    `inference: ${rest.dtype ?? "fp16"} weights + ${d.overhead ?? 0.2} × weights overhead + KV cache`,
    `train: mixed-precision ${d.optimizer}, ${{ "eleutherai-16": "EleutherAI's 16 B/param", "hf-18": "Hugging Face's 18 B/param", "pure-16bit": "pure 16-bit (8 B/param)" }[d.convention]} convention, activations with recomputation "${d.recompute}"`,
    `lora: frozen 16-bit base, rank ${d.loraRank} on the query/value projections, AdamW for the adapters`,
    `qlora: NF4 + double-quantised base (4.127 bits/param), rank-${d.loraRank} adapters in bf16 with AdamW`,
    "model shapes assumed from the parameter count (hidden ≈ 128 × layers, MHA, 4× MLP, vocab 50304)",
  ];
  return {
    gpu: {
      id: g.id,
      name: g.name,
      memoryBytes: g.memoryBytes,
      usableBytes: usableBytes(g),
      fp16Tflops: g.fp16Tflops,
      fp32Tflops: g.fp32Tflops,
      bandwidthGBs: g.bandwidthGBs,
      source: g.source,
      notes: g.notes,
    },
    maxParams,
    assumptions,
  };
}

/** One cell of a fit matrix. */
export interface FitCell {
  model: string;
  params: number;
  gpu: string;
  totalBytes: number;
  usableBytes: number;
  /** totalBytes / usableBytes: ≤ 1 fits. */
  ratio: number;
  fits: boolean;
}

/**
 * Every model × GPU for one job: the memory needed against the memory there.
 *
 * @example
 * fitMatrix(["pythia-1b", "llama-2-7b"], ["t4-16gb", "a100-80gb"], { job: "train" }).filter((c) => c.fits);
 */
export function fitMatrix(
  models: (ModelShape | string | number)[],
  gpus: (Gpu | string)[],
  job: Partial<JobOptions> = {},
): FitCell[] {
  const shapes = models.map((m) => modelShape(m));
  const gs = gpus.map((g) => (typeof g === "string" ? getGpu(g) : g));
  const out: FitCell[] = [];
  for (const s of shapes) {
    const r: SizingResult = estimateMemory(s, job);
    for (const g of gs) {
      const u = usableBytes(g);
      out.push({
        model: s.name,
        params: s.params,
        gpu: g.id,
        totalBytes: r.totalBytes,
        usableBytes: u,
        ratio: r.totalBytes / u,
        fits: r.totalBytes <= u,
      });
    }
  }
  return out;
}

/** A GPU report as rows for a table. */
export function gpuReportRows(reports: GpuReport[]): Record<string, string>[] {
  return reports.map((r) => ({
    gpu: r.gpu.id,
    memory: formatGiB(r.gpu.memoryBytes, 0),
    inference: formatParams(r.maxParams.inference),
    train: formatParams(r.maxParams.train),
    lora: formatParams(r.maxParams.lora),
    qlora: formatParams(r.maxParams.qlora),
  }));
}

/** One line of a sizing plan. */
export interface PlanRow {
  job: Job;
  /** Memory the job needs on one device. */
  needed: string;
  /** Does it fit this machine's RAM (80% usable)? */
  thisMachine: "fits" | "too big";
  /** The smallest catalog GPU (by memory) that holds it, or "none: shard it" with the ZeRO-3 count. */
  smallestGpu: string;
}

/**
 * For one model, each job's memory and the smallest single GPU that holds it; when none does, how many
 * of the biggest GPU with ZeRO-3 (training) or an even split (inference) would. The plan for "when you
 * outgrow this laptop".
 *
 * @example
 * show(table(sizingPlan("llama-2-7b")));
 */
export function sizingPlan(
  model: ModelShape | string | number,
  job: Partial<JobOptions> = {},
  catalog: Gpu[] = GPU_CATALOG.filter((g) => g.kind === "nvidia"),
): PlanRow[] {
  const shape = modelShape(model);
  const host = thisMachine();
  const bySize = [...catalog].sort((a, b) => usableBytes(a) - usableBytes(b));
  const biggest = bySize[bySize.length - 1];
  return JOBS.map((j) => {
    const opts = { ...DEFAULT_FIT_JOBS[j], ...job, job: j };
    const r = estimateMemory(shape, opts);
    const g = bySize.find((x) => r.totalBytes <= usableBytes(x));
    let smallestGpu = g ? `${g.id} (${formatGiB(usableBytes(g), 0)})` : "";
    if (!g) {
      for (let n = 2; n <= 4096; n *= 2) {
        const sharded = estimateMemory(shape, { ...opts, gpus: n, zero: j === "inference" ? 0 : 3 });
        if (sharded.totalBytes <= usableBytes(biggest)) {
          smallestGpu = `none alone: ${n} × ${biggest.id}${j === "inference" ? " (weights split)" : " with ZeRO-3"}`;
          break;
        }
      }
      smallestGpu ||= "none: more than 4096 GPUs";
    }
    return {
      job: j,
      needed: formatGiB(r.totalBytes),
      thisMachine: r.totalBytes <= usableBytes(host) ? "fits" : "too big",
      smallestGpu,
    };
  });
}
