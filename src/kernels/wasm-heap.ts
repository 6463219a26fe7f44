/**
 * Direct access to a tensor's data on the WebAssembly backend's heap, for the few places that write into a
 * buffer they own (AdamW's state, the fused loss's softmax, a checkpoint streamed in) or hand it to native code
 * (native-blas.ts).
 *
 * The heap is read from the module's `wasmMemory` when it is exposed: in the threaded build the memory is a
 * growable SharedArrayBuffer, and a view made from a stale `HEAPU8` would end at the old size.
 */
import * as tf from "@tensorflow/tfjs";
import { backendInternals } from "./tfjs-internals";

/** The wasm backend's module memory, or undefined (another backend, or a build that does not expose it). */
export function wasmMemory(): WebAssembly.Memory | undefined {
  return tf.getBackend() === "wasm" ? backendInternals().wasm?.wasmMemory : undefined;
}

/**
 * Float32 view of a tensor's data on the WebAssembly heap, or null (another backend or dtype). Takes a tensor or
 * a kernel's `TensorInfo` (dataId, shape, dtype).
 */
export function heapView(t: { dataId: object; shape: readonly number[]; dtype: string }): Float32Array | null {
  if (t.dtype !== "float32") return null;
  const offset = heapOffset(t);
  if (offset === null) return null;
  return new Float32Array(heapBuffer()!, offset, tf.util.sizeFromShape(t.shape as number[]));
}

/**
 * The wasm heap's buffer now: the threaded build's shared memory, or the module's `HEAPU8` (re-read it after an
 * allocation: growth replaces the buffer); undefined off the wasm backend.
 */
export function heapBuffer(): ArrayBufferLike | undefined {
  const wasm = backendInternals().wasm;
  return wasm?.wasmMemory?.buffer ?? wasm?.HEAPU8.buffer;
}

/** Byte offset of a tensor's data (any dtype: an int32 tensor's too) on the WebAssembly heap, or null. */
export function heapOffset(t: { dataId: object }): number | null {
  if (tf.getBackend() !== "wasm") return null;
  const backend = backendInternals();
  const info = backend.dataIdMap?.get(t.dataId);
  if (!info || typeof info.memoryOffset !== "number" || !backend.wasm) return null;
  return info.memoryOffset;
}

/** Whether this tensor is the only holder of its buffer (so writing into it changes nothing else). */
export function soleOwner(t: tf.Tensor): boolean {
  const backend = backendInternals();
  return typeof backend.refCount === "function" && backend.refCount(t.dataId) === 1;
}

/**
 * Whether a kernel can read these tensors on the heap and write its outputs there: the wasm backend makes its
 * outputs on the heap (`makeOutput`), and every tensor is float32, non-empty and on the heap. What tunebook's own
 * heap kernels (gelu.ts, layer-norm.ts, qkv-heads.ts) check before they run.
 */
export function onWasmHeap(...ts: tf.Tensor[]): boolean {
  if (!wasmMemory() || !backendInternals().makeOutput) return false;
  return ts.every((t) => t.dtype === "float32" && t.size > 0 && heapView(t) !== null);
}

/** Whether the heap is shared memory (the threaded build): what a WebAssembly module importing it needs. */
export function sharedHeap(): boolean {
  return wasmMemory()?.buffer instanceof SharedArrayBuffer;
}

/** What a kernel registered with `registerWasmKernels` receives. */
export type WasmKernelArgs = {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
};

/**
 * Register kernels on the wasm backend by name, each once (a module loaded twice keeps the first registration).
 * @example
 * registerWasmKernels([["GeluExact", forwardKernel], ["GeluExactGrad", backwardKernel]]);
 */
export function registerWasmKernels(kernels: readonly (readonly [string, unknown])[]): void {
  for (const [kernelName, kernelFunc] of kernels)
    if (!tf.getKernel(kernelName, "wasm"))
      tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as tf.KernelFunc });
}
