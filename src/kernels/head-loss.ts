/**
 * The output layer and the causal-LM loss fused into one custom op that never builds the `[B, T, V]` logits: only
 * the scored rows are computed, `chunkRows` at a time, and each chunk's `[rows, V]` logits, softmax and gradient are
 * freed before the next.
 *
 * While gradients are being recorded they are computed in the same pass as the loss (the softmax is at hand
 * there), so the backward pass does not recompute the logits: a third of the output layer's products saved, for
 * the memory of `dW` (`[V, C]`, which the step keeps anyway) and `dH` (`[N, C]`). Outside a gradient pass
 * (evaluation) only the loss is computed. On the threaded wasm build the softmax, the loss and `softmax − onehot`
 * are one heap kernel that writes the gradient over the chunk's logits (softmax-xent.ts); elsewhere tfjs ops, with
 * `softmax − onehot` written into the softmax's own buffer on the wasm heap. On the `blas` set later chunks are
 * added into `dW` by one sgemm with β = 1.
 */
import * as tf from "@tensorflow/tfjs";
import { matMulAccumulate } from "./native-blas";
import { sumTensors, syncReads } from "./reads";
import { kernelSet } from "./select";
import { softmaxCrossEntropyRows } from "./softmax-xent";
import { gradientDepth } from "./tfjs-internals";
import { heapView, soleOwner } from "./wasm-heap";

/** Options of `fusedHeadLoss`. */
export interface FusedHeadLossOptions {
  /** Compute a gradient for the weight (false for a frozen output layer). */
  trainWeight: boolean;
  /** Logit rows per chunk. */
  chunkRows: number;
  /** false: the tfjs ops even where the softmax cross-entropy heap kernel could run (the reference in tests). */
  softmaxKernel?: boolean;
}

/**
 * `p − onehot(labels)` for a chunk's softmax `p` `[R, V]` (`pick` = (row, label) pairs): on the WebAssembly heap
 * the R entries are decremented in place when `p` owns its buffer (no `[R, V]` one-hot, no subtraction pass),
 * otherwise with tensor ops. Returns `p` itself in the first case, a new tensor in the second.
 */
function softmaxMinusOneHot(p: tf.Tensor2D, pick: Int32Array, R: number, V: number): tf.Tensor2D {
  const view = soleOwner(p) ? heapView(p) : null;
  if (view) {
    for (let r = 0; r < R; r++) view[r * V + pick[2 * r + 1]] -= 1;
    return p;
  }
  return tf.tidy(() =>
    tf.sub(p, tf.scatterND(tf.tensor2d(pick, [R, 2], "int32"), tf.fill([R], 1), [R, V])),
  ) as tf.Tensor2D;
}

/**
 * Mean over the scored rows of `−log softmax(h[rows[i]]·Wᵀ)[ids[i]]`, as a scalar; gradients for h (`[N, C]`) and,
 * with `trainWeight`, for W (`[V, C]`). `rows` and `ids` come from the caller's label handling (model/loss.ts).
 *
 * @example
 * fusedHeadLoss(h2d, weight, Int32Array.of(0, 1), Int32Array.of(5, 9), { trainWeight: true, chunkRows: 256 });
 */
export function fusedHeadLoss(
  h2d: tf.Tensor2D,
  weight: tf.Tensor2D,
  rows: Int32Array,
  ids: Int32Array,
  opts: FusedHeadLossOptions,
): tf.Scalar {
  const [N, C] = h2d.shape;
  const V = weight.shape[0];
  const M = rows.length;
  const chunk = opts.chunkRows;
  const trainWeight = opts.trainWeight;
  const heapKernel = opts.softmaxKernel ?? true;
  const withGrads = gradientDepth() > 0; // in the trainer's step: gradients in the same pass

  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const h = args[0] as tf.Tensor2D; // [N, C]
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const w = (trainWeight ? args[1] : weight) as tf.Tensor2D; // [V, C]
    const inv = 1 / Math.max(M, 1); // the mean's 1/M, folded into the small operands below
    // blas set: transposed operands are free, no transpose ops, and dW is accumulated directly in its [V, C]
    // layout. plain set: plain matmuls with explicit transposes (linear.ts).
    const native = kernelSet() === "blas";
    const parts: tf.Scalar[] = [];
    const dHParts: tf.Tensor2D[] = [];
    let dWacc: tf.Tensor2D | null = null; // Σ_chunks: dZᵀ·hc [V, C] (native) or hcᵀ·dZ [C, V] (transposed once at the end)
    for (let s = 0; s < M; s += chunk) {
      const R = Math.min(chunk, M - s);
      const rowIdx = tf.tensor1d(rows.subarray(s, s + R), "int32");
      const hc = tf.gather(h, rowIdx); // [R, C]
      const z = (
        native ? tf.matMul(hc, w, false, true) : tf.tidy(() => tf.transpose(tf.matMul(w, tf.transpose(hc))))
      ) as tf.Tensor2D; // [R, V]
      // One heap kernel: each row's −log p(label), and with gradients softmax − onehot written over z (null: it
      // cannot run here, and z is untouched)
      const nll = heapKernel ? softmaxCrossEntropyRows(z, ids.subarray(s, s + R), withGrads) : null; // [R]
      let grad: tf.Tensor2D | null = null; // softmax − onehot [R, V]
      if (nll) {
        parts.push(tf.sum(nll)); // Σ −log p(label)
        nll.dispose();
        if (withGrads) grad = z;
        else z.dispose();
      } else {
        const pick = new Int32Array(2 * R);
        for (let r = 0; r < R; r++) {
          pick[2 * r] = r;
          pick[2 * r + 1] = ids[s + r];
        }
        const pickIdx = tf.tensor2d(pick, [R, 2], "int32"); // (row in chunk, label)
        // The softmax kernel (XNNPACK's vectorised exp on wasm) gives p; the loss needs log Σ exp(z) per row, which
        // is max(z) − log(max(p)) (max p = 1/Σ exp(z − max z) ≥ 1/V, so it never underflows). One pass of exp
        // over [R, V] instead of two scalar ones (logSumExp, then exp(z − lse)).
        const p = tf.softmax(z) as tf.Tensor2D; // [R, V]
        parts.push(
          tf.tidy(() =>
            tf.sum(tf.sub(tf.sub(tf.max(z, -1), tf.log(tf.max(p, -1))), tf.gatherND(z, pickIdx))),
          ) as tf.Scalar,
        ); // Σ −log p(label)
        tf.dispose([z, pickIdx]);
        if (withGrads) {
          grad = softmaxMinusOneHot(p, pick, R, V); // p itself when it could be written in place
          if (grad !== p) p.dispose();
        } else p.dispose();
      }
      if (grad) {
        const dz = grad;
        dHParts.push(tf.tidy(() => tf.mul(tf.matMul(dz, w), inv)) as tf.Tensor2D); // [R, C]
        if (trainWeight && !(native && dWacc && matMulAccumulate(dWacc, dz, hc, true, false, inv))) {
          // (native: later chunks are added into the accumulator by one sgemm with β = 1, no partial product)
          const part = tf.tidy(() =>
            native ? tf.matMul(dz, tf.mul(hc, inv), true, false) : tf.matMul(tf.transpose(tf.mul(hc, inv)), dz),
          ) as tf.Tensor2D; // [V, R]·[R, C] = [V, C] (native) or [C, R]·[R, V] = [C, V]
          if (dWacc) {
            const prev: tf.Tensor2D = dWacc;
            dWacc = tf.add(prev, part) as tf.Tensor2D;
            prev.dispose();
            part.dispose();
          } else dWacc = part;
        }
        dz.dispose();
      }
      tf.dispose([rowIdx, hc]);
    }
    const value = tf.tidy(() => tf.mul(parts.length ? sumTensors(parts) : tf.scalar(0), inv)) as tf.Scalar; // mean over scored rows
    tf.dispose(parts);
    if (withGrads) {
      const dH = tf.tidy(() => {
        if (M === 0) return tf.zeros([N, C]);
        const sel = dHParts.length === 1 ? dHParts[0] : tf.concat(dHParts, 0); // [M, C]
        return tf.scatterND(tf.tensor2d(rows, [M, 1], "int32"), sel, [N, C]); // [N, C], 0 on unscored rows
      });
      tf.dispose(dHParts);
      const saved: tf.Tensor[] = [dH];
      if (trainWeight) {
        const acc = dWacc as tf.Tensor2D | null;
        if (!acc) saved.push(tf.zeros([V, C]));
        else if (native)
          saved.push(acc); // already [V, C]
        else {
          saved.push(tf.transpose(acc)); // [C, V] → [V, C]
          acc.dispose();
        }
      }
      save(saved);
    }
    return {
      value,
      gradFunc: (dy: tf.Tensor, grads: tf.Tensor[]) => {
        if (grads.length === 0)
          throw new Error(
            "causalLMLossFromHidden: no gradients were computed in the forward pass (it ran outside tf.grads/variableGrads)",
          );
        // dy is 1 for a loss being minimised: clones share the saved gradient's buffer. Without synchronous reads
        // (webgpu in Node) dy cannot be looked at, so it is multiplied in (by 1: the same numbers).
        const s = syncReads() ? dy.dataSync()[0] : Number.NaN;
        return grads.map((g) => (s === 1 ? tf.clone(g) : tf.mul(g, dy)));
      },
    };
  });
  return (trainWeight ? op(h2d, weight) : op(h2d)) as tf.Scalar;
}
