/**
 * LayerNorm over the last axis, `(x − mean)/√(var + eps)·w + b` (biased variance, as PyTorch), as one custom op that
 * saves only `x̂` and `1/σ` for its gradient. Backward, per row: `dx̂ = dy·w`,
 * `dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/σ`, `dw = Σ dy·x̂`, `db = Σ dy` (the column sums by `colSum`).
 *
 * Why a kernel: through tfjs ops the forward pass is ≈ 10 element-wise ops and the backward ≈ 9, each a separate
 * pass over `[B·T, C]` on one thread. On the wasm backend with a shared heap each way is ONE pass per row (three
 * sweeps of the row, in cache), rows split across the heap workers (heap-workers.ts), as a small WebAssembly module
 * (wasm-module.ts; the same loops in JavaScript, kept as the tests' reference, ran ≈ 2.6× slower: 3.4 vs 1.3 ms
 * for [1024, 512] on a loaded machine), registered as the wasm kernels `LayerNormFused` / `LayerNormFusedGrad`
 * (named in `tf.profile`). Row sums are float64, stores float32. Elsewhere the tfjs ops run (`layerNormPlain`, also
 * a reference in tests/kernels/layer-norm.test.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { customOp } from "./custom-op";
import { type HeapKernelExports, registerHeapKernel, runOnHeap } from "./heap-workers";
import { colSum } from "./linear";
import { backendInternals } from "./tfjs-internals";
import { heapView, onWasmHeap, registerWasmKernels, sharedHeap, type WasmKernelArgs } from "./wasm-heap";
import { layerNormModule } from "./layer-norm-wasm";

/**
 * The forward arithmetic in JavaScript, the reference the module must match bit for bit (tests): rows [start, end)
 * of x `[rows, C]` at `o[0]`, with w `[C]` at `o[1]`, b at `o[2]`: y at `o[3]`, x̂ at `o[4]`, 1/σ `[rows]` at
 * `o[5]`; `a` = [C, eps].
 */
export function layerNormForwardJs(
  heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  a: readonly number[],
): void {
  const C = a[0],
    eps = a[1];
  const x = new Float32Array(heap, o[0], end * C),
    w = new Float32Array(heap, o[1], C),
    b = new Float32Array(heap, o[2], C),
    y = new Float32Array(heap, o[3], end * C),
    xh = new Float32Array(heap, o[4], end * C),
    rs = new Float32Array(heap, o[5], end);
  for (let r = start; r < end; r++) {
    const base = r * C;
    let s = 0;
    for (let j = 0; j < C; j++) s += x[base + j];
    const mean = s / C;
    let v = 0;
    for (let j = 0; j < C; j++) {
      const d = x[base + j] - mean;
      v += d * d;
    }
    const rstd = 1 / Math.sqrt(v / C + eps);
    rs[r] = rstd;
    for (let j = 0; j < C; j++) {
      const h = (x[base + j] - mean) * rstd; // x̂ (float64 until stored)
      xh[base + j] = h;
      y[base + j] = h * w[j] + b[j];
    }
  }
}
/**
 * The backward arithmetic in JavaScript (the reference): rows [start, end) of dy `[rows, C]` at `o[0]`, x̂ at
 * `o[1]`, 1/σ at `o[2]`, w at `o[3]`: dx at `o[4]` and dy·x̂ (for dw) at `o[5]`; `a` = [C].
 */
export function layerNormBackwardJs(
  heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  a: readonly number[],
): void {
  const C = a[0];
  const dy = new Float32Array(heap, o[0], end * C),
    xh = new Float32Array(heap, o[1], end * C),
    rs = new Float32Array(heap, o[2], end),
    w = new Float32Array(heap, o[3], C),
    dx = new Float32Array(heap, o[4], end * C),
    dyxh = new Float32Array(heap, o[5], end * C);
  for (let r = start; r < end; r++) {
    const base = r * C;
    let sd = 0,
      sdx = 0;
    for (let j = 0; j < C; j++) {
      const g = dy[base + j] * w[j]; // dx̂
      sd += g;
      sdx += g * xh[base + j];
    }
    const meanD = sd / C,
      meanDX = sdx / C,
      rstd = rs[r];
    for (let j = 0; j < C; j++) {
      const g = dy[base + j] * w[j];
      dx[base + j] = (g - meanD - xh[base + j] * meanDX) * rstd;
      dyxh[base + j] = dy[base + j] * xh[base + j];
    }
  }
}

/** Loop body for the heap workers: the module's forward over rows [start, end) (offsets and args as `layerNormForwardJs`). */
export function layerNormForwardSlice(
  _heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  a: readonly number[],
  wasm?: HeapKernelExports,
): void {
  const C = a[0],
    row = 4 * C * start;
  wasm!.layerNormForward(o[0] + row, o[1], o[2], o[3] + row, o[4] + row, o[5] + 4 * start, end - start, C, a[1]);
}
registerHeapKernel(layerNormForwardSlice, layerNormModule);

/** Loop body: the module's backward over rows [start, end) (offsets and args as `layerNormBackwardJs`). */
export function layerNormBackwardSlice(
  _heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  a: readonly number[],
  wasm?: HeapKernelExports,
): void {
  const C = a[0],
    row = 4 * C * start;
  wasm!.layerNormBackward(o[0] + row, o[1] + row, o[2] + 4 * start, o[3], o[4] + row, o[5] + row, end - start, C);
}
registerHeapKernel(layerNormBackwardSlice, layerNormModule);

const FORWARD = "LayerNormFused";
const BACKWARD = "LayerNormFusedGrad";

/** The wasm kernel `LayerNormFused`: `{x, w, b}`, attrs `{eps}` → [y, x̂, 1/σ]. */
function forwardKernel({ inputs, attrs, backend }: WasmKernelArgs): tf.TensorInfo[] {
  const { x, w, b } = inputs;
  const C = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / C;
  const be = backendInternals(backend);
  const y = be.makeOutput!(x.shape, "float32"),
    xh = be.makeOutput!(x.shape, "float32"),
    rs = be.makeOutput!([...x.shape.slice(0, -1), 1], "float32"); // all allocated before the views are taken
  const offsets = [x, w, b, y, xh, rs].map((t) => heapView(t)!.byteOffset);
  runOnHeap(layerNormForwardSlice, offsets, rows, [C, attrs!.eps as number], undefined, C);
  return [y, xh, rs];
}

/** The wasm kernel `LayerNormFusedGrad`: `{dy, xhat, rstd, w}` → [dx, dy·x̂]. */
function backwardKernel({ inputs, backend }: WasmKernelArgs): tf.TensorInfo[] {
  const { dy, xhat, rstd, w } = inputs;
  const C = dy.shape[dy.shape.length - 1];
  const rows = tf.util.sizeFromShape(dy.shape) / C;
  const be = backendInternals(backend);
  const dx = be.makeOutput!(dy.shape, "float32"),
    dyxh = be.makeOutput!(dy.shape, "float32");
  const offsets = [dy, xhat, rstd, w, dx, dyxh].map((t) => heapView(t)!.byteOffset);
  runOnHeap(layerNormBackwardSlice, offsets, rows, [C], undefined, C);
  return [dx, dyxh];
}

registerWasmKernels([
  [FORWARD, forwardKernel],
  [BACKWARD, backwardKernel],
]);

/** Whether the fused kernels run for these tensors: wasm with a shared heap, float32, data on the heap. */
function fusedFor(...ts: tf.Tensor[]): boolean {
  return layerNormModule !== undefined && sharedHeap() && onWasmHeap(...ts);
}

/** The gradient from `dx̂`'s formula by tfjs ops (the fallback). */
function plainGrad(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, w: tf.Tensor): tf.Tensor[] {
  const C = dy.shape[dy.rank - 1];
  const dxhat = tf.mul(dy, w); // [B, T, C]
  const meanD = tf.mean(dxhat, -1, true); // [B, T, 1]
  const meanDX = tf.mean(tf.mul(dxhat, xhat), -1, true); // [B, T, 1]
  const dx = tf.mul(tf.sub(tf.sub(dxhat, meanD), tf.mul(xhat, meanDX)), rstd); // [B, T, C]
  const dy2 = tf.reshape(dy, [-1, C]); // [N, C]
  return [dx, colSum(tf.mul(dy2, tf.reshape(xhat, [-1, C]))), colSum(dy2)]; // dx, dw [C], db [C]
}

const plainOps = new Map<number, (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor>();
const fusedOps = new Map<number, (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/** The tfjs-ops LayerNorm custom op for this eps. */
function plainOp(eps: number): (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  let f = plainOps.get(eps);
  if (!f) {
    f = customOp<tf.Tensor>(([x, w, b], save) => {
      const { mean, variance } = tf.moments(x, -1, true); // [B, T, 1] each
      const rstd = tf.rsqrt(tf.add(variance, eps)); // [B, T, 1]
      const xhat = tf.mul(tf.sub(x, mean), rstd); // [B, T, C]
      save([xhat, rstd]);
      return {
        value: tf.add(tf.mul(xhat, w), b), // [B, T, C]
        gradFunc: (dy, [sxhat, srstd]) => plainGrad(dy, sxhat, srstd, w),
      };
    });
    plainOps.set(eps, f);
  }
  return f;
}

/** The fused LayerNorm custom op for this eps. */
function fusedOp(eps: number): (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  let f = fusedOps.get(eps);
  if (!f) {
    f = customOp<tf.Tensor>(([x, w, b], save) => {
      const [y, xhat, rstd] = tf.engine().runKernel(FORWARD, { x, w, b }, { eps }) as tf.Tensor[];
      save([xhat, rstd]);
      return {
        value: y, // [B, T, C]
        gradFunc: (dy, [sxhat, srstd]) => {
          if (!fusedFor(dy, sxhat, srstd, w)) return plainGrad(dy, sxhat, srstd, w);
          const C = dy.shape[dy.rank - 1];
          const [dx, dyxh] = tf.engine().runKernel(BACKWARD, { dy, xhat: sxhat, rstd: srstd, w }) as tf.Tensor[];
          return [dx, colSum(tf.reshape(dyxh, [-1, C])), colSum(tf.reshape(dy, [-1, C]))]; // dx, dw [C], db [C]
        },
      };
    });
    fusedOps.set(eps, f);
  }
  return f;
}

/**
 * LayerNorm of x `[..., C]` with weight and bias `[C]`, differentiable (first order), saving only `x̂` and `1/σ`:
 * one fused pass each way on the wasm heap where it can, tfjs ops elsewhere.
 *
 * @example
 * layerNorm(tf.randomNormal([2, 4]), tf.ones([4]), tf.zeros([4]), 1e-5); // rows of mean 0, variance ≈ 1
 */
export function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  return fusedFor(x, w, b) ? fusedOp(eps)(x, w, b) : plainOp(eps)(x, w, b);
}

/** The same op through tfjs ops only (the fallback; the reference in tests). */
export function layerNormPlain(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  return plainOp(eps)(x, w, b);
}
