// The benchmark harness without timing anything: medians, the JSON line shape and ratios, the child's and the
// PyTorch reference's output parsing, the peak estimate. (Benchmarks are not tests: no wall-clock assertions.)
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { median, summarize, timeRuns } from "../../../src/tools/bench/stats";
import { benchLines, formatTable, METRICS } from "../../../src/tools/bench/report";
import { parseTorchOutput } from "../../../src/tools/bench/torch";
import { childArgs, parseChildOutput, RESULT_PREFIX } from "../../../src/tools/bench/run";
import { effectivePeak, peakFromCpuinfo, flopParams } from "../../../src/tools/bench/peak";
import { DEFAULT_WORKLOAD, type BenchMode, type WorkloadResult } from "../../../src/tools/bench/workloads";
import type { TorchResult } from "../../../src/tools/bench/torch";
import { getPreset } from "../../../src/model/presets";

test("median: odd, even, unsorted; rejects empty and non-finite", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]), /no values/);
  assert.throws(() => median([1, NaN]), /non-finite/);
  assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, all: [3, 1, 2] });
});

test("timeRuns times only the runs after the warm-up", async () => {
  let calls = 0;
  const secs = await timeRuns(() => void calls++, { warmup: 2, iters: 5 });
  assert.equal(calls, 7);
  assert.equal(secs.length, 5);
  assert.ok(secs.every((s) => s >= 0));
  await assert.rejects(
    timeRuns(() => 0, { warmup: 0, iters: 0 }),
    /iters/,
  );
});

function result(mode: BenchMode, value: number, rss: number, extra: Partial<WorkloadResult> = {}): WorkloadResult {
  return { mode, value, runs: summarize([1, 2, 3]), peakRssMiB: rss, backend: "wasm", details: {}, ...extra };
}
function torchResult(mode: BenchMode, value: number, rss: number, flops?: number): TorchResult {
  return { mode, value, peakRssMiB: rss, modelFlopsPerS: flops, torchVersion: "1.13", raw: {} };
}

test("benchLines: one line per metric, ratio = tunebook / PyTorch, targets judged", () => {
  const ours = new Map<BenchMode, WorkloadResult>([
    ["full", result("full", 100, 1000, { mfu: 0.1 })],
    ["lora", result("lora", 300, 900)],
    ["generate", result("generate", 60, 500)],
    ["load", result("load", 0.5, 400)],
  ]);
  const theirs = new Map<BenchMode, TorchResult>([
    ["full", torchResult("full", 400, 2000, 50e9)],
    ["lora", torchResult("lora", 600, 1800)],
    ["generate", torchResult("generate", 50, 700)],
  ]);
  const lines = benchLines("pythia-70m", ours, theirs, 100e9);
  assert.deepEqual(lines.map((l) => l.metric).sort(), [...METRICS].sort());
  const by = Object.fromEntries(lines.map((l) => [l.metric, l]));
  assert.equal(by.train_full_tokens_per_s.ratio, 0.25);
  assert.equal(by.train_full_tokens_per_s.meets_target, false); // needs >= 0.5
  assert.equal(by.train_lora_tokens_per_s.ratio, 0.5);
  assert.equal(by.train_lora_tokens_per_s.meets_target, true);
  assert.equal(by.generate_tokens_per_s.ratio, 1.2);
  assert.equal(by.peak_rss_full_mib.ratio, 0.5);
  assert.equal(by.peak_rss_full_mib.meets_target, true); // memory: lower is better
  assert.equal(by.mfu.torch, 0.5); // 50 GFLOP/s of a 100 GFLOP/s peak
  assert.equal(by.mfu.ratio, 0.2);
  // with the workload's model FLOP/s, MFU is read against the peak passed in (the bench's effective peak)
  const withFlops = new Map<BenchMode, WorkloadResult>([
    ["full", result("full", 100, 1000, { mfu: 0.9, modelFlopsPerS: 20e9 })],
  ]);
  assert.equal(benchLines("pythia-70m", withFlops, theirs, 100e9).find((l) => l.metric === "mfu")!.value, 0.2);
  assert.equal(by.load_seconds.torch, undefined); // the reference has no load mode
  assert.equal(by.load_seconds.meets_target, true);
  for (const l of lines) {
    const parsed = JSON.parse(JSON.stringify(l));
    assert.equal(typeof parsed.metric, "string");
    assert.equal(typeof parsed.value, "number");
    assert.equal(parsed.backend, "wasm");
  }
  assert.deepEqual(by.train_full_tokens_per_s.runs, [1, 2, 3]);
  const table = formatTable(lines);
  assert.match(table, /train_full_tokens_per_s\s+100 tokens\/s\s+400\s+0\.25x/);
});

test("benchLines without the reference: no torch or ratio fields, target unknown", () => {
  const lines = benchLines("pythia-70m", new Map([["generate", result("generate", 10, 500)]]), new Map(), 1e11);
  assert.equal(lines.length, 1);
  assert.equal("torch" in lines[0], false);
  assert.equal("ratio" in lines[0], false);
  assert.equal(lines[0].meets_target, undefined);
});

test("parseTorchOutput reads the reference's JSON line and rejects other output", () => {
  const full = parseTorchOutput(
    "full",
    `warning\n${JSON.stringify({ tokens_per_s: 450.5, peak_maxrss_mib: 2300, model_flops_per_s: 1.2e11, torch_version: "1.13.1" })}\n`,
  );
  assert.equal(full.value, 450.5);
  assert.equal(full.peakRssMiB, 2300);
  assert.equal(full.modelFlopsPerS, 1.2e11);
  const gen = parseTorchOutput("generate", JSON.stringify({ new_tokens_per_s: 54, peak_maxrss_mib: 700 }));
  assert.equal(gen.value, 54);
  assert.throws(() => parseTorchOutput("full", "no json here"), /no JSON line/);
  assert.throws(
    () => parseTorchOutput("generate", JSON.stringify({ tokens_per_s: 1, peak_maxrss_mib: 1 })),
    /new_tokens_per_s/,
  );
});

test("child protocol: arguments carry the workload, the result line is found among other output", () => {
  const args = childArgs("lora", { ...DEFAULT_WORKLOAD, iters: 7 });
  assert.deepEqual(args.slice(0, 2), ["--child", "lora"]);
  assert.equal(args[args.indexOf("--iters") + 1], "7");
  const r = result("lora", 123, 456);
  const parsed = parseChildOutput(`tunebook backend: wasm\n${RESULT_PREFIX}${JSON.stringify(r)}\n`, "lora");
  assert.equal(parsed.value, 123);
  assert.throws(() => parseChildOutput("crashed", "lora"), /no result line/);
});

test("peak estimate from /proc/cpuinfo text; FLOP parameters exclude the input embedding", () => {
  const info = (vendor: string, family: number) =>
    `processor : 0\nvendor_id\t: ${vendor}\ncpu family\t: ${family}\ncpu MHz\t\t: 2600.000\nflags\t\t: fpu sse avx avx2 fma avx512f\n`;
  const zen5 = peakFromCpuinfo(info("AuthenticAMD", 26), 2)!;
  assert.equal(zen5.isa, "AVX-512");
  assert.ok(Math.abs(zen5.flopsPerS - 2 * 64 * 2.6e9) < 1); // two full-width 512-bit FMA pipes
  assert.equal(peakFromCpuinfo(info("GenuineIntel", 6), 2)!.flopsPerCycle, 64);
  const zen4 = peakFromCpuinfo(info("AuthenticAMD", 25), 2)!; // 512-bit ops as two 256-bit halves
  assert.equal(zen4.flopsPerCycle, 32);
  assert.equal(zen4.isa, "AVX-512 (256-bit halves)");
  assert.equal(peakFromCpuinfo("cpu MHz : 2000\nflags : fpu avx avx2 fma\n", 1)!.flopsPerCycle, 32);
  // a GEMM measured above the clock estimate becomes the peak (MFU stays ≤ 1); below it, the estimate stays
  const up = effectivePeak(zen5, 365.8e9);
  assert.equal(up.flopsPerS, 365.8e9);
  assert.match(up.method, /^the measured GEMM, 365\.8 GFLOP\/s, above the clock estimate \(estimated: 2 cores × 64/);
  assert.deepEqual(effectivePeak(zen5, 100e9), { flopsPerS: zen5.flopsPerS, method: zen5.method });
  assert.equal(effectivePeak(zen5).flopsPerS, zen5.flopsPerS);
  assert.equal(peakFromCpuinfo("cpu MHz : 1000\nflags : fpu sse\n", 1)!.flopsPerCycle, 8);
  assert.equal(peakFromCpuinfo("no cpu here", 2), undefined);
  assert.equal(flopParams(getPreset("pythia-70m")), 70426624 - 50304 * 512);
});

test("runBench end to end on a tiny preset: each mode in a child process, JSON-able lines (no reference)", async () => {
  const { runBench } = await import("../../../src/tools/bench/run");
  const report = await runBench({
    modes: ["generate", "load"],
    model: "pythia-14m",
    iters: 1,
    warmup: 0,
    prompt: 4,
    newTokens: 3,
    torch: false,
    threads: 1,
    backend: "wasm",
  });
  assert.deepEqual(report.errors, []);
  assert.equal(report.torchSkipped, "disabled (--no-torch)");
  // the existing lines, then the machine's limits measured in a child with the same settings (issue 20)
  assert.deepEqual(
    report.lines.map((l) => l.metric),
    ["generate_tokens_per_s", "load_seconds", "membw_gbps", "gemm_gflops", "generate_bandwidth_fraction"],
  );
  assert.ok(report.limits, "limits measured");
  assert.equal(typeof report.limits!.cpu.model, "string");
  assert.equal(report.pureWasm, undefined, "no training mode: no pure-wasm rerun");
  for (const l of report.lines) {
    assert.equal(l.backend, "wasm");
    assert.ok(l.value > 0 && Number.isFinite(l.value));
    assert.equal(l.model, "pythia-14m");
  }
  assert.ok(report.ours.get("generate")!.peakRssMiB > 10);
});
