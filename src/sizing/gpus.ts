/**
 * A small catalog of accelerators: memory, dense (no sparsity) fp16/bf16 tensor TFLOPS, fp32 TFLOPS,
 * memory bandwidth, and where the numbers come from; plus "this machine's RAM" (os.totalmem) and Apple
 * unified-memory presets. Ids are lowercase (`v100-16gb`, `a100-80gb`, `h100-80gb`, ...).
 *
 * Memory: the marketed "16 GB" of a V100 is 16 GiB of HBM; `memoryBytes` is that nominal size, and
 * `usableFraction` says how much of it a model may plan for (1 for NVIDIA parts, whose driver and CUDA
 * context come out of the job's overhead; less for unified memory shared with the OS).
 */
import * as os from "node:os";
import { GIB, SizingError, type Dtype } from "./units";

/** One accelerator (or memory pool). */
export interface Gpu {
  id: string;
  name: string;
  /** Nominal memory in bytes. */
  memoryBytes: number;
  /** Fraction of `memoryBytes` a model may use. */
  usableFraction: number;
  /** Dense fp16/bf16 throughput in TFLOPS (tensor cores where there are; null when unknown). */
  fp16Tflops: number | null;
  /** fp32 throughput in TFLOPS (non-tensor; null when unknown). */
  fp32Tflops: number | null;
  /** Memory bandwidth in GB/s (1e9 bytes per second; null when unknown). */
  bandwidthGBs: number | null;
  kind: "nvidia" | "apple" | "host";
  /** Where the numbers come from. */
  source: string;
  notes?: string;
}

const NV = (
  id: string,
  name: string,
  gib: number,
  fp16: number,
  fp32: number,
  bw: number,
  source: string,
  notes?: string,
): Gpu => ({
  id,
  name,
  memoryBytes: gib * GIB,
  usableFraction: 1,
  fp16Tflops: fp16,
  fp32Tflops: fp32,
  bandwidthGBs: bw,
  kind: "nvidia",
  source,
  notes,
});

// macOS lets the GPU wire about 2/3 of unified memory on machines up to 36 GB and about 3/4 above
// (Metal's recommendedMaxWorkingSetSize); the rest stays with the OS and other programs.
const APPLE = (id: string, name: string, gib: number, tflops: number, bw: number, source: string): Gpu => ({
  id,
  name,
  memoryBytes: gib * GIB,
  usableFraction: gib <= 36 ? 2 / 3 : 3 / 4,
  fp16Tflops: tflops,
  fp32Tflops: tflops,
  bandwidthGBs: bw,
  kind: "apple",
  source,
  notes: `unified memory shared with macOS: about ${gib <= 36 ? "2/3" : "3/4"} is usable by the GPU (recommendedMaxWorkingSetSize); Apple GPUs run fp16 at the fp32 rate`,
});

/** The catalog, in a sensible display order. */
export const GPU_CATALOG: readonly Gpu[] = Object.freeze([
  NV("t4-16gb", "NVIDIA T4 16 GB", 16, 65, 8.1, 320, "NVIDIA T4 datasheet (65 TFLOPS fp16 tensor, 8.1 fp32, 320 GB/s)"),
  NV(
    "v100-16gb",
    "NVIDIA V100 SXM2 16 GB",
    16,
    125,
    15.7,
    900,
    "NVIDIA V100 datasheet, SXM2 (125 TFLOPS tensor, 15.7 fp32, 900 GB/s); AWS p3",
  ),
  NV("v100-32gb", "NVIDIA V100 SXM2 32 GB", 32, 125, 15.7, 900, "NVIDIA V100 datasheet, SXM2 32 GB; AWS p3dn"),
  NV(
    "a10g-24gb",
    "NVIDIA A10G 24 GB",
    24,
    70,
    35,
    600,
    "AWS g5; A10G spec as compared in Baseten's 'A10 vs A10G' (70 TFLOPS bf16 tensor, 35 fp32, 600 GB/s)",
  ),
  NV(
    "l4-24gb",
    "NVIDIA L4 24 GB",
    24,
    121,
    30.3,
    300,
    "NVIDIA L4 datasheet (242 TFLOPS fp16 with sparsity = 121 dense, 30.3 fp32, 300 GB/s)",
  ),
  NV(
    "a100-40gb",
    "NVIDIA A100 SXM4 40 GB",
    40,
    312,
    19.5,
    1555,
    "NVIDIA A100 datasheet (312 TFLOPS bf16 dense, 19.5 fp32, 1,555 GB/s); AWS p4d",
  ),
  NV(
    "a100-80gb",
    "NVIDIA A100 SXM4 80 GB",
    80,
    312,
    19.5,
    2039,
    "NVIDIA A100 datasheet (312 TFLOPS bf16 dense, 19.5 fp32, 2,039 GB/s); AWS p4de",
  ),
  NV(
    "h100-pcie-80gb",
    "NVIDIA H100 PCIe 80 GB",
    80,
    756,
    51,
    2000,
    "NVIDIA H100 datasheet, PCIe (1,513 TFLOPS bf16 with sparsity = 756 dense, 51 fp32, 2.0 TB/s)",
  ),
  NV(
    "h100-80gb",
    "NVIDIA H100 SXM 80 GB",
    80,
    989,
    67,
    3350,
    "NVIDIA H100 datasheet, SXM (1,979 TFLOPS bf16 with sparsity = 989 dense, 67 fp32, 3.35 TB/s)",
  ),
  NV(
    "h200-141gb",
    "NVIDIA H200 SXM 141 GB",
    141,
    989,
    67,
    4800,
    "NVIDIA H200 datasheet (H100's compute, 141 GB HBM3e, 4.8 TB/s)",
    "nvidia-smi shows about 140 GiB",
  ),
  NV(
    "b200-180gb",
    "NVIDIA B200 (HGX) 180 GB",
    180,
    2250,
    75,
    7700,
    "NVIDIA HGX B200 spec (4.5 PFLOPS fp16/bf16 with sparsity = 2.25 dense, 75 fp32, 180 GB HBM3e, 7.7 TB/s)",
    "first announced with 192 GB; HGX B200 ships 180 GB per GPU",
  ),
  APPLE("apple-m2-16gb", "Apple M2 16 GB", 16, 3.6, 100, "Apple M2 press release (10-core GPU 3.6 TFLOPS, 100 GB/s)"),
  APPLE(
    "apple-m2-max-32gb",
    "Apple M2 Max 32 GB",
    32,
    13.6,
    400,
    "Apple M2 Max press release (38-core GPU 13.6 TFLOPS, 400 GB/s)",
  ),
  APPLE(
    "apple-m2-max-64gb",
    "Apple M2 Max 64 GB",
    64,
    13.6,
    400,
    "Apple M2 Max press release (38-core GPU 13.6 TFLOPS, 400 GB/s)",
  ),
  APPLE(
    "apple-m2-ultra-128gb",
    "Apple M2 Ultra 128 GB",
    128,
    27.2,
    800,
    "Apple M2 Ultra press release (76-core GPU 27.2 TFLOPS, 800 GB/s)",
  ),
  APPLE(
    "apple-m3-max-128gb",
    "Apple M3 Max 128 GB",
    128,
    14.2,
    400,
    "Apple M3 Max (40-core GPU, 400 GB/s); TFLOPS estimated from 40 cores × 128 ALUs × 2 × ~1.4 GHz",
  ),
]);

/** Id of the host-memory pseudo-GPU. */
export const THIS_MACHINE = "this-machine";

/**
 * This machine's RAM as a memory pool (os.totalmem; 80% usable, the rest for the OS and Node.js).
 * No TFLOPS: measure them (notebook 05) rather than guess.
 *
 * @example
 * thisMachine().memoryBytes === os.totalmem(); // true
 */
export function thisMachine(totalBytes: number = os.totalmem()): Gpu {
  return {
    id: THIS_MACHINE,
    name: `this machine's RAM (${(totalBytes / GIB).toFixed(1)} GiB)`,
    memoryBytes: totalBytes,
    usableFraction: 0.8,
    fp16Tflops: null,
    fp32Tflops: null,
    bandwidthGBs: null,
    kind: "host",
    source: "os.totalmem()",
    notes:
      "80% assumed usable; tfjs-backend-wasm is a 32-bit WebAssembly build and cannot address more than 4 GiB whatever the RAM; tfjs trains in fp32 only",
  };
}

/** All known ids, catalog first, then "this-machine". */
export function gpuIds(): string[] {
  return [...GPU_CATALOG.map((g) => g.id), THIS_MACHINE];
}

/**
 * A GPU by id (case-insensitive); unknown ids are an error listing the known ones.
 *
 * @example
 * getGpu("V100-16GB").memoryBytes / 2 ** 30; // 16
 */
export function getGpu(id: string): Gpu {
  const key = String(id ?? "")
    .trim()
    .toLowerCase();
  if (key === THIS_MACHINE) return thisMachine();
  const g = GPU_CATALOG.find((x) => x.id === key);
  if (!g) throw new SizingError(`unknown GPU id ${JSON.stringify(id)}; known: ${gpuIds().join(", ")}`);
  return { ...g };
}

/**
 * Bytes a job may use on one GPU: nominal memory × usable fraction.
 *
 * @example
 * usableBytes(getGpu("apple-m2-16gb")) / 2 ** 30; // ≈ 10.7 (2/3 of 16 GiB)
 */
export function usableBytes(gpu: Gpu): number {
  return gpu.memoryBytes * gpu.usableFraction;
}

/**
 * Peak dense TFLOPS for a compute dtype (16-bit and quantised weights compute in 16-bit), or null.
 *
 * @example
 * peakTflops(getGpu("a100-80gb"), "bf16"); // 312
 */
export function peakTflops(gpu: Gpu, dtype: Dtype): number | null {
  return dtype === "fp32" ? gpu.fp32Tflops : gpu.fp16Tflops;
}
