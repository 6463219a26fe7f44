/**
 * What `forward` makes of its inputs: ids (validated against the vocabulary), rotary positions (HF's default
 * `past … past+T−1`), the padding mask, and the additive attention mask that combines causality and padding
 * exactly as HF's eager attention does.
 */
import * as tf from "@tensorflow/tfjs";

/** The additive score for masked keys: float32's most negative finite value, as HF's `finfo(float32).min`. */
export const MASK_VALUE = -3.4028234663852886e38;

/** Ids as an int32 `[B, T]` tensor (owned = created here), every id checked to be in `[0, vocab)`. */
export function toIdTensor(
  x: tf.Tensor | number[][],
  what: string,
  vocab?: number,
): { t: tf.Tensor2D; owned: boolean } {
  let t: tf.Tensor2D;
  let owned: boolean;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`forward: ${what} must be 2-D [B, T], got shape [${x.shape}]`);
    owned = x.dtype !== "int32";
    t = (owned ? tf.cast(x, "int32") : x) as tf.Tensor2D;
  } else {
    if (
      !Array.isArray(x) ||
      x.length === 0 ||
      !x.every((r) => Array.isArray(r) && r.length === x[0].length && r.length > 0)
    ) {
      throw new Error(`forward: ${what} must be a non-empty rectangular number[][] [B, T]`);
    }
    t = tf.tensor2d(x, [x.length, x[0].length], "int32");
    owned = true;
  }
  if (vocab !== undefined) {
    const v = t.dataSync();
    const T = t.shape[1];
    for (let i = 0; i < v.length; i++) {
      if (!(v[i] >= 0 && v[i] < vocab)) {
        if (owned) t.dispose();
        throw new Error(
          `forward: ${what}[${Math.floor(i / T)}][${i % T}] = ${v[i]} is outside the vocabulary [0, ${vocab})`,
        );
      }
    }
  }
  return { t, owned };
}

/** Rotary positions `[B·T]`: the given `positionIds` (checked), else `past … past+T−1` for every row. */
export function positionValues(p: tf.Tensor | number[][] | undefined, B: number, T: number, past: number): Int32Array {
  if (p === undefined) {
    const out = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[b * T + t] = past + t;
    return out;
  }
  const { t, owned } = toIdTensor(p, "positionIds");
  try {
    if (t.shape[0] !== B || t.shape[1] !== T)
      throw new Error(`forward: positionIds has shape [${t.shape}], expected [${B}, ${T}]`);
    const v = Int32Array.from(t.dataSync());
    if (v.some((x) => x < 0)) throw new Error("forward: positionIds must be >= 0");
    return v;
  } finally {
    if (owned) t.dispose();
  }
}

/** The padding mask `[B·Tk]` (0/1, checked), or null when absent or all ones. */
export function maskValues(m: tf.Tensor | number[][] | undefined, B: number, Tk: number): Float32Array | null {
  if (m === undefined) return null;
  let v: Float32Array;
  if (m instanceof tf.Tensor) {
    if (m.rank !== 2 || m.shape[0] !== B || m.shape[1] !== Tk) {
      throw new Error(
        `forward: attentionMask has shape [${m.shape}], expected [${B}, ${Tk}] (batch, cached + new positions)`,
      );
    }
    v = Float32Array.from(m.dataSync());
  } else {
    if (!Array.isArray(m) || m.length !== B || !m.every((r) => Array.isArray(r) && r.length === Tk)) {
      throw new Error(`forward: attentionMask must be ${B} rows of ${Tk} values (batch, cached + new positions)`);
    }
    v = Float32Array.from(m.flat());
  }
  if (v.some((x) => x !== 0 && x !== 1)) throw new Error("forward: attentionMask values must be 0 or 1");
  return v.every((x) => x === 1) ? null : v;
}

/**
 * The additive attention mask `[B or 1, 1, T, past+T]`, reproducing HF's two steps exactly:
 * `where(causal, s, MIN) + (1 − mask)·MIN`. So a visible real key adds 0; a visible padding key or a future
 * real key adds MIN (which absorbs the score); a future padding key gets MIN + MIN = −∞. Rows of real queries
 * are unaffected by the distinction; it only fixes what a left-padding query attends to (uniformly over the
 * MIN entries, as in HF), which HF's loss of a left-padded batch does read (the last pad predicts the first
 * token). Null when nothing is masked (one new token, no padding).
 */
export function attentionBias(mask: Float32Array | null, B: number, T: number, past: number): tf.Tensor | null {
  const Tk = past + T;
  if (!mask && T === 1) return null;
  const rows = mask ? B : 1;
  const bias = new Float32Array(rows * T * Tk);
  for (let b = 0; b < rows; b++) {
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * Tk;
      for (let j = 0; j < Tk; j++) {
        const causal = j <= past + t;
        const real = !mask || mask[b * Tk + j] === 1;
        bias[row + j] = causal && real ? 0 : causal || real ? MASK_VALUE : -Infinity;
      }
    }
  }
  return tf.tensor4d(bias, [rows, 1, T, Tk]);
}
