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
  if (tf.getBackend() !== "wasm" || t.dtype !== "float32") return null;
  const backend = backendInternals();
  const info = backend.dataIdMap?.get(t.dataId);
  if (!info || typeof info.memoryOffset !== "number" || !backend.wasm) return null;
  const buffer = backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
  return new Float32Array(buffer, info.memoryOffset, tf.util.sizeFromShape(t.shape as number[]));
}

/** Whether this tensor is the only holder of its buffer (so writing into it changes nothing else). */
export function soleOwner(t: tf.Tensor): boolean {
  const backend = backendInternals();
  return typeof backend.refCount === "function" && backend.refCount(t.dataId) === 1;
}
