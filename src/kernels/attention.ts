/**
 * The two batched products of attention over `[B, H, ·, D]` heads: the scores `q·kᵀ` and the weighted values
 * `p·v`. On the `blas` set (select.ts) `kᵀ` is a BLAS flag; otherwise k is transposed explicitly, because
 * tfjs-wasm sends a transposed-operand batched product to a slow scalar loop. tfjs's own BatchMatMul (and its
 * gradient) is used as is for the plain products: splitting it into 2-D matmuls is no faster for attention-sized
 * batches and much slower for one-token decoding steps.
 */
import * as tf from "@tensorflow/tfjs";
import { leanReshape } from "./lean-ops";
import { kernelSet } from "./select";

/**
 * Batched `a·b` for rank-3 tensors with equal batch sizes (`[n, M, K]·[n, K, N]`), shape-checked.
 *
 * @example
 * bmm(tf.ones([8, 3, 16]), tf.ones([8, 16, 5])).shape; // [8, 3, 5]
 */
export function bmm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`bmm: expected [n, M, K]·[n, K, N], got [${a.shape}]·[${b.shape}]`);
  }
  return tf.matMul(a, b);
}

/**
 * Attention scores `q·kᵀ` `[B, H, T, Tk]` for q `[B, H, T, D]` (already scaled) and k `[B, H, Tk, D]`.
 *
 * @example
 * attentionScores(tf.ones([1, 2, 3, 4]), tf.ones([1, 2, 5, 4])).shape; // [1, 2, 3, 5]
 */
export function attentionScores(q: tf.Tensor, k: tf.Tensor): tf.Tensor4D {
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const Tk = k.shape[2] as number;
  const qs = tf.reshape(q, [B * H, T, D]); // [BH, T, D]
  const scores =
    kernelSet() === "blas"
      ? tf.matMul(qs, tf.reshape(k, [B * H, Tk, D]), false, true) // q·kᵀ with kᵀ as a BLAS flag
      : bmm(qs, tf.reshape(tf.transpose(k, [0, 1, 3, 2]), [B * H, D, Tk])); // [BH, T, Tk]
  return leanReshape(scores, [B, H, T, Tk]) as tf.Tensor4D; // [B, H, T, Tk]
}

/**
 * The attention output `p·v` `[B, H, T, D]` for probabilities p `[B, H, T, Tk]` and values v `[B, H, Tk, D]`.
 *
 * @example
 * attentionValues(tf.ones([1, 2, 3, 5]), tf.ones([1, 2, 5, 4])).shape; // [1, 2, 3, 4]
 */
export function attentionValues(p: tf.Tensor, v: tf.Tensor): tf.Tensor4D {
  const [B, H, T, Tk] = p.shape as [number, number, number, number];
  const D = v.shape[3] as number;
  const out = bmm(tf.reshape(p, [B * H, T, Tk]), tf.reshape(v, [B * H, Tk, D])); // [BH, T, D]
  return leanReshape(out, [B, H, T, D]) as tf.Tensor4D; // [B, H, T, D]
}
