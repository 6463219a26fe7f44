/**
 * One unit for every machine: tokens per second and achieved model FLOP/s of a training step, from the timed
 * steps of a live run, a CPU record, a GPU record or the calculator's estimate. FLOP/s follows the project's
 * MFU convention (src/tools/bench/peak.ts, the PyTorch reference): 6·N per trained token, N = every parameter
 * except the input embedding (a lookup, no arithmetic). Each point carries what it ran on (machine, backend,
 * dtype, batch shape) and whether it was measured here, recorded elsewhere or estimated, so a figure can say so.
 */
import type { GPTNeoXConfig } from "../model/config";
import { countParameters } from "../model/presets";

/**
 * N of the 6·N FLOPs-per-token rule: all parameters except the input embedding.
 *
 * @example
 * flopParamCount(getPreset("pythia-70m")); // 44,670,976 (70,426,624 − 50,304 × 512)
 */
export function flopParamCount(cfg: GPTNeoXConfig): number {
  const c = countParameters(cfg);
  return c.total - c.embedIn;
}

/** Smallest, median and largest of a list of step times (seconds), and how many. */
export interface StepSpread {
  min: number;
  median: number;
  max: number;
  n: number;
}

/**
 * Min / median / max of timed steps; an empty list or a value that is not a finite number > 0 is an error.
 *
 * @example
 * stepSpread([0.9, 1.2, 1.0]); // { min: 0.9, median: 1.0, max: 1.2, n: 3 }
 */
export function stepSpread(seconds: readonly number[]): StepSpread {
  if (!Array.isArray(seconds) || seconds.length === 0) throw new Error("stepSpread: seconds must be a non-empty list");
  seconds.forEach((s, i) => {
    if (!(typeof s === "number" && Number.isFinite(s) && s > 0))
      throw new Error(`stepSpread: seconds[${i}] must be a number > 0, got ${JSON.stringify(s)}`);
  });
  const s = [...seconds].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { min: s[0], median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, max: s[s.length - 1], n: s.length };
}

/** Where a point came from. */
export type PointSource = "measured here" | "recorded" | "estimate";

/** One model size on one machine at one batch shape, in tokens/s and FLOP/s. */
export interface ThroughputPoint {
  /** Legend of the series this point belongs to (machine · backend · dtype · B×T · source). */
  series: string;
  source: PointSource;
  /** e.g. "AMD EPYC (Zen 5), 2 cores" or "NVIDIA H200". */
  machine: string;
  /** "wasm + OpenBLAS", "PyTorch CUDA", "WebGPU", "calculator"... */
  backend: string;
  dtype: string;
  /** ISO date (YYYY-MM-DD) for recorded points. */
  date?: string;
  model: string;
  params: number;
  /** N of 6·N (parameters except the input embedding). */
  flopParams: number;
  batch: number;
  seq: number;
  tokensPerStep: number;
  /** Step time spread; an estimate or a recording that kept only its median has n = 1. */
  seconds: StepSpread;
  /** tokens / median step. */
  tokensPerSecond: number;
  /** tokens / fastest step (the least disturbed estimate on a shared machine). */
  tokensPerSecondBest: number;
  /** tokens / slowest step. */
  tokensPerSecondWorst: number;
  /** 6·N·tokens / median step. */
  flopsPerSecond: number;
  /** 6·N·tokens / fastest step. */
  flopsPerSecondBest: number;
}

/** What a point needs: the model, its parameter counts, the shape and the timed steps. */
export interface ThroughputInput {
  model: string;
  params: number;
  flopParams: number;
  batch: number;
  seq: number;
  /** Timed steps in seconds (one value for a recording that kept only its median or an estimate). */
  stepSeconds: readonly number[];
}

/**
 * Tokens/s and FLOP/s of one model at one shape from its timed steps: tokens = batch × seq;
 * tokens/s = tokens / step; FLOP/s = 6·N·tokens / step (median, fastest and slowest step).
 *
 * @example
 * const p = throughputPoint({ model: "pythia-70m", params: 70426624, flopParams: 44670976, batch: 8, seq: 512,
 *   stepSeconds: [40, 38, 45] }, { series: "cpu", source: "recorded", machine: "AMD EPYC", backend: "wasm", dtype: "fp32" });
 * p.tokensPerSecond; // 4096 / 40 = 102.4
 */
export function throughputPoint(
  x: ThroughputInput,
  about: Pick<ThroughputPoint, "series" | "source" | "machine" | "backend" | "dtype"> & { date?: string },
): ThroughputPoint {
  const where = `throughputPoint(${x?.model ?? "?"})`;
  for (const f of ["params", "flopParams", "batch", "seq"] as const) {
    const v = x?.[f];
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0))
      throw new Error(`${where}: ${f} must be a number > 0, got ${JSON.stringify(v)}`);
  }
  if (x.flopParams > x.params)
    throw new Error(`${where}: flopParams (${x.flopParams}) must not exceed params (${x.params})`);
  const seconds = stepSpread(x.stepSeconds);
  const tokens = x.batch * x.seq;
  const flop = 6 * x.flopParams * tokens;
  return {
    ...about,
    model: x.model,
    params: x.params,
    flopParams: x.flopParams,
    batch: x.batch,
    seq: x.seq,
    tokensPerStep: tokens,
    seconds,
    tokensPerSecond: tokens / seconds.median,
    tokensPerSecondBest: tokens / seconds.min,
    tokensPerSecondWorst: tokens / seconds.max,
    flopsPerSecond: flop / seconds.median,
    flopsPerSecondBest: flop / seconds.min,
  };
}
