/**
 * Every tfjs internal the fast paths read, typed and reached from here only, so that a tfjs upgrade that changes
 * one breaks one accessor (and its test in tests/kernels/internals.test.ts) rather than the model.
 *
 * The internals and who relies on them:
 * - the engine's `state.gradientDepth`: whether gradients are being recorded (`gradientDepth`);
 * - the engine's tape (`state.activeTape`, `startTape`, `endTape`, `scopedRun`, `tidy(name, f)`, the tape node's
 *   `inputs`/`outputs`/`saved`/`gradient`): the lean gradient walk (lean-grads.ts);
 * - the wasm backend's `dataIdMap` (`memoryOffset`), `wasm.HEAPU8` / `wasm.wasmMemory`: where a tensor's data
 *   sits on the heap (wasm-heap.ts);
 * - the backend's `refCount` and `incRef`: buffer ownership (wasm-heap.ts) and shared clones (share-clones.ts);
 * - the backend's `makeOutput` / `disposeData` and the engine's `makeTensorFromTensorInfo`: tensors whose storage
 *   is written in place (native-blas.ts, heap-tensor.ts);
 * - the wasm module's `PThread` worker lists and the `WASM_HAS_MULTITHREAD_SUPPORT` flag: the threaded build in
 *   Node (wasm-threads.ts).
 */
import * as tf from "@tensorflow/tfjs";

/** One recorded op of the engine's gradient tape (the fields read here; tfjs-core's `TapeNode`). */
export interface TapeNode {
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs's engine that drive a gradient tape (present in tfjs 4.x). */
export interface TapeEngine {
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

/** The engine as a `TapeEngine`, or null when a tfjs version does not look like one. */
export function tapeEngine(): TapeEngine | null {
  const e = tf.engine() as unknown as Partial<TapeEngine>;
  const ok =
    e.state &&
    typeof e.state.gradientDepth === "number" &&
    typeof e.startTape === "function" &&
    typeof e.endTape === "function" &&
    typeof e.scopedRun === "function";
  return ok ? (e as TapeEngine) : null;
}

/**
 * How many gradient computations (`tf.grad`, `tf.variableGrads`, ...) are recording right now: 0 in a plain
 * forward pass, 1 in a training step, 2 inside a gradient of a gradient. If a tfjs version hides it, 1 (assume a
 * gradient pass: computing gradients that are not needed is safe, skipping them is not).
 *
 * @example
 * if (gradientDepth() > 0) { ... } // the trainer's step
 */
export function gradientDepth(): number {
  return (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state?.gradientDepth ?? 1;
}

/** The backend-side fields read here (the wasm backend has them all; others some). */
export interface BackendInternals {
  dataIdMap?: { get(id: object): { memoryOffset?: number | null } | undefined };
  wasm?: { HEAPU8: Uint8Array; wasmMemory?: WebAssembly.Memory; PThread?: WasmPThread };
  refCount?(id: object): number;
  incRef?(id: object): void;
  makeOutput?(shape: number[], dtype: string): tf.TensorInfo;
  disposeData?(id: object): void;
}

/** Emscripten's pthread pool of the threaded wasm build. */
export interface WasmPThread {
  unusedWorkers: { terminate(): void }[];
  runningWorkers: { unref(): void }[];
}

/** The active backend's internals (a kernel's `args.backend` may be passed instead). */
export function backendInternals(backend: unknown = tf.backend()): BackendInternals {
  return backend as BackendInternals;
}

/** A tensor over a `TensorInfo` a kernel or `makeOutput` made (the engine takes ownership of its data). */
export function tensorFromInfo(info: tf.TensorInfo): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(info);
}
