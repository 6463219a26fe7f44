/**
 * Rotating the first `rotaryDims` dims of each head by cos/sin tables (rotary position embedding, as GPT-NeoX
 * applies it). Two forms with the same values (float32 rounding of added zeros aside):
 * - split (the `plain` set): `[x1·cos − x2·sin, x2·cos + x1·sin, pass]` over the halves of the rotary part;
 * - matmul (the `blas` set): `x·cos' + (x·R)·sin'` with `cos' = [cos, cos, 1]`, `sin' = [sin, sin, 0]` and `R` the
 *   rotate-half matrix: no split or concat of the `[B, H, T, D]` activations (tfjs-wasm's SplitV/Concat on them
 *   cost more than the `[B·H·T, D]·[D, D]` product does on a BLAS).
 */
import * as tf from "@tensorflow/tfjs";
import { kernelSet } from "./select";

/**
 * Rotate `x` `[B, H, T, D]` by `cos`/`sin` `[B, 1, T, rotaryDims/2]`; the dims past `rotaryDims` pass through.
 *
 * @example
 * rotate(q, cos, sin, 16); // q: [B, H, T, 64]
 */
export function rotate(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, rotaryDims: number): tf.Tensor {
  if (rotaryDims === 0) return x;
  if (kernelSet() === "blas") return rotateMatmul(x, cos, sin, rotaryDims);
  const d = x.shape[x.rank - 1];
  const half = rotaryDims / 2;
  const parts = rotaryDims === d ? tf.split(x, [half, half], -1) : tf.split(x, [half, half, d - rotaryDims], -1);
  const [x1, x2] = parts; // [B, H, T, R/2] each
  const r1 = tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)); // [B, H, T, R/2]
  const r2 = tf.add(tf.mul(x2, cos), tf.mul(x1, sin)); // [B, H, T, R/2]
  return tf.concat(rotaryDims === d ? [r1, r2] : [r1, r2, parts[2]], -1); // [B, H, T, D]
}

const rotateHalfMatrices = new Map<string, Float32Array>();

/** `R` `[D, D]` with `x·R = [−x2, x1, 0]` (rotate_half on the first `rotaryDims` dims, zero on the rest). */
function rotateHalfMatrix(d: number, rotaryDims: number): Float32Array {
  const key = `${d}/${rotaryDims}`;
  let m = rotateHalfMatrices.get(key);
  if (!m) {
    const half = rotaryDims / 2;
    m = new Float32Array(d * d);
    for (let i = 0; i < half; i++) {
      m[(i + half) * d + i] = -1; // out[i] = −x[i + half]
      m[i * d + i + half] = 1; // out[i + half] = x[i]
    }
    rotateHalfMatrices.set(key, m);
  }
  return m;
}

/** The matmul form (see the file comment). */
function rotateMatmul(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, rotaryDims: number): tf.Tensor {
  const d = x.shape[x.rank - 1];
  const rows = x.size / d;
  return tf.tidy(() => {
    const pass = d - rotaryDims;
    const fill = (t: tf.Tensor, v: number) => (pass > 0 ? [t, t, tf.fill([...t.shape.slice(0, -1), pass], v)] : [t, t]);
    const cosF = tf.concat(fill(cos, 1), -1); // [B, 1, T, D]
    const sinF = tf.concat(fill(sin, 0), -1); // [B, 1, T, D]
    const rotated = tf.reshape(
      tf.matMul(tf.reshape(x, [rows, d]), tf.tensor2d(rotateHalfMatrix(d, rotaryDims), [d, d])),
      x.shape,
    ); // rotate_half(x)
    return tf.add(tf.mul(x, cosF), tf.mul(rotated, sinF));
  });
}
