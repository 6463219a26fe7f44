/**
 * The benchmark's public output: one JSON line per measurement (`tunebook bench --json`, `npm run bench`) or a
 * short table. The metric names and the fields `metric`, `value`, `backend`, `torch`, `ratio` are a public
 * interface (issue 8); `ratio` is always tunebook / PyTorch, so higher is better for throughput and MFU and
 * lower is better for memory. Extra fields: `unit`, `model`, `target`, `meets_target`, `runs` (the timed runs).
 */
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
export type MetricName = (typeof METRICS)[number];

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
}

interface MetricSpec {
  metric: MetricName;
  mode: BenchMode;
  unit: string;
  ours: (r: WorkloadResult) => number | undefined;
  theirs?: (t: TorchResult, peak: number) => number | undefined;
  /** Passes when ... (on ratio if `onRatio`, else on value). */
  target: { onRatio: boolean; min?: number; max?: number };
  withRuns: boolean;
}

const SPECS: MetricSpec[] = [
  { metric: "train_full_tokens_per_s", mode: "full", unit: "tokens/s", ours: (r) => r.value, theirs: (t) => t.value, target: { onRatio: true, min: 0.5 }, withRuns: true },
  { metric: "train_lora_tokens_per_s", mode: "lora", unit: "tokens/s", ours: (r) => r.value, theirs: (t) => t.value, target: { onRatio: true, min: 0.5 }, withRuns: true },
  { metric: "generate_tokens_per_s", mode: "generate", unit: "new tokens/s", ours: (r) => r.value, theirs: (t) => t.value, target: { onRatio: true, min: 1.0 }, withRuns: true },
  { metric: "load_seconds", mode: "load", unit: "s", ours: (r) => r.value, target: { onRatio: false, max: 1.0 }, withRuns: true },
  { metric: "peak_rss_full_mib", mode: "full", unit: "MiB", ours: (r) => r.peakRssMiB, theirs: (t) => t.peakRssMiB, target: { onRatio: true, max: 1.0 }, withRuns: false },
  { metric: "peak_rss_lora_mib", mode: "lora", unit: "MiB", ours: (r) => r.peakRssMiB, theirs: (t) => t.peakRssMiB, target: { onRatio: true, max: 1.0 }, withRuns: false },
  { metric: "mfu", mode: "full", unit: "fraction of fp32 peak", ours: (r) => r.mfu, theirs: (t, peak) => (t.modelFlopsPerS === undefined ? undefined : t.modelFlopsPerS / peak), target: { onRatio: true, min: 0.5 }, withRuns: false },
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
export function benchLines(model: string, ours: Map<BenchMode, WorkloadResult>, theirs: Map<BenchMode, TorchResult>, peakFlopsPerS: number): BenchLine[] {
  const lines: BenchLine[] = [];
  for (const s of SPECS) {
    const r = ours.get(s.mode);
    const v = r ? s.ours(r) : undefined;
    if (!r || v === undefined || !Number.isFinite(v)) continue;
    const line: BenchLine = { metric: s.metric, value: round(v), backend: r.backend, ...(r.matmul ? { matmul: r.matmul } : {}), unit: s.unit, model, target: targetText(s.target) };
    const t = theirs.get(s.mode);
    const tv = t && s.theirs ? s.theirs(t, peakFlopsPerS) : undefined;
    if (tv !== undefined && Number.isFinite(tv) && tv > 0) {
      line.torch = round(tv);
      line.ratio = round(v / tv, 3);
    }
    const x = s.target.onRatio ? line.ratio : v;
    if (x !== undefined) line.meets_target = s.target.min !== undefined ? x >= s.target.min : x <= (s.target.max as number);
    if (s.withRuns) line.runs = r.runs.all.map((q) => round(q));
    lines.push(line);
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
      l.metric, `${l.value} ${l.unit === "fraction of fp32 peak" ? "" : l.unit}`.trim(), l.torch === undefined ? "-" : String(l.torch),
      l.ratio === undefined ? "-" : `${l.ratio}x`, l.target, l.meets_target === undefined ? "?" : l.meets_target ? "yes" : "no",
    ]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd()).join("\n");
}
