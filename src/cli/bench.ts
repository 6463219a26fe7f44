/**
 * `tunebook bench [--json] [--mode full|lora|generate|load|all] [--model pythia-70m] [--iters N] [--warmup N]`:
 * train / LoRA / generation throughput, checkpoint load time, peak memory per mode and MFU on the active
 * backend, against the PyTorch reference in the same run when `/usr/bin/python3` has torch (src/tools/bench/).
 */
import { parseArgs, bool, int, str, UsageError } from "./args";
import { initBackend } from "../runtime/backend";
import { formatTable } from "../tools/bench/report";
import { DEFAULT_BENCH, LIMITS_CHILD, RESULT_PREFIX, runBench } from "../tools/bench/run";
import { describeCpu, measureLimits } from "../tools/bench/limits";
import { BENCH_MODES, type BenchMode, runWorkload } from "../tools/bench/workloads";

const HELP = `usage: tunebook bench [--json] [--mode full|lora|generate|load|all] [--model pythia-70m] [--iters N] [--warmup N]
                      [--threads N] [--backend NAME] [--no-torch] [--no-limits] [--no-pure-wasm]
                      [--batch 8] [--seq 128] [--prompt 32] [--new-tokens 64]
  Measures, each mode in its own process (median of --iters timed runs after --warmup):
    full      training tokens/s of a full fine-tuning step (AdamW), batch × seq tokens
    lora      training tokens/s with LoRA r=8, alpha=16 on query_key_value
    generate  greedy new tokens/s with the KV cache (batch 1)
    load      seconds to load the model from an F16 safetensors file
  plus peak RSS per mode and MFU (model FLOP/s / the machine's estimated fp32 peak). When /usr/bin/python3
  can import torch, the PyTorch reference runs the same shapes right after each mode and ratios
  (tunebook / PyTorch) are printed. --json: one JSON line per metric (metric, value, backend, torch, ratio, ...).
  The machine's own limits are measured in the same run (--no-limits skips them): gemm_gflops (the BLAS's sgemm,
  or the wasm kernel's matmul, with the backend's threads), membw_gbps (a 256 MiB copy), the CPU and the BLAS core;
  then train_full_gemm_fraction = 6·N·tokens/s ÷ gemm_gflops, train_lora_gemm_fraction = 4·N·tokens/s ÷ gemm_gflops
  (N = parameters except the input embedding) and generate_bandwidth_fraction = 4·N bytes · new tokens/s ÷ membw_gbps.
  When the matmuls run on a native BLAS, full and lora run again on pure WebAssembly (TUNEBOOK_BLAS=off), reported as
  pure_wasm_* lines (--no-pure-wasm skips them).`;

function parseModes(v: string | undefined): BenchMode[] {
  if (v === undefined || v === "all") return [...BENCH_MODES];
  const modes = v.split(",").map((s) => s.trim());
  for (const m of modes)
    if (!(BENCH_MODES as readonly string[]).includes(m))
      throw new UsageError(`tunebook bench: --mode ${JSON.stringify(m)} is not one of ${BENCH_MODES.join(", ")}, all`);
  return modes as BenchMode[];
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    {
      booleans: ["json", "help", "no-torch", "no-limits", "no-pure-wasm"],
      values: [
        "mode",
        "model",
        "iters",
        "warmup",
        "threads",
        "backend",
        "child",
        "batch",
        "seq",
        "prompt",
        "new-tokens",
        "seed",
      ],
    },
    "tunebook bench",
  );
  if (bool(p, "help")) return (console.log(HELP), 0);
  if (p.positional.length)
    throw new UsageError(`tunebook bench: unexpected argument ${JSON.stringify(p.positional[0])}\n${HELP}`);
  const d = DEFAULT_BENCH;
  const workload = {
    model: str(p, "model") ?? d.model,
    iters: int(p, "iters", d.iters)!,
    warmup: int(p, "warmup", d.warmup, 0)!,
    batch: int(p, "batch", d.batch)!,
    seq: int(p, "seq", d.seq, 2)!,
    prompt: int(p, "prompt", d.prompt)!,
    newTokens: int(p, "new-tokens", d.newTokens)!,
    seed: int(p, "seed", d.seed, 0)!,
  };
  const child = str(p, "child");
  if (child === LIMITS_CHILD) {
    await initBackend({ backend: str(p, "backend"), verbose: false });
    console.log(RESULT_PREFIX + JSON.stringify(measureLimits()));
    return 0;
  }
  if (child !== undefined) {
    // one mode, in this process: the parent reads the result line
    const [mode] = parseModes(child);
    await initBackend({ backend: str(p, "backend"), verbose: false });
    const r = await runWorkload(mode, {
      ...workload,
      onRun: (i, secs, w) => console.error(`  ${mode} run ${i + 1}${w ? " (warm-up)" : ""}: ${secs.toFixed(2)} s`),
    });
    console.log(RESULT_PREFIX + JSON.stringify(r));
    return 0;
  }
  const json = bool(p, "json");
  const report = await runBench({
    ...workload,
    modes: parseModes(str(p, "mode")),
    threads: int(p, "threads", d.threads)!,
    backend: str(p, "backend"),
    torch: !bool(p, "no-torch"),
    limits: !bool(p, "no-limits"),
    pureWasm: !bool(p, "no-pure-wasm"),
    log: (m) => console.error(m),
  });
  if (json) for (const l of report.lines) console.log(JSON.stringify(l));
  else {
    console.log(formatTable(report.lines));
    console.log(`\npeak: ${report.peakMethod}`);
    if (report.limits)
      console.log(
        `machine: ${describeCpu(report.limits.cpu)}; GEMM on ${report.limits.gemm.engine}${report.limits.blasCoreWhy ? ` (core: ${report.limits.blasCoreWhy})` : ""}`,
      );
    if (report.torchSkipped) console.log(`PyTorch reference not run: ${report.torchSkipped}`);
  }
  for (const e of report.errors) console.error(`error: ${e}`);
  return report.errors.length ? 1 : 0;
}
