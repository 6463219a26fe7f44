// The machine's limits and the fractions against them (issue 20), without timing anything: the CPU parse, the
// formulas of the fraction lines from given numbers, the pure-wasm lines, and the fields' types.
// (Benchmarks are not tests: no wall-clock assertions.)
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  amdMicroarch,
  cpuFromCpuinfo,
  describeCpu,
  gemmGflops,
  GEMM_SHAPES,
  MEMBW_BYTES,
  type MachineLimits,
} from "../../../src/tools/bench/limits";
import {
  benchLines,
  formatTable,
  machineLines,
  MACHINE_METRICS,
  METRICS,
  type BenchLine,
} from "../../../src/tools/bench/report";
import { summarize } from "../../../src/tools/bench/stats";
import { flopParams, weightBytesPerToken } from "../../../src/tools/bench/peak";
import { getPreset } from "../../../src/model/presets";
import type { BenchMode, WorkloadResult } from "../../../src/tools/bench/workloads";
import type { TorchResult } from "../../../src/tools/bench/torch";

const ZEN5 = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
flags\t\t: fpu sse avx avx2 fma avx512f avx512_bf16 avx512_vnni
processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
`;

test("CPU facts from /proc/cpuinfo: model, vendor, family, model number, microarchitecture, vector ISA", () => {
  const c = cpuFromCpuinfo(ZEN5);
  assert.deepEqual(c, {
    model: "AMD EPYC",
    vendor: "AuthenticAMD",
    family: 26,
    modelNumber: 2,
    microarch: "Zen 5",
    cpus: 2,
    isa: "avx512f avx512_bf16",
  });
  assert.equal(describeCpu(c), "AMD EPYC (AuthenticAMD family 26 model 2, Zen 5), 2 CPUs");
  assert.equal(amdMicroarch(25, 0x11), "Zen 4");
  assert.equal(amdMicroarch(25, 0x01), "Zen 3");
  assert.equal(amdMicroarch(23, 0x31), "Zen 2");
  assert.equal(amdMicroarch(6, 85), undefined);
  const intel = cpuFromCpuinfo(
    "processor : 0\nvendor_id : GenuineIntel\ncpu family : 6\nmodel : 85\nmodel name : Xeon\nflags : avx avx2 fma\n",
  );
  assert.equal(intel.microarch, undefined);
  assert.equal(intel.isa, "avx2 fma");
  assert.equal(cpuFromCpuinfo("").model, "unknown");
});

test("GEMM FLOPs are 2·M·N·K; the shapes include the issue's 1024×512·512×2048; the copy is 256 MiB", () => {
  assert.equal(gemmGflops(1024, 512, 2048, 0.01), (2 * 1024 * 512 * 2048) / 0.01 / 1e9);
  assert.deepEqual(GEMM_SHAPES[0], [1024, 512, 2048]);
  assert.equal(MEMBW_BYTES, 256 * 2 ** 20);
});

const N = flopParams(getPreset("pythia-70m"));
function result(mode: BenchMode, value: number, matmul: string, extra: Partial<WorkloadResult> = {}): WorkloadResult {
  const k = mode === "full" ? 6 : mode === "lora" ? 4 : 0;
  const details: Record<string, unknown> = k
    ? { flopParams: N, flopsPerToken: k * N }
    : mode === "generate"
      ? { flopParams: N, weightBytesPerToken: weightBytesPerToken(N) }
      : {};
  return {
    mode,
    value,
    runs: summarize([1, 2, 3]),
    peakRssMiB: 1000,
    backend: "wasm",
    matmul,
    details,
    ...(k ? { modelFlopsPerS: k * N * value } : {}),
    ...extra,
  };
}
function limits(gemm: number, bw: number, engine: string, core?: string): MachineLimits {
  return {
    gemmGflops: gemm,
    gemm: { engine, method: "m", shapes: [{ m: 1024, k: 512, n: 2048, gflops: gemm }] },
    membwGbps: bw,
    membw: { method: "libc memcpy", bytes: MEMBW_BYTES },
    cpu: cpuFromCpuinfo(ZEN5),
    ...(core ? { blasCore: core, blasCoreWhy: "detected by OpenBLAS for this CPU", blasBf16Gemm: false } : {}),
  };
}
const torch = (mode: BenchMode, value: number): TorchResult => ({
  mode,
  value,
  peakRssMiB: 2000,
  torchVersion: "1.13",
  raw: {},
});

test("machine lines: limits with CPU and BLAS core, fractions computed from the measured numbers as documented", () => {
  const blas = "OpenBLAS 0.3.21 (Cooperlake), 2 threads";
  const ours = new Map<BenchMode, WorkloadResult>([
    ["full", result("full", 350, blas)],
    ["lora", result("lora", 420, blas)],
    ["generate", result("generate", 56, blas)],
  ]);
  const theirs = new Map<BenchMode, TorchResult>([
    ["full", torch("full", 225)],
    ["lora", torch("lora", 390)],
  ]);
  const lines = machineLines("pythia-70m", ours, theirs, { limits: limits(300, 40, blas, "Cooperlake") });
  const by = Object.fromEntries(lines.map((l) => [l.metric, l])) as Record<string, BenchLine>;
  assert.deepEqual(Object.keys(by).sort(), [
    "gemm_gflops",
    "generate_bandwidth_fraction",
    "membw_gbps",
    "train_full_gemm_fraction",
    "train_lora_gemm_fraction",
  ]);
  for (const l of lines) {
    assert.ok((MACHINE_METRICS as readonly string[]).includes(l.metric));
    assert.equal(typeof l.value, "number");
    assert.ok(Number.isFinite(l.value) && l.value > 0);
    assert.equal(typeof l.unit, "string");
    assert.equal(typeof l.target, "string");
    assert.equal(l.model, "pythia-70m");
    assert.deepEqual(JSON.parse(JSON.stringify(l)), l, "JSON-able");
  }
  assert.equal(by.gemm_gflops.value, 300);
  assert.equal(by.gemm_gflops.cpu, "AMD EPYC (AuthenticAMD family 26 model 2, Zen 5), 2 CPUs");
  assert.equal(by.gemm_gflops.blas_core, "Cooperlake");
  assert.equal(by.gemm_gflops.details!.blas_bf16_gemm, false); // what a bf16 mode would need: no cblas_sbgemm
  assert.equal(by.gemm_gflops.matmul, blas);
  assert.equal(by.membw_gbps.value, 40);
  // full: 6·N·tokens/s ÷ GEMM; LoRA: 4·N·tokens/s ÷ GEMM; generation: 4·N bytes per token · tokens/s ÷ bandwidth
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-3 * Math.abs(b), `${a} vs ${b}`);
  close(by.train_full_gemm_fraction.value, (6 * N * 350) / 300e9);
  close(by.train_lora_gemm_fraction.value, (4 * N * 420) / 300e9);
  close(by.generate_bandwidth_fraction.value, (4 * N * 56) / 40e9);
  assert.match(String(by.train_full_gemm_fraction.details!.formula), /^6·N·tokens\/s ÷ gemm_gflops$/);
  assert.match(String(by.train_lora_gemm_fraction.details!.formula), /^4·N·tokens\/s ÷ gemm_gflops$/);
  assert.equal(by.train_full_gemm_fraction.details!.N, N);
  assert.equal(by.generate_bandwidth_fraction.details!.weight_bytes_per_token, 4 * N);
  // targets of the issue: >= 0.6 full, >= 0.5 LoRA and generation
  assert.equal(by.train_full_gemm_fraction.target, "value >= 0.6");
  assert.equal(by.train_full_gemm_fraction.meets_target, by.train_full_gemm_fraction.value >= 0.6);
  assert.equal(by.train_lora_gemm_fraction.target, "value >= 0.5");
  assert.equal(by.generate_bandwidth_fraction.meets_target, by.generate_bandwidth_fraction.value >= 0.5);
  assert.equal(by.gemm_gflops.meets_target, undefined, "a limit has no target");
  assert.match(formatTable(lines), /train_full_gemm_fraction\s+0\.\d+\s+-\s+-\s+value >= 0\.6/);
});

test("pure-wasm lines: the training runs with TUNEBOOK_BLAS=off against the same PyTorch runs and the wasm GEMM", () => {
  const ours = new Map<BenchMode, WorkloadResult>([["full", result("full", 350, "OpenBLAS")]]);
  const wasm = new Map<BenchMode, WorkloadResult>([
    ["full", result("full", 100, "wasm")],
    ["lora", result("lora", 145, "wasm")],
  ]);
  const theirs = new Map<BenchMode, TorchResult>([
    ["full", torch("full", 400)],
    ["lora", torch("lora", 800)],
  ]);
  const lines = machineLines("pythia-70m", ours, theirs, { pureWasm: { ours: wasm, limits: limits(30, 40, "wasm") } });
  const by = Object.fromEntries(lines.map((l) => [l.metric, l])) as Record<string, BenchLine>;
  assert.deepEqual(Object.keys(by).sort(), [
    "pure_wasm_gemm_gflops",
    "pure_wasm_train_full_gemm_fraction",
    "pure_wasm_train_full_tokens_per_s",
    "pure_wasm_train_lora_gemm_fraction",
    "pure_wasm_train_lora_tokens_per_s",
  ]);
  assert.equal(by.pure_wasm_train_full_tokens_per_s.ratio, 0.25);
  assert.equal(by.pure_wasm_train_full_tokens_per_s.torch, 400);
  assert.equal(by.pure_wasm_train_lora_tokens_per_s.ratio, 0.181);
  assert.equal(by.pure_wasm_train_full_tokens_per_s.matmul, "wasm");
  assert.equal(by.pure_wasm_gemm_gflops.matmul, "wasm");
  assert.equal(by.pure_wasm_gemm_gflops.blas_core, undefined);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-3 * Math.abs(b), `${a} vs ${b}`);
  close(by.pure_wasm_train_full_gemm_fraction.value, (6 * N * 100) / 30e9);
  close(by.pure_wasm_train_lora_gemm_fraction.value, (4 * N * 145) / 30e9);
  assert.equal(by.pure_wasm_train_full_gemm_fraction.meets_target, undefined);
});

test("the existing lines are unchanged by the machine inputs: same metrics, same fields", () => {
  const ours = new Map<BenchMode, WorkloadResult>([["full", result("full", 350, "OpenBLAS", { mfu: 0.5 })]]);
  const theirs = new Map<BenchMode, TorchResult>([["full", torch("full", 225)]]);
  const lines = benchLines("pythia-70m", ours, theirs, 166e9);
  for (const l of lines) {
    assert.ok((METRICS as readonly string[]).includes(l.metric));
    assert.deepEqual(
      Object.keys(l).filter((k) => ["cpu", "blas_core", "details"].includes(k)),
      [],
      `${l.metric} carries no new field`,
    );
  }
  assert.equal(
    new Set([...METRICS, ...MACHINE_METRICS]).size,
    METRICS.length + MACHINE_METRICS.length,
    "new names do not reuse old ones",
  );
});
