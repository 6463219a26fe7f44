/**
 * One update of a trainer for measuring, with an awaited read, that leaves the trainer's step and history alone.
 *
 * Written when `Trainer.trainStep()` was the trainer's only update: it reads the loss and gradient norm
 * synchronously, which the WebGPU backend in Node cannot do (tfjs-backend-webgpu 4.22 reads synchronously through
 * an `OffscreenCanvas`, which Node lacks), and `tf.addN` over more than 7 tensors (Dawn's default of 8 storage
 * buffers per kernel, the output included) fails to compile there. Training runs now use
 * `Trainer.trainStepAsync()` (what `train()` runs; kernels/reads.ts adds in groups); this step does the same work
 * with the same pieces (the trainer's data stream, gradient accumulation, clipping rule and optimizer) without
 * advancing the trainer, so a measurement's schedule does not move: gradients and the two numbers inside a tidy,
 * one awaited read, then the optimizer update; the squared norms are summed pairwise instead of with one `addN`.
 */
import * as tf from "@tensorflow/tfjs";
import { collate } from "../train/data";
import { accumulateGradients, clipCoefficient } from "../train/grad";
import type { Trainer } from "../train/trainer";

/** Sum scalars pairwise (a tree of 2-input adds: no kernel ever binds more than two inputs). */
export function pairwiseSum(xs: tf.Tensor[]): tf.Tensor {
  if (xs.length === 0) throw new Error("pairwiseSum: nothing to add");
  let level = xs;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? tf.add(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

/**
 * One update of `trainer` (one micro-batch, its configured lr, clipping at `maxGradNorm`) with an
 * asynchronous read; returns the loss and the gradient norm before clipping. Leaves no tensors behind.
 * It does not advance `trainer.step` or its history: it is for measuring, not for training runs.
 *
 * @example
 * const { loss } = await asyncTrainStep(trainer); // works on webgpu, wasm, cpu alike
 */
export async function asyncTrainStep(trainer: Trainer): Promise<{ loss: number; gradNorm: number }> {
  const c = trainer.config;
  if (c.gradAccumSteps !== 1) throw new Error("asyncTrainStep: gradAccumSteps must be 1");
  const exs = trainer.stream.nextExamples();
  const pad = c.padTo === "maxLength" ? c.maxLength : undefined;
  const vars = trainer.model.trainableVariables();
  const kept = tf.tidy(() => {
    const acc = accumulateGradients(trainer.model, vars, [() => collate(exs, c.padId, pad)]);
    const normSq = pairwiseSum([...acc.gradSums.values()].map((g) => tf.sum(tf.square(g)))); // []
    const grads: Record<string, tf.Tensor> = {};
    for (const [k, g] of acc.gradSums) grads[k] = g;
    return { both: tf.stack([acc.lossSum, normSq]), grads }; // both: [2]
  });
  try {
    const [loss, normSq] = await kept.both.data();
    const gradNorm = Math.sqrt(normSq);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm))
      throw new Error(`asyncTrainStep: non-finite loss ${loss} or gradient norm ${gradNorm}`);
    tf.tidy(() =>
      trainer.optimizer.apply(new Map(Object.entries(kept.grads)), c.lr, clipCoefficient(gradNorm, c.maxGradNorm)),
    );
    return { loss, gradNorm };
  } finally {
    tf.dispose(kept);
  }
}
