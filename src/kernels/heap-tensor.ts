/**
 * A float32 tensor filled in place, for streaming a checkpoint straight into its final buffer: on the wasm backend
 * the buffer is allocated on the heap and written there (one copy of the weights in memory, not three); elsewhere a
 * Float32Array that becomes the tensor at the end.
 */
import * as tf from "@tensorflow/tfjs";
import { backendInternals, tensorFromInfo } from "./tfjs-internals";
import { heapView } from "./wasm-heap";

/** What `fillableTensor` returns. */
export interface FillableTensor {
  /** The storage to write (re-read on each call on wasm: the heap may grow, which moves it). */
  view: () => Float32Array;
  /** The tensor, once filled. */
  finish: () => tf.Tensor;
  /** Free it unfinished. */
  dispose: () => void;
}

/**
 * An uninitialised float32 tensor of `shape` and a view of its storage to fill.
 *
 * @example
 * const t = fillableTensor([2, 3]); t.view().set([1, 2, 3, 4, 5, 6]); const x = t.finish(); // [2, 3]
 */
export function fillableTensor(shape: number[]): FillableTensor {
  const backend = backendInternals();
  if (tf.getBackend() === "wasm" && backend.makeOutput) {
    const t = tensorFromInfo(backend.makeOutput(shape, "float32"));
    if (heapView(t)) return { view: () => heapView(t)!, finish: () => t, dispose: () => t.dispose() };
    t.dispose();
  }
  const data = new Float32Array(tf.util.sizeFromShape(shape));
  return { view: () => data, finish: () => tf.tensor(data, shape, "float32"), dispose: () => {} };
}
