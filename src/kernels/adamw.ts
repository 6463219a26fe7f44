/**
 * The fused AdamW update (PyTorch's `torch.optim.AdamW` arithmetic; train/adamw.ts holds the optimizer and its
 * tensor-op path): one pass over the WebAssembly heap per parameter, split across the heap workers when the
 * threaded build runs. With a shared heap the pass is the WebAssembly module of adamw-wasm.ts (four float32 lanes
 * per step, the wasm kernel `FusedAdamW`); otherwise the JavaScript loop `adamwSlice`. Both give the same bits.
 */
import * as tf from "@tensorflow/tfjs";
import { adamwModule } from "./adamw-wasm";
import { type HeapKernelExports, registerHeapKernel, runOnHeap, runSplit } from "./heap-workers";
import { backendInternals } from "./tfjs-internals";
import { heapView, registerWasmKernels, sharedHeap, soleOwner, type WasmKernelArgs } from "./wasm-heap";

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
  const f = Math.fround; // float32 arithmetic, as PyTorch's AdamW on float32 parameters (and adamw-wasm.ts)
  const beta1 = f(a[0]),
    beta2 = f(a[1]),
    eps = f(a[2]),
    stepSize = f(a[3]),
    invSqrtBc2 = f(a[4]),
    decay = f(a[5]),
    gradScale = f(a[6]);
  const c1 = f(1 - a[0]);
  const c2 = f(1 - a[1]);
  for (let i = start; i < end; i++) {
    const gi = f(gv[i] * gradScale);
    const mi = f(f(beta1 * mv[i]) + f(c1 * gi)); // m ← β1 m + (1-β1) g
    const vi = f(f(beta2 * vv[i]) + f(f(c2 * gi) * gi)); // v ← β2 v + (1-β2) g²
    mv[i] = mi;
    vv[i] = vi;
    nv[i] = f(f(pv[i] * decay) - f(f(stepSize * mi) / f(f(f(Math.sqrt(vi)) * invSqrtBc2) + eps))); // p(1 - lr·wd) - step·m/(√v̂ + ε)
  }
}
registerHeapKernel(adamwSlice);

/** Loop body for the heap workers: `adamwSlice`'s update by the module's `adamw4` (quads) and `adamw` (the rest). */
export function adamwWasmSlice(
  _heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  a: readonly number[],
  wasm?: HeapKernelExports,
): void {
  const n = end - start;
  const quads = n - (n % 4);
  const b = 4 * start;
  wasm!.adamw4(o[0] + b, o[1] + b, o[2] + b, o[3] + b, o[4] + b, quads, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
  if (quads < n) {
    const l = 4 * (start + quads);
    wasm!.adamw(o[0] + l, o[1] + l, o[2] + l, o[3] + l, o[4] + l, n - quads, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
  }
}
registerHeapKernel(adamwWasmSlice, adamwModule);

const KERNEL = "FusedAdamW";

/** The wasm kernel `FusedAdamW`: `{p, m, v, g}` → the new parameter; m and v are updated in place. */
function adamwKernel({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { p, m, v, g } = inputs;
  const out = backendInternals(backend).makeOutput!(p.shape, "float32"); // before the views: allocation may grow the heap
  const offsets = [p, m, v, g, out].map((t) => heapView(t)!.byteOffset);
  runOnHeap(adamwWasmSlice, offsets, tf.util.sizeFromShape(p.shape), attrs!.args as number[]);
  return out;
}
registerWasmKernels([[KERNEL, adamwKernel]]);

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
  const { beta1, beta2, eps, stepSize, invSqrtBc2, decay, gradScale } = k;
  const args = [beta1, beta2, eps, stepSize, invSqrtBc2, decay, gradScale];
  if (adamwModule && sharedHeap() && [p, m, v, g].every((t) => t.dtype === "float32" && heapView(t))) {
    const next = tf.engine().runKernel(KERNEL, { p, m, v, g }, { args } as unknown as tf.NamedAttrMap) as tf.Tensor;
    p.assign(next);
    next.dispose(); // the variable holds the buffer now
    return true;
  }
  const next = tf.fill(p.shape, 0, "float32"); // allocated on the heap before the views are taken (growth would move it)
  const [pv, mv, vv, gv, nv] = [p, m, v, g, next].map(heapView);
  if (!pv || !mv || !vv || !gv || !nv) {
    next.dispose();
    return false;
  }
  const offsets = [pv, mv, vv, gv, nv].map((a) => a.byteOffset);
  if (!runSplit(adamwSlice, offsets, pv.length, args)) adamwSlice(pv.buffer, offsets, 0, pv.length, args);
  p.assign(next);
  next.dispose(); // the variable holds the buffer now
  return true;
}
