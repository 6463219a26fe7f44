/** `tf.customGrad` with the inputs as an array and the save function apart (typed). */
import * as tf from "@tensorflow/tfjs";

/** What a custom op's body returns: the value and the gradient of each input. */
export type GradResult<T extends tf.Tensor> = { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[] };

/**
 * A differentiable op from a forward body that also says how to differentiate it. The ops built on it give
 * first-order gradients: their backward is not itself differentiated correctly, so do not take a gradient of a
 * gradient through them.
 *
 * @example
 * const square = customOp<tf.Tensor>(([x], save) => { save([x]); return { value: tf.square(x), gradFunc: (dy, [sx]) => [tf.mul(dy, tf.mul(sx, 2))] }; });
 */
export function customOp<T extends tf.Tensor>(
  fn: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => GradResult<T>,
): (...xs: tf.Tensor[]) => T {
  return tf.customGrad<T>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return fn(args.slice(0, -1) as tf.Tensor[], save);
  });
}
