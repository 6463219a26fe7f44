/**
 * The machine's fp32 peak, for model FLOP utilisation (MFU).
 *
 * Estimated, not measured: `cores × FLOP/cycle/core × clock`, with FLOP/cycle/core from the widest vector unit
 * `/proc/cpuinfo` advertises and the vendor's family (an FMA is 2 FLOPs):
 *   AVX-512 on Intel, or on AMD from family 26 (Zen 5, full-width 512-bit FMA pipes) → 64 (2 × 16 lanes × 2);
 *   AVX-512 on AMD family 25 (Zen 4: 512-bit ops run as two 256-bit halves) or unknown vendors, AVX2+FMA → 32;
 *   AVX → 16, SSE only → 8.
 * Intel parts with a single 512-bit FMA unit are over-estimated by 2×. The clock is the current `cpu MHz` of the
 * first core: a CPU that boosts above it runs faster than this "peak", so `tunebook bench` raises the peak to the
 * GEMM it measured when that is higher (`effectivePeak`). On other systems (no /proc/cpuinfo) it falls back to
 * `os.cpus()` speed and 32.
 *
 * Model FLOPs follow the PyTorch reference's convention: 6·N per trained token, N = all parameters except
 * the input embedding (a lookup): non-embedding parameters + `embed_out`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { countParameters } from "../../model/presets";
import type { GPTNeoXConfig } from "../../model/config";

export interface PeakEstimate {
  /** Peak fp32 FLOP/s of the whole machine. */
  flopsPerS: number;
  cores: number;
  ghz: number;
  flopsPerCycle: number;
  /** Which vector extension set the FLOP/cycle figure. */
  isa: string;
  /** How it was obtained, one line. */
  method: string;
}

/** Parse `/proc/cpuinfo` text (exported for tests); undefined when it names no processor. */
export function peakFromCpuinfo(text: string, cores: number): PeakEstimate | undefined {
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(text);
  const flags = /^flags\s*:\s*(.*)$/m.exec(text)?.[1].split(/\s+/) ?? [];
  if (!mhz) return undefined;
  const has = (f: string) => flags.includes(f);
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(text)?.[1];
  const family = Number(/^cpu family\s*:\s*(\d+)/m.exec(text)?.[1] ?? NaN);
  const fullWidth512 = vendor === "GenuineIntel" || (vendor === "AuthenticAMD" && family >= 26);
  const [isa, perCycle] = has("avx512f")
    ? fullWidth512
      ? ["AVX-512", 64]
      : ["AVX-512 (256-bit halves)", 32]
    : has("avx2") && has("fma")
      ? ["AVX2+FMA", 32]
      : has("avx")
        ? ["AVX", 16]
        : ["SSE", 8];
  const ghz = Number(mhz[1]) / 1000;
  return {
    flopsPerS: cores * perCycle * ghz * 1e9,
    cores,
    ghz,
    flopsPerCycle: perCycle,
    isa,
    method: `estimated: ${cores} cores × ${perCycle} FLOP/cycle (${isa}, 2 FMA pipes) × ${ghz.toFixed(2)} GHz`,
  };
}

/**
 * The peak MFU is measured against: the clock estimate, or the GEMM speed measured in the same run when that is
 * higher (the estimate's clock is the nominal one; a GEMM cannot beat the real peak, so a faster GEMM proves the
 * estimate low). Keeps MFU at or below 1.
 * @example
 * effectivePeak(machinePeak(), 365.8e9); // { flopsPerS: 3.658e11, method: "the measured GEMM ..." } on a boosting CPU
 */
export function effectivePeak(estimate: PeakEstimate, gemmFlopsPerS?: number): { flopsPerS: number; method: string } {
  if (gemmFlopsPerS !== undefined && Number.isFinite(gemmFlopsPerS) && gemmFlopsPerS > estimate.flopsPerS)
    return {
      flopsPerS: gemmFlopsPerS,
      method: `the measured GEMM, ${(gemmFlopsPerS / 1e9).toFixed(1)} GFLOP/s, above the clock estimate (${estimate.method}): the CPU runs above that clock`,
    };
  return { flopsPerS: estimate.flopsPerS, method: estimate.method };
}

/**
 * The machine's estimated fp32 peak.
 *
 * @example
 * machinePeak().flopsPerS; // e.g. 1.66e11 on 2 AVX-512 cores at 2.6 GHz
 */
export function machinePeak(): PeakEstimate {
  const cores = os.cpus().length;
  try {
    const p = peakFromCpuinfo(fs.readFileSync("/proc/cpuinfo", "utf8"), cores);
    if (p) return p;
  } catch {
    /* not Linux */
  }
  const ghz = (os.cpus()[0]?.speed ?? 2000) / 1000;
  return {
    flopsPerS: cores * 32 * ghz * 1e9,
    cores,
    ghz,
    flopsPerCycle: 32,
    isa: "unknown",
    method: `estimated: ${cores} cores × 32 FLOP/cycle (assumed) × ${ghz.toFixed(2)} GHz`,
  };
}

/**
 * N of the 6·N FLOPs-per-token rule: every parameter except the input embedding.
 *
 * @example
 * flopParams(getPreset("pythia-70m")); // 44,670,976 (70,426,624 − 50304·512)
 */
export function flopParams(cfg: GPTNeoXConfig): number {
  return countParameters(cfg).total - cfg.vocabSize * cfg.hiddenSize;
}

/** Bytes of weights decoding reads per new token: every float32 parameter except the input embedding (a lookup). */
export function weightBytesPerToken(flopParams: number): number {
  return 4 * flopParams;
}
