/**
 * Backend choice for TensorFlow.js: pick the best backend that actually loads on this machine.
 *
 * Order tried by default: `tensorflow` (the native `@tensorflow/tfjs-node-gpu` / `@tensorflow/tfjs-node`
 * bindings, only when they drive a GPU: `nativeVerdict`), `wasm` (always shipped: the
 * WebAssembly build with SIMD, multi-threaded through wasm-threads.ts), `cpu` (plain JavaScript). `webgpu` runs
 * only when forced (`WEBGPU_OPT_IN` says why; it needs `webgpu` (Dawn) and `@tensorflow/tfjs-backend-webgpu`, and
 * a software adapter such as Mesa's lavapipe is reported as such: `softwareAdapter`). `TUNEBOOK_BACKEND` or
 * `initBackend({backend})` forces one. One line says which was chosen and why (`backendReport()`).
 *
 * Trap on this machine kind: `@tensorflow/tfjs-node` may resolve to plain tfjs (danfojs-node's npm
 * override aliases it), so a native backend counts only if it registered a `tensorflow` backend factory.
 */
import * as tf from "@tensorflow/tfjs";
import { defaultWasmThreads, startThreadedWasm } from "../kernels/wasm-threads";
import { selectKernels } from "../kernels";
import { installRowGather } from "../kernels/gather-rows";
import { installNativeMatMul } from "../kernels/native-blas";

/** The backends tunebook knows, best first. */
export const BACKENDS = ["tensorflow", "webgpu", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendChoice {
  /** The backend now active in tfjs. */
  name: BackendName;
  /** Why it was chosen (one short sentence). */
  reason: string;
  /** What was tried before it, with the reason each was passed over. */
  skipped: { name: BackendName; why: string }[];
  /** True when the native backend runs on a CUDA GPU. */
  gpu: boolean;
}

export interface InitBackendOptions {
  /** Force a backend; default: `process.env.TUNEBOOK_BACKEND`, else the best available. */
  backend?: string;
  /** Print the one-line report (default true). */
  verbose?: boolean;
  /**
   * XNNPACK threads of the wasm backend (1 = the single-threaded build). Default: `TUNEBOOK_WASM_THREADS`, else
   * the number of cores (at most 8). Only the first start of the wasm backend in a process can choose it.
   */
  wasmThreads?: number;
}

let current: BackendChoice | undefined;
let pending: Promise<BackendChoice> | undefined;

/** Error for an unknown `TUNEBOOK_BACKEND` / `backend` value: names the valid ones. */
export class BackendError extends Error {
  override name = "BackendError";
}

/** Parse a backend name (case-insensitive); throws a BackendError listing the valid names. */
export function parseBackendName(value: string, source = "TUNEBOOK_BACKEND"): BackendName {
  const v = value.trim().toLowerCase();
  if ((BACKENDS as readonly string[]).includes(v)) return v as BackendName;
  throw new BackendError(
    `${source}=${JSON.stringify(value)} is not a backend tunebook knows; use one of: ${BACKENDS.join(", ")}`,
  );
}

function tryRequire(id: string): { ok: true; mod: any } | { ok: false; why: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return { ok: true, mod: require(id) };
  } catch (e: any) {
    const msg = String(e?.message ?? e).split("\n")[0];
    return { ok: false, why: e?.code === "MODULE_NOT_FOUND" && msg.includes(id) ? `${id} is not installed` : msg };
  }
}

/**
 * Whether a started native backend may be used. It has never been run in this project's tests or CI, so it is
 * chosen by itself only when it drives a GPU (tfjs-node's `isGPUPackage` and `isUsingGpuDevice`); on a CPU the
 * tested wasm path stays the default. A forced `TUNEBOOK_BACKEND=tensorflow` always takes it.
 */
export function nativeVerdict(
  id: string,
  backend: { isGPUPackage?: boolean; isUsingGpuDevice?: boolean },
  forced: boolean,
): { ok: boolean; why: string; gpu: boolean } {
  const gpu = backend.isGPUPackage === true && backend.isUsingGpuDevice === true;
  if (gpu) return { ok: true, why: `${id} loaded, on the GPU (CUDA)`, gpu };
  const where = id.endsWith("-gpu") ? "it found no GPU (isUsingGpuDevice is false)" : "it is the CPU build";
  if (forced) return { ok: true, why: `${id} loaded, on the CPU: ${where}`, gpu: false };
  return {
    ok: false,
    why: `${id} loads but ${where}, and the native backend is used by itself only on a GPU (TUNEBOOK_BACKEND=tensorflow forces it)`,
    gpu: false,
  };
}

async function tryNative(forced: boolean): Promise<{ ok: boolean; why: string; gpu: boolean }> {
  let lastWhy = "";
  for (const id of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    const r = tryRequire(id);
    if (!r.ok) {
      lastWhy = r.why;
      continue;
    }
    if (!tf.findBackendFactory("tensorflow")) {
      lastWhy = `${id} resolved to a package without native bindings`;
      continue;
    }
    if (await tf.setBackend("tensorflow")) {
      const verdict = nativeVerdict(id, tf.backend() as { isGPUPackage?: boolean; isUsingGpuDevice?: boolean }, forced);
      if (verdict.ok) return verdict;
      lastWhy = verdict.why;
      continue;
    }
    lastWhy = `${id} is installed but its backend failed to start`;
  }
  return { ok: false, why: lastWhy || "no native TensorFlow binding installed", gpu: false };
}

/** Resolve a package without loading it (false when it is not installed). */
function isInstalled(id: string): boolean {
  try {
    require.resolve(id);
    return true;
  } catch {
    return false;
  }
}

/** Load the `webgpu` package (ESM): `require` on Node ≥ 20.19 / 22.12, else a real dynamic import. */
async function loadDawn(): Promise<any> {
  try {
    return require("webgpu");
  } catch (e: any) {
    if (e?.code !== "ERR_REQUIRE_ESM") throw e;
    // tsc turns `import()` into `require()` under CommonJS; keep a real dynamic import here.
    const dynamicImport = new Function("id", "return import(id)") as (id: string) => Promise<any>;
    return dynamicImport("webgpu");
  }
}

/**
 * WebGPU in Node: Dawn's `dawn.node` (the `webgpu` package; Vulkan on Linux, Metal on macOS, D3D12 on
 * Windows) installed as `navigator.gpu`, then `@tensorflow/tfjs-backend-webgpu`. Order matters: that
 * package registers its backend at load time only if `navigator.gpu` already exists.
 */
/**
 * Whether a WebGPU adapter is a GPU emulated on the CPU (Mesa's llvmpipe/lavapipe, SwiftShader, WARP): WebGPU's
 * fallback-adapter flag, the `software` architecture Dawn reports, or a known software renderer's name.
 *
 * @example
 * softwareAdapter({ vendor: "mesa", architecture: "software", description: "llvmpipe: Mesa 25.0.7" }); // true
 */
export function softwareAdapter(info: {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}): boolean {
  if (info.isFallbackAdapter === true || info.architecture === "software") return true;
  return /llvmpipe|lavapipe|swiftshader|microsoft basic render|\bwarp\b/i.test(
    [info.vendor, info.device, info.description].filter(Boolean).join(" "),
  );
}

/**
 * Why WebGPU is never chosen by itself, even with a hardware adapter: the trainer, evaluation and generation run
 * on it (tested on lavapipe against wasm), but its speed on a GPU against wasm on the same machine has not been
 * measured yet, and a few course helpers (held-out scoring, LoRA memory and demo, the bench) still read tensors
 * synchronously, which Node's WebGPU cannot. Not probing it also keeps Dawn's start-up (about a second) and its
 * native log lines out of every default run.
 */
export const WEBGPU_OPT_IN =
  "opt-in: TUNEBOOK_BACKEND=webgpu (not chosen by itself until measured faster than wasm on a GPU)";

async function tryWebgpu(): Promise<{ ok: boolean; why: string }> {
  if (!isInstalled("webgpu")) return { ok: false, why: "the `webgpu` package is not installed (opt-in)" };
  if (!isInstalled("@tensorflow/tfjs-backend-webgpu"))
    return { ok: false, why: "@tensorflow/tfjs-backend-webgpu is not installed (opt-in)" };
  try {
    const g: any = globalThis as any;
    if (!g.navigator?.gpu) {
      const dawn = await loadDawn();
      for (const [k, v] of Object.entries(dawn.globals ?? {})) if (!(k in g)) g[k] = v;
      const gpu = dawn.create((process.env.TUNEBOOK_DAWN_FLAGS ?? "").split(",").filter(Boolean));
      if (!g.navigator) g.navigator = {};
      // Node ≥ 21 has its own `navigator` object: define the property rather than assign it.
      Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true, enumerable: true });
    }
    const adapter = await g.navigator.gpu.requestAdapter();
    if (!adapter) return { ok: false, why: "no WebGPU adapter found (Dawn found no usable Vulkan/Metal/D3D12 device)" };
    const info = adapter.info ?? {};
    const desc = [info.vendor, info.description || info.device].filter(Boolean).join(" ");
    const software = softwareAdapter({
      ...info,
      isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter,
    });
    require("@tensorflow/tfjs-backend-webgpu");
    if (!tf.findBackendFactory("webgpu"))
      return { ok: false, why: "@tensorflow/tfjs-backend-webgpu did not register a backend" };
    if (await tf.setBackend("webgpu")) {
      const kind = software ? "software (CPU) WebGPU adapter" : "WebGPU adapter";
      return { ok: true, why: `${kind} found${desc ? `: ${desc}` : ""}` };
    }
    return { ok: false, why: "the webgpu backend failed to start" };
  } catch (e: any) {
    return { ok: false, why: `WebGPU failed: ${String(e?.message ?? e).split("\n")[0]}` };
  }
}

let wasmStarted = false;

/**
 * Put the wasm backend's replaced kernels in place: the row gather (gather-rows.ts), and the matmuls on a native
 * BLAS when one is installed (native-blas.ts). Returns the report's tail.
 */
function blasNote(threads: number): string {
  installRowGather();
  const s = installNativeMatMul(threads);
  return s.active ? `; ${s.why}` : `; matmuls on wasm (${s.why})`;
}

async function tryWasm(threads: number): Promise<{ ok: boolean; why: string }> {
  const r = tryRequire("@tensorflow/tfjs-backend-wasm");
  if (!r.ok) return { ok: false, why: r.why };
  try {
    let note = "single-threaded";
    if (!wasmStarted && threads > 1 && (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"))) {
      const t = await startThreadedWasm(threads);
      wasmStarted = true;
      if (t.ok) return { ok: true, why: `WebAssembly with SIMD, ${t.threads} threads${blasNote(threads)}` };
      note = `single-threaded (${t.why})`;
    }
    if (await tf.setBackend("wasm")) {
      wasmStarted = true;
      await tf.ready();
      const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
      const n = r.mod.getThreadsCount?.() ?? 1;
      return {
        ok: true,
        why: `WebAssembly${simd ? " with SIMD" : ""}, ${n > 1 ? `${n} threads` : note}${blasNote(threads)}`,
      };
    }
  } catch (e: any) {
    return { ok: false, why: `wasm failed: ${String(e?.message ?? e).split("\n")[0]}` };
  }
  return { ok: false, why: "the wasm backend failed to start" };
}

async function choose(opts: InitBackendOptions): Promise<BackendChoice> {
  const requested = opts.backend ?? process.env.TUNEBOOK_BACKEND;
  const forced =
    requested && requested.trim() !== ""
      ? parseBackendName(requested, opts.backend ? "backend" : "TUNEBOOK_BACKEND")
      : undefined;
  const skipped: BackendChoice["skipped"] = [];
  const order: BackendName[] = forced ? [forced] : [...BACKENDS];
  for (const name of order) {
    let r: { ok: boolean; why: string; gpu?: boolean };
    if (name === "tensorflow") r = await tryNative(forced === "tensorflow");
    else if (name === "webgpu") r = forced === "webgpu" ? await tryWebgpu() : { ok: false, why: WEBGPU_OPT_IN };
    else if (name === "wasm") r = await tryWasm(opts.wasmThreads ?? defaultWasmThreads());
    else r = { ok: await tf.setBackend("cpu"), why: "plain JavaScript" };
    if (r.ok) {
      const reason = forced ? `forced by ${opts.backend ? "option" : "TUNEBOOK_BACKEND"}; ${r.why}` : r.why;
      return { name, reason, skipped, gpu: !!r.gpu };
    }
    skipped.push({ name, why: r.why });
  }
  if (forced) {
    throw new BackendError(`backend "${forced}" was requested but cannot start here: ${skipped[0]?.why}`);
  }
  throw new BackendError(
    `no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.why}`).join("; ")}`,
  );
}

/**
 * Choose and activate the backend once per process (later calls return the same choice unless a
 * different `backend` is forced).
 *
 * @example
 * const choice = await initBackend();          // prints e.g. "tunebook backend: wasm (WebAssembly with SIMD ...)"
 * await initBackend({ backend: "cpu" });        // switch explicitly
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendChoice> {
  if (current && (!opts.backend || parseBackendName(opts.backend, "backend") === current.name)) return current;
  if (pending && !opts.backend) return pending;
  pending = choose(opts);
  try {
    current = await pending;
  } finally {
    pending = undefined;
  }
  selectKernels(); // the fast paths' implementation set for this backend, chosen once here
  if (opts.verbose ?? true) console.log(backendReport());
  return current;
}

/** The active choice, or undefined before `initBackend()`. */
export function currentBackend(): BackendChoice | undefined {
  return current;
}

/**
 * One line: which backend and why, and what was passed over.
 *
 * @example
 * await initBackend();
 * console.log(backendReport());   // e.g. "tunebook backend: wasm (…why…); skipped: …"
 */
export function backendReport(choice: BackendChoice | undefined = current): string {
  if (!choice) return "tunebook backend: not initialised (call initBackend())";
  const skipped = choice.skipped.length
    ? ` [skipped: ${choice.skipped.map((s) => `${s.name} (${s.why})`).join("; ")}]`
    : "";
  return `tunebook backend: ${choice.name} (${choice.reason})${skipped}`;
}
