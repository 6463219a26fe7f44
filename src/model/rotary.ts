/**
 * Rotary position embedding (RoPE; Su et al. 2021, "RoFormer") as GPT-NeoX applies it: only the first
 * `rotaryDims` of each head's dims rotate, with `rotate_half(x) = cat(−x2, x1)`:
 * `x_rot·cos + rotate_half(x_rot)·sin`, where cos/sin repeat the `rotaryDims/2` frequencies twice.
 *
 * The angles are computed in JavaScript with float32 rounding at each step, as PyTorch computes them in
 * float32: `invFreq[i] = 1 / base^(2i/dim)`, `angle = position · invFreq[i]`.
 * Reference: `GPTNeoXRotaryEmbedding` and `apply_rotary_pos_emb` in transformers' `modeling_gpt_neox.py`.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeMatMulActive } from "../kernels/native-blas";

const f32 = Math.fround;

/** `1 / base^(2i/dim)` for i < dim/2, rounded as float32 math would. */
export function inverseFrequencies(rotaryDims: number, base: number): Float32Array {
  const half = rotaryDims / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) out[i] = f32(1 / f32(base ** f32((2 * i) / rotaryDims)));
  return out;
}

/** cos and sin of each position's angles, `[B, 1, T, rotaryDims/2]` (broadcast over heads). */
export interface RotaryTables {
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
}

/**
 * Build the cos/sin tables for a `[B, T]` grid of positions (row-major `positions`). `scale` divides positions
 * (HF's linear `rope_scaling`).
 *
 * @example
 * const { cos, sin } = rotaryTables(Int32Array.from([0, 1, 2]), 1, 3, 16, 10000); // each [1, 1, 3, 8]
 */
export function rotaryTables(
  positions: ArrayLike<number>,
  batch: number,
  seqLen: number,
  rotaryDims: number,
  base: number,
  scale = 1,
): RotaryTables {
  const inv = inverseFrequencies(rotaryDims, base);
  const half = inv.length;
  const cos = new Float32Array(batch * seqLen * half);
  const sin = new Float32Array(batch * seqLen * half);
  for (let p = 0; p < batch * seqLen; p++) {
    const t = scale === 1 ? positions[p] : f32(f32(positions[p]) / f32(scale));
    for (let i = 0; i < half; i++) {
      const angle = f32(t * inv[i]);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return {
    cos: tf.tensor4d(cos, [batch, 1, seqLen, half]),
    sin: tf.tensor4d(sin, [batch, 1, seqLen, half]),
  };
}

/**
 * Rotate the first `rotaryDims` dims of each head of `x` `[B, H, T, D]`; the rest pass through.
 * With `x = [x1, x2, pass]` (halves of the rotary part): `[x1·cos − x2·sin, x2·cos + x1·sin, pass]`, which is
 * HF's `x·cos + rotate_half(x)·sin` written without the duplicated halves.
 *
 * @example
 * const q2 = applyRotary(q, tables, 16); // q: [B, H, T, 64]
 */
export function applyRotary(x: tf.Tensor, tables: RotaryTables, rotaryDims: number): tf.Tensor {
  if (rotaryDims === 0) return x;
  if (nativeMatMulActive()) return applyRotaryMatmul(x, tables, rotaryDims);
  const d = x.shape[x.rank - 1];
  const half = rotaryDims / 2;
  const parts = rotaryDims === d ? tf.split(x, [half, half], -1) : tf.split(x, [half, half, d - rotaryDims], -1);
  const [x1, x2] = parts; // [B, H, T, R/2] each
  const { cos, sin } = tables;
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

/**
 * The same rotation as one matmul and two products, for when matmuls run on a native BLAS
 * (src/kernels/native-blas.ts): `x·cos' + (x·R)·sin'` with `cos' = [cos, cos, 1]`, `sin' = [sin, sin, 0]` over
 * the head dims and `R` the rotate-half matrix. No split or concat of the `[B, H, T, D]` activations — tfjs-wasm's
 * SplitV/Concat on them cost ≈ 0.17 s of a pythia-70m training step at 8 × 128, the `[B·H·T, D]·[D, D]` product
 * ≈ 1 ms on the BLAS. Values equal the split form's up to float32 rounding of the added zeros.
 */
function applyRotaryMatmul(x: tf.Tensor, tables: RotaryTables, rotaryDims: number): tf.Tensor {
  const d = x.shape[x.rank - 1];
  const rows = x.size / d;
  return tf.tidy(() => {
    const { cos, sin } = tables; // [B, 1, T, R/2]
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
