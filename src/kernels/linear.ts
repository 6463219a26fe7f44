/**
 * Dense products `x·Wᵀ (+ b)` with W in Hugging Face's layout `[out, in]`: the trainable one (`linear`), the frozen
 * one (`frozenLinear`: gradient for the input only) and the column sums their bias gradients need (`colSum`).
 *
 * Why custom gradients: on the WebAssembly backend a 2-D matmul with a transposed operand (`transposeA/B`) takes a
 * slow scalar path, and tfjs's own matmul gradients use exactly those flags. So the `plain` set (select.ts) runs
 * forward and backward as explicit `tf.transpose` + plain `tf.matMul` (`(W·xᵀ)ᵀ`, which beat `x·Wᵀ` at every size
 * tried). When the matmuls run on a native BLAS (the `blas` set) transposed operands are free, and no transpose op
 * is made at all. While a decoding loop runs (`withTransposedWeights`), few-row products use a kept `[in, out]`
 * copy of each weight: `x·Wt` is XNNPACK's fast layout, its packed weights reused between tokens.
 */
import * as tf from "@tensorflow/tfjs";
import { customOp } from "./custom-op";
import { columnSums, matMulBias } from "./native-blas";
import { kernelSet } from "./select";

/** `x2d · Wᵀ (+ b)` with W `[out, in]`; forward and backward use plain matmuls only. */
const linearNoBias = customOp<tf.Tensor2D>(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.transpose(tf.matMul(w, tf.transpose(x))) as tf.Tensor2D, // (W·xᵀ)ᵀ: [N, out]
    gradFunc: (dy, [sx, sw]) => [
      tf.matMul(dy, sw), // dx: [N, out]·[out, in] = [N, in]
      tf.matMul(tf.transpose(dy), sx), // dW: [out, N]·[N, in] = [out, in]
    ],
  };
});

const linearBias = customOp<tf.Tensor2D>(([x, w, b], save) => {
  save([x, w]);
  return {
    value: tf.add(tf.transpose(tf.matMul(w, tf.transpose(x))), b) as tf.Tensor2D, // [N, out]
    gradFunc: (dy, [sx, sw]) => [
      tf.matMul(dy, sw), // dx: [N, in]
      tf.matMul(tf.transpose(dy), sx), // dW: [out, in]
      tf.sum(dy, 0), // db: [out]
    ],
  };
});

/**
 * Column sums of a `[N, C]` tensor (bias and LayerNorm gradients). On the `blas` set this is `1ᵀ·x`, one BLAS
 * `sgemv` at memory speed (`columnSums`; tfjs-wasm's `Sum` over axis 0 transposes first); otherwise `tf.sum(x, 0)`.
 *
 * @example
 * colSum(tf.ones([4, 3])); // [4, 4, 4]
 */
export function colSum(x: tf.Tensor): tf.Tensor1D {
  if (x.rank !== 2 || kernelSet() !== "blas") return tf.sum(x, 0) as tf.Tensor1D;
  const [n, c] = x.shape as [number, number];
  return columnSums(x as tf.Tensor2D) ?? (tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, n]), x), [c])) as tf.Tensor1D);
}

/** The same two layers on the `blas` set: `x·Wᵀ` forward, `dyᵀ·x` for dW, no transpose op. */
const linearNoBiasBlas = customOp<tf.Tensor2D>(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w, false, true) as tf.Tensor2D, // x·Wᵀ: [N, out]
    gradFunc: (dy, [sx, sw]) => [
      tf.matMul(dy, sw), // dx: [N, out]·[out, in] = [N, in]
      tf.matMul(dy, sx, true, false), // dW: dyᵀ·x = [out, in]
    ],
  };
});

const linearBiasBlas = customOp<tf.Tensor2D>(([x, w, b], save) => {
  save([x, w]);
  return {
    value: (matMulBias(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D) ??
      tf.add(tf.matMul(x, w, false, true), b)) as tf.Tensor2D, // x·Wᵀ + b: [N, out], one sgemm over rows holding b
    gradFunc: (dy, [sx, sw]) => [
      tf.matMul(dy, sw), // dx: [N, in]
      tf.matMul(dy, sx, true, false), // dW: [out, in]
      colSum(dy), // db: [out]
    ],
  };
});

/**
 * Transposed weights `[in, out]`, kept while a decoding loop runs (`withTransposedWeights`), keyed by the
 * weight's data (a variable that is assigned gets a new key, so a stale copy is never used).
 */
let transposed: Map<object, tf.Tensor2D> | null = null;
let transposedDepth = 0;

/** Rows up to which a layer uses the kept `[in, out]` weight: `x·Wt` (at larger row counts `(W·xᵀ)ᵀ` is as fast
 * and needs no copy). */
export const TRANSPOSED_MAX_ROWS = 64;

/**
 * Run `fn` (a decoding loop) with each dense layer's weight kept transposed once, so the few-row matmuls of
 * incremental decoding are `x·Wt` — XNNPACK's fast layout, its packed weights reused — instead of `(W·xᵀ)ᵀ`.
 * Costs one extra copy of the dense weights while it runs; everything is freed when the outermost call ends.
 *
 * @example
 * const ids = await withTransposedWeights(() => generate(model, prompt, { maxNewTokens: 64 }));
 */
export async function withTransposedWeights<T>(fn: () => Promise<T>): Promise<T> {
  transposedDepth++;
  if (!transposed) transposed = new Map();
  try {
    return await fn();
  } finally {
    if (--transposedDepth === 0) {
      for (const t of transposed.values()) t.dispose();
      transposed = null;
    }
  }
}

/** The kept `[in, out]` copy of `w` inside `withTransposedWeights`, else null. */
function keptTransposed(w: tf.Tensor2D): tf.Tensor2D | null {
  if (!transposed) return null;
  const key = (w as unknown as { dataId: object }).dataId;
  let t = transposed.get(key);
  if (!t) {
    t = tf.keep(tf.transpose(w) as tf.Tensor2D); // [in, out]
    transposed.set(key, t);
  }
  return t;
}

/**
 * `x2d·Wᵀ + b` `[N, out]` for `x2d` `[N, in]`, W `[out, in]`, b `[out]` or null; gradients for x, W and b.
 *
 * @example
 * linear(tf.ones([2, 3]), tf.ones([4, 3]), null).shape; // [2, 4]
 */
export function linear(x2d: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const wt = x2d.shape[0] <= TRANSPOSED_MAX_ROWS ? keptTransposed(weight) : null; // [in, out] while decoding
  if (wt) {
    const z = tf.matMul(x2d, wt); // [N, out]
    return (bias ? tf.add(z, bias) : z) as tf.Tensor2D;
  }
  const blas = kernelSet() === "blas";
  return bias
    ? (blas ? linearBiasBlas : linearBias)(x2d, weight, bias)
    : (blas ? linearNoBiasBlas : linearNoBias)(x2d, weight); // [N, out]
}

/**
 * `x2d·Wᵀ + b` with W and b frozen: the backward pass computes the input gradient only (W and b are read from the
 * closure, so no time or memory goes to weight gradients; tfjs's custom ops compute all their input gradients).
 *
 * @example
 * frozenLinear(tf.ones([2, 3]), tf.ones([4, 3]), null).shape; // [2, 4]
 */
export function frozenLinear(x2d: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const blas = kernelSet() === "blas";
  const op = tf.customGrad(((x: tf.Tensor) => {
    const fused = blas && bias ? matMulBias(x as tf.Tensor2D, weight, bias) : null; // x·Wᵀ + b in one sgemm
    const z = fused ?? (blas ? tf.matMul(x, weight, false, true) : tf.transpose(tf.matMul(weight, tf.transpose(x)))); // x·Wᵀ = (W·xᵀ)ᵀ: [N, out]
    return { value: fused ?? (bias ? tf.add(z, bias) : z), gradFunc: (dy: tf.Tensor) => [tf.matMul(dy, weight)] }; // dx: [N, out]·[out, in]
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor2D;
  return op(x2d);
}
