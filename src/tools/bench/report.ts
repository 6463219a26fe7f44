/**
 * The benchmark's public output: one JSON line per measurement (`tunebook bench --json`, `npm run bench`) or a
 * short table. The metric names and the fields `metric`, `value`, `backend`, `torch`, `ratio` are a public
 * interface (issue 8); `ratio` is always tunebook / PyTorch, so higher is better for throughput and MFU and
 * lower is better for memory. Extra fields: `unit`, `model`, `target`, `meets_target`, `runs` (the timed runs).
 */
import { describeCpu, type MachineLimits } from "./limits";
import type { TorchResult } from "./torch";
import type { BenchMode, WorkloadResult } from "./workloads";

export const METRICS = [
  "train_full_tokens_per_s",
  "train_lora_tokens_per_s",
  "generate_tokens_per_s",
  "load_seconds",
  "peak_rss_full_mib",
  "peak_rss_lora_mib",
  "mfu",
] as const;
/**
 * The machine's own limits measured in the same invocation (limits.ts) and tunebook against
 * them, and the training metrics again with the matmuls on pure WebAssembly (`TUNEBOOK_BLAS=off` in the child),
 * against the same PyTorch runs and the wasm kernel's own GEMM.
 *   train_full_gemm_fraction  = 6·N·tokens/s ÷ gemm_gflops (N = parameters except the input embedding)
 *   train_lora_gemm_fraction  = 4·N·tokens/s ÷ gemm_gflops (the frozen base computes no weight gradients: forward
 *                               2·N + input gradients 2·N per token; the adapters' FLOPs are negligible)
 *   generate_bandwidth_fraction = N·4 bytes (float32 weights read once per new token) · new tokens/s ÷ membw_gbps
 */
export const MACHINE_METRICS = [
  "gemm_gflops",
  "membw_gbps",
  "train_full_gemm_fraction",
  "train_lora_gemm_fraction",
  "generate_bandwidth_fraction",
  "pure_wasm_gemm_gflops",
  "pure_wasm_train_full_tokens_per_s",
  "pure_wasm_train_lora_tokens_per_s",
  "pure_wasm_train_full_gemm_fraction",
  "pure_wasm_train_lora_gemm_fraction",
] as const;
export type MetricName = (typeof METRICS)[number] | (typeof MACHINE_METRICS)[number];

/** One JSON line. */
export interface BenchLine {
  metric: MetricName;
  value: number;
  backend: string;
  /** What ran the matmuls (the native BLAS behind the wasm backend, or the backend itself). */
  matmul?: string;
  /** The PyTorch reference's value, where it ran and has this metric. */
  torch?: number;
  /** value / torch. */
  ratio?: number;
  unit: string;
  model: string;
  /** The target, e.g. "ratio >= 0.5" or "value <= 1". */
  target: string;
  meets_target?: boolean;
  /** Timed runs in seconds (throughput and load metrics). */
  runs?: number[];
  /** The CPU the limits were measured on, e.g. "AMD EPYC (AuthenticAMD family 26 model 2, Zen 5), 2 CPUs" (gemm_gflops). */
  cpu?: string;
  /** The BLAS's core type (OpenBLAS's kernel set, e.g. "Cooperlake") where the matmuls run on OpenBLAS (gemm_gflops). */
  blas_core?: string;
  /** How the value was obtained: the formula and its inputs (machine metrics). */
  details?: Record<string, unknown>;
}

interface MetricSpec {
  metric: MetricName;
  mode: BenchMode;
  unit: string;
  ours: (r: WorkloadResult, peak: number) => number | undefined;
  theirs?: (t: TorchResult, peak: number) => number | undefined;
  /** Passes when ... (on ratio if `onRatio`, else on value). */
  target: { onRatio: boolean; min?: number; max?: number };
  withRuns: boolean;
}

const SPECS: MetricSpec[] = [
  {
    metric: "train_full_tokens_per_s",
    mode: "full",
    unit: "tokens/s",
    ours: (r) => r.value,
    theirs: (t) => t.value,
    target: { onRatio: true, min: 0.5 },
    withRuns: true,
  },
  {
    metric: "train_lora_tokens_per_s",
    mode: "lora",
    unit: "tokens/s",
    ours: (r) => r.value,
    theirs: (t) => t.value,
    target: { onRatio: true, min: 0.5 },
    withRuns: true,
  },
  {
    metric: "generate_tokens_per_s",
    mode: "generate",
    unit: "new tokens/s",
    ours: (r) => r.value,
    theirs: (t) => t.value,
    target: { onRatio: true, min: 1.0 },
    withRuns: true,
  },
  {
    metric: "load_seconds",
    mode: "load",
    unit: "s",
    ours: (r) => r.value,
    target: { onRatio: false, max: 1.0 },
    withRuns: true,
  },
  {
    metric: "peak_rss_full_mib",
    mode: "full",
    unit: "MiB",
    ours: (r) => r.peakRssMiB,
    theirs: (t) => t.peakRssMiB,
    target: { onRatio: true, max: 1.0 },
    withRuns: false,
  },
  {
    metric: "peak_rss_lora_mib",
    mode: "lora",
    unit: "MiB",
    ours: (r) => r.peakRssMiB,
    theirs: (t) => t.peakRssMiB,
    target: { onRatio: true, max: 1.0 },
    withRuns: false,
  },
  {
    metric: "mfu",
    mode: "full",
    unit: "fraction of fp32 peak",
    ours: (r, peak) => (r.modelFlopsPerS === undefined ? r.mfu : r.modelFlopsPerS / peak),
    theirs: (t, peak) => (t.modelFlopsPerS === undefined ? undefined : t.modelFlopsPerS / peak),
    target: { onRatio: true, min: 0.5 },
    withRuns: false,
  },
];

function targetText(t: MetricSpec["target"]): string {
  const what = t.onRatio ? "ratio" : "value";
  return t.min !== undefined ? `${what} >= ${t.min}` : `${what} <= ${t.max}`;
}

const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

/**
 * Build the measurement lines from the per-mode results (ours and, where it ran, the reference's).
 *
 * @example
 * const lines = benchLines("pythia-70m", ours, theirs, machinePeak().flopsPerS);
 * for (const l of lines) console.log(JSON.stringify(l));
 */
export function benchLines(
  model: string,
  ours: Map<BenchMode, WorkloadResult>,
  theirs: Map<BenchMode, TorchResult>,
  peakFlopsPerS: number,
): BenchLine[] {
  const lines: BenchLine[] = [];
  for (const s of SPECS) {
    const r = ours.get(s.mode);
    const v = r ? s.ours(r, peakFlopsPerS) : undefined;
    if (!r || v === undefined || !Number.isFinite(v)) continue;
    const line: BenchLine = {
      metric: s.metric,
      value: round(v),
      backend: r.backend,
      ...(r.matmul ? { matmul: r.matmul } : {}),
      unit: s.unit,
      model,
      target: targetText(s.target),
    };
    const t = theirs.get(s.mode);
    const tv = t && s.theirs ? s.theirs(t, peakFlopsPerS) : undefined;
    if (tv !== undefined && Number.isFinite(tv) && tv > 0) {
      line.torch = round(tv);
      line.ratio = round(v / tv, 3);
    }
    const x = s.target.onRatio ? line.ratio : v;
    if (x !== undefined)
      line.meets_target = s.target.min !== undefined ? x >= s.target.min : x <= (s.target.max as number);
    if (s.withRuns) line.runs = r.runs.all.map((q) => round(q));
    lines.push(line);
  }
  return lines;
}

/** The machine's limits and the pure-wasm run, for `machineLines`. */
export interface MachineInputs {
  /** Limits measured with the same settings as the workloads (absent: not measured). */
  limits?: MachineLimits;
  /** The pure-WebAssembly run: its limits (the wasm kernel's GEMM) and training results. */
  pureWasm?: { limits?: MachineLimits; ours: Map<BenchMode, WorkloadResult> };
}

/**
 * The issue-20 lines: the machine's limits and tunebook's throughput as a fraction of them (formulas at
 * MACHINE_METRICS, repeated in each line's `details`), then the training metrics on pure wasm.
 *
 * @example
 * const lines = [...benchLines(model, ours, theirs, peak), ...machineLines(model, ours, theirs, { limits })];
 */
export function machineLines(
  model: string,
  ours: Map<BenchMode, WorkloadResult>,
  theirs: Map<BenchMode, TorchResult>,
  m: MachineInputs,
): BenchLine[] {
  const lines: BenchLine[] = [];
  const base = (
    metric: MetricName,
    value: number,
    r: { backend: string; matmul?: string },
    unit: string,
    target: string,
  ) =>
    ({
      metric,
      value: round(value),
      backend: r.backend,
      ...(r.matmul ? { matmul: r.matmul } : {}),
      unit,
      model,
      target,
    }) as BenchLine;
  const judge = (l: BenchLine, min?: number) => (min === undefined ? l : { ...l, meets_target: l.value >= min });
  const limitLines = (prefix: "" | "pure_wasm_", L: MachineLimits, results: Map<BenchMode, WorkloadResult>) => {
    const engine = { backend: [...results.values()][0]?.backend ?? "wasm", matmul: L.gemm.engine };
    lines.push({
      ...base(`${prefix}gemm_gflops` as MetricName, L.gemmGflops, engine, "GFLOP/s", "machine limit (no target)"),
      cpu: describeCpu(L.cpu),
      ...(L.blasCore ? { blas_core: L.blasCore } : {}),
      details: {
        method: L.gemm.method,
        shapes: L.gemm.shapes.map((x) => ({ ...x, gflops: round(x.gflops) })),
        ...(L.blasCoreWhy ? { blas_core_why: L.blasCoreWhy } : {}),
        ...(L.blasBf16Gemm !== undefined ? { blas_bf16_gemm: L.blasBf16Gemm } : {}),
        isa: L.cpu.isa,
      },
    });
    for (const [mode, metric, k, min] of [
      ["full", `${prefix}train_full_gemm_fraction`, 6, 0.6],
      ["lora", `${prefix}train_lora_gemm_fraction`, 4, 0.5],
    ] as const) {
      const r = results.get(mode);
      if (!r || r.modelFlopsPerS === undefined || !(L.gemmGflops > 0)) continue;
      const frac = r.modelFlopsPerS / (L.gemmGflops * 1e9);
      lines.push(
        judge(
          {
            ...base(
              metric as MetricName,
              frac,
              r,
              "fraction of gemm_gflops",
              prefix ? "report only (pure wasm must not regress)" : `value >= ${min}`,
            ),
            details: {
              formula: `${k}·N·tokens/s ÷ ${prefix}gemm_gflops`,
              N: r.details.flopParams,
              tokens_per_s: round(r.value),
              model_flops_per_s: round(r.modelFlopsPerS),
              gemm_gflops: round(L.gemmGflops),
              ...(mode === "lora"
                ? { why_4N: "the frozen base needs no weight gradient: forward 2·N + input gradients 2·N per token" }
                : {}),
            },
          },
          prefix ? undefined : min,
        ),
      );
    }
  };
  if (m.limits) {
    const L = m.limits;
    const any = [...ours.values()][0];
    lines.push({
      ...base("membw_gbps", L.membwGbps, { backend: any?.backend ?? "wasm" }, "GB/s", "machine limit (no target)"),
      details: { method: L.membw.method },
    });
    limitLines("", L, ours);
    const g = ours.get("generate");
    const bytes = g?.details.weightBytesPerToken;
    if (g && typeof bytes === "number" && L.membwGbps > 0) {
      lines.push(
        judge(
          {
            ...base(
              "generate_bandwidth_fraction",
              (bytes * g.value) / (L.membwGbps * 1e9),
              g,
              "fraction of membw_gbps",
              "value >= 0.5",
            ),
            details: {
              formula: "weight bytes per token · new tokens/s ÷ membw_gbps",
              weight_bytes_per_token: bytes,
              new_tokens_per_s: round(g.value),
              membw_gbps: round(L.membwGbps),
            },
          },
          0.5,
        ),
      );
    }
  }
  if (m.pureWasm) {
    const W = m.pureWasm;
    for (const [mode, metric] of [
      ["full", "pure_wasm_train_full_tokens_per_s"],
      ["lora", "pure_wasm_train_lora_tokens_per_s"],
    ] as const) {
      const r = W.ours.get(mode);
      if (!r) continue;
      const line: BenchLine = {
        ...base(metric, r.value, r, "tokens/s", "report only (pure wasm must not regress)"),
        runs: r.runs.all.map((q) => round(q)),
        details: { peak_rss_mib: round(r.peakRssMiB) },
      };
      const t = theirs.get(mode);
      if (t && t.value > 0) {
        line.torch = round(t.value);
        line.ratio = round(r.value / t.value, 3);
      }
      lines.push(line);
    }
    if (W.limits) limitLines("pure_wasm_", W.limits, W.ours);
  }
  return lines;
}

/**
 * A short human-readable table of the lines.
 *
 * @example
 * console.log(formatTable(lines));
 */
export function formatTable(lines: readonly BenchLine[]): string {
  const rows = [["metric", "tunebook", "PyTorch", "ratio", "target", "met"]];
  for (const l of lines) {
    rows.push([
      l.metric,
      `${l.value} ${l.unit.startsWith("fraction of") ? "" : l.unit}`.trim(),
      l.torch === undefined ? "-" : String(l.torch),
      l.ratio === undefined ? "-" : `${l.ratio}x`,
      l.target,
      l.meets_target === undefined ? "?" : l.meets_target ? "yes" : "no",
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
