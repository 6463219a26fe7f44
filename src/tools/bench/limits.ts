/**
 * The machine's own limits, measured in the same `tunebook bench` invocation as the workloads, so that tunebook is
 * judged against what this CPU and its BLAS can do and not only against a PyTorch build that may be slow here:
 *
 * - `gemm`: the best GFLOP/s of large single-precision products on the engine that runs the backend's matmuls,
 *   with the threads the backend gives it: the BLAS's `cblas_sgemm` called directly (row-major, no transposes)
 *   when the wasm backend's matmuls run on it, else `tf.matMul` on the active backend (XNNPACK on pure wasm).
 *   Shapes `GEMM_SHAPES`, best of `GEMM_ITERS` after one warm-up each.
 * - `membw`: a copy of `MEMBW_BYTES` between two buffers touched beforehand (so no page faults are timed), best of
 *   `MEMBW_ITERS`, with libc's `memcpy` through koffi when it loads, else `TypedArray.prototype.set`. Counted the
 *   STREAM way: bytes read + bytes written (2 × size) per second. One thread.
 * - `cpu`: model, vendor, family and model number from `/proc/cpuinfo`, with the AMD microarchitecture where the
 *   family tells it; the BLAS's core type (`openblas_get_corename`) and why it was chosen (native-blas.ts).
 *
 * Runs in a child process of the benchmark (src/tools/bench/run.ts) after `initBackend`, like each workload.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { matmulEngine, nativeBlasStatus, nativeMatMulActive } from "../../kernels/native-blas";

/** `[M, K, N]` of the timed products: a training-sized one (the issue's) and a larger one. */
export const GEMM_SHAPES: readonly (readonly [number, number, number])[] = [
  [1024, 512, 2048],
  [2048, 2048, 2048],
];
export const GEMM_ITERS = 5;
export const MEMBW_BYTES = 256 * 1024 * 1024;
export const MEMBW_ITERS = 5;

export interface CpuInfo {
  /** `model name`, e.g. "AMD EPYC". */
  model: string;
  vendor: string;
  family?: number;
  modelNumber?: number;
  /** Microarchitecture where the vendor and family tell it (AMD), e.g. "Zen 5". */
  microarch?: string;
  /** Logical processors. */
  cpus: number;
  /** The widest vector extensions advertised, e.g. "avx512f avx512_bf16". */
  isa: string;
}

export interface MachineLimits {
  /** Best GFLOP/s over GEMM_SHAPES on the matmul engine. */
  gemmGflops: number;
  gemm: { engine: string; method: string; shapes: { m: number; k: number; n: number; gflops: number }[] };
  /** Copy bandwidth, GB/s (read + write). */
  membwGbps: number;
  membw: { method: string; bytes: number };
  cpu: CpuInfo;
  /** OpenBLAS's core type and why, when the matmuls run on OpenBLAS. */
  blasCore?: string;
  blasCoreWhy?: string;
  /** Whether the BLAS running the matmuls exports a bfloat16 GEMM (`cblas_sbgemm`); absent off a BLAS. */
  blasBf16Gemm?: boolean;
}

/**
 * AMD's microarchitecture from family and model (17h Zen/Zen+/Zen 2, 19h Zen 3/Zen 4, 1Ah Zen 5); undefined elsewhere.
 * @example
 * amdMicroarch(26, 2); // "Zen 5"
 */
export function amdMicroarch(family: number, model: number): string | undefined {
  if (family === 0x17) return model >= 0x30 ? "Zen 2" : "Zen or Zen+";
  if (family === 0x19)
    return (model >= 0x10 && model <= 0x1f) || (model >= 0x60 && model <= 0x7f) || (model >= 0xa0 && model <= 0xaf)
      ? "Zen 4"
      : "Zen 3";
  if (family === 0x1a) return "Zen 5";
  return undefined;
}

/**
 * Parse `/proc/cpuinfo` text (exported for tests).
 * @example
 * cpuFromCpuinfo(fs.readFileSync("/proc/cpuinfo", "utf8")).model; // "AMD EPYC"
 */
export function cpuFromCpuinfo(text: string): CpuInfo {
  const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, "m").exec(text)?.[1].trim();
  const num = (k: string) => {
    const v = field(k);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const vendor = field("vendor_id") ?? "unknown";
  const family = num("cpu family");
  const modelNumber = num("model");
  const flags = (field("flags") ?? "").split(/\s+/);
  const isa = ["avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16"].filter((f) => flags.includes(f));
  if (!isa.length) isa.push(...["avx2", "fma", "avx"].filter((f) => flags.includes(f)).slice(0, 2));
  const microarch =
    vendor === "AuthenticAMD" && family !== undefined && modelNumber !== undefined
      ? amdMicroarch(family, modelNumber)
      : undefined;
  return {
    model: field("model name") ?? "unknown",
    vendor,
    ...(family !== undefined ? { family } : {}),
    ...(modelNumber !== undefined ? { modelNumber } : {}),
    ...(microarch ? { microarch } : {}),
    cpus: (text.match(/^processor\s*:/gm) ?? []).length || os.cpus().length,
    isa: isa.join(" "),
  };
}

/** This machine's CPU (from `/proc/cpuinfo` on Linux, `os.cpus()` elsewhere). */
export function machineCpu(): CpuInfo {
  try {
    return cpuFromCpuinfo(fs.readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return { model: os.cpus()[0]?.model ?? "unknown", vendor: "unknown", cpus: os.cpus().length, isa: "" };
  }
}

/**
 * One line for notes: "AMD EPYC (AuthenticAMD family 26 model 2, Zen 5), 2 CPUs".
 * @example
 * describeCpu(machineCpu());
 */
export function describeCpu(c: CpuInfo): string {
  const fam =
    c.family !== undefined ? ` family ${c.family}${c.modelNumber !== undefined ? ` model ${c.modelNumber}` : ""}` : "";
  return `${c.model} (${c.vendor}${fam}${c.microarch ? `, ${c.microarch}` : ""}), ${c.cpus} CPU${c.cpus === 1 ? "" : "s"}`;
}

/** GFLOP/s of one `[M, K]·[K, N]` product: 2·M·N·K FLOPs over the best of `iters` timed runs. */
export function gemmGflops(m: number, k: number, n: number, seconds: number): number {
  return (2 * m * n * k) / seconds / 1e9;
}

function best(iters: number, fn: () => void): number {
  fn(); // warm-up: packing buffers, thread start-up
  let min = Infinity;
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, (performance.now() - t0) / 1000);
  }
  return min;
}

function measureGemm(): MachineLimits["gemm"] {
  const blas = nativeMatMulActive() ? nativeBlasStatus().blas : undefined;
  const shapes: MachineLimits["gemm"]["shapes"] = [];
  for (const [m, k, n] of GEMM_SHAPES) {
    let secs: number;
    if (blas) {
      const a = new Float32Array(m * k).fill(0.5),
        b = new Float32Array(k * n).fill(0.25),
        c = new Float32Array(m * n);
      secs = best(GEMM_ITERS, () => blas.sgemm(101, 111, 111, m, n, k, 1, a, k, b, n, 0, c, n));
    } else {
      const a = tf.fill([m, k], 0.5),
        b = tf.fill([k, n], 0.25);
      secs = best(GEMM_ITERS, () => {
        const c = tf.matMul(a, b);
        c.dataSync(); // a backend that queues work (webgpu, tensorflow) finishes here
        c.dispose();
      });
      tf.dispose([a, b]);
    }
    shapes.push({ m, k, n, gflops: gemmGflops(m, k, n, secs) });
  }
  return {
    engine: matmulEngine(),
    method: blas
      ? `cblas_sgemm of ${blas.library}, ${blas.threads} thread${blas.threads === 1 ? "" : "s"}, best of ${GEMM_ITERS}`
      : `tf.matMul on ${tf.getBackend()}, best of ${GEMM_ITERS}`,
    shapes,
  };
}

type Memcpy = (dst: Uint8Array, src: Uint8Array, n: number) => unknown;

function libcMemcpy(): Memcpy | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const koffi = require("koffi");
    const names =
      process.platform === "darwin"
        ? ["libSystem.B.dylib"]
        : process.platform === "win32"
          ? ["msvcrt.dll"]
          : ["libc.so.6", "libc.so"];
    for (const name of names) {
      try {
        return koffi.load(name).func("void *memcpy(void *dst, const void *src, size_t n)") as Memcpy;
      } catch {
        // next name
      }
    }
  } catch {
    // koffi not installed
  }
  return undefined;
}

function measureMembw(bytes = MEMBW_BYTES): { gbps: number; method: string } {
  const src = new Uint8Array(bytes).fill(1);
  const dst = new Uint8Array(bytes).fill(2); // touched: the timed copies fault no pages
  const memcpy = libcMemcpy();
  const secs = memcpy ? best(MEMBW_ITERS, () => memcpy(dst, src, bytes)) : best(MEMBW_ITERS, () => dst.set(src));
  return {
    gbps: (2 * bytes) / secs / 1e9,
    method: `${memcpy ? "libc memcpy (koffi)" : "TypedArray.set"} of ${bytes / 2 ** 20} MiB, best of ${MEMBW_ITERS}, 1 thread, read + write bytes`,
  };
}

/**
 * Measure the machine's limits now (the backend must be initialised: the GEMM runs on its matmul engine).
 *
 * @example
 * await initBackend(); const l = measureLimits(); console.log(l.gemmGflops, l.membwGbps);
 */
export function measureLimits(): MachineLimits {
  const gemm = measureGemm();
  const bw = measureMembw();
  const blas = nativeMatMulActive() ? nativeBlasStatus().blas : undefined;
  return {
    gemmGflops: Math.max(...gemm.shapes.map((s) => s.gflops)),
    gemm,
    membwGbps: bw.gbps,
    membw: { method: bw.method, bytes: MEMBW_BYTES },
    cpu: machineCpu(),
    ...(blas?.coreType ? { blasCore: blas.coreType } : {}),
    ...(blas?.coreWhy ? { blasCoreWhy: blas.coreWhy } : {}),
    ...(blas ? { blasBf16Gemm: blas.bf16Gemm } : {}),
  };
}
