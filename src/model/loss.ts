/**
 * Next-token cross-entropy with Hugging Face's causal-LM semantics: `logits[:, :-1]` is scored against
 * `labels[:, 1:]`, averaged over the positions whose label is not -100. Numerically stable
 * (`logsumexp(z) − z[label]`), with a fused gradient `(softmax(z) − onehot(label)) · w` that needs no
 * `tf.gather` gradient (the wasm backend lacks it) and no `[N, V]` one-hot in the forward pass. For training,
 * `causalLMLossFromHidden` fuses the output layer into the loss (the kernel is src/kernels/head-loss.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { fusedHeadLoss } from "../kernels";
import { IGNORE_INDEX } from "../types/example";

/** Shifted, flattened labels and their weights: what the loss and the log-probs both need. */
interface Targets {
  /** `[B·T, 2]` (row, label) pairs for gatherND/scatterND, label 0 where ignored. */
  index: tf.Tensor2D;
  /** `[B·T]` 1 where scored, 0 where ignored (and at each row's last position). */
  weight: tf.Tensor1D;
  /** Scored positions. */
  count: number;
}

function labelArray(labels: tf.Tensor | number[][], B: number, T: number): Int32Array {
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 2 || labels.shape[0] !== B || labels.shape[1] !== T) {
      throw new Error(
        `causalLMLoss: labels have shape [${labels.shape}], expected [${B}, ${T}] like the logits' [B, T]`,
      );
    }
    return Int32Array.from(labels.dataSync());
  }
  if (!Array.isArray(labels) || labels.length !== B || !labels.every((r) => Array.isArray(r) && r.length === T)) {
    throw new Error(`causalLMLoss: labels must be ${B} rows of ${T} ids, like the logits' [B, T]`);
  }
  return Int32Array.from(labels.flat());
}

/**
 * Targets for every one of the B·T logit rows: row (b, t) is scored against `labels[b][t+1]`; the last position
 * of each row and labels of -100 get weight 0. (Scoring all rows avoids slicing `logits[:, :-1]`, a copy of the
 * whole `[B, T, V]` tensor, and the padding copy its gradient would need.)
 */
function targets(labels: tf.Tensor | number[][], B: number, T: number, V: number): Targets {
  const lab = labelArray(labels, B, T);
  const n = B * T;
  const index = new Int32Array(2 * n);
  const weight = new Float32Array(n);
  let count = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      index[2 * row] = row;
      if (t === T - 1) continue;
      const y = lab[b * T + t + 1];
      if (y === IGNORE_INDEX) continue;
      if (!(Number.isInteger(y) && y >= 0 && y < V)) {
        throw new Error(`causalLMLoss: labels[${b}][${t + 1}] = ${y} is neither -100 nor a token id in [0, ${V})`);
      }
      index[2 * row + 1] = y;
      weight[row] = 1;
      count++;
    }
  }
  return { index: tf.tensor2d(index, [n, 2], "int32"), weight: tf.tensor1d(weight), count };
}

function rows(logits: tf.Tensor): tf.Tensor2D {
  const [B, T, V] = logits.shape as [number, number, number];
  return tf.reshape(logits, [B * T, V]) as tf.Tensor2D; // [B·T, V], no copy
}

function checkLogits(logits: tf.Tensor, fn: string): [number, number, number] {
  if (logits.rank !== 3) throw new Error(`${fn}: logits must be [B, T, V], got shape [${logits.shape}]`);
  const [B, T, V] = logits.shape as [number, number, number];
  if (T < 2) throw new Error(`${fn}: need at least 2 positions to predict a next token, got T = ${T}`);
  return [B, T, V];
}

/** `−log p(label)·weight` per row of `z` `[N, V]`, with the fused cross-entropy gradient. */
const crossEntropyRows = (index: tf.Tensor2D, weight: tf.Tensor1D) =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const z = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const lse = tf.logSumExp(z, -1); // [N]
    const picked = tf.gatherND(z, index); // [N]
    save([z, index, weight]); // kept for the backward pass (the caller's tidy frees the originals)
    return {
      value: tf.mul(tf.sub(lse, picked), weight), // [N], 0 where ignored
      gradFunc: (dy: tf.Tensor, [sz, sIndex, sWeight]: tf.Tensor[]) => {
        const w = tf.mul(dy, sWeight); // [N]
        const soft = tf.mul(tf.softmax(sz, -1), tf.expandDims(w, 1)); // [N, V]
        return [tf.sub(soft, tf.scatterND(sIndex, w, sz.shape))]; // [N, V]
      },
    };
  });

/**
 * Mean next-token cross-entropy (HF `labels=` semantics): position t's logits predict `labels[:, t+1]`; labels
 * equal to -100 are skipped; pass the input ids themselves as labels for plain language modelling.
 * Returns a scalar (0 when no position is scored, never NaN).
 *
 * @example
 * const loss = tf.tidy(() => causalLMLoss(model.forward(ids).logits, ids)); // scalar
 */
export function causalLMLoss(logits: tf.Tensor, labels: tf.Tensor | number[][]): tf.Scalar {
  const [B, T, V] = checkLogits(logits, "causalLMLoss");
  return tf.tidy(() => {
    const tg = targets(labels, B, T, V);
    const nll = crossEntropyRows(tg.index, tg.weight)(rows(logits)); // [B·T]
    return tf.div(tf.sum(nll), Math.max(tg.count, 1)) as tf.Scalar;
  });
}

/** Number of positions `causalLMLoss` averages over for these labels (`labels[:, 1:] != -100`). */
export function countLossTokens(labels: number[][]): number {
  let n = 0;
  for (const row of labels) for (let t = 1; t < row.length; t++) if (row[t] !== IGNORE_INDEX) n++;
  return n;
}

/**
 * Log-probability of each next token, `[B, T−1]`: entry (b, t) is `log p(labels[b][t+1] | ids[b][..t])`, 0 where
 * the label is -100. Sum a row for a sequence's log-likelihood; `exp(−mean)` over scored positions is perplexity.
 *
 * @example
 * const lp = tf.tidy(() => tokenLogProbs(model.forward([[5, 6, 7]]).logits, [[5, 6, 7]])); // [1, 2]
 */
export function tokenLogProbs(logits: tf.Tensor, labels: tf.Tensor | number[][]): tf.Tensor2D {
  const [B, T, V] = checkLogits(logits, "tokenLogProbs");
  return tf.tidy(() => {
    const tg = targets(labels, B, T, V);
    const z = rows(logits); // [B·T, V]
    const lp = tf.mul(tf.sub(tf.gatherND(z, tg.index), tf.logSumExp(z, -1)), tg.weight); // [B·T]
    return tf.slice(tf.reshape(lp, [B, T]), [0, 0], [B, T - 1]) as tf.Tensor2D; // [B, T−1]
  });
}

/** Rows of logits the fused loss computes at a time: `[rows, V]` (256 × 50304 × 4 B ≈ 52 MB per temporary). */
export const FUSED_LOSS_CHUNK_ROWS = 256;

/** Options of `causalLMLossFromHidden`. */
export interface FusedLossOptions {
  /** Compute a gradient for `weight` (false for a frozen output layer, e.g. under LoRA). Default true. */
  trainWeight?: boolean;
  /** Logit rows per chunk (default `FUSED_LOSS_CHUNK_ROWS`). */
  chunkRows?: number;
}

/** The scored rows after the causal shift: row `b·T + t` predicts `labels[b][t+1]` (never -100). */
function scoredRows(
  labels: tf.Tensor | number[][],
  B: number,
  T: number,
  V: number,
): { rows: Int32Array; ids: Int32Array } {
  const lab = labelArray(labels, B, T);
  const rows: number[] = [];
  const ids: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T - 1; t++) {
      const y = lab[b * T + t + 1];
      if (y === IGNORE_INDEX) continue;
      if (!(Number.isInteger(y) && y >= 0 && y < V)) {
        throw new Error(
          `causalLMLossFromHidden: labels[${b}][${t + 1}] = ${y} is neither -100 nor a token id in [0, ${V})`,
        );
      }
      rows.push(b * T + t);
      ids.push(y);
    }
  }
  return { rows: Int32Array.from(rows), ids: Int32Array.from(ids) };
}

/**
 * Causal-LM loss straight from the final hidden states, for training: the output layer (`logits = h·Wᵀ`,
 * bias-free) and the loss fused into one custom op that never builds the `[B, T, V]` logits. Only the rows whose
 * shifted label is scored are computed, `chunkRows` at a time; each chunk's `[rows, V]` logits, softmax and
 * gradient are freed before the next. Same value and gradients as `causalLMLoss(h·Wᵀ, labels)` (float32
 * rounding aside).
 *
 * While gradients are being recorded, the gradients are computed in the same pass as the loss (the softmax is at
 * hand there), so the backward pass does not recompute the logits — a third of the output layer's FLOPs saved; the
 * extra memory is `dW` (`[V, C]`, which the step keeps anyway) and `dH` (`[B·T, C]`). Outside a gradient pass
 * (evaluation) only the loss is computed.
 *
 * @example
 * const h = model.hiddenStates(ids).hiddenStates;                        // [B, T, C], after the final LayerNorm
 * const loss = causalLMLossFromHidden(h, model.parameters().get("embed_out.weight")!, ids); // scalar
 */
export function causalLMLossFromHidden(
  hidden: tf.Tensor,
  weight: tf.Tensor,
  labels: tf.Tensor | number[][],
  opts: FusedLossOptions = {},
): tf.Scalar {
  if (hidden.rank !== 3)
    throw new Error(`causalLMLossFromHidden: hidden states must be [B, T, C], got shape [${hidden.shape}]`);
  const [B, T, C] = hidden.shape as [number, number, number];
  if (weight.rank !== 2 || weight.shape[1] !== C)
    throw new Error(
      `causalLMLossFromHidden: weight must be [V, ${C}] (HF layout [out, in]), got shape [${weight.shape}]`,
    );
  if (T < 2) throw new Error(`causalLMLossFromHidden: need at least 2 positions to predict a next token, got T = ${T}`);
  const V = weight.shape[0];
  const chunk = opts.chunkRows ?? FUSED_LOSS_CHUNK_ROWS;
  if (!(Number.isInteger(chunk) && chunk > 0))
    throw new Error(`causalLMLossFromHidden: chunkRows must be a positive integer, got ${chunk}`);
  const trainWeight = opts.trainWeight ?? true;
  const { rows, ids } = scoredRows(labels, B, T, V);
  const N = B * T;
  return tf.tidy(() => {
    const h2 = tf.reshape(hidden, [N, C]) as tf.Tensor2D; // [N, C], no copy
    return fusedHeadLoss(h2, weight as tf.Tensor2D, rows, ids, { trainWeight, chunkRows: chunk });
  });
}
