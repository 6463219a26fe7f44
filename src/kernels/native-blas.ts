/**
 * Native matrix products for the WebAssembly backend: the wasm backend's `BatchMatMul` kernel runs on the
 * machine's BLAS (`cblas_sgemm`) when one is installed, straight on the backend's memory, no copies.
 *
 * Why: WebAssembly SIMD is 4 lanes wide with separate multiply and add, so the best wasm matmul (XNNPACK) runs
 * at a fraction of what a native BLAS with wide FMA units (OpenBLAS, what Debian's PyTorch itself calls) reaches
 * on the same cores; and tfjs-wasm sends every transposed or batched product (attention, most gradients) to a
 * scalar single-threaded loop. A training step is matmul-bound, so this is the lever that moves it (figures in
 * docs/performance.md). Everything else — element-wise ops, reductions, softmax, the optimizer — stays on wasm.
 *
 * How: the FFI is `koffi` (an optional npm dependency that ships prebuilt binaries for every common
 * platform, so nothing is compiled at install). The BLAS is found by name: `TUNEBOOK_BLAS` (a path or a
 * library name), else OpenBLAS (`libopenblas.so.0` — Debian/Ubuntu `libopenblas0`, Fedora `openblas`,
 * Homebrew's `openblas`), else Apple's Accelerate on macOS. The reference BLAS (`libblas.so.3` from
 * netlib) is never picked by itself: it is slower than XNNPACK. `TUNEBOOK_BLAS=off` keeps the pure-wasm
 * kernel. Anything missing → the wasm kernel, with the reason in the backend report.
 *
 * The kernel reads the operands where the wasm backend keeps them (`memoryOffset` into the module's
 * memory, a SharedArrayBuffer in the threaded build) and writes the result into a freshly made output the
 * same way; koffi passes a typed array's address to C without copying. Transposed operands are BLAS flags
 * (no transpose op), batches are a loop of `sgemm` calls over the blocks, with NumPy-style broadcasting of
 * the batch dims. (tfjs 4.22's own cpu and wasm kernels index the batches modulo each operand's batch count,
 * which gives the right shape but wrong values for general broadcasting such as `[2,1,M,K]·[1,5,K,N]`; the
 * model never multiplies such shapes; tests/kernels/native-blas.test.ts checks NumPy's values.) Other dtypes,
 * incompatible shapes (tfjs's own error messages) and decoding's few-row products go to the wasm kernel it
 * replaced.
 */
import * as tf from "@tensorflow/tfjs";
import { fillableTensor } from "./heap-tensor";
import { noteNativeMatMul } from "./select";
import { backendInternals } from "./tfjs-internals";
import { heapView, soleOwner } from "./wasm-heap";

/** Environment variable: `off` (or `0`) to keep the wasm matmul; a path or library name to choose a BLAS. */
export const BLAS_ENV = "TUNEBOOK_BLAS";

/**
 * Environment variable: which OpenBLAS kernel set ("core") tunebook's own OpenBLAS runs. Unset or `auto`: the one
 * OpenBLAS detects for this CPU, even when `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` are set in the environment;
 * `env`: whatever the environment says; a core name (e.g. `Haswell`, `SkylakeX`, `Cooperlake`): that core.
 */
export const CORETYPE_ENV = "TUNEBOOK_BLAS_CORETYPE";

/** The variables a DYNAMIC_ARCH OpenBLAS reads once, while the library loads, to pick its kernels and blocking. */
export const OPENBLAS_CORE_VARS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] as const;

/** How the core is chosen: the variables to set (a string) or remove (undefined) while OpenBLAS loads, and why. */
export interface CoreTypePlan {
  overrides: Record<string, string | undefined>;
  /** Why this core, for the backend line (the core's name itself comes from OpenBLAS after loading). */
  why: string;
}

/**
 * Decide OpenBLAS's core-selection variables for tunebook's in-process library from an environment.
 *
 * Why: a machine-wide `OPENBLAS_CORETYPE` is often set for another program or an older CPU (this machine kind sets
 * `Haswell` on a Zen 5 that has AVX-512), and it makes OpenBLAS run AVX2 kernels at a fraction of the speed. The
 * override only holds while `koffi` loads the library (`withEnv`): child processes and other programs keep the
 * user's environment.
 *
 * @example
 * coreTypePlan({ OPENBLAS_CORETYPE: "Haswell" }).overrides; // { OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined }
 * coreTypePlan({ TUNEBOOK_BLAS_CORETYPE: "SkylakeX" }).overrides; // { OPENBLAS_CORETYPE: "SkylakeX" }
 */
export function coreTypePlan(env: Record<string, string | undefined>): CoreTypePlan {
  const want = env[CORETYPE_ENV]?.trim() ?? "";
  const set = OPENBLAS_CORE_VARS.filter((k) => (env[k] ?? "") !== "").map((k) => `${k}=${env[k]}`);
  if (want.toLowerCase() === "env") {
    return {
      overrides: {},
      why: set.length
        ? `${set.join(", ")} from the environment, as ${CORETYPE_ENV}=env asks`
        : "detected by OpenBLAS for this CPU",
    };
  }
  if (want !== "" && want.toLowerCase() !== "auto")
    return { overrides: { OPENBLAS_CORETYPE: want }, why: `forced by ${CORETYPE_ENV}=${want}` };
  if (!set.length) return { overrides: {}, why: "detected by OpenBLAS for this CPU" };
  const overrides: Record<string, string | undefined> = {};
  for (const k of OPENBLAS_CORE_VARS) overrides[k] = undefined;
  return {
    overrides,
    why: `detected by OpenBLAS for this CPU; the environment's ${set.join(", ")} not applied in this process, ${CORETYPE_ENV}=env keeps it`,
  };
}

/**
 * OpenBLAS's `OPENBLAS_THREAD_TIMEOUT` (log2 of the cycles an idle BLAS thread keeps polling for work before it
 * sleeps) for tunebook's in-process library, when the environment does not set it: 2^16 cycles, ≈ 20 µs.
 *
 * Why: OpenBLAS's default, 2^28 cycles (≈ 0.07 s), keeps its worker spinning long after each product. A training
 * step alternates products with element-wise kernels that split across their own worker threads (heap-workers.ts);
 * on a 2-core machine the spinning BLAS thread takes the core one of them needs, and the main thread waits for it.
 * 2^16 still covers the gap between back-to-back products (attention's per-head loop); decoding does not feel it
 * (its products stay on XNNPACK). The runs that chose 16 are in docs/performance.md ("Measurements behind the
 * kernels' choices"). Like the core variables, it holds only while the library loads (`withEnv`).
 */
export const OPENBLAS_THREAD_TIMEOUT = "16";

/** The variables to set while OpenBLAS loads: the core plan's, and the thread timeout unless `env` sets one. */
export function loadOverrides(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const timeout = (env.OPENBLAS_THREAD_TIMEOUT ?? "") === "" ? { OPENBLAS_THREAD_TIMEOUT } : {};
  return { ...coreTypePlan(env).overrides, ...timeout };
}

/**
 * Run `fn` with `overrides` applied to `env` (a string sets, undefined removes), then put every variable back as it
 * was, also when `fn` throws. With `process.env`, native code started in `fn` sees the change (Node writes through
 * to the C environment); nothing after it does.
 *
 * @example
 * const lib = withEnv(process.env, { OPENBLAS_CORETYPE: undefined }, () => koffi.load("libopenblas.so.0"));
 */
export function withEnv<T>(
  env: Record<string, string | undefined>,
  overrides: Record<string, string | undefined>,
  fn: () => T,
): T {
  const saved = Object.keys(overrides).map((k) => [k, Object.hasOwn(env, k), env[k]] as const);
  try {
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return fn();
  } finally {
    for (const [k, had, v] of saved) {
      if (had) env[k] = v;
      else delete env[k];
    }
  }
}

type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

type Somatcopy = (
  order: number,
  trans: number,
  rows: number,
  cols: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
) => void;

type Sgemv = (
  order: number,
  trans: number,
  m: number,
  n: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  x: Float32Array,
  incx: number,
  beta: number,
  y: Float32Array,
  incy: number,
) => void;

export interface NativeBlas {
  /** Library as loaded (path or name). */
  library: string;
  /** Short description, e.g. "OpenBLAS 0.3.21 (Cooperlake), 2 threads". */
  describe: string;
  /** OpenBLAS's kernel set as it reports it (`openblas_get_corename`), when the library is OpenBLAS. */
  coreType?: string;
  /** Why that core (see `coreTypePlan`), when the library is OpenBLAS. */
  coreWhy?: string;
  /** Threads the library was told to use. */
  threads: number;
  /** Change the library's thread count (OpenBLAS's `openblas_set_num_threads`; null elsewhere). */
  setThreads: ((n: number) => void) | null;
  sgemm: Sgemm;
  /** `B ← α·Aᵀ` out of place (OpenBLAS's `cblas_somatcopy`; null elsewhere): 2-D float32 transposes. */
  somatcopy: Somatcopy | null;
  /** `y ← α·op(A)·x + β·y` (`cblas_sgemv`; null when the library lacks it): column sums of an activation. */
  sgemv: Sgemv | null;
  /** `Σ x[i]·y[i]` of float32 vectors with a double result (null when the library lacks `cblas_dsdot`). */
  dsdot: ((n: number, x: Float32Array, incx: number, y: Float32Array, incy: number) => number) | null;
  /** Whether the library exports a bfloat16 GEMM (`cblas_sbgemm`: OpenBLAS built with BUILD_BFLOAT16), which a
   * bf16 mixed-precision mode would call. Debian's OpenBLAS 0.3.21 (bookworm) and 0.3.29 (trixie) do not. */
  bf16Gemm: boolean;
}

export interface NativeBlasStatus {
  /** True when the wasm backend's BatchMatMul now runs on the native BLAS. */
  active: boolean;
  /** What is used, or why not (one short sentence). */
  why: string;
  blas?: NativeBlas;
}

/** Plain 2-D products with at most this many rows stay on the wasm kernel (see the kernel). */
const SMALL_ROWS = 8;

/**
 * Products with fewer multiply-adds than this (M·N·K) run on ONE OpenBLAS thread: below ~2^24 the second thread's
 * hand-off costs more than it brings (OpenBLAS itself splits from 2^18; the one- vs two-thread speeds per shape are in
 * docs/performance.md). A pythia-70m step at 8 × 128 makes 3 × 768 such products (attention's, one per sequence and
 * head, 128 × 128 × 64).
 */
const ONE_THREAD_BELOW = 1 << 24;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

let status: NativeBlasStatus = { active: false, why: "not tried (the wasm backend has not started)" };

/** Whether matmuls on the wasm backend run on a native BLAS now, and why (not). */
export function nativeBlasStatus(): NativeBlasStatus {
  return status;
}

/** True when the wasm backend is active and its matmuls run on the native BLAS (transposed operands are free). */
export function nativeMatMulActive(): boolean {
  return status.active && tf.getBackend() === "wasm";
}

/** What runs matmuls now: the native BLAS's description, or the active backend's name. */
export function matmulEngine(): string {
  return nativeMatMulActive() && status.blas ? status.blas.describe : tf.getBackend();
}

function candidates(): string[] {
  const env = process.env[BLAS_ENV]?.trim();
  if (env) return [env];
  if (process.platform === "darwin") {
    return [
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    ];
  }
  if (process.platform === "win32") return ["libopenblas.dll", "openblas.dll"];
  return ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "/usr/lib64/libopenblas.so.0"];
}

/** Load a native BLAS through koffi; `threads` sets OpenBLAS's thread count. Returns why not on failure. */
export function loadNativeBlas(threads: number): { ok: true; blas: NativeBlas } | { ok: false; why: string } {
  const env = process.env[BLAS_ENV]?.trim().toLowerCase();
  if (env === "off" || env === "0" || env === "false" || env === "none")
    return { ok: false, why: `${BLAS_ENV}=${env}` };
  let koffi: any;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    koffi = require("koffi");
  } catch (e: any) {
    return {
      ok: false,
      why: `koffi (the optional FFI package) is not installed: ${String(e?.message ?? e).split("\n")[0]}`,
    };
  }
  const plan = coreTypePlan(process.env);
  const tried: string[] = [];
  const missing: string[] = []; // names that are simply not installed: listed once, without the loader's message
  for (const name of candidates()) {
    let lib: any;
    try {
      lib = withEnv(process.env, loadOverrides(process.env), () => koffi.load(name));
    } catch (e: any) {
      const msg = String(e?.message ?? e).split("\n")[0];
      if (/cannot open shared object|no such file|image not found|could not be found|not found/i.test(msg))
        missing.push(name);
      else tried.push(`${name}: ${msg}`);
      continue;
    }
    let sgemm: Sgemm;
    try {
      sgemm = lib.func(
        "void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)",
      );
    } catch (e: any) {
      tried.push(`${name}: no cblas_sgemm (${String(e?.message ?? e).split("\n")[0]})`);
      continue;
    }
    let describe = /Accelerate/.test(name) ? "Apple Accelerate" : name;
    let coreType: string | undefined;
    let coreWhy: string | undefined;
    let setThreads: NativeBlas["setThreads"] = null;
    try {
      const config = lib.func("const char *openblas_get_config()")() as string;
      setThreads = lib.func("void openblas_set_num_threads(int)") as (n: number) => void;
      setThreads(Math.max(1, threads));
      const m = /OpenBLAS\s+(\S+).*?\b(\w+)\s+MAX_THREADS/.exec(config);
      try {
        coreType = String(lib.func("const char *openblas_get_corename()")() ?? "") || undefined;
      } catch {
        coreType = m?.[2];
      }
      coreType ??= m?.[2];
      const forced = plan.overrides.OPENBLAS_CORETYPE;
      // the library may have been loaded before in this process (the variables are read only once), or the name unknown
      coreWhy =
        forced && coreType && coreType.toLowerCase() !== forced.toLowerCase()
          ? `${plan.why}, but OpenBLAS runs ${coreType}`
          : plan.why;
      const core = coreType ?? m?.[2];
      describe = m
        ? `OpenBLAS ${m[1]}${core ? ` (${core})` : ""}, ${threads} thread${threads === 1 ? "" : "s"}`
        : `OpenBLAS, ${threads} threads`;
    } catch {
      // not OpenBLAS: it manages its own threads
    }
    let somatcopy: Somatcopy | null = null;
    try {
      somatcopy = lib.func(
        "void cblas_somatcopy(int order, int trans, int rows, int cols, float alpha, const float *a, int lda, float *b, int ldb)",
      );
    } catch {
      // an OpenBLAS extension: other libraries keep tfjs's Transpose
    }
    let sgemv: Sgemv | null = null;
    try {
      sgemv = lib.func(
        "void cblas_sgemv(int order, int trans, int m, int n, float alpha, const float *a, int lda, const float *x, int incx, float beta, float *y, int incy)",
      );
    } catch {
      // optional: colSum then multiplies by a ones row
    }
    let dsdot: NativeBlas["dsdot"] = null;
    try {
      dsdot = lib.func("double cblas_dsdot(int n, const float *x, int incx, const float *y, int incy)");
    } catch {
      // optional
    }
    let bf16Gemm = false;
    try {
      lib.func(
        "void cblas_sbgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const uint16_t *a, int lda, const uint16_t *b, int ldb, float beta, float *c, int ldc)",
      );
      bf16Gemm = true;
    } catch {
      // optional: only probed, reported by the bench
    }
    const blas: NativeBlas = {
      library: name,
      describe,
      sgemm,
      somatcopy,
      sgemv,
      dsdot,
      bf16Gemm,
      threads,
      setThreads,
      ...(coreType ? { coreType } : {}),
      ...(coreWhy ? { coreWhy } : {}),
    };
    const check = selfCheck(blas);
    if (check) {
      tried.push(`${name}: ${check}`);
      continue;
    }
    return { ok: true, blas };
  }
  const found = [missing.length ? `${missing.join(", ")}: not found` : "", ...tried].filter(Boolean).join("; ");
  return {
    ok: false,
    why: `no native BLAS (${found}); install OpenBLAS (e.g. apt install libopenblas0) for faster training`,
  };
}

/** A 3×4·4×2 product with each transpose flag, checked against a plain loop; returns an error or "". */
function selfCheck(blas: NativeBlas): string {
  const M = 3,
    K = 4,
    N = 2;
  const a = Float32Array.from({ length: M * K }, (_, i) => (i % 5) - 2);
  const b = Float32Array.from({ length: K * N }, (_, i) => (i % 3) + 0.5);
  const want = new Float32Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j] += a[i * K + k] * b[k * N + j];
  const aT = new Float32Array(K * M),
    bT = new Float32Array(N * K);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) aT[k * M + i] = a[i * K + k];
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bT[j * K + k] = b[k * N + j];
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const c = new Float32Array(M * N).fill(NaN);
    blas.sgemm(
      ROW_MAJOR,
      ta ? TRANS : NO_TRANS,
      tb ? TRANS : NO_TRANS,
      M,
      N,
      K,
      1,
      ta ? aT : a,
      ta ? M : K,
      tb ? bT : b,
      tb ? K : N,
      0,
      c,
      N,
    );
    for (let i = 0; i < c.length; i++)
      if (Math.abs(c[i] - want[i]) > 1e-4)
        return `self-check failed (transA=${ta}, transB=${tb}: ${c[i]} vs ${want[i]})`;
  }
  return "";
}

const sizeOf = (shape: readonly number[]): number => tf.util.sizeFromShape(shape as number[]);

/**
 * NumPy-style broadcasting of two batch shapes: the output's batch shape and, for output batch i, the batch
 * index in each operand. Null when the shapes are incompatible.
 */
export function broadcastBatches(
  outerA: readonly number[],
  outerB: readonly number[],
): { outer: number[]; indexA: (i: number) => number; indexB: (i: number) => number } | null {
  const rank = Math.max(outerA.length, outerB.length);
  const pa = [...Array(rank - outerA.length).fill(1), ...outerA];
  const pb = [...Array(rank - outerB.length).fill(1), ...outerB];
  const outer: number[] = [];
  for (let d = 0; d < rank; d++) {
    if (pa[d] !== pb[d] && pa[d] !== 1 && pb[d] !== 1) return null;
    outer.push(pa[d] === 1 ? pb[d] : pa[d]);
  }
  const same = (p: number[]) => p.every((d, i) => d === outer[i]);
  const map = (p: number[]): ((i: number) => number) => {
    if (same(p)) return (i) => i;
    if (sizeOf(p) === 1) return () => 0;
    return (i) => {
      let idx = 0,
        stride = 1;
      for (let d = rank - 1; d >= 0; d--) {
        const k = i % outer[d];
        i = Math.floor(i / outer[d]);
        if (p[d] !== 1) idx += k * stride;
        stride *= p[d];
      }
      return idx;
    };
  };
  return { outer, indexA: map(pa), indexB: map(pb) };
}

/** The BatchMatMul kernel on a native BLAS; `fallback` is the wasm kernel it replaces. */
function blasBatchMatMul(blas: NativeBlas, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const a = inputs.a as tf.TensorInfo,
      b = inputs.b as tf.TensorInfo;
    const transposeA = !!(attrs as any)?.transposeA,
      transposeB = !!(attrs as any)?.transposeB;
    if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2)
      return fallback(args);
    const ra = a.shape.length,
      rb = b.shape.length;
    const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (K !== Kb) return fallback(args); // tfjs's own error message
    // Decoding's few-row products against a weight (one token through a layer): XNNPACK keeps the weight packed
    // between calls and wakes no BLAS threads, which makes it faster than sgemm for these (bench --mode generate).
    if (M <= SMALL_ROWS && K > 0 && N > 0 && !transposeA && !transposeB && ra === 2 && rb === 2) return fallback(args);
    const bcast = broadcastBatches(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (!bcast) return fallback(args); // incompatible batch dims: tfjs's own error message
    const { outer, indexA, indexB } = bcast;
    const batch = sizeOf(outer);
    const backend = backendInternals(args.backend);
    if (!backend.makeOutput || !backend.disposeData) return fallback(args);
    const out = backend.makeOutput([...outer, M, N], "float32");
    if (batch * M * N === 0) return out;
    const [A, B, c] = [a, b, out].map(heapView); // where the wasm backend keeps them (made after `out`: growth)
    if (!A || !B || !c) {
      // not on the heap (cannot happen for float32 on wasm): let the wasm kernel do it
      backend.disposeData(out.dataId);
      return fallback(args);
    }
    if (K === 0) {
      c.fill(0);
      return out;
    }
    const ta = transposeA ? TRANS : NO_TRANS,
      tb = transposeB ? TRANS : NO_TRANS;
    const lda = transposeA ? M : K,
      ldb = transposeB ? K : N;
    const oneThread = blas.setThreads !== null && blas.threads > 1 && M * N * K < ONE_THREAD_BELOW;
    if (oneThread) blas.setThreads!(1);
    try {
      products(blas, batch, indexA, indexB, M, N, K, ta, tb, A, lda, B, ldb, c);
    } finally {
      if (oneThread) blas.setThreads!(blas.threads);
    }
    return out;
  };
}

/** `batch` products `c[i] = op(A[ia])·op(B[ib])` (row-major, β = 0), one sgemm each. */
function products(
  blas: NativeBlas,
  batch: number,
  indexA: (i: number) => number,
  indexB: (i: number) => number,
  M: number,
  N: number,
  K: number,
  ta: number,
  tb: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  c: Float32Array,
): void {
  if (batch === 1) {
    blas.sgemm(ROW_MAJOR, ta, tb, M, N, K, 1, A, lda, B, ldb, 0, c, N);
    return;
  }
  for (let i = 0; i < batch; i++) {
    const ia = indexA(i),
      ib = indexB(i);
    blas.sgemm(
      ROW_MAJOR,
      ta,
      tb,
      M,
      N,
      K,
      1,
      A.subarray(ia * M * K, (ia + 1) * M * K),
      lda,
      B.subarray(ib * K * N, (ib + 1) * K * N),
      ldb,
      0,
      c.subarray(i * M * N, (i + 1) * M * N),
      N,
    );
  }
}

/**
 * The Transpose kernel for 2-D float32 tensors on `cblas_somatcopy` (a blocked out-of-place transpose): a dense
 * layer's weight kept transposed for decoding (linear.ts's `withTransposedWeights`, once per `generate` call) is
 * 8–30× faster than tfjs-wasm's element-by-element loop (measured on a 2-core Zen 5 with OpenBLAS 0.3.21:
 * [50304, 512] 81 → 9.9 ms, [2048, 512] 9.3 → 0.45 ms). α = 1 multiplies each value by one, so only float32 data
 * goes this way (int32 bits must not pass through a float multiply); other ranks and permutations go to `fallback`.
 */
function blasTranspose(blas: NativeBlas, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = ((args.attrs as { perm?: number[] } | undefined)?.perm ?? []).join();
    if (!blas.somatcopy || x.dtype !== "float32" || x.shape.length !== 2 || perm !== "1,0") return fallback(args);
    const backend = backendInternals(args.backend);
    if (!backend.makeOutput || !backend.disposeData) return fallback(args);
    const [R, C] = x.shape;
    const out = backend.makeOutput([C, R], "float32");
    if (R * C === 0) return out;
    const [a, b] = [x, out].map(heapView);
    if (!a || !b) {
      backend.disposeData(out.dataId);
      return fallback(args);
    }
    blas.somatcopy(ROW_MAJOR, TRANS, R, C, 1, a, C, b, R);
    return out;
  };
}

let original: tf.KernelConfig | undefined;
let originalTranspose: tf.KernelConfig | undefined;

/**
 * Route the wasm backend's BatchMatMul to a native BLAS (once per process; call after the wasm backend has
 * started). Returns the status, also kept for `nativeBlasStatus()` and the backend report.
 */
export function installNativeMatMul(threads: number): NativeBlasStatus {
  if (status.active) return status;
  const loaded = loadNativeBlas(threads);
  if (!loaded.ok) {
    status = { active: false, why: loaded.why };
    return status;
  }
  const current = tf.getKernel("BatchMatMul", "wasm");
  if (!current) {
    status = { active: false, why: "the wasm backend has no BatchMatMul kernel to replace" };
    return status;
  }
  original = current;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({ ...current, kernelFunc: blasBatchMatMul(loaded.blas, current.kernelFunc) });
  const transpose = tf.getKernel("Transpose", "wasm");
  if (transpose && loaded.blas.somatcopy) {
    originalTranspose = transpose;
    tf.unregisterKernel("Transpose", "wasm");
    tf.registerKernel({ ...transpose, kernelFunc: blasTranspose(loaded.blas, transpose.kernelFunc) });
  }
  status = {
    active: true,
    why: `matmuls on ${loaded.blas.describe}${loaded.blas.coreWhy ? ` (core: ${loaded.blas.coreWhy})` : ""}`,
    blas: loaded.blas,
  };
  noteNativeMatMul(true);
  return status;
}

/** Put the wasm backend's own BatchMatMul kernel back (tests, benchmarks of the pure-wasm path). */
export function uninstallNativeMatMul(): void {
  if (!original) return;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel(original);
  original = undefined;
  if (originalTranspose) {
    tf.unregisterKernel("Transpose", "wasm");
    tf.registerKernel(originalTranspose);
    originalTranspose = undefined;
  }
  status = { active: false, why: "switched off by uninstallNativeMatMul()" };
  noteNativeMatMul(false);
}

/**
 * `acc ← acc + alpha·op(a)·op(b)` written into `acc`'s own buffer (one `sgemm` with β = 1: no partial product
 * and no sum tensor). Only when the native BLAS is active and `acc` is a float32 tensor that alone holds its
 * buffer on the wasm heap; returns false otherwise (nothing done). The caller owns `acc` and must not have
 * shared it (`tf.clone` shares buffers on wasm).
 */
export function matMulAccumulate(
  acc: tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
  alpha = 1,
): boolean {
  if (!nativeMatMulActive() || !status.blas) return false;
  const [M, N] = acc.shape;
  const K = transposeA ? a.shape[0] : a.shape[1];
  if (
    (transposeA ? a.shape[1] : a.shape[0]) !== M ||
    (transposeB ? b.shape[0] : b.shape[1]) !== N ||
    (transposeB ? b.shape[1] : b.shape[0]) !== K
  ) {
    throw new Error(
      `matMulAccumulate: [${acc.shape}] += [${a.shape}]${transposeA ? "ᵀ" : ""}·[${b.shape}]${transposeB ? "ᵀ" : ""} do not fit`,
    );
  }
  if (!soleOwner(acc)) return false;
  const [c, av, bv] = [acc, a, b].map(heapView);
  if (!c || !av || !bv) return false;
  if (M * N === 0 || K === 0) return true;
  status.blas.sgemm(
    ROW_MAJOR,
    transposeA ? TRANS : NO_TRANS,
    transposeB ? TRANS : NO_TRANS,
    M,
    N,
    K,
    alpha,
    av,
    transposeA ? M : K,
    bv,
    transposeB ? K : N,
    1,
    c,
    N,
  );
  return true;
}

/**
 * `Σ x²` of a float32 tensor on the native BLAS (`cblas_dsdot`, read in place, accumulated in double precision:
 * closer to a float64 sum than tf.sum of the squares), or null when it cannot.
 */
export function sumOfSquares(x: tf.Tensor): number | null {
  if (!nativeMatMulActive() || !status.blas?.dsdot) return null;
  const v = heapView(x);
  if (!v) return null;
  return v.length === 0 ? 0 : status.blas.dsdot(v.length, v, 1, v, 1);
}

/** A ones vector for `columnSums`, grown as needed (read only). */
let ones = new Float32Array(0);

/**
 * Column sums `1ᵀ·x` `[C]` of a float32 `[N, C]` tensor as one `cblas_sgemv` reading x in place (bias and
 * LayerNorm gradients). Through the BatchMatMul kernel, a `[1, N]·[N, C]` product has one row and so goes to
 * XNNPACK (the decoding rule), which packs the whole activation as its weight on every call, 50 times a pythia-70m
 * step. Returns null when the native BLAS is not active, lacks sgemv, or x is not on the heap.
 *
 * @example
 * const db = columnSums(dy) ?? tf.sum(dy, 0);
 */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D | null {
  const blas = status.blas;
  if (!nativeMatMulActive() || !blas?.sgemv || x.dtype !== "float32") return null;
  const [N, C] = x.shape;
  if (!heapView(x)) return null;
  const t = fillableTensor([C]);
  const y = t.view(); // after the allocation (it may grow the heap)
  const xv = heapView(x)!;
  if (y.buffer !== xv.buffer) {
    t.dispose();
    return null; // not on the wasm heap (cannot happen on the blas set)
  }
  if (N === 0 || C === 0) {
    y.fill(0);
    return t.finish() as tf.Tensor1D;
  }
  if (ones.length < N) ones = new Float32Array(N).fill(1);
  blas.sgemv(ROW_MAJOR, TRANS, N, C, 1, xv, C, ones, 1, 0, y, 1);
  return t.finish() as tf.Tensor1D;
}

/**
 * `x·Wᵀ + b` (`x` `[N, K]`, W `[out, K]`, b `[out]`) as ONE sgemm with β = 1 into rows already holding b: no
 * separate broadcast Add pass over the `[N, out]` result (tfjs-wasm's Add with a broadcast bias ran ≈ 50 ms of a
 * pythia-70m step at 8 × 128). The sum's rounding order differs from matmul-then-add only where the BLAS splits K
 * into blocks (b is added first, not last): float32 rounding. Returns null when the native BLAS is not active or
 * an operand is not on the heap; the caller then multiplies and adds.
 *
 * @example
 * const y = matMulBias(x, w, b) ?? tf.add(tf.matMul(x, w, false, true), b);
 */
export function matMulBias(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D | null {
  if (!nativeMatMulActive() || !status.blas) return null;
  const [N, K] = x.shape;
  const [out, Kw] = w.shape;
  if (Kw !== K || b.size !== out || N * out === 0 || K === 0 || x.dtype !== "float32" || w.dtype !== "float32")
    return null;
  if (!heapView(x) || !heapView(w) || !heapView(b)) return null;
  const t = fillableTensor([N, out]);
  const c = t.view(); // after the allocation (it may grow the heap)
  const [xv, wv, bv] = [x, w, b].map(heapView) as Float32Array[];
  if (!(c.buffer === xv.buffer)) {
    t.dispose();
    return null; // not on the wasm heap (cannot happen on the blas set)
  }
  c.set(bv, 0);
  for (let filled = out; filled < N * out; filled *= 2) c.copyWithin(filled, 0, Math.min(filled, N * out - filled));
  status.blas.sgemm(ROW_MAJOR, NO_TRANS, TRANS, N, out, K, 1, xv, K, wv, K, 1, c, out);
  return t.finish() as tf.Tensor2D;
}
