/**
 * BitFit (Ben Zaken, Ravfogel & Goldberg 2021, "BitFit: Simple Parameter-efficient Fine-tuning for
 * Transformer-based Masked Language-models", https://arxiv.org/abs/2106.10199): freeze every weight matrix and
 * train only the bias terms. GPT-NeoX has a bias on every dense layer of a block (`query_key_value`, `dense`,
 * `dense_h_to_4h`, `dense_4h_to_h`; the attention pair only with `attention_bias`) and on every LayerNorm
 * (`input_layernorm`, `post_attention_layernorm`, `final_layer_norm`); `embed_out` has none. Those are the
 * values BitFit trains: `L·(2C + M + C + 4C·attentionBias) + C` of them, about 0.05 % of pythia-70m.
 *
 * Like `loraTrainable`, the frozen weights get no gradient and none is computed: during the loss, each block's
 * dense layer is replaced by a `BitFitLinear` (the frozen product `x·Wᵀ`, whose backward pass is the input
 * gradient only, plus the trainable bias) and `embed_out` by a `FrozenLinear`; the layers are put back after
 * each call. After training the model is an ordinary model (the biases are its own variables): nothing to
 * merge, no extra cost at inference.
 */
import * as tf from "@tensorflow/tfjs";
import { frozenLinear, leanReshape } from "../kernels";
import type { GPTNeoXConfig } from "../model/config";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { Linear, type LinearLike } from "../model/layers";
import { parameterShapes } from "../model/parameters";
import { countParameters } from "../model/presets";
import type { Batch, TrainableModel } from "../train/types";
import { LoraError } from "./config";
import { FrozenLinear } from "./trainable";

/** Which biases BitFit trains. */
export interface BitFitOptions {
  /** Train the LayerNorm biases (β) too (default true, as the paper). false: the dense layers' biases only. */
  layerNormBias: boolean;
}

export const DEFAULT_BITFIT_OPTIONS: BitFitOptions = { layerNormBias: true };

function resolve(opts: Partial<BitFitOptions>, where: string): BitFitOptions {
  if (opts === null || typeof opts !== "object") throw new LoraError(`${where}: options must be an object`);
  const o = { ...DEFAULT_BITFIT_OPTIONS, ...opts };
  if (typeof o.layerNormBias !== "boolean")
    throw new LoraError(`${where}: layerNormBias must be true or false, found ${JSON.stringify(o.layerNormBias)}`);
  return o;
}

function isTrainedBias(name: string, o: BitFitOptions): boolean {
  if (!name.endsWith(".bias")) return false;
  return o.layerNormBias || !/(layernorm|layer_norm)\.bias$/.test(name);
}

/**
 * The HF names of the parameters BitFit trains, for a config (no weights needed), in `state_dict` order.
 *
 * @example
 * bitFitParameterNames(getPreset("pythia-70m")).length; // 37 = 6 blocks · 6 biases + the final LayerNorm's
 */
export function bitFitParameterNames(cfg: GPTNeoXConfig, opts: Partial<BitFitOptions> = {}): string[] {
  const o = resolve(opts, "bitFitParameterNames");
  return [...parameterShapes(cfg).keys()].filter((n) => isTrainedBias(n, o));
}

/** What BitFit trains, against the whole model. */
export interface BitFitParameterCount {
  /** Bias values trained. */
  trainable: number;
  /** The model's parameters (the biases are among them: nothing is added). */
  total: number;
  /** trainable / total. */
  ratio: number;
  /** total / trainable: how many times fewer parameters are trained. */
  reduction: number;
  /** The trained tensors' HF names. */
  names: string[];
}

/**
 * Count BitFit's trainable parameters from a config alone: per block `2C` (LayerNorm β) `+ M + C` (MLP) `+ 4C`
 * (attention, with `attentionBias`), plus `C` for the final LayerNorm.
 *
 * @example
 * bitFitParameterCount(getPreset("pythia-70m")).trainable; // 6 · (2·512 + 2048 + 512 + 4·512) + 512 = 34,304
 */
export function bitFitParameterCount(cfg: GPTNeoXConfig, opts: Partial<BitFitOptions> = {}): BitFitParameterCount {
  const o = resolve(opts, "bitFitParameterCount");
  const C = cfg.hiddenSize;
  const M = cfg.intermediateSize;
  const ln = o.layerNormBias ? 2 * C : 0;
  const trainable = cfg.numHiddenLayers * (ln + M + C + (cfg.attentionBias ? 4 * C : 0)) + (o.layerNormBias ? C : 0);
  const total = countParameters(cfg).total;
  return {
    trainable,
    total,
    ratio: trainable / total,
    reduction: total / trainable,
    names: bitFitParameterNames(cfg, o),
  };
}

/** A dense layer with a frozen weight and a trainable bias: `frozen(x·Wᵀ) + b` (gradients for x and b only). */
export class BitFitLinear implements LinearLike {
  constructor(readonly base: Linear) {
    if (!base.bias) throw new LoraError(`BitFitLinear: ${base.name} has no bias to train`);
  }
  apply(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const inF = x.shape[x.rank - 1];
    if (inF !== this.base.inFeatures)
      throw new Error(`${this.base.name}: input has ${inF} features, expected ${this.base.inFeatures}`);
    const n = lead.reduce((a, b) => a * b, 1);
    const { weight } = this.base.denseWeights();
    const z = frozenLinear(leanReshape(x, [n, inF]) as tf.Tensor2D, weight, null); // [N, out], no weight gradient
    return leanReshape(tf.add(z, this.base.bias!), [...lead, this.base.outFeatures]); // [..., out]; db = Σ_N dy
  }
}

/**
 * Run `fn` with each block's dense layers as `BitFitLinear` (those with a bias; the others and `embed_out` as
 * `FrozenLinear`), restored afterwards. Every dense layer must be a plain `Linear` (no LoRA wrapper on it).
 */
function withBitFitLayers<T>(model: GPTNeoXForCausalLM, fn: () => T): T {
  const swapped: [string, LinearLike][] = [];
  try {
    for (const name of model.linearNames()) {
      const l = model.getLinear(name);
      if (!(l instanceof Linear))
        throw new LoraError(
          `bitFitTrainable: ${name} is not a plain dense layer (a LoRA adapter on it?); BitFit needs the base model alone`,
        );
      const wrapped = l.bias ? new BitFitLinear(l) : new FrozenLinear(l);
      swapped.push([name, model.setLinear(name, wrapped)]);
    }
    return fn();
  } finally {
    for (const [name, l] of swapped.reverse()) model.setLinear(name, l);
  }
}

/**
 * The trainer's view of BitFit: the model's own bias variables (keyed by HF name), and the causal-LM loss
 * computed with frozen weight products, so no weight gradient is computed. The model is updated in place.
 *
 * @example
 * const trainable = bitFitTrainable(model);            // 34,304 values for pythia-70m
 * await train(trainable, examples, { lr: 1e-2, numSteps: 100 });
 */
export function bitFitTrainable(model: GPTNeoXForCausalLM, opts: Partial<BitFitOptions> = {}): TrainableModel {
  const o = resolve(opts, "bitFitTrainable");
  const params = model.parameters();
  const names = bitFitParameterNames(model.config, o);
  const vars = new Map(names.map((n) => [n, params.get(n)!]));
  if (vars.size === 0) throw new LoraError("bitFitTrainable: the model has no bias to train");
  return {
    trainableVariables: () => vars,
    loss: (batch: Batch) =>
      withBitFitLayers(model, () =>
        model.causalLMLoss(batch.inputIds, batch.labels, { attentionMask: batch.attentionMask, trainOutput: false }),
      ),
  };
}
