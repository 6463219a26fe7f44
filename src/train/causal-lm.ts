/**
 * Adapt a causal language model (the course's `GPTNeoXForCausalLM`, or anything with the same two methods)
 * to the trainer's `TrainableModel`: the loss is Hugging Face's causal-LM loss — logits at positions
 * 0..T-2 scored against labels 1..T-1, averaged over the labels that are not -100 — so prompt masking and
 * padding come from the labels alone. The loss is `causalLMLoss` from src/model/loss.ts (fused gradient, no
 * `tf.gather` gradient, so it trains on the WebAssembly backend). A model that offers its own
 * `causalLMLoss(inputIds, labels, opts)` (the course's GPT-NeoX does) is asked for that instead: it fuses the
 * output layer with the loss and never builds the `[B, T, V]` logits (the largest tensors of a step).
 */
import type * as tf from "@tensorflow/tfjs";
import { causalLMLoss } from "../model/loss";
import type { Batch, TrainableModel } from "./types";

/** What the adapter needs from a model: its parameters by HF name and a forward pass giving logits. */
export interface CausalLM {
  parameters(): Map<string, tf.Variable>;
  forward(inputIds: tf.Tensor2D, opts?: { attentionMask?: tf.Tensor2D }): { logits: tf.Tensor3D };
  /** Optional: the same mean loss computed without full logits (used when present; see gptneox.ts). */
  causalLMLoss?(
    inputIds: tf.Tensor2D,
    labels: tf.Tensor2D,
    opts?: { attentionMask?: tf.Tensor2D; trainOutput?: boolean },
  ): tf.Scalar;
}

export interface CausalLMTrainableOptions {
  /** Which parameters to train (default: all). Frozen ones get no gradient and no optimizer state. */
  trainable?: (name: string) => boolean;
  /** Use the model's own fused `causalLMLoss` when it has one (default true); false: logits + `causalLMLoss`. */
  fusedLoss?: boolean;
}

/**
 * Wrap a causal LM for the trainer.
 * @example
 * const trainable = causalLMTrainable(model, { trainable: (n) => !n.startsWith("gpt_neox.embed_in") });
 * await train(trainable, examples, { lr: 1e-4, numSteps: 50 });
 */
export function causalLMTrainable(model: CausalLM, opts: CausalLMTrainableOptions = {}): TrainableModel {
  const all = model.parameters();
  const keep = opts.trainable ?? (() => true);
  const vars = new Map([...all].filter(([name]) => keep(name)));
  const fused = (opts.fusedLoss ?? true) && typeof model.causalLMLoss === "function";
  // the output layer's weight (embed_out, or embed_in when the embeddings are tied) gets a gradient only if kept
  const trainOutput =
    vars.has("embed_out.weight") || (!all.has("embed_out.weight") && vars.has("gpt_neox.embed_in.weight"));
  if (vars.size === 0)
    throw new Error(`causalLMTrainable: the trainable filter kept none of the model's ${all.size} parameters`);
  return {
    trainableVariables: () => vars,
    loss: (batch: Batch) => {
      if (fused)
        return model.causalLMLoss!(batch.inputIds, batch.labels, { attentionMask: batch.attentionMask, trainOutput });
      const { logits } = model.forward(batch.inputIds, { attentionMask: batch.attentionMask });
      return causalLMLoss(logits, batch.labels);
    },
  };
}
