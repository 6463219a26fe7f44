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

/** Two-sided 95% quantiles of Student's t for 1–30 degrees of freedom (beyond: the normal's 1.96). */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * The two-sided 95% quantile of Student's t with `df` degrees of freedom (df ≥ 1).
 *
 * @example
 * t95(2); // 4.303: with 4 points a line has 2 degrees of freedom left, and its interval is wide
 */
export function t95(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`t95: df must be an integer ≥ 1, got ${df}`);
  return df <= T95.length ? T95[df - 1] : 1.96;
}

/** One point against the fit: measured / fitted, and the fit without it predicting it. */
export interface FitResidual {
  x: number;
  y: number;
  fitted: number;
  /** y / fitted (1 = on the line). */
  ratio: number;
  /** The fit on the other points: its exponent and its prediction of this point (null with < 3 points). */
  leaveOneOut: { exponent: number; predicted: number; ratio: number } | null;
}

/** A power-law fit with what says how far to trust it. */
export interface PowerLawQuality extends PowerLawFit {
  /** Residual standard deviation in natural-log units (null with 2 points: no degrees of freedom left). */
  sigma: number | null;
  /** Standard error of the exponent and its 95% interval (null with 2 points). */
  exponentSE: number | null;
  exponentInterval: [number, number] | null;
  residuals: FitResidual[];
  /** Smallest and largest exponent over the leave-one-out fits (null with < 3 points). */
  leaveOneOutExponents: [number, number] | null;
  /** Largest |log| miss of a leave-one-out prediction, as a factor ≥ 1 (null with < 3 points). */
  leaveOneOutWorstFactor: number | null;
  /** Mean and sum of squares of log x, for prediction intervals. */
  meanLogX: number;
  sxx: number;
}

/**
 * `fitPowerLaw` plus its quality: residuals, R², the exponent's standard error and 95% interval, and a
 * leave-one-out check (each point predicted by the fit on the others).
 *
 * @example
 * const q = fitPowerLawQuality(points);
 * q.exponentInterval;        // e.g. [-0.91, -0.62]
 * q.leaveOneOutWorstFactor;  // e.g. 1.3: the worst point was missed by 30% when left out
 */
export function fitPowerLawQuality(points: readonly { x: number; y: number }[]): PowerLawQuality {
  const fit = fitPowerLaw(points);
  const lx = points.map((p) => Math.log(p.x));
  const n = points.length;
  const meanLogX = lx.reduce((a, b) => a + b, 0) / n;
  const sxx = lx.reduce((s, v) => s + (v - meanLogX) ** 2, 0);
  const ssRes = points.reduce((s, p) => s + Math.log(p.y / predictPowerLaw(fit, p.x)) ** 2, 0);
  const sigma = n > 2 ? Math.sqrt(ssRes / (n - 2)) : null;
  const exponentSE = sigma === null ? null : sigma / Math.sqrt(sxx);
  const half = exponentSE === null ? null : t95(n - 2) * exponentSE;
  const residuals: FitResidual[] = points.map((p, i) => {
    const fitted = predictPowerLaw(fit, p.x);
    let leaveOneOut: FitResidual["leaveOneOut"] = null;
    const rest = points.filter((_, j) => j !== i);
    if (n >= 3 && new Set(rest.map((r) => r.x)).size >= 2) {
      const f = fitPowerLaw(rest);
      const predicted = predictPowerLaw(f, p.x);
      leaveOneOut = { exponent: f.exponent, predicted, ratio: p.y / predicted };
    }
    return { x: p.x, y: p.y, fitted, ratio: p.y / fitted, leaveOneOut };
  });
  const loo = residuals.flatMap((r) => (r.leaveOneOut ? [r.leaveOneOut] : []));
  return {
    ...fit,
    sigma,
    exponentSE,
    exponentInterval: half === null ? null : [fit.exponent - half, fit.exponent + half],
    residuals,
    leaveOneOutExponents: loo.length
      ? [Math.min(...loo.map((l) => l.exponent)), Math.max(...loo.map((l) => l.exponent))]
      : null,
    leaveOneOutWorstFactor: loo.length ? Math.exp(Math.max(...loo.map((l) => Math.abs(Math.log(l.ratio))))) : null,
    meanLogX,
    sxx,
  };
}

/** A fitted value with its 95% prediction interval. */
export interface PowerLawPrediction {
  x: number;
  y: number;
  /** 95% prediction interval for a new measurement at x (null when the fit has no degrees of freedom left). */
  low: number | null;
  high: number | null;
  /** high / y: the interval as a multiplicative factor (null likewise). */
  factor: number | null;
  /** Outside the measured range of x. */
  extrapolated: boolean;
}

/**
 * The fit at `xs` with 95% prediction intervals (log space: σ·t·√(1 + 1/n + (ln x − mean)²/Sxx)), which widen
 * fast outside the measured range: the honest answer to "how far can I extrapolate".
 *
 * @example
 * predictWithInterval(q, [4.05e8]).map((p) => [p.y, p.low, p.high]);
 */
export function predictWithInterval(q: PowerLawQuality, xs: readonly number[]): PowerLawPrediction[] {
  return xs.map((x) => {
    if (!(Number.isFinite(x) && x > 0)) throw new Error(`predictWithInterval: x must be a number > 0, got ${x}`);
    const y = predictPowerLaw(q, x);
    const extrapolated = x < q.xMin * 0.999 || x > q.xMax * 1.001;
    if (q.sigma === null) return { x, y, low: null, high: null, factor: null, extrapolated };
    const se = q.sigma * Math.sqrt(1 + 1 / q.n + (Math.log(x) - q.meanLogX) ** 2 / q.sxx);
    const factor = Math.exp(t95(q.n - 2) * se);
    return { x, y, low: y / factor, high: y * factor, factor, extrapolated };
  });
}
