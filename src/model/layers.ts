/**
 * The building blocks of GPT-NeoX in TensorFlow.js: `Linear` (HF layout `[out, in]`), `LayerNorm`, the
 * token embedding, the activations of `hidden_act`, and a shape-checked batched matmul.
 *
 * Why custom gradients: on the WebAssembly backend a 2-D matmul with a transposed operand (`transposeA/B`) is
 * 10–40× slower than a plain one (measured: [512,512]·[512,4096]ᵀ 0.9 s vs 0.1 s), and tfjs's own matmul
 * gradients use exactly those flags; `tf.gather`'s gradient needs `UnsortedSegmentSum`, which wasm lacks. So
 * `Linear`'s forward and backward passes are explicit `tf.transpose` + plain `tf.matMul` (`(W·xᵀ)ᵀ` beat
 * `x·Wᵀ` at every size tried: 19 ms vs 190 ms for one token through a 50304×512 head), and the embedding's weight
 * gradient is a `tf.scatterND` (which sums the rows of repeated ids). When the wasm backend's matmuls run on a
 * native BLAS (src/kernels/native-blas.ts) transposed operands are free, and `Linear` uses them instead
 * (`nativeMatMulActive()`): no transpose ops at all.
 */
import * as tf from "@tensorflow/tfjs";
import { ConfigError, HIDDEN_ACTS, type HiddenAct } from "./config";
import { nativeMatMulActive } from "../kernels/native-blas";

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

type GradResult<T extends tf.Tensor> = { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor[] };

/**
 * `tf.customGrad` with the inputs as an array and the save function apart (typed). The ops built on it (Linear,
 * LayerNorm, exact GELU) give first-order gradients: their backward is not itself differentiated correctly, so
 * do not take a gradient of a gradient through them.
 */
function customOp<T extends tf.Tensor>(
  fn: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => GradResult<T>,
): (...xs: tf.Tensor[]) => T {
  return tf.customGrad<T>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return fn(args.slice(0, -1) as tf.Tensor[], save);
  });
}

/** `x2d · Wᵀ (+ b)` with W `[out, in]`; forward and backward use plain matmuls only (fast on wasm). */
const linearNoBias = customOp<tf.Tensor2D>(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.transpose(tf.matMul(w, tf.transpose(x))) as tf.Tensor2D, // (W·xᵀ)ᵀ: [N, out]
    gradFunc: (dy, [sx, sw]) => [
      tf.matMul(dy, sw), // dx: [N, out]·[out, in] = [N, in]
      tf.matMul(tf.transpose(dy), sx), // dW: [out, N]·[N, in] = [out, in]
    ],
  };
});

const linearBias = customOp<tf.Tensor2D>(([x, w, b], save) => {
  save([x, w]);
  return {
    value: tf.add(tf.transpose(tf.matMul(w, tf.transpose(x))), b) as tf.Tensor2D, // [N, out]
    gradFunc: (dy, [sx, sw]) => [
      tf.matMul(dy, sw), // dx: [N, in]
      tf.matMul(tf.transpose(dy), sx), // dW: [out, in]
      tf.sum(dy, 0), // db: [out]
    ],
  };
});

/**
 * Column sums of a `[N, C]` tensor (bias and LayerNorm gradients). With a native BLAS behind the wasm matmul this
 * is `1ᵀ·x` (a BLAS product at memory speed); tfjs-wasm's `Sum` over axis 0 transposes first and runs at about a
 * tenth of that (≈ 0.35 s of a pythia-70m step at 8 × 128). Otherwise `tf.sum(x, 0)`.
 */
export function colSum(x: tf.Tensor): tf.Tensor1D {
  if (x.rank !== 2 || !nativeMatMulActive()) return tf.sum(x, 0) as tf.Tensor1D;
  const [n, c] = x.shape as [number, number];
  return tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, n]), x), [c])) as tf.Tensor1D;
}

/**
 * The same two layers when the wasm backend's matmuls run on a native BLAS (src/kernels/native-blas.ts): there a
 * transposed operand is a BLAS flag and costs nothing, so no transpose op is made at all (`x·Wᵀ` forward,
 * `dyᵀ·x` for dW).
 */
const linearNoBiasNative = customOp<tf.Tensor2D>(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w, false, true) as tf.Tensor2D, // x·Wᵀ: [N, out]
    gradFunc: (dy, [sx, sw]) => [
      tf.matMul(dy, sw), // dx: [N, out]·[out, in] = [N, in]
      tf.matMul(dy, sx, true, false), // dW: dyᵀ·x = [out, in]
    ],
  };
});

const linearBiasNative = customOp<tf.Tensor2D>(([x, w, b], save) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w, false, true), b) as tf.Tensor2D, // [N, out]
    gradFunc: (dy, [sx, sw]) => [
      tf.matMul(dy, sw), // dx: [N, in]
      tf.matMul(dy, sx, true, false), // dW: [out, in]
      colSum(dy), // db: [out]
    ],
  };
});

/**
 * How many gradient computations (`tf.grad`, `tf.variableGrads`, ...) are recording right now: 0 in a plain
 * forward pass, 1 in a training step, 2 inside a gradient of a gradient. Read from tfjs's engine; if a tfjs
 * version hides it, 1 (assume a gradient pass: computing gradients that are not needed is safe, skipping them
 * is not).
 *
 * @example
 * if (gradientDepth() > 0) { ... } // the trainer's step
 */
export function gradientDepth(): number {
  return (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state?.gradientDepth ?? 1;
}

/** Backends whose `Identity` kernel now shares the input's buffer (see `shareClonesOnWasm`). */
const sharedIdentity = new Set<string>();

/**
 * Make `tf.clone` (the `Identity` kernel) share the input's buffer on the WebAssembly backend, as the CPU and
 * WebGL backends already do (a reference count, like wasm's own `Reshape`), instead of copying it. tfjs clones
 * every tensor an op saves for its gradient (`keep(clone(t))`), so during a training step on wasm every saved
 * activation, and every weight a `Linear` saves, was a full copy — the largest memory holder of a step once the
 * logits are gone. Tensors are immutable (a `Variable.assign` swaps the buffer, it never writes into it), so
 * sharing is safe. The one in-place writer, AdamW's wasm update of its own m and v (src/train/adamw.ts), first
 * checks that nothing shares their buffers (reference count 1). Idempotent; does nothing on other backends. Called by the trainer and the training loss.
 *
 * @example
 * shareClonesOnWasm(); // then tf.clone(x) costs no copy on wasm
 */
export function shareClonesOnWasm(): void {
  const backend = tf.getBackend();
  if (backend !== "wasm" || sharedIdentity.has(backend)) return;
  const original = tf.getKernel("Identity", backend);
  if (!original) return;
  tf.unregisterKernel("Identity", backend);
  tf.registerKernel({
    kernelName: "Identity",
    backendName: backend,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === "string") return original.kernelFunc(args); // strings live outside the heap
      (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId); // freed when the last holder is disposed
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  sharedIdentity.add(backend);
}

/**
 * Transposed weights `[in, out]`, kept while a decoding loop runs (`withTransposedWeights`), keyed by the
 * weight's data (a variable that is assigned gets a new key, so a stale copy is never used).
 */
let transposed: Map<object, tf.Tensor2D> | null = null;
let transposedDepth = 0;

/** Rows up to which a layer uses the kept `[in, out]` weight: `x·Wt` (measured on wasm, one token through the
 * 50304×512 head: 10 ms, vs 42 ms for `(W·xᵀ)ᵀ`; at 1024 rows `(W·xᵀ)ᵀ` is as fast and needs no copy). */
export const TRANSPOSED_MAX_ROWS = 64;

/**
 * Run `fn` (a decoding loop) with each dense layer's weight kept transposed once, so the few-row matmuls of
 * incremental decoding are `x·Wt` — XNNPACK's fast layout, its packed weights reused — instead of `(W·xᵀ)ᵀ`.
 * Costs one extra copy of the dense weights while it runs; everything is freed when the outermost call ends.
 *
 * @example
 * const ids = await withTransposedWeights(() => generate(model, prompt, { maxNewTokens: 64 }));
 */
export async function withTransposedWeights<T>(fn: () => Promise<T>): Promise<T> {
  transposedDepth++;
  if (!transposed) transposed = new Map();
  try {
    return await fn();
  } finally {
    if (--transposedDepth === 0) {
      for (const t of transposed.values()) t.dispose();
      transposed = null;
    }
  }
}

/** The kept `[in, out]` copy of `w` inside `withTransposedWeights`, else null. */
function keptTransposed(w: tf.Variable): tf.Tensor2D | null {
  if (!transposed) return null;
  const key = (w as unknown as { dataId: object }).dataId;
  let t = transposed.get(key);
  if (!t) {
    t = tf.keep(tf.transpose(w) as tf.Tensor2D); // [in, out]
    transposed.set(key, t);
  }
  return t;
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
    const x2d = tf.reshape(x, [n, inF]); // [N, in]
    const wt = n <= TRANSPOSED_MAX_ROWS ? keptTransposed(this.weight) : null; // [in, out] while decoding
    if (wt) {
      const z = tf.matMul(x2d, wt); // [N, out]
      return tf.reshape(this.bias ? tf.add(z, this.bias) : z, [...lead, this.outFeatures]);
    }
    const native = nativeMatMulActive();
    const y = this.bias
      ? (native ? linearBiasNative : linearBias)(x2d, this.weight, this.bias)
      : (native ? linearNoBiasNative : linearNoBias)(x2d, this.weight); // [N, out]
    return tf.reshape(y, [...lead, this.outFeatures]);
  }
}

/**
 * Batched `a·b` for rank-3 tensors with equal batch sizes (`[n, M, K]·[n, K, N]`), shape-checked. (Measured on
 * wasm: for attention-sized batches, tfjs's own BatchMatMul and its gradient are as fast as splitting into 2-D
 * matmuls, and much faster for one-token decoding steps, so this is plain `tf.matMul`.)
 *
 * @example
 * bmm(tf.ones([8, 3, 16]), tf.ones([8, 16, 5])).shape; // [8, 3, 5]
 */
export function bmm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`bmm: expected [n, M, K]·[n, K, N], got [${a.shape}]·[${b.shape}]`);
  }
  return tf.matMul(a, b);
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
    return layerNormOp(this.eps)(x, this.weight, this.bias);
  }
}

/**
 * LayerNorm as one custom op that saves only `x̂` and `1/σ` for its gradient (autodiff through the formula kept
 * `x − μ` twice, `x̂` and `x̂·w` alive per call: four `[B, T, C]` tensors instead of one). Backward, per row:
 * `dx̂ = dy·w`, `dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ`, `dw = Σ dy·x̂`, `db = Σ dy`.
 */
function layerNormOp(eps: number): (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return customOp<tf.Tensor>(([x, w, b], save) => {
    const { mean, variance } = tf.moments(x, -1, true); // [B, T, 1] each
    const rstd = tf.rsqrt(tf.add(variance, eps)); // [B, T, 1]
    const xhat = tf.mul(tf.sub(x, mean), rstd); // [B, T, C]
    save([xhat, rstd]);
    return {
      value: tf.add(tf.mul(xhat, w), b), // [B, T, C]
      gradFunc: (dy, [sxhat, srstd]) => {
        const C = dy.shape[dy.rank - 1];
        const dxhat = tf.mul(dy, w); // [B, T, C]
        const meanD = tf.mean(dxhat, -1, true); // [B, T, 1]
        const meanDX = tf.mean(tf.mul(dxhat, sxhat), -1, true); // [B, T, 1]
        const dx = tf.mul(tf.sub(tf.sub(dxhat, meanD), tf.mul(sxhat, meanDX)), srstd); // [B, T, C]
        const dy2 = tf.reshape(dy, [-1, C]); // [N, C]
        return [dx, colSum(tf.mul(dy2, tf.reshape(sxhat, [-1, C]))), colSum(dy2)]; // dx, dw [C], db [C]
      },
    };
  });
}

/** The exact GELU `x·Φ(x)`, `Φ(x) = (1 + erf(x/√2))/2`, saving only x; gradient `Φ(x) + x·φ(x)`, φ the normal pdf. */
const geluExact = customOp<tf.Tensor>(([x], save) => {
  save([x]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)), // the formula autodiff used: same values
    gradFunc: (dy, [sx]) => {
      const cdf = tf.mul(tf.add(tf.erf(tf.mul(sx, Math.SQRT1_2)), 1), 0.5); // Φ(x)
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), 1 / Math.sqrt(2 * Math.PI)); // φ(x)
      return [tf.mul(dy, tf.add(cdf, tf.mul(sx, pdf)))];
    },
  };
});

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
      return (x) => geluExact(x); // one custom op: only x is kept for the backward pass (the MLP's widest tensors)
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
