/**
 * `tunebook bench` end to end: each mode in its own child process (so its peak RSS is its own), the PyTorch
 * reference for the same mode right after it (never at the same time: the machine has 2 cores), then the
 * JSON lines or the table (report.ts).
 *
 * The child is this same library started with the same Node flags (`--import tsx` under the tests), running
 * `tunebook bench --child MODE` (src/cli/bench.ts); it prints one `@@tunebook-bench-result <json>` line that the parent reads.
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { effectivePeak, machinePeak } from "./peak";
import { describeCpu, type MachineLimits } from "./limits";
import { benchLines, machineLines, type BenchLine } from "./report";
import { findTorch, runTorch, type TorchResult } from "./torch";
import { DEFAULT_WORKLOAD, type BenchMode, type WorkloadOptions, type WorkloadResult } from "./workloads";

/** Prefix of the child's result line on stdout. */
export const RESULT_PREFIX = "@@tunebook-bench-result ";

export interface BenchOptions extends WorkloadOptions {
  modes: BenchMode[];
  /** Threads for both sides: XNNPACK threads of wasm (TUNEBOOK_WASM_THREADS) and torch.set_num_threads. */
  threads: number;
  /** Force a backend in the children (TUNEBOOK_BACKEND); default: the best available. */
  backend?: string;
  /** Run the PyTorch reference when available (default true). */
  torch: boolean;
  /** Measure the machine's limits (GEMM, memory bandwidth, CPU) in a child with the same settings (default true). */
  limits: boolean;
  /**
   * Run the training modes (and the limits) again with the matmuls on pure WebAssembly (`TUNEBOOK_BLAS=off` in the
   * children), when the first run's matmuls were on a native BLAS (default true; when they were not, the first run
   * is the pure-wasm one and is reported as such).
   */
  pureWasm: boolean;
  /** Progress messages (stderr). */
  log: (msg: string) => void;
}

export const DEFAULT_BENCH: BenchOptions = {
  ...DEFAULT_WORKLOAD,
  modes: ["full", "lora", "generate", "load"],
  threads: Math.max(1, os.cpus().length),
  torch: true,
  limits: true,
  pureWasm: true,
  log: () => {},
};

/** The pseudo-mode of the child that measures the machine's limits (limits.ts). */
export const LIMITS_CHILD = "limits";

export interface BenchReport {
  lines: BenchLine[];
  ours: Map<BenchMode, WorkloadResult>;
  theirs: Map<BenchMode, TorchResult>;
  /** Why the reference did not run (absent when it did). */
  torchSkipped?: string;
  /** Failures per mode (the other modes still report). */
  errors: string[];
  peakMethod: string;
  /** The machine's limits with the workloads' settings, and the pure-wasm run (absent when not measured). */
  limits?: MachineLimits;
  pureWasm?: { limits?: MachineLimits; ours: Map<BenchMode, WorkloadResult> };
}

/** Arguments of the child command for one mode. */
export function childArgs(mode: BenchMode, o: WorkloadOptions): string[] {
  return [
    "--child",
    mode,
    "--model",
    o.model,
    "--iters",
    String(o.iters),
    "--warmup",
    String(o.warmup),
    "--batch",
    String(o.batch),
    "--seq",
    String(o.seq),
    "--prompt",
    String(o.prompt),
    "--new-tokens",
    String(o.newTokens),
    "--seed",
    String(o.seed),
  ];
}

/** Read the child's result line; a clear error when there is none. */
export function parseChildOutput(stdout: string, mode: BenchMode): WorkloadResult {
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) throw new Error(`bench ${mode}: the child process printed no result line`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as WorkloadResult;
}

/** Run one mode in a fresh Node process (`extraEnv`: e.g. `TUNEBOOK_BLAS=off` for the pure-wasm run). */
export function runChild(
  mode: BenchMode,
  o: BenchOptions,
  extraEnv: Record<string, string> = {},
): Promise<WorkloadResult> {
  return runChildJson(mode, childArgs(mode, o), o, extraEnv) as Promise<WorkloadResult>;
}

/** Measure the machine's limits in a fresh Node process with the workloads' backend settings. */
export function runLimitsChild(o: BenchOptions, extraEnv: Record<string, string> = {}): Promise<MachineLimits> {
  return runChildJson(LIMITS_CHILD, ["--child", LIMITS_CHILD], o, extraEnv) as Promise<MachineLimits>;
}

function runChildJson(
  what: string,
  args: string[],
  o: BenchOptions,
  extraEnv: Record<string, string>,
): Promise<unknown> {
  const mode = what as BenchMode; // for the messages of parseChildOutput
  const cli = path.join(__dirname, "..", "..", "cli", "bench"); // the command module itself: works before it is registered
  const code = `require(${JSON.stringify(cli)}).run(${JSON.stringify(args)}).then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); })`;
  const env = {
    ...process.env,
    TUNEBOOK_WASM_THREADS: String(o.threads),
    ...(o.backend ? { TUNEBOOK_BACKEND: o.backend } : {}),
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, "-e", code], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err += d;
      for (const line of String(d).split("\n")) if (/^\s+\w+ run \d+/.test(line)) o.log(line); // per-run progress
    });
    child.on("error", reject);
    child.on("close", (status) => {
      if (status !== 0)
        return reject(
          new Error(`bench ${mode}: child exited with ${status}: ${err.trim().split("\n").slice(-3).join(" | ")}`),
        );
      try {
        resolve(parseChildOutput(out, mode));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Run the benchmark: every requested mode (child processes) and the reference where it can run.
 *
 * @example
 * const { lines } = await runBench({ modes: ["generate"], iters: 5 });
 * for (const l of lines) console.log(JSON.stringify(l));
 */
export async function runBench(opts: Partial<BenchOptions> = {}): Promise<BenchReport> {
  const o: BenchOptions = { ...DEFAULT_BENCH, ...opts };
  const ours = new Map<BenchMode, WorkloadResult>();
  const theirs = new Map<BenchMode, TorchResult>();
  const errors: string[] = [];
  const torch = o.torch ? findTorch() : ({ ok: false, why: "disabled (--no-torch)" } as const);
  if (!torch.ok) o.log(`PyTorch reference skipped: ${torch.why}`);
  for (const mode of o.modes) {
    o.log(`tunebook ${mode} (${o.model}) ...`);
    try {
      const r = await runChild(mode, o);
      ours.set(mode, r);
      o.log(
        `  ${mode}: ${r.value.toPrecision(4)} (${r.backend}${r.matmul && r.matmul !== r.backend ? `, matmuls on ${r.matmul}` : ""}), median of ${r.runs.all.length}, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
      );
    } catch (e: any) {
      errors.push(String(e?.message ?? e));
      o.log(`  ${String(e?.message ?? e)}`);
    }
    if (torch.ok && mode !== "load") {
      o.log(`PyTorch ${mode} ...`);
      try {
        const t = await runTorch(torch, mode, o, o.threads);
        theirs.set(mode, t);
        o.log(`  ${mode}: ${t.value} (torch ${t.torchVersion}), peak RSS ${t.peakRssMiB.toFixed(0)} MiB`);
      } catch (e: any) {
        errors.push(String(e?.message ?? e));
        o.log(`  ${String(e?.message ?? e)}`);
      }
    }
  }
  let limits: MachineLimits | undefined;
  if (o.limits) {
    o.log("machine limits (GEMM, memory bandwidth) ...");
    try {
      limits = await runLimitsChild(o);
      o.log(
        `  GEMM ${limits.gemmGflops.toFixed(1)} GFLOP/s (${limits.gemm.engine}), copy ${limits.membwGbps.toFixed(1)} GB/s, ${describeCpu(limits.cpu)}`,
      );
    } catch (e: any) {
      errors.push(String(e?.message ?? e));
      o.log(`  ${String(e?.message ?? e)}`);
    }
  }
  let pureWasm: BenchReport["pureWasm"];
  const training = o.modes.filter((m): m is "full" | "lora" => m === "full" || m === "lora");
  const first = [...ours.values()][0];
  if (o.pureWasm && training.length && first) {
    if (first.matmul === "wasm")
      pureWasm = { limits, ours: new Map(training.filter((m) => ours.has(m)).map((m) => [m, ours.get(m)!])) }; // already pure wasm
    else if (first.backend === "wasm") {
      const off = { TUNEBOOK_BLAS: "off" };
      pureWasm = { ours: new Map() };
      for (const mode of training) {
        o.log(`tunebook ${mode} on pure WebAssembly (TUNEBOOK_BLAS=off) ...`);
        try {
          const r = await runChild(mode, o, off);
          pureWasm.ours.set(mode, r);
          o.log(
            `  ${mode}: ${r.value.toPrecision(4)} (matmuls on ${r.matmul}), peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
          );
        } catch (e: any) {
          errors.push(`pure wasm: ${String(e?.message ?? e)}`);
          o.log(`  ${String(e?.message ?? e)}`);
        }
      }
      if (o.limits) {
        try {
          pureWasm.limits = await runLimitsChild(o, off);
          o.log(`  pure-wasm GEMM ${pureWasm.limits.gemmGflops.toFixed(1)} GFLOP/s (${pureWasm.limits.gemm.engine})`);
        } catch (e: any) {
          errors.push(`pure wasm: ${String(e?.message ?? e)}`);
        }
      }
    }
  }
  const peak = effectivePeak(machinePeak(), limits ? limits.gemmGflops * 1e9 : undefined);
  const lines = benchLines(o.model, ours, theirs, peak.flopsPerS).map((l) =>
    l.metric === "mfu" ? { ...l, details: { peak_flops_per_s: peak.flopsPerS, peak: peak.method } } : l,
  );
  return {
    lines: [...lines, ...machineLines(o.model, ours, theirs, { limits, pureWasm })],
    ours,
    theirs,
    torchSkipped: torch.ok ? undefined : torch.why,
    errors,
    peakMethod: peak.method,
    ...(limits ? { limits } : {}),
    ...(pureWasm ? { pureWasm } : {}),
  };
}
