/**
 * A frozen dense layer plus low-rank adapters as one custom op: `y = x·Wᵀ + b + Σ_i s_i · (x⊙mask_i)·A_iᵀ·B_iᵀ`.
 * Its inputs are x and the adapters' A and B only: W and b are read from the closure, so the frozen base gets no
 * gradient and none is computed (tfjs does not record ops run inside a custom op's forward).
 *
 * In the layout of the `plain` set (select.ts) every product is a plain matmul with explicit transposes:
 *   forward  v = A·x̃ᵀ [r, N];  Z = W·xᵀ + s·B·v [out, N];  y = Zᵀ + b
 *   backward g = Bᵀ·dyᵀ [r, N];  dB = s·dyᵀ·vᵀ;  dA = s·g·x̃;  dx = dy·W + s·(gᵀ·A)⊙mask
 * (x̃ = x ⊙ mask); the `blas` set keeps everything row-major `[N, ·]` with transposed operands as BLAS flags.
 */
import * as tf from "@tensorflow/tfjs";
import { kernelSet } from "./select";

/** One adapter term of `loraLinear`. */
export interface LoraTerm {
  /** `[r, in]`. */
  A: tf.Tensor2D;
  /** `[out, r]`. */
  B: tf.Tensor2D;
  /** The adapter's scaling times its combination weight. */
  scale: number;
  /** Inverted-dropout mask `[N, in]`, or null (no dropout). */
  mask: tf.Tensor2D | null;
}

/**
 * `x2d·Wᵀ + b + Σ scale·(x2d⊙mask)·Aᵀ·Bᵀ` `[N, out]` for `x2d` `[N, in]`, W `[out, in]` (frozen), b `[out]` or null;
 * gradients for x and every A and B.
 *
 * @example
 * loraLinear(x2d, W, b, [{ A, B, scale: 2, mask: null }]); // [N, out]
 */
export function loraLinear(
  x2d: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  terms: LoraTerm[],
): tf.Tensor2D {
  const op = loraOp(
    weight,
    bias,
    terms.map((t) => t.scale),
    terms.map((t) => t.mask),
    kernelSet() === "blas" ? ROW_MAJOR : TRANSPOSED,
  );
  const inputs: tf.Tensor[] = [x2d]; // [N, in]
  for (const t of terms) inputs.push(t.A, t.B);
  return op(...inputs); // [N, out]
}

/**
 * The products of a LoRA layer in one memory layout. `x`/`xd` are `[N, in]`, `dy` `[N, out]`, W `[out, in]`, A
 * `[r, in]`, B `[out, r]`; `v` and `g` are the rank-r intermediates in the layout's own orientation.
 */
interface LoraLayout {
  /** The frozen base `x·Wᵀ`, in the layout's accumulator (`[N, out]` or `[out, N]`). */
  base(x: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D;
  /** `v = xd·Aᵀ` (`[N, r]` or `[r, N]`); `xT` is `xᵀ` when the layout made it and `xd` is `x`. */
  down(xd: tf.Tensor2D, A: tf.Tensor2D, xT: tf.Tensor2D | null): tf.Tensor2D;
  /** `v·Bᵀ` in the accumulator's orientation. */
  up(v: tf.Tensor2D, B: tf.Tensor2D): tf.Tensor2D;
  /** Accumulator → `[N, out]`. */
  finish(z: tf.Tensor2D): tf.Tensor2D;
  /** `dy` as the layout's backward products read it (`[N, out]` or `[out, N]`), made once per call. */
  dyIn(dy: tf.Tensor2D): tf.Tensor2D;
  /** `g = dy·B` in the layout's orientation (`dyL` from `dyIn`). */
  g(dyL: tf.Tensor2D, B: tf.Tensor2D): tf.Tensor2D;
  /** `dA = gᵀ·xd` `[r, in]`, `dB = dyᵀ·v` `[out, r]`, `dx_i = g·A` `[N, in]` (scaling not applied). */
  dA(g: tf.Tensor2D, xd: tf.Tensor2D): tf.Tensor2D;
  dB(dyL: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D;
  dx(g: tf.Tensor2D, A: tf.Tensor2D): tf.Tensor2D;
}

/**
 * Plain matmuls only, explicit transposes (transposed-operand matmuls take tfjs-wasm's slow scalar path):
 * the accumulator is `[out, N]`, `v` and `g` are `[r, N]`, `xᵀ` is made once and shared with the adapters.
 */
const TRANSPOSED: LoraLayout = {
  base: (x, W) => tf.matMul(W, tf.transpose(x)), // W·xᵀ: [out, N]
  down: (xd, A, xT) => tf.matMul(A, xT ?? tf.transpose(xd)), // [r, N]
  up: (v, B) => tf.matMul(B, v), // [out, N]
  finish: (z) => tf.transpose(z), // [N, out]
  dyIn: (dy) => tf.transpose(dy), // [out, N]
  g: (dyT, B) => tf.matMul(tf.transpose(B), dyT), // [r, out]·[out, N] = [r, N]
  dA: (g, xd) => tf.matMul(g, xd), // [r, N]·[N, in]
  dB: (dyT, v) => tf.matMul(dyT, tf.transpose(v)), // [out, N]·[N, r]
  dx: (g, A) => tf.matMul(tf.transpose(g), A), // [N, r]·[r, in]
};

/**
 * With a native BLAS behind the wasm matmul (src/kernels/native-blas.ts) transposed operands are BLAS flags:
 * row-major `[N, ·]` throughout, no transpose op.
 */
const ROW_MAJOR: LoraLayout = {
  base: (x, W) => tf.matMul(x, W, false, true), // x·Wᵀ: [N, out]
  down: (xd, A) => tf.matMul(xd, A, false, true), // xd·Aᵀ: [N, r]
  up: (v, B) => tf.matMul(v, B, false, true), // v·Bᵀ: [N, out]
  finish: (z) => z,
  dyIn: (dy) => dy,
  g: (dy, B) => tf.matMul(dy, B), // [N, out]·[out, r] = [N, r]
  dA: (g, xd) => tf.matMul(g, xd, true, false), // gᵀ·xd: [r, in]
  dB: (dy, v) => tf.matMul(dy, v, true, false), // dyᵀ·v: [out, r]
  dx: (g, A) => tf.matMul(g, A), // [N, r]·[r, in]
};

/**
 * The fused frozen-base + adapters op for one call: inputs `[x2d, A1, B1, A2, B2, ...]`, W and b captured.
 * `scales[i]` is adapter i's scaling × combination weight, `masks[i]` its dropout mask (or null).
 */
function loraOp(
  W: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  scales: number[],
  masks: (tf.Tensor2D | null)[],
  L: LoraLayout,
): (...xs: tf.Tensor[]) => tf.Tensor2D {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [x, ...ab] = args.slice(0, -1) as tf.Tensor2D[];
    const xT = L === TRANSPOSED ? (tf.transpose(x) as tf.Tensor2D) : null; // shared by the base and unmasked adapters
    const xds: tf.Tensor2D[] = [];
    const vs: tf.Tensor2D[] = [];
    let z = xT ? (tf.matMul(W, xT) as tf.Tensor2D) : L.base(x, W);
    for (let i = 0; i < scales.length; i++) {
      const [A, B] = [ab[2 * i], ab[2 * i + 1]];
      const xd = masks[i] ? (tf.mul(x, masks[i]!) as tf.Tensor2D) : x; // [N, in]
      const v = L.down(xd, A, masks[i] ? null : xT);
      z = tf.add(z, tf.mul(L.up(v, B), scales[i]));
      xds.push(xd);
      vs.push(v);
    }
    let y = L.finish(z); // [N, out]
    if (bias) y = tf.add(y, bias);
    const used = masks.filter((m): m is tf.Tensor2D => m !== null);
    save([...xds, ...vs, ...used]); // saved tensors outlive the model's forward tidy (the masks too)
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const k = scales.length;
        let nextMask = 2 * k;
        const savedMasks = masks.map((m) => (m ? (saved[nextMask++] as tf.Tensor2D) : null));
        const dyL = L.dyIn(dy);
        let dx = tf.matMul(dy, W); // [N, out]·[out, in] = [N, in]
        const grads: tf.Tensor[] = [];
        for (let i = 0; i < k; i++) {
          const [A, B] = [ab[2 * i], ab[2 * i + 1]];
          const xd = saved[i] as tf.Tensor2D;
          const v = saved[k + i] as tf.Tensor2D;
          const s = scales[i];
          const g = L.g(dyL, B);
          const dA = tf.mul(L.dA(g, xd), s); // [r, in]
          const dB = tf.mul(L.dB(dyL, v), s); // [out, r]
          let dxi = tf.mul(L.dx(g, A), s); // [N, in]
          if (savedMasks[i]) dxi = tf.mul(dxi, savedMasks[i]!);
          dx = tf.add(dx, dxi);
          grads.push(dA, dB);
        }
        return [dx, ...grads];
      },
    };
  }) as (...xs: tf.Tensor[]) => tf.Tensor2D;
}
