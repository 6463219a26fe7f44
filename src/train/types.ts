/**
 * The contract between the trainer and whatever it trains, and the data it feeds it.
 *
 * The trainer knows nothing about GPT-NeoX: it asks a `TrainableModel` for the variables to update and for a
 * scalar loss on a `Batch`. `causalLMTrainable()` (causal-lm.ts) adapts the course's model to this interface;
 * LoRA passes only its adapter variables.
 *
 * Loss normalisation (what gradient accumulation relies on): `loss(batch)` must be the MEAN over the batch's
 * `numTokens` loss positions (HF's causal-LM loss: labels shifted left by one, positions labelled -100
 * skipped). The trainer then weights each micro-batch by its `numTokens`, so `gradAccumSteps` micro-batches of
 * size b give the gradient of the mean over ALL loss tokens of the b × gradAccumSteps examples — the same as
 * one batch of that size (up to float rounding), even when micro-batches hold different token counts.
 */
import type * as tf from "@tensorflow/tfjs";

/** A collated batch, right-padded (see data.ts). All tensors are int32 `[B, T]`. */
export interface Batch {
  inputIds: tf.Tensor2D;
  /** 1 for real tokens, 0 for padding. */
  attentionMask?: tf.Tensor2D;
  /** Token ids to predict, -100 where nothing is scored (pads, masked prompt). Not yet shifted. */
  labels: tf.Tensor2D;
  /** Loss positions in the batch: count of `labels[:, 1:] != -100` (the causal shift); the accumulation weight. */
  numTokens: number;
  /** Real (non-pad) input tokens in the batch: what tokens/s counts. Default: `numTokens`. */
  numInputTokens?: number;
}

/** Anything the trainer can train. */
export interface TrainableModel {
  /** Variables the optimizer updates (frozen ones excluded — LoRA passes only adapter variables), keyed by stable names. */
  trainableVariables(): Map<string, tf.Variable>;
  /** Scalar loss for a batch: the mean over its `numTokens` loss positions. Called inside tf.tidy/variableGrads. */
  loss(batch: Batch): tf.Scalar;
  /**
   * The states of the generators `loss` draws from while training (dropout masks), keyed by stable names, each a
   * uint32 (`Rng.state`). Required when the loss is random: the trainer saves them in `trainer_state.json`
   * (`rng.model`) and a resumed run sets them back, so it draws what an uninterrupted run would have.
   */
  rngState?(): Record<string, number>;
  /** Restore what `rngState()` returned; throws naming a key that is missing, unknown or not a uint32. */
  setRngState?(state: Record<string, number>, source: string): void;
}
