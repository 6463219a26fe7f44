/**
 * Scaling laws from measurements: a least-squares line through (log P, log t) — step time ∝ P^k — with
 * its R², extrapolation to larger models, and GPU estimates from the sizing calculator (6·P FLOPs per
 * trained token at a GPU's dense TFLOPS × an MFU assumption). Estimates are labelled as such everywhere.
 */
import { estimateMemory } from "../sizing/estimate";
import { getGpu } from "../sizing/gpus";
import type { Dtype } from "../sizing/units";
import type { GPTNeoXConfig } from "../model/config";

/** t = a · x^k fitted in log-log space. */
export interface PowerLawFit {
  /** The exponent k (slope in log-log). */
  exponent: number;
  /** The coefficient a (t at x = 1). */
  coefficient: number;
  /** R² of the line in log-log space. */
  r2: number;
  /** Points used. */
  n: number;
  /** Range of x the fit saw (extrapolating outside it is a guess). */
  xMin: number;
  xMax: number;
}

/**
 * Least-squares power law through points with x > 0 and y > 0 (others are an error naming the point).
 *
 * @example
 * const f = fitPowerLaw([{ x: 1e7, y: 0.1 }, { x: 1e8, y: 0.9 }, { x: 1e9, y: 8 }]);
 * f.exponent; // ≈ 0.95
 */
export function fitPowerLaw(points: readonly { x: number; y: number }[]): PowerLawFit {
  if (points.length < 2) throw new Error(`fitPowerLaw: need at least 2 points, got ${points.length}`);
  points.forEach((p, i) => {
    if (!(Number.isFinite(p.x) && p.x > 0 && Number.isFinite(p.y) && p.y > 0)) {
      throw new Error(
        `fitPowerLaw: point ${i} is {x: ${p.x}, y: ${p.y}}; both must be finite and > 0 for a log-log fit`,
      );
    }
  });
  const lx = points.map((p) => Math.log(p.x));
  const ly = points.map((p) => Math.log(p.y));
  const n = points.length;
  const mx = lx.reduce((a, b) => a + b, 0) / n;
  const my = ly.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i] - mx) ** 2;
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) ** 2;
  }
  if (sxx === 0) throw new Error("fitPowerLaw: all points have the same x; nothing to fit");
  const k = sxy / sxx;
  const b = my - k * mx;
  const ssRes = ly.reduce((s, y, i) => s + (y - (b + k * lx[i])) ** 2, 0);
  return {
    exponent: k,
    coefficient: Math.exp(b),
    r2: syy === 0 ? 1 : 1 - ssRes / syy,
    n,
    xMin: Math.min(...points.map((p) => p.x)),
    xMax: Math.max(...points.map((p) => p.x)),
  };
}

/** The fitted y at x. */
export function predictPowerLaw(fit: PowerLawFit, x: number): number {
  return fit.coefficient * x ** fit.exponent;
}

/** One extrapolated point, marked when outside the measured range. */
export interface Extrapolation {
  x: number;
  y: number;
  extrapolated: boolean;
}

/**
 * The fit evaluated at new x values (e.g. the parameter counts of bigger presets).
 *
 * @example
 * extrapolate(fit, [4.05e8, 1.01e9]).map((e) => e.y); // seconds per step, extrapolated
 */
export function extrapolate(fit: PowerLawFit, xs: readonly number[]): Extrapolation[] {
  return xs.map((x) => ({ x, y: predictPowerLaw(fit, x), extrapolated: x < fit.xMin * 0.999 || x > fit.xMax * 1.001 }));
}

/**
 * The fit of step time against parameter count from measured rows (rows without a time are left out).
 *
 * @example
 * const fit = fitStepTime((await measureScaling({ sizes: ["14m", "31m", "70m"] })).rows);
 * extrapolate(fit, [4.05e8]);   // seconds per step at pythia-410m, marked as extrapolated
 */
export function fitStepTime(rows: readonly { params: number | null; stepSeconds: number | null }[]): PowerLawFit {
  const pts = rows
    .filter((r) => r.params && r.stepSeconds)
    .map((r) => ({ x: r.params as number, y: r.stepSeconds as number }));
  return fitPowerLaw(pts);
}

export interface GpuEstimateOptions {
  /** GPU ids from the sizing catalog. */
  gpus: string[];
  batch: number;
  seq: number;
  /** fp32 (what tfjs computes) or fp16/bf16 mixed precision. */
  dtype: Dtype;
  /** Model FLOPs utilisation assumed. */
  mfu: number;
}

export const DEFAULT_GPU_ESTIMATE: GpuEstimateOptions = {
  gpus: ["t4-16gb", "v100-16gb", "a10g-24gb", "a100-80gb", "h100-80gb"],
  batch: 8,
  seq: 512,
  dtype: "bf16",
  mfu: 0.4, // a well-tuned dense training run reaches 30–50%
};

/** One calculator estimate of the training step on one GPU. */
export interface GpuStepEstimate {
  model: string;
  params: number;
  gpu: string;
  gpuName: string;
  /** Always "estimate": computed from FLOPs and a datasheet, not measured. */
  kind: "estimate";
  stepSeconds: number | null;
  tokensPerSecond: number | null;
  /** Estimated memory of the job and whether it fits the GPU. */
  totalBytes: number;
  fits: boolean;
  formula: string;
}

/**
 * The same training step (batch × seq tokens, AdamW) estimated on catalog GPUs by the sizing
 * calculator: time = 6·P·tokens / (TFLOPS × MFU); memory from its breakdown.
 *
 * @example
 * gpuStepEstimates([{ name: "pythia-160m", config: getPreset("160m") }], { gpus: ["h100-80gb"] })[0].stepSeconds;
 */
export function gpuStepEstimates(
  models: readonly { name: string; config: GPTNeoXConfig | number }[],
  opts: Partial<GpuEstimateOptions> = {},
): GpuStepEstimate[] {
  const o = { ...DEFAULT_GPU_ESTIMATE, ...opts };
  const out: GpuStepEstimate[] = [];
  for (const m of models) {
    for (const id of o.gpus) {
      const g = getGpu(id);
      const r = estimateMemory(m.config, { job: "train", dtype: o.dtype, batch: o.batch, seq: o.seq, mfu: o.mfu }, g);
      out.push({
        model: m.name,
        params: r.model.params,
        gpu: g.id,
        gpuName: g.name,
        kind: "estimate",
        stepSeconds: r.compute.stepSeconds,
        tokensPerSecond: r.compute.tokensPerSecond,
        totalBytes: r.totalBytes,
        fits: r.gpu?.fits ?? false,
        formula: r.compute.formula,
      });
    }
  }
  return out;
}

/**
 * Model FLOPs utilisation of a measured step: 6·P·tokens / seconds / peak.
 *
 * @example
 * measuredMfu(70e6, 4096, 0.0144, 989); // ≈ 0.12 of an H200's bf16 peak
 */
export function measuredMfu(params: number, tokens: number, seconds: number, peakTflops: number): number {
  return (6 * params * tokens) / seconds / (peakTflops * 1e12);
}

/** A recorded GPU row next to the calculator's estimate of it. */
export interface RecordedVsEstimate {
  model: string;
  precision: string;
  tokens: number;
  measuredSeconds: number;
  estimatedSeconds: number | null;
  /** Measured / estimated: above 1 the GPU was slower than the MFU assumption. */
  ratio: number | null;
  /** The MFU the measurement implies against the catalog's peak for that precision. */
  impliedMfu: number | null;
}

/**
 * Compare measured GPU steps (a recording's rows) with the calculator at `mfu` on catalog GPU `gpuId`:
 * fp32 rows against the fp32 peak, others against the 16-bit tensor peak.
 *
 * @example
 * recordedVsEstimate(loadRecordings()[0].rows, "h200-141gb").map((r) => r.impliedMfu);
 */
export function recordedVsEstimate(
  rows: readonly {
    model: string;
    params: number | null;
    precision: string;
    batch: number;
    seq: number;
    stepSeconds: number | null;
  }[],
  gpuId: string,
  mfu = DEFAULT_GPU_ESTIMATE.mfu,
): RecordedVsEstimate[] {
  const g = getGpu(gpuId);
  return rows
    .filter((r) => r.params && r.stepSeconds)
    .map((r) => {
      const dtype: Dtype = r.precision === "fp32" ? "fp32" : "bf16";
      const est = estimateMemory(r.params as number, { job: "train", dtype, batch: r.batch, seq: r.seq, mfu }, g)
        .compute.stepSeconds;
      const peak = dtype === "fp32" ? g.fp32Tflops : g.fp16Tflops;
      const tokens = r.batch * r.seq;
      return {
        model: r.model,
        precision: r.precision,
        tokens,
        measuredSeconds: r.stepSeconds as number,
        estimatedSeconds: est,
        ratio: est ? (r.stepSeconds as number) / est : null,
        impliedMfu: peak ? measuredMfu(r.params as number, tokens, r.stepSeconds as number, peak) : null,
      };
    });
}
