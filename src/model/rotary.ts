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
import { rotate } from "../kernels";

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
  return rotate(x, tables.cos, tables.sin, rotaryDims); // [B, H, T, D]
}
