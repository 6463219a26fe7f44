/**
 * Every source of notebook 05's comparison as throughput points (tokens/s and FLOP/s, src/scaling/throughput.ts):
 * the live run on this machine, GPU recordings (`docs/recorded/*.json`), and the calculator's estimates. CPU
 * records have their own (src/scaling/cpu-records.ts `cpuRecordPoints`). The fit of tokens/s against parameters
 * with its quality (`fitThroughput`) works on any one series.
 */
import * as os from "node:os";
import { findPreset } from "../model/presets";
import { matmulEngine, nativeMatMulActive } from "../kernels/native-blas";
import type { ScalingResult } from "./measure";
import type { Recording } from "./recorded";
import type { GpuStepEstimate } from "./fit";
import { fitPowerLawQuality, type PowerLawQuality } from "./fit";
import { flopParamCount, throughputPoint, type ThroughputPoint } from "./throughput";

/** N for a Pythia preset name (all parameters except the input embedding); an unknown name is an error. */
function presetFlopParams(model: string, where: string): number {
  const cfg = findPreset(model);
  if (!cfg) throw new Error(`${where}: model ${JSON.stringify(model)} is not a Pythia preset, so its N is unknown`);
  return flopParamCount(cfg);
}

/**
 * How this machine's live series is labelled: its CPU model and core count, and the backend with what runs its
 * matmuls (e.g. "wasm + OpenBLAS 0.3.21 (Cooperlake)").
 *
 * @example
 * const { machine, backend } = thisMachine("wasm"); // "AMD EPYC, 2 cores", "wasm + OpenBLAS 0.3.21 (Cooperlake)"
 */
export function thisMachine(backend: string): { machine: string; backend: string } {
  const cpus = os.cpus();
  return {
    machine: `${cpus[0]?.model?.trim() || "unknown CPU"}, ${cpus.length} cores`,
    backend: nativeMatMulActive() ? `${backend} + ${matmulEngine().split(",")[0]}` : backend,
  };
}

/**
 * The live run's measured rows as points (skipped sizes left out), one series per batch shape.
 *
 * @example
 * livePoints(await measureScaling({ sizes: ["14m", "31m"] }), "this machine (2 cores)", "wasm + OpenBLAS");
 */
export function livePoints(result: ScalingResult, machine: string, backend = result.backend): ThroughputPoint[] {
  return result.rows
    .filter((r) => r.stepSecondsAll.length > 0 && r.stepSeconds !== null)
    .map((r) =>
      throughputPoint(
        { ...r, batch: r.batchSize, seq: r.seqLen, stepSeconds: r.stepSecondsAll },
        {
          series: `${machine} · tunebook ${backend} · fp32 · B×T ${r.batchSize}×${r.seqLen} (measured here)`,
          source: "measured here",
          machine,
          backend,
          dtype: "fp32",
        },
      ),
    );
}

/**
 * A GPU recording's rows as points (rows with an error are left out): every timed step where the file kept them
 * (`stepSecondsAll`), else its median.
 *
 * @example
 * loadRecordings().flatMap(gpuRecordPoints).filter((p) => p.dtype === "bf16-amp");
 */
export function gpuRecordPoints(rec: Recording): ThroughputPoint[] {
  const backend =
    rec.framework === "pytorch"
      ? `PyTorch ${rec.software.torch ?? ""} CUDA`.replace("  ", " ")
      : `${rec.framework} ${rec.software.backend ?? ""}`.trim();
  return rec.rows
    .filter((r) => r.error === undefined && r.params && r.stepSeconds)
    .map((r, i) => {
      const steps = r.stepSecondsAll?.length ? r.stepSecondsAll : [r.stepSeconds as number];
      return throughputPoint(
        {
          model: r.model,
          params: r.params as number,
          flopParams: presetFlopParams(r.model, `${rec.file ?? rec.label}: rows[${i}]`),
          batch: r.batch,
          seq: r.seq,
          stepSeconds: steps,
        },
        {
          series: `${rec.machine.gpu} · ${backend} · ${r.precision} · B×T ${r.batch}×${r.seq} (recorded ${rec.date.slice(0, 10)})`,
          source: "recorded",
          machine: rec.machine.gpu,
          backend,
          dtype: r.precision,
          date: rec.date.slice(0, 10),
        },
      );
    });
}

/**
 * The calculator's estimates as points (one per model and GPU; sizes with no time are left out). `shape` is the
 * batch the estimates were made for.
 *
 * @example
 * estimatePoints(gpuStepEstimates(models, { gpus: ["h200-141gb"], batch: 8, seq: 512 }), { batch: 8, seq: 512, dtype: "bf16", mfu: 0.4 });
 */
export function estimatePoints(
  ests: readonly GpuStepEstimate[],
  shape: { batch: number; seq: number; dtype: string; mfu: number },
): ThroughputPoint[] {
  return ests
    .filter((e) => e.stepSeconds !== null && e.stepSeconds > 0)
    .map((e) =>
      throughputPoint(
        {
          model: e.model,
          params: e.params,
          flopParams: presetFlopParams(e.model, `estimatePoints(${e.gpu})`),
          batch: shape.batch,
          seq: shape.seq,
          stepSeconds: [e.stepSeconds as number],
        },
        {
          series: `${e.gpuName} · calculator at MFU ${shape.mfu} · ${shape.dtype} · B×T ${shape.batch}×${shape.seq} (estimate)`,
          source: "estimate",
          machine: e.gpuName,
          backend: "calculator",
          dtype: shape.dtype,
        },
      ),
    );
}

/** Which throughput a fit uses: the median step, or the fastest (least disturbed on a shared machine). */
export type ThroughputStat = "median" | "best";

/**
 * Fit tokens/s ∝ P^k over one series' points (P = all parameters), with its quality (`fitPowerLawQuality`).
 * `stat: "best"` fits tokens / fastest step. Fewer than 2 distinct sizes is an error naming the series.
 *
 * @example
 * const q = fitThroughput(points.filter((p) => p.series === s), "best");
 * q.exponent; q.r2; q.leaveOneOutWorstFactor;
 */
export function fitThroughput(points: readonly ThroughputPoint[], stat: ThroughputStat = "median"): PowerLawQuality {
  if (stat !== "median" && stat !== "best")
    throw new Error(`fitThroughput: stat must be "median" or "best", got ${JSON.stringify(stat)}`);
  if (new Set(points.map((p) => p.params)).size < 2)
    throw new Error(
      `fitThroughput: need points at ≥ 2 model sizes, got ${points.length} point(s)${points[0] ? ` in "${points[0].series}"` : ""}`,
    );
  return fitPowerLawQuality(
    points.map((p) => ({ x: p.params, y: stat === "best" ? p.tokensPerSecondBest : p.tokensPerSecond })),
  );
}
