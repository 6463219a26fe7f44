/**
 * The wasm backend's `GatherV2` for the common case — whole rows along axis 0 (an embedding lookup, the fused loss
 * picking its scored rows) — as one contiguous copy per index on the heap.
 *
 * Why: tfjs-wasm's kernel computes every element's source index separately, one thread: looking up 1,024 rows of
 * the [50304, 512] embedding took ≈ 24 ms, and gathering 256 rows of [1024, 512] ≈ 5 ms (per-op profile of a
 * pythia-70m step, docs/performance.md); a row copy is a `copyWithin` of the row's bytes. Other axes, batch dims,
 * dtypes, and out-of-range indices (tfjs's own error message) go to the kernel it wraps. The gradient is tfjs's
 * own (registered by kernel name), so nothing else changes.
 */
import * as tf from "@tensorflow/tfjs";
import { backendInternals } from "./tfjs-internals";
import { heapBuffer, heapOffset } from "./wasm-heap";

let original: tf.KernelConfig | undefined;

function rowGather(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo,
      indices = args.inputs.indices as tf.TensorInfo;
    const attrs = (args.attrs ?? {}) as { axis?: number; batchDims?: number };
    const axis = (attrs.axis ?? 0) < 0 ? (attrs.axis as number) + x.shape.length : (attrs.axis ?? 0);
    const be = backendInternals(args.backend);
    if (
      axis !== 0 ||
      (attrs.batchDims ?? 0) !== 0 ||
      x.shape.length < 1 ||
      (x.dtype !== "float32" && x.dtype !== "int32") ||
      indices.dtype !== "int32" ||
      !be.makeOutput
    )
      return fallback(args);
    const rows = x.shape[0];
    const rowLen = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const n = tf.util.sizeFromShape(indices.shape as number[]);
    const ix = heapOffset(indices);
    if (ix === null || heapOffset(x) === null) return fallback(args);
    const before = heapBuffer();
    if (!before) return fallback(args);
    const idx = new Int32Array(before, ix, n);
    for (let i = 0; i < n; i++) if (!(idx[i] >= 0 && idx[i] < rows)) return fallback(args); // tfjs's error message
    const out = be.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    if (n * rowLen === 0) return out;
    const heap = new Int32Array(heapBuffer()!); // after makeOutput (it may grow the heap); 4-byte elements either dtype
    const src = heapOffset(x)! / 4,
      dst = heapOffset(out)! / 4,
      at = ix / 4;
    for (let i = 0; i < n; i++) {
      const s = src + heap[at + i] * rowLen;
      heap.copyWithin(dst + i * rowLen, s, s + rowLen);
    }
    return out;
  };
}

/**
 * Route the wasm backend's `GatherV2` through the row copy (once per process; call after the wasm backend has
 * started). Returns whether it is installed.
 */
export function installRowGather(): boolean {
  if (original) return true;
  const current = tf.getKernel("GatherV2", "wasm");
  if (!current || tf.getBackend() !== "wasm" || !heapBuffer()) return false;
  original = current;
  tf.unregisterKernel("GatherV2", "wasm");
  tf.registerKernel({ ...current, kernelFunc: rowGather(current.kernelFunc) });
  return true;
}
