/**
 * The exact GELU `x·Φ(x)`, `Φ(x) = (1 + erf(x/√2))/2`, as one custom op that saves only x (its gradient is
 * `Φ(x) + x·φ(x)`, φ the normal density).
 *
 * Why a kernel: on the wasm backend the formula is ≈ 5 element-wise ops forward and ≈ 12 backward over the MLP's
 * widest tensors (`[B·T, 4C]`), each its own pass, Erf and Exp scalar and single-threaded (≈ 0.2 s of a pythia-70m
 * step at 8 × 128). Here forward and backward are each ONE pass over the wasm heap: a small WebAssembly module
 * (wasm-module.ts) that imports the backend's shared memory, four float32 lanes per SIMD step, run on slices by the
 * heap workers (heap-workers.ts), and registered as the wasm kernels `GeluExact` / `GeluExactGrad` so that
 * `tf.profile` names them. Used when the heap is a SharedArrayBuffer (the threaded build); otherwise, and off wasm,
 * the tfjs formula runs.
 *
 * The arithmetic is float32, as PyTorch's GELU on float32 tensors: erf from Abramowitz & Stegun 7.1.26
 * (`erfc(z) ≈ t·(a1 + a2 t + … + a5 t⁴)·e^{−z²}`, t = 1/(1 + p z), |error| ≤ 1.5e-7 for z ≥ 0), and `e^{−z²}`
 * (shared with φ in the backward pass) as `2^−k · e^r`, |r| ≤ ln2/2, by a degree-7 Taylor polynomial. float32
 * rather than float64 lanes: twice the values per SIMD step, for ≈ 1e-6 relative error on Φ(−|x|) on top of A&S's.
 * tests/kernels/gelu.test.ts checks both against float64 references over a dense range, with the float32 share
 * bounded operation by operation.
 */
import * as tf from "@tensorflow/tfjs";
import { customOp } from "./custom-op";
import { type HeapKernelExports, registerHeapKernel, runOnHeap } from "./heap-workers";
import { backendInternals } from "./tfjs-internals";
import { heapView, onWasmHeap, registerWasmKernels, sharedHeap, type WasmKernelArgs } from "./wasm-heap";
import { geluModule } from "./gelu-wasm";

/** Loop body for the heap workers: the module's forward over [start, end) of x at `o[0]`, y at `o[1]`. */
export function geluForwardSlice(
  _heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  _a: readonly number[],
  wasm?: HeapKernelExports,
): void {
  const n = end - start,
    x = o[0] + 4 * start,
    y = o[1] + 4 * start;
  const quads = n - (n % 4);
  wasm!.geluForward4(x, y, quads); // four float32 lanes at a time
  if (quads < n) wasm!.geluForward(x + 4 * quads, y + 4 * quads, n - quads); // the last 1–3
}
registerHeapKernel(geluForwardSlice, geluModule);

/** Loop body: the module's backward over [start, end) of x at `o[0]`, dy at `o[1]`, dx at `o[2]`. */
export function geluBackwardSlice(
  _heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  _a: readonly number[],
  wasm?: HeapKernelExports,
): void {
  const n = end - start,
    x = o[0] + 4 * start,
    dy = o[1] + 4 * start,
    dx = o[2] + 4 * start;
  const quads = n - (n % 4);
  wasm!.geluBackward4(x, dy, dx, quads);
  if (quads < n) wasm!.geluBackward(x + 4 * quads, dy + 4 * quads, dx + 4 * quads, n - quads);
}
registerHeapKernel(geluBackwardSlice, geluModule);

const FORWARD = "GeluExact";
const BACKWARD = "GeluExactGrad";

/** The wasm kernel `GeluExact`: `{x}` → y. */
function forwardKernel({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { x } = inputs;
  const out = backendInternals(backend).makeOutput!(x.shape, "float32"); // before the views: allocation may grow the heap
  const xv = heapView(x)!,
    yv = heapView(out)!;
  runOnHeap(geluForwardSlice, [xv.byteOffset, yv.byteOffset], xv.length, []);
  return out;
}

/** The wasm kernel `GeluExactGrad`: `{x, dy}` → dx. */
function backwardKernel({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { x, dy } = inputs;
  const out = backendInternals(backend).makeOutput!(x.shape, "float32");
  const xv = heapView(x)!,
    dyv = heapView(dy)!,
    dxv = heapView(out)!;
  runOnHeap(geluBackwardSlice, [xv.byteOffset, dyv.byteOffset, dxv.byteOffset], xv.length, []);
  return out;
}

registerWasmKernels([
  [FORWARD, forwardKernel],
  [BACKWARD, backwardKernel],
]);

/** Whether the fused kernels run for these tensors: wasm with a shared heap, float32, data on the heap. */
function fusedFor(...ts: tf.Tensor[]): boolean {
  return geluModule !== undefined && sharedHeap() && onWasmHeap(...ts);
}

/** The tfjs formula: the same op on every backend (the fallback, and the reference in tests). */
export const geluPlain = customOp<tf.Tensor>(([x], save) => {
  save([x]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)), // x/2·(1 + erf(x/√2))
    gradFunc: (dy, [sx]) => [plainGrad(dy, sx)],
  };
});

/** dy·(Φ(x) + x·φ(x)) by tfjs ops. */
function plainGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5); // Φ(x)
  const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI)); // φ(x)
  return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
}

const geluFused = customOp<tf.Tensor>(([x], save) => {
  save([x]);
  return {
    value: tf.engine().runKernel(FORWARD, { x }) as tf.Tensor,
    gradFunc: (dy, [sx]) => [
      fusedFor(sx, dy) ? (tf.engine().runKernel(BACKWARD, { x: sx, dy }) as tf.Tensor) : plainGrad(dy, sx),
    ],
  };
});

/**
 * The exact GELU `x·Φ(x)` (Hugging Face's `gelu`), differentiable, saving only x for the backward pass: one fused
 * pass each way on the wasm heap where it can, the tfjs formula elsewhere.
 *
 * @example
 * gelu(tf.tensor1d([-1, 0, 1])).print(); // [-0.1587, 0, 0.8413]
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return fusedFor(x) ? geluFused(x) : geluPlain(x);
}
