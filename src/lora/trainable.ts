/**
 * Train one LoRA adapter with the course's trainer: `loraTrainable(model, name)` hands the trainer only that
 * adapter's A and B (keyed by their PEFT file names), and runs the forward pass with the adapter active,
 * dropout on, and every other dense layer behind a `FrozenLinear` — a stand-in with the same forward pass
 * whose backward pass computes only the input gradient, so no time or memory goes to weight gradients of the
 * frozen base (tfjs's custom ops compute all their input gradients eagerly). The layers are put back after
 * each call. Its `rngState()` is the adapter's dropout generators, which the trainer checkpoints.
 */
import type * as tf from "@tensorflow/tfjs";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { frozenLinear, gradientDepth, leanReshape } from "../kernels";
import { type DenseWeights, Linear, type LinearLike } from "../model/layers";
import type { Batch, TrainableModel } from "../train/types";
import { LoraError } from "./config";
import { LoraModel } from "./model";

/** A frozen `Linear`: same output, gradient for the input only (W and b are read from the closure). */
export class FrozenLinear implements LinearLike {
  constructor(readonly base: Linear) {}
  /** The base's weights, marked frozen: a fused output layer + loss computes no weight gradient for them. */
  denseWeights(): DenseWeights {
    return { ...this.base.denseWeights(), trainable: false };
  }
  apply(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const inF = x.shape[x.rank - 1];
    if (inF !== this.base.inFeatures)
      throw new Error(`${this.base.name}: input has ${inF} features, expected ${this.base.inFeatures}`);
    const n = lead.reduce((a, b) => a * b, 1);
    const { weight, bias } = this.base.denseWeights();
    const y = frozenLinear(leanReshape(x, [n, inF]) as tf.Tensor2D, weight, bias); // [N, out]
    return leanReshape(y, [...lead, this.base.outFeatures]); // [..., out]
  }
}

/**
 * Run `fn` with every plain `Linear` of the model replaced by a `FrozenLinear` (restored afterwards).
 *
 * @example
 * const loss = withFrozenBase(model, () => causalLMLoss(model.forward(ids).logits, ids));
 */
export function withFrozenBase<T>(model: GPTNeoXForCausalLM, fn: () => T): T {
  const swapped: [string, LinearLike][] = [];
  try {
    for (const name of model.linearNames()) {
      const l = model.getLinear(name);
      if (l instanceof Linear) swapped.push([name, model.setLinear(name, new FrozenLinear(l))]);
    }
    return fn();
  } finally {
    for (const [name, l] of swapped) model.setLinear(name, l);
  }
}

/**
 * The trainer's view of one adapter: its variables only, the model's causal-LM loss with that adapter active
 * and dropout on. (Freezing is by construction: the base's variables are not handed to the optimizer and
 * their gradients are never computed.)
 *
 * @example
 * LoraModel.of(model).addAdapter("customerA", { r: 8, alpha: 16 });
 * await train(loraTrainable(model, "customerA"), examples, { lr: 1e-3, numSteps: 30 });
 */
export function loraTrainable(model: GPTNeoXForCausalLM, adapter = "default"): TrainableModel {
  const lora = LoraModel.find(model);
  if (!lora?.has(adapter))
    throw new LoraError(
      `loraTrainable: the model has no adapter named ${JSON.stringify(adapter)}; add one with LoraModel.of(model).addAdapter(${JSON.stringify(adapter)}, {...})`,
    );
  if (lora.isMerged(adapter))
    throw new LoraError(
      `loraTrainable: adapter ${JSON.stringify(adapter)} is merged into the base; unmerge it before training`,
    );
  const vars = lora.adapterVariables(adapter);
  // one dropout generator per wrapped layer, keyed by its PEFT module name (none when dropout is 0)
  const rngs = new Map(
    lora.config(adapter).dropout > 0
      ? lora.targetModules(adapter).map((m) => [`${m}.lora_dropout`, lora.layer(m).get(adapter).dropoutRng])
      : [],
  );
  return {
    trainableVariables: () => vars,
    rngState: () => Object.fromEntries([...rngs].map(([k, r]) => [k, r.state])),
    setRngState: (state: Record<string, number>, source: string) => {
      const given = state && typeof state === "object" ? Object.keys(state) : [];
      const unknown = given.filter((k) => !rngs.has(k));
      if (unknown.length)
        throw new LoraError(
          `${source}: dropout generator ${JSON.stringify(unknown[0])} is not one of adapter ${JSON.stringify(adapter)}'s (${[...rngs.keys()].join(", ") || "it has no dropout"})`,
        );
      for (const k of rngs.keys()) {
        const v = state[k];
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
          throw new LoraError(
            `${source}: dropout generator ${JSON.stringify(k)}: expected a uint32 state, found ${JSON.stringify(v)}`,
          );
      }
      for (const [k, r] of rngs) r.state = state[k];
    },
    loss: (batch: Batch) =>
      lora.withActiveSync([adapter], () => {
        lora.setTraining(gradientDepth() > 0); // dropout while computing gradients, not in trainer.evaluate()
        try {
          // the fused output layer + loss when embed_out is frozen (no [B, T, V] logits); logits + loss otherwise
          return withFrozenBase(model, () =>
            model.causalLMLoss(batch.inputIds, batch.labels, { attentionMask: batch.attentionMask }),
          );
        } finally {
          lora.setTraining(false);
        }
      }),
  };
}
