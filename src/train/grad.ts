/**
 * Gradients for one optimizer step: accumulation over micro-batches and global-norm clipping.
 *
 * Normalisation: each micro-batch's loss is the mean over its `numTokens` loss positions, so its gradient is
 * weighted by `numTokens` and the sum divided by the step's total N:
 *     g = Σ_i n_i ∇L_i / N,   loss = Σ_i n_i L_i / N
 * — the gradient of the mean over every loss token of the step, whatever the split into micro-batches.
 * (HF's Trainer instead averages micro-batch means, which weights short micro-batches more; the two agree
 * when every micro-batch has the same token count.) To keep the step lean the division by N is folded into
 * the clipping factor and applied once, inside the optimizer's per-parameter update (`apply(grads, lr, scale)`).
 *
 * Clipping follows `torch.nn.utils.clip_grad_norm_`: total = ‖g‖₂ over all parameters together,
 * coefficient = min(1, maxNorm / (total + 1e-6)); the reported norm is the one before clipping.
 */
import * as tf from "@tensorflow/tfjs";
import { leanVariableGrads, readSync, shareClonesOnWasm, squaredNorm } from "../kernels";
import type { Batch, TrainableModel } from "./types";

/** Raw accumulation result (tensors live in the caller's tidy). */
export interface AccumulatedGradients {
  /** Σ_i (n_i / n_1) ∇L_i by parameter name: relative to the first micro-batch, so one micro-batch costs no multiply. */
  gradSums: Map<string, tf.Tensor>;
  /** Σ_i (n_i / n_1) L_i. */
  lossSum: tf.Scalar;
  /** n_1, the unit of `gradSums` and `lossSum`. */
  unit: number;
  /** N = Σ_i n_i. */
  numTokens: number;
  numInputTokens: number;
}

/**
 * Run forward/backward on each micro-batch and sum token-weighted gradients. Call inside `tf.tidy`; each
 * micro-batch's own tensors are freed as soon as it is added in.
 * @example
 * tf.tidy(() => {
 *   const acc = accumulateGradients(model, vars, [() => collate(a, padId), () => collate(b, padId)]);
 *   const { loss, gradNorm, scale } = stepNumbers(acc, 1.0);
 *   optimizer.apply(scaleGradients(acc.gradSums, scale), lr);
 * });
 */
export function accumulateGradients(
  model: TrainableModel,
  vars: Map<string, tf.Variable>,
  microBatches: Iterable<() => Batch>,
): AccumulatedGradients {
  shareClonesOnWasm(); // tensors saved for the backward pass share buffers instead of being copied (wasm)
  const varList = [...vars.values()];
  const keyOf = new Map<string, string>();
  for (const [k, v] of vars) keyOf.set(v.name, k);
  let gradSums: Map<string, tf.Tensor> | undefined;
  let lossSum: tf.Scalar | undefined;
  let unit = 0;
  let numTokens = 0;
  let numInputTokens = 0;
  for (const make of microBatches) {
    const batch = make();
    const n = batch.numTokens;
    numInputTokens += batch.numInputTokens ?? n;
    const batchTensors = [batch.inputIds, batch.labels, ...(batch.attentionMask ? [batch.attentionMask] : [])];
    if (n === 0) {
      tf.dispose(batchTensors);
      continue; // nothing to learn from: contributes neither loss nor gradient
    }
    const { value, grads } = leanVariableGrads(() => model.loss(batch), varList); // frees as backprop goes
    if (value.rank !== 0) throw new Error(`model.loss(batch) must return a scalar, got shape [${value.shape}]`);
    tf.dispose(batchTensors);
    if (!gradSums || !lossSum) {
      // first micro-batch: keep as is (the unit)
      unit = n;
      lossSum = value;
      gradSums = new Map();
      for (const [varName, g] of Object.entries(grads)) {
        const key = keyOf.get(varName);
        if (key === undefined) g.dispose();
        else gradSums.set(key, g);
      }
    } else {
      const w = tf.scalar(n / unit);
      const ls = lossSum;
      lossSum = replace(
        tf.tidy(() => ls.add(value.mul(w))),
        [ls, value],
      ) as tf.Scalar;
      for (const [varName, g] of Object.entries(grads)) {
        const key = keyOf.get(varName);
        const prev = key === undefined ? undefined : gradSums.get(key);
        if (key === undefined) g.dispose();
        else
          gradSums.set(
            key,
            replace(
              tf.tidy(() => (prev ? prev.add(g.mul(w)) : g.mul(w))),
              prev ? [prev, g] : [g],
            ),
          );
      }
      w.dispose();
    }
    numTokens += n;
  }
  if (!gradSums || !lossSum) throw new Error("accumulateGradients: no micro-batch had a loss token");
  return { gradSums, lossSum, unit, numTokens, numInputTokens };
}

/** Dispose `old` tensors and return `x` (running sums inside a tidy stay small). */
function replace<T extends tf.Tensor>(x: T, old: tf.Tensor[]): T {
  tf.dispose(old);
  return x;
}

/**
 * Σ‖g‖² over all gradients, as a scalar tensor.
 * @example
 * const norm = Math.sqrt(tf.tidy(() => globalNormSquared(grads).dataSync()[0]));
 */
export function globalNormSquared(grads: Map<string, tf.Tensor>): tf.Scalar {
  return squaredNorm([...grads.values()]);
}

/**
 * PyTorch's clip coefficient: min(1, maxNorm / (norm + 1e-6)); 1 when `maxNorm` ≤ 0 (no clipping).
 * @example
 * clipCoefficient(4, 1); // ≈ 0.25
 */
export function clipCoefficient(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * Clip gradients by their global norm (a functional `clip_grad_norm_`). Call inside `tf.tidy`.
 * @example
 * const { grads: clipped, norm } = tf.tidy(() => clipByGlobalNorm(grads, 1.0)); // norm before clipping
 */
export function clipByGlobalNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = Math.sqrt(
    readSync(globalNormSquared(grads), "clipByGlobalNorm", "clipCoefficient with an awaited read")[0],
  );
  const c = clipCoefficient(norm, maxNorm);
  if (c === 1) return { grads, norm };
  const cs = tf.scalar(c);
  return { grads: new Map([...grads].map(([k, g]) => [k, g.mul(cs)])), norm };
}

/** Host-side numbers of a step before the update: mean loss, pre-clip norm of the mean gradient, scale to apply. */
export interface StepNumbers {
  loss: number;
  gradNorm: number;
  /** Multiplier taking `gradSums` to the clipped mean gradient: clipCoefficient · n_1 / N (exactly 1 for one unclipped micro-batch). */
  scale: number;
}

/**
 * The step's two raw numbers as one `[2]` tensor, `[Σ (n_i/n_1) L_i, Σ‖g‖²]`: what one device read turns into
 * `StepNumbers` (`stepNumbersFrom`). Call inside `tf.tidy`.
 * @example
 * const both = stepNumbersTensor(acc); const n = stepNumbersFrom(await both.data(), acc, 1.0);
 */
export function stepNumbersTensor(acc: AccumulatedGradients): tf.Tensor1D {
  return tf.stack([acc.lossSum, globalNormSquared(acc.gradSums)]) as tf.Tensor1D;
}

/**
 * `StepNumbers` from the two values of `stepNumbersTensor` (read synchronously or awaited).
 * @example
 * stepNumbersFrom([2.5, 16], { unit: 8, numTokens: 8 }, 1.0); // { loss: 2.5, gradNorm: 4, scale: ≈ 0.25 }
 */
export function stepNumbersFrom(
  both: ArrayLike<number>,
  acc: Pick<AccumulatedGradients, "unit" | "numTokens">,
  maxGradNorm: number,
): StepNumbers {
  const toMean = acc.unit / acc.numTokens; // exactly 1 for a single micro-batch
  const loss = both[0] * toMean;
  const gradNorm = Math.sqrt(both[1]) * toMean;
  return { loss, gradNorm, scale: clipCoefficient(gradNorm, maxGradNorm) * toMean };
}

/**
 * Read the step's loss and gradient norm with one synchronous device read, and work out the single scale
 * factor. Call inside `tf.tidy`. (Without synchronous reads, e.g. webgpu in Node: `stepNumbersTensor`, an awaited
 * read, then `stepNumbersFrom`.)
 * @example
 * const { loss, gradNorm, scale } = stepNumbers(acc, 1.0); // then optimizer.apply(acc.gradSums, lr, scale)
 */
export function stepNumbers(acc: AccumulatedGradients, maxGradNorm: number): StepNumbers {
  const both = readSync(stepNumbersTensor(acc), "stepNumbers", "stepNumbersTensor, an awaited read, stepNumbersFrom");
  return stepNumbersFrom(both, acc, maxGradNorm);
}

/**
 * Apply the scale from `stepNumbers` (skipped when it is exactly 1). Call inside `tf.tidy`. (The trainer
 * passes the scale to `optimizer.apply` instead, which scales one parameter at a time.)
 * @example
 * const mean = scaleGradients(acc.gradSums, stepNumbers(acc, 1.0).scale);
 */
export function scaleGradients(grads: Map<string, tf.Tensor>, scale: number): Map<string, tf.Tensor> {
  if (scale === 1) return grads;
  const s = tf.scalar(scale);
  return new Map([...grads].map(([k, g]) => [k, g.mul(s)]));
}
