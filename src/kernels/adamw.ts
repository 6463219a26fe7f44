/**
 * The fused AdamW update (PyTorch's `torch.optim.AdamW` arithmetic; train/adamw.ts holds the optimizer and its
 * tensor-op path): one pass over the WebAssembly heap per parameter, split across the heap workers when the
 * threaded build runs.
 */
import * as tf from "@tensorflow/tfjs";
import { registerHeapKernel, runSplit } from "./heap-workers";
import { heapView, soleOwner } from "./wasm-heap";

/** The numbers of one AdamW update (bias corrections folded in). */
export interface FusedAdamWStep {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** 1 / √(1 − β2^t). */
  invSqrtBc2: number;
  /** 1 − lr·wd, or 1 where the parameter is not decayed. */
  decay: number;
  gradScale: number;
}

/**
 * AdamW on elements [start, end) of p, m, v, g and the new parameter at byte `o` of the wasm heap (`a`: β1, β2, ε,
 * step size, 1/√(1 − β2^t), decay factor, gradient scale). m and v are updated in place. Self-contained: its
 * source is what the heap workers run on their slices (heap-workers.ts).
 */
function adamwSlice(
  heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  a: readonly number[],
): void {
  const pv = new Float32Array(heap, o[0], end),
    mv = new Float32Array(heap, o[1], end),
    vv = new Float32Array(heap, o[2], end);
  const gv = new Float32Array(heap, o[3], end),
    nv = new Float32Array(heap, o[4], end);
  const beta1 = a[0],
    beta2 = a[1],
    eps = a[2],
    stepSize = a[3],
    invSqrtBc2 = a[4],
    decay = a[5],
    gradScale = a[6];
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  for (let i = start; i < end; i++) {
    const gi = gv[i] * gradScale;
    mv[i] = beta1 * mv[i] + c1 * gi; // m ← β1 m + (1-β1) g   (stored as float32)
    vv[i] = beta2 * vv[i] + c2 * gi * gi; // v ← β2 v + (1-β2) g²
    nv[i] = pv[i] * decay - (stepSize * mv[i]) / (Math.sqrt(vv[i]) * invSqrtBc2 + eps); // p(1 - lr·wd) - step·m/(√v̂ + ε)
  }
}
registerHeapKernel(adamwSlice);

/**
 * The whole AdamW update of one parameter in ONE pass on the WebAssembly heap: m and v are updated in place (no
 * new buffers: the optimizer state stays where it is, so the heap does not fragment step after step) and the
 * new parameter is written into one fresh buffer (not in place: the wasm backend caches XNNPACK's packed copy
 * of a matmul operand by buffer, so a weight's values must never change under the same buffer). One
 * parameter-sized temporary instead of the 12 element-wise ops of the tensor path. Returns false (nothing done)
 * off wasm, or when m or v shares its buffer with another tensor; the caller then runs the tensor path.
 *
 * @example
 * if (!fusedAdamW(p, m, v, g, { beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize, invSqrtBc2, decay: 1, gradScale: 1 })) {
 *   // the tensor-op update
 * }
 */
export function fusedAdamW(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, k: FusedAdamWStep): boolean {
  if (tf.getBackend() !== "wasm" || !soleOwner(m) || !soleOwner(v) || g.size !== p.size) return false;
  const next = tf.fill(p.shape, 0, "float32"); // allocated on the heap before the views are taken (growth would move it)
  const [pv, mv, vv, gv, nv] = [p, m, v, g, next].map(heapView);
  if (!pv || !mv || !vv || !gv || !nv) {
    next.dispose();
    return false;
  }
  const { beta1, beta2, eps, stepSize, invSqrtBc2, decay, gradScale } = k;
  const offsets = [pv, mv, vv, gv, nv].map((a) => a.byteOffset);
  const args = [beta1, beta2, eps, stepSize, invSqrtBc2, decay, gradScale];
  if (!runSplit(adamwSlice, offsets, pv.length, args)) adamwSlice(pv.buffer, offsets, 0, pv.length, args);
  p.assign(next);
  next.dispose(); // the variable holds the buffer now
  return true;
}
