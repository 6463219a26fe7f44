/**
 * Reshape, add and scale that keep nothing alive for the backward pass.
 *
 * Why: tfjs's own gradients of `Reshape` and `Add` save their inputs (`inputsToSave: ['x']`, `['a', 'b']`) only to
 * read their shapes, and a saved tensor keeps its whole buffer until the backward pass reaches it. In a transformer
 * block that holds, per layer, the q/k/v projection (`[N, 3C]`, kept by the reshape to heads), the attention scores
 * before the mask, the unscaled queries (kept by `Multiply`), each dense layer's output (kept by the reshape back to
 * `[B, T, out]`) and the residual stream (kept by the residual `Add`): ≈ 130 MiB of a pythia-70m step at 8 × 128,
 * none of it read again. These ops record one custom op that saves nothing; the shape they need is a closure.
 *
 * They do so only while a first-order gradient is recorded (the trainer's step). In a plain forward pass
 * (evaluation, decoding: hundreds of small ops per token) they are tfjs's ops, with no custom-op dispatch; inside a
 * gradient of a gradient too (custom ops give first-order gradients only).
 */
import * as tf from "@tensorflow/tfjs";
import { customOp } from "./custom-op";
import { gradientDepth } from "./tfjs-internals";

const firstOrder = (): boolean => gradientDepth() === 1;

/**
 * `tf.reshape(x, shape)`, saving nothing for its gradient.
 *
 * @example
 * leanReshape(tf.ones([2, 3, 4]), [6, 4]).shape; // [6, 4]
 */
export function leanReshape(x: tf.Tensor, shape: number[]): tf.Tensor {
  if (!firstOrder()) return tf.reshape(x, shape);
  const from = x.shape;
  return customOp<tf.Tensor>(([t]) => ({ value: tf.reshape(t, shape), gradFunc: (dy) => [tf.reshape(dy, from)] }))(x);
}

/**
 * `a + b` for tensors of the same shape, saving nothing for its gradient (different shapes: `tf.add`).
 *
 * @example
 * leanAdd(tf.ones([2, 3]), tf.ones([2, 3])); // all 2
 */
export function leanAdd(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (!firstOrder() || !tf.util.arraysEqual(a.shape, b.shape) || a.dtype !== b.dtype) return tf.add(a, b);
  return customOp<tf.Tensor>(([p, q]) => ({
    value: tf.add(p, q),
    gradFunc: (dy) => [tf.clone(dy), tf.clone(dy)], // one tensor per input: the tape disposes each on its own
  }))(a, b);
}

/**
 * `x · s` for a number s, saving nothing for its gradient (`tf.mul` keeps x for its own).
 *
 * @example
 * leanScale(tf.ones([2]), 0.5); // [0.5, 0.5]
 */
export function leanScale(x: tf.Tensor, s: number): tf.Tensor {
  if (!firstOrder()) return tf.mul(x, s);
  return customOp<tf.Tensor>(([t]) => ({ value: tf.mul(t, s), gradFunc: (dy) => [tf.mul(dy, s)] }))(x);
}

/**
 * `x + mask` for a constant `mask` that broadcasts to x's shape (attention's additive mask), saving nothing; the
 * mask gets NO gradient, so never pass something that is being trained.
 *
 * @example
 * addMask(tf.zeros([1, 2, 3, 3]), tf.zeros([1, 1, 3, 3])).shape; // [1, 2, 3, 3]
 */
export function addMask(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  if (!firstOrder()) return tf.add(x, mask);
  const out = tf.broadcast_util.assertAndGetBroadcastShape(x.shape, mask.shape);
  if (!tf.util.arraysEqual(out, x.shape)) return tf.add(x, mask);
  return customOp<tf.Tensor>(([t]) => ({ value: tf.add(t, mask), gradFunc: (dy) => [dy] }))(x);
}
