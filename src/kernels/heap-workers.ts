/**
 * Element-wise loops over the WebAssembly heap split across threads: the main thread runs one slice, worker
 * threads the others, all on the same memory. Used by AdamW's one-pass update (adamw.ts), a JavaScript loop over
 * every parameter that would otherwise run on one core (a large share of a step once the matmuls run on a native
 * BLAS), and by the fused exact GELU and LayerNorm (gelu.ts, layer-norm.ts: WebAssembly loops, over values or rows).
 *
 * Only with the threaded wasm build, whose memory is a shared `WebAssembly.Memory` that workers can see
 * (src/kernels/wasm-threads.ts); otherwise `runSplit` returns false and the caller loops alone. The workers are
 * started once, synchronously (the main thread waits up to 5 s for them to report ready), `unref`'d so they
 * never keep a process alive, and driven through a small SharedArrayBuffer per worker with `Atomics.wait` /
 * `notify`: a job costs tens of microseconds, so only large arrays are split. The loop body is a plain function
 * whose source is sent to the workers, so every thread does exactly the same float arithmetic (the result is
 * identical to a one-thread run: tests/train/adamw.test.ts). A kernel may come with a compiled WebAssembly module
 * that imports the heap as `env.memory` (wasm-module.ts): every thread instantiates it once on the shared memory
 * and hands its exports to the loop body, which then only calls them (gelu.ts).
 *
 * `TUNEBOOK_HEAP_WORKERS=0` turns the split off.
 */
import * as tf from "@tensorflow/tfjs";
import { Worker } from "node:worker_threads";
import { wasmMemory } from "./wasm-heap";

/** Environment variable: `0` to keep the loops on the main thread. */
export const HEAP_WORKERS_ENV = "TUNEBOOK_HEAP_WORKERS";

/** The exports of a kernel's WebAssembly module, instantiated on the heap (functions of numbers). */
export type HeapKernelExports = Record<string, (...args: number[]) => unknown>;

/**
 * A loop body: `(heap, offsets, start, end, args, wasm)` over elements [start, end) of arrays at byte `offsets` of
 * the heap; `wasm` holds the exports of the module registered with it (if any), instantiated on the same memory.
 * Must not reference anything outside itself (its source text is what the workers run).
 */
export type HeapKernel = (
  heap: ArrayBufferLike,
  offsets: readonly number[],
  start: number,
  end: number,
  args: readonly number[],
  wasm?: HeapKernelExports,
) => void;

/** Arrays smaller than this run on the main thread alone (the hand-off costs more than it saves). */
export const MIN_SPLIT = 1 << 16;

const MAX_OFFSETS = 8;
const MAX_ARGS = 16;
// control block per worker (Int32): [state, kernel id, start, end, nOffsets, nArgs]; then Float64 offsets and args
const IDLE = 0,
  JOB = 1,
  DONE = 2,
  FAILED = 3,
  READY = 4;

interface PoolWorker {
  worker: Worker;
  ctrl: Int32Array;
  nums: Float64Array;
}

interface Pool {
  memory: WebAssembly.Memory;
  workers: PoolWorker[];
  /** Kernels registered when the workers started: ids below this are known to them. */
  kernelCount: number;
}

let pool: Pool | null | undefined;
let splits = 0;

/** How many workers run (0 before the first split or without a pool) and how many splits ran so far. */
export function heapWorkerStats(): { workers: number; splits: number } {
  return { workers: pool ? pool.workers.length : 0, splits };
}

const WORKER_SOURCE = `
"use strict";
const { workerData } = require("worker_threads");
const { memory, ctrlBuffer, modules } = workerData;
const instances = [];
const ctrl = new Int32Array(ctrlBuffer, 0, 8);
const nums = new Float64Array(ctrlBuffer, 32, ${MAX_OFFSETS + MAX_ARGS});
const kernels = [];
Atomics.store(ctrl, 0, ${READY});
Atomics.notify(ctrl, 0);
for (;;) {
  let st;
  while ((st = Atomics.load(ctrl, 0)) !== ${JOB}) Atomics.wait(ctrl, 0, st);
  try {
    const id = ctrl[1];
    if (!kernels[id]) throw new Error("unknown kernel " + id);
    const nOff = ctrl[4], nArgs = ctrl[5];
    const offsets = Array.from(nums.subarray(0, nOff));
    const args = Array.from(nums.subarray(${MAX_OFFSETS}, ${MAX_OFFSETS} + nArgs));
    if (modules[id] && !instances[id]) instances[id] = new WebAssembly.Instance(modules[id], { env: { memory } }).exports;
    kernels[id](memory.buffer, offsets, ctrl[2], ctrl[3], args, instances[id]);
    Atomics.store(ctrl, 0, ${DONE});
  } catch (e) {
    Atomics.store(ctrl, 0, ${FAILED});
  }
  Atomics.notify(ctrl, 0);
}
`;

function wantedWorkers(): number {
  if (process.env[HEAP_WORKERS_ENV]?.trim() === "0") return 0;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const n = require("@tensorflow/tfjs-backend-wasm").getThreadsCount?.() ?? 1;
    return Math.max(0, Math.min(7, n - 1));
  } catch {
    return 0;
  }
}

/** Start the workers once (null when the heap is not shared, the split is off, or a worker did not start). */
function getPool(): Pool | null {
  if (pool !== undefined) return pool;
  if (tf.getBackend() !== "wasm") return null; // not decided yet: the backend may still become wasm
  pool = null;
  const memory = wasmMemory();
  const n = wantedWorkers();
  if (!memory || !(memory.buffer instanceof SharedArrayBuffer) || n === 0) return null;
  const workers: PoolWorker[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const ctrlBuffer = new SharedArrayBuffer(32 + 8 * (MAX_OFFSETS + MAX_ARGS));
      const worker = new Worker(workerSource(), {
        eval: true,
        workerData: { memory, ctrlBuffer, modules: registered.map((r) => r.module) },
      });
      worker.unref();
      // a worker that dies is noticed by its control block (it never reports ready, or never finishes a slice);
      // without a listener its 'error' event would crash the process
      worker.on("error", () => undefined);
      const ctrl = new Int32Array(ctrlBuffer, 0, 8);
      workers.push({ worker, ctrl, nums: new Float64Array(ctrlBuffer, 32, MAX_OFFSETS + MAX_ARGS) });
      if (Atomics.wait(ctrl, 0, IDLE, 5000) === "timed-out" && Atomics.load(ctrl, 0) !== READY)
        throw new Error("a heap worker did not start within 5 s");
      Atomics.store(ctrl, 0, IDLE);
    }
  } catch {
    for (const w of workers) void w.worker.terminate();
    return null;
  }
  pool = { memory, workers, kernelCount: registered.length };
  return pool;
}

/** Kernels known to the workers, by id (their source is part of the worker script), with their modules. */
const registered: { kernel: HeapKernel; module?: WebAssembly.Module }[] = [];
/** This thread's instances of the registered modules, for the memory they were made on. */
const instances = new Map<number, { memory: WebAssembly.Memory; exports: HeapKernelExports }>();

function indexOfKernel(kernel: HeapKernel): number {
  return registered.findIndex((r) => r.kernel === kernel);
}

/**
 * Make a kernel known to the workers: call at module load, for each kernel a module splits, so that it is
 * registered before the workers start (they are started by the first split). `module` (optional) is compiled
 * WebAssembly importing `env.memory`; each thread instantiates it on the heap. Returns its id.
 */
export function registerHeapKernel(kernel: HeapKernel, module?: WebAssembly.Module): number {
  const known = indexOfKernel(kernel);
  if (known >= 0) return known;
  registered.push({ kernel, module });
  return registered.length - 1;
}

/** The main thread's instance of kernel `id`'s module on `memory` (undefined for a kernel without one). */
function exportsOn(id: number, memory: WebAssembly.Memory): HeapKernelExports | undefined {
  const module = registered[id]?.module;
  if (!module) return undefined;
  const known = instances.get(id);
  if (known && known.memory === memory) return known.exports;
  // (not named `exports`: in the CommonJS build that would shadow the module's own exports object)
  const made = new WebAssembly.Instance(module, { env: { memory } }).exports as HeapKernelExports;
  instances.set(id, { memory, exports: made });
  return made;
}

/**
 * Run `kernel` over [0, n) of the heap `memory`: split across the workers when `runSplit` can, otherwise on this
 * thread alone. `memory` defaults to the wasm backend's; a kernel with a module needs a shared memory. `perItem`:
 * elements per index (a row's length for a kernel over rows).
 */
export function runOnHeap(
  kernel: HeapKernel,
  offsets: readonly number[],
  n: number,
  args: readonly number[],
  memory: WebAssembly.Memory | undefined = wasmMemory(),
  perItem = 1,
): void {
  if (!memory) throw new Error("runOnHeap: no WebAssembly memory (not on the wasm backend)");
  if (memory === wasmMemory() && runSplit(kernel, offsets, n, args, perItem)) return;
  const id = indexOfKernel(kernel);
  if (id < 0) throw new Error("runOnHeap: the kernel is not registered (registerHeapKernel)");
  kernel(memory.buffer, offsets, 0, n, args, exportsOn(id, memory));
}

/** The worker script with every registered kernel defined up front. */
function workerSource(): string {
  const defs = registered.map((r, i) => `kernels[${i}] = (${r.kernel.toString()});`).join("\n");
  return WORKER_SOURCE.replace("const kernels = [];", `const kernels = [];\n${defs}`);
}

/**
 * Run `kernel` over [0, n) split across the main thread and the workers. Returns false (nothing done) when there
 * is no pool or n·perItem (the elements touched; `perItem` is a row's length for a kernel over rows) is below
 * `MIN_SPLIT`; the caller then runs `kernel(heap, offsets, 0, n, args)` itself. Throws if a worker fails (the
 * arrays may then be partly updated: the caller's state is not trustworthy).
 */
export function runSplit(
  kernel: HeapKernel,
  offsets: readonly number[],
  n: number,
  args: readonly number[],
  perItem = 1,
): boolean {
  if (n * perItem < MIN_SPLIT || offsets.length > MAX_OFFSETS || args.length > MAX_ARGS) return false;
  const id = indexOfKernel(kernel);
  if (id < 0) return false;
  const p = getPool();
  if (!p || id >= p.kernelCount) return false;
  const parts = p.workers.length + 1;
  const per = Math.ceil(n / parts / 4) * 4; // slices on 16-byte boundaries
  const started: PoolWorker[] = [];
  for (let w = 0; w < p.workers.length; w++) {
    const start = per * (w + 1),
      end = Math.min(n, per * (w + 2));
    if (start >= end) break;
    const pw = p.workers[w];
    pw.ctrl[1] = id;
    pw.ctrl[2] = start;
    pw.ctrl[3] = end;
    pw.ctrl[4] = offsets.length;
    pw.ctrl[5] = args.length;
    pw.nums.set(offsets, 0);
    pw.nums.set(args, MAX_OFFSETS);
    Atomics.store(pw.ctrl, 0, JOB);
    Atomics.notify(pw.ctrl, 0);
    started.push(pw);
  }
  kernel(p.memory.buffer, offsets, 0, Math.min(n, per), args, exportsOn(id, p.memory));
  let failed = false;
  for (const pw of started) {
    let st: number;
    while ((st = Atomics.load(pw.ctrl, 0)) === JOB) {
      if (Atomics.wait(pw.ctrl, 0, JOB, 60_000) === "timed-out" && Atomics.load(pw.ctrl, 0) === JOB) {
        throw new Error("a heap worker did not finish its slice within 60 s");
      }
    }
    if (st === FAILED) failed = true;
    Atomics.store(pw.ctrl, 0, IDLE);
  }
  if (failed) throw new Error("a heap worker failed on its slice (the update is incomplete)");
  splits++;
  return true;
}
