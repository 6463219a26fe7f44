/**
 * The building blocks of GPT-NeoX in TensorFlow.js: `Linear` (HF layout `[out, in]`), `LayerNorm`, the
 * token embedding, the activations of `hidden_act`, and a shape-checked batched matmul.
 *
 * The dense products themselves are kernels (src/kernels/linear.ts), picked once for the backend, and so are exact
 * GELU and LayerNorm (src/kernels/gelu.ts, layer-norm.ts): custom ops that save less for their backward pass than
 * autodiff would. The embedding's weight gradient is a `tf.scatterND` (which sums the rows of repeated ids)
 * because `tf.gather`'s gradient needs `UnsortedSegmentSum`, which the wasm backend lacks.
 */
import * as tf from "@tensorflow/tfjs";
import { customOp, gelu, layerNorm, leanReshape, linear } from "../kernels";
import { ConfigError, HIDDEN_ACTS, type HiddenAct } from "./config";

/** What a block calls on a dense layer: LoRA wraps a `Linear` by putting another `LinearLike` in its place. */
export interface LinearLike {
  /** `[..., in]` → `[..., out]`. */
  apply(x: tf.Tensor): tf.Tensor;
  /**
   * For fused consumers (the output layer + loss of `GPTNeoXForCausalLM.causalLMLoss`): the plain weight
   * `[out, in]` and bias this layer computes `x·Wᵀ + b` with, and whether a gradient must flow to the weight.
   * Absent (or null) when the layer is more than that (e.g. a LoRA wrapper): callers then use `apply`.
   */
  denseWeights?(): DenseWeights | null;
}

/** What `LinearLike.denseWeights` returns. */
export interface DenseWeights {
  /** `[out, in]`. */
  weight: tf.Tensor2D;
  /** `[out]`, or null. */
  bias: tf.Tensor1D | null;
  /** False for a frozen layer: no weight gradient is wanted. */
  trainable: boolean;
}

/**
 * A dense layer in Hugging Face's layout: `y = x·Wᵀ + b`, W `[out, in]`, b `[out]` (or none).
 *
 * @example
 * const lin = new Linear("mlp.dense_h_to_4h", tf.variable(tf.zeros([64, 32])), tf.variable(tf.zeros([64])));
 * lin.apply(tf.ones([2, 5, 32])).shape; // [2, 5, 64]
 */
export class Linear implements LinearLike {
  constructor(
    /** HF module name, e.g. `gpt_neox.layers.0.attention.query_key_value`. */
    readonly name: string,
    /** `[out, in]`. */
    readonly weight: tf.Variable,
    /** `[out]`, or null for a bias-free layer. */
    readonly bias: tf.Variable | null,
  ) {
    if (weight.rank !== 2) throw new Error(`${name}.weight must be 2-D [out, in], got shape [${weight.shape}]`);
    if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
      throw new Error(`${name}.bias must be [${weight.shape[0]}], got shape [${bias.shape}]`);
    }
  }
  get inFeatures(): number {
    return this.weight.shape[1] as number;
  }
  get outFeatures(): number {
    return this.weight.shape[0] as number;
  }
  denseWeights(): DenseWeights {
    return {
      weight: this.weight as tf.Tensor as tf.Tensor2D,
      bias: this.bias as tf.Tensor as tf.Tensor1D | null,
      trainable: true,
    };
  }
  apply(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const inF = x.shape[x.rank - 1];
    if (inF !== this.inFeatures)
      throw new Error(`${this.name}: input has ${inF} features, expected ${this.inFeatures}`);
    const n = lead.reduce((a, b) => a * b, 1);
    const { weight, bias } = this.denseWeights();
    const y = linear(leanReshape(x, [n, inF]) as tf.Tensor2D, weight, bias); // [N, out]
    return leanReshape(y, [...lead, this.outFeatures]); // [..., out]
  }
}

/**
 * LayerNorm over the last axis: `(x − mean) / sqrt(var + eps) · weight + bias` (biased variance, as PyTorch).
 *
 * @example
 * new LayerNorm("ln", tf.variable(tf.ones([4])), tf.variable(tf.zeros([4])), 1e-5).apply(tf.randomNormal([2, 4]));
 */
export class LayerNorm {
  constructor(
    readonly name: string,
    readonly weight: tf.Variable,
    readonly bias: tf.Variable,
    readonly eps: number,
  ) {}
  apply(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps); // one custom op (src/kernels/layer-norm.ts): saves x̂ and 1/σ
  }
}

/**
 * Token embedding lookup `W[ids]`, differentiable on every backend: the weight gradient is a
 * `tf.scatterND` of the output gradient's rows (summing repeated ids) instead of `tf.gather`'s gradient,
 * which needs the `UnsortedSegmentSum` kernel the wasm backend lacks.
 *
 * @example
 * embedding(tf.variable(tf.randomNormal([100, 8])), tf.tensor2d([[1, 2, 2]], [1, 3], "int32")).shape; // [1, 3, 8]
 */
export function embedding(weight: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const [vocab, dim] = weight.shape as [number, number];
  const flat = tf.reshape(ids, [-1]); // [N]
  const f = customOp<tf.Tensor>(([w], save) => {
    save([flat]);
    return {
      value: tf.reshape(tf.gather(w, flat), [...ids.shape, dim]), // [..., C]
      gradFunc: (dy, [idx]) => [
        tf.scatterND(tf.reshape(idx, [-1, 1]), tf.reshape(dy, [-1, dim]), [vocab, dim]), // dW: [V, C], repeated ids summed
      ],
    };
  });
  return f(weight);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * The activation named by HF's `hidden_act`: `gelu` is the exact erf GELU; `gelu_new`, `gelu_pytorch_tanh` and
 * `gelu_fast` are the tanh approximation; `quick_gelu` is `x·σ(1.702x)`; `silu`/`swish` is `x·σ(x)`.
 * Unknown names are a ConfigError listing the supported ones.
 *
 * @example
 * activation("gelu")(tf.tensor1d([-1, 0, 1])).print(); // [-0.1587, 0, 0.8413]
 */
export function activation(name: HiddenAct | string): (x: tf.Tensor) => tf.Tensor {
  switch (name) {
    case "gelu":
      return (x) => gelu(x); // one custom op (src/kernels/gelu.ts): only x is kept for the backward pass
    case "gelu_new":
    case "gelu_pytorch_tanh":
      return (x) => {
        const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI);
        return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
      };
    case "gelu_fast":
      return (x) => {
        const inner = tf.mul(tf.mul(x, 0.7978845608), tf.add(tf.mul(tf.mul(x, x), 0.044715), 1));
        return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
      };
    case "quick_gelu":
      return (x) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case "relu":
      return (x) => tf.relu(x);
    case "silu":
    case "swish":
      return (x) => tf.mul(x, tf.sigmoid(x));
    case "tanh":
      return (x) => tf.tanh(x);
    case "sigmoid":
      return (x) => tf.sigmoid(x);
    case "linear":
      return (x) => x;
    default:
      throw new ConfigError(
        `hidden_act ${JSON.stringify(name)} is not supported; use one of: ${HIDDEN_ACTS.join(", ")}`,
      );
  }
}
