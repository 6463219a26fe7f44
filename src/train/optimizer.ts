/**
 * What every optimizer here shares: parameters as a `Map<name, Variable>`, state as named `tf.Variable`s
 * created once (so a step re-creates nothing but its temporaries and a checkpoint can save/restore the state
 * bit for bit), and the weight-decay rule.
 *
 * Weight decay rule (what `decays(name, shape)` decides), as Hugging Face's Trainer does it: no decay on biases
 * and LayerNorm parameters. Here a parameter is decayed iff its rank is ≥ 2 AND its name does not match
 * `noDecayPattern` (a case-insensitive regular expression; default `(^|\.)bias$|norm`). For GPT-NeoX that
 * decays the embedding, attention and MLP matrices and `embed_out`, and leaves every bias and every
 * `*layernorm*`/`final_layer_norm` weight alone; LoRA's `lora_A`/`lora_B` matrices are decayed (as PEFT under
 * the HF Trainer does).
 */
import * as tf from "@tensorflow/tfjs";

export const OPTIMIZERS = ["adamw", "adafactor"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Default no-decay name pattern: biases and normalisation layers. */
export const DEFAULT_NO_DECAY_PATTERN = "(^|\\.)bias$|norm";

/**
 * Whether a parameter gets weight decay (see the file comment).
 * @example
 * decays("gpt_neox.layers.0.mlp.dense_h_to_4h.weight", [2048, 512]); // true
 * decays("gpt_neox.layers.0.input_layernorm.weight", [512]);         // false
 */
export function decays(
  name: string,
  shape: readonly number[],
  noDecayPattern: string = DEFAULT_NO_DECAY_PATTERN,
): boolean {
  if (shape.length < 2) return false;
  return noDecayPattern === "" || !new RegExp(noDecayPattern, "i").test(name);
}

/** A tensor's values as a checkpoint stores them. */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

/** Error for a checkpoint's optimizer state that does not fit the parameters. */
export class OptimizerStateError extends Error {
  override name = "OptimizerStateError";
}

/** One optimizer over named variables. */
export interface Optimizer {
  readonly name: OptimizerName;
  /** Updates applied so far (the `t` of bias correction / Adafactor's decay). */
  step: number;
  /**
   * Apply one update with gradients keyed like the parameters (each multiplied by `gradScale` first: the
   * trainer's clipping and accumulation factor), at learning rate `lr`. Each parameter is updated in its own
   * tidy, so temporaries never pile up across parameters; the gradients are not disposed. A parameter with no
   * gradient is left untouched (as PyTorch skips `p.grad is None`).
   */
  apply(grads: Map<string, tf.Tensor>, lr: number, gradScale?: number): void;
  /** The live state variables by name (do not dispose them); what a checkpoint saves. */
  stateVariables(): Map<string, tf.Variable>;
  /** Copy saved state values in; throws an `OptimizerStateError` naming a missing or misshapen tensor. */
  loadState(tensors: Map<string, StateTensor>, step: number): void;
  /** JSON-able hyper-parameters (for `trainer_state.json`). */
  describe(): Record<string, unknown>;
  /** Free the state (the parameters are not the optimizer's). */
  dispose(): void;
}

/** Shared plumbing: parameters, decay flags, state variables, save/restore. */
export abstract class BaseOptimizer implements Optimizer {
  abstract readonly name: OptimizerName;
  step = 0;
  protected readonly params: Map<string, tf.Variable>;
  protected readonly decayed = new Map<string, boolean>();
  protected readonly state = new Map<string, tf.Variable>();
  /** Constant scalars made once (disposed with the optimizer). */
  private readonly constants = new Map<number, tf.Scalar>();

  constructor(params: Map<string, tf.Variable>, noDecayPattern: string) {
    if (!(params instanceof Map) || params.size === 0)
      throw new OptimizerStateError("optimizer: expected a non-empty Map<name, tf.Variable> of parameters");
    try {
      new RegExp(noDecayPattern, "i");
    } catch (e: any) {
      throw new OptimizerStateError(
        `noDecayPattern: ${JSON.stringify(noDecayPattern)} is not a regular expression (${e?.message})`,
      );
    }
    this.params = params;
    for (const [name, p] of params) {
      if (p.dtype !== "float32")
        throw new OptimizerStateError(`parameter "${name}": expected float32, found ${p.dtype}`);
      this.decayed.set(name, decays(name, p.shape, noDecayPattern));
    }
  }

  /** Make a zero state variable `"<param>.<slot>"`. */
  protected addState(param: string, slot: string, shape: number[]): tf.Variable {
    // the Fill kernel writes where the backend keeps the data; tf.zeros would first build a JavaScript array of
    // zeros (≈ 100 MiB per moment of pythia-70m's embeddings) and leave it to the garbage collector
    const zeros = tf.fill(shape, 0, "float32");
    const v = tf.variable(zeros, false); // shares zeros' buffer...
    zeros.dispose(); // ...so drop our handle, or the first assign would leave it alive
    this.state.set(`${param}.${slot}`, v);
    return v;
  }

  protected slot(param: string, slot: string): tf.Variable | undefined {
    return this.state.get(`${param}.${slot}`);
  }

  /** A kept scalar for a constant hyper-parameter (not re-created each step). */
  protected constant(x: number): tf.Scalar {
    let s = this.constants.get(x);
    if (!s) {
      s = tf.keep(tf.scalar(x, "float32"));
      this.constants.set(x, s);
    }
    return s;
  }

  abstract apply(grads: Map<string, tf.Tensor>, lr: number, gradScale?: number): void;
  abstract describe(): Record<string, unknown>;

  stateVariables(): Map<string, tf.Variable> {
    return new Map(this.state);
  }

  loadState(tensors: Map<string, StateTensor>, step: number): void {
    if (!Number.isInteger(step) || step < 0)
      throw new OptimizerStateError(`optimizer step: expected an integer ≥ 0, found ${step}`);
    for (const [name, v] of this.state) {
      const t = tensors.get(name);
      if (!t)
        throw new OptimizerStateError(
          `optimizer state "${name}" is missing from the checkpoint (was it saved by another optimizer or model?)`,
        );
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i]))
        throw new OptimizerStateError(`optimizer state "${name}": expected shape [${v.shape}], found [${t.shape}]`);
    }
    const extra = [...tensors.keys()].filter((k) => !this.state.has(k));
    if (extra.length)
      throw new OptimizerStateError(
        `optimizer state has tensors this ${this.name} optimizer does not know: ${extra.slice(0, 5).join(", ")}${extra.length > 5 ? ", ..." : ""}`,
      );
    for (const [name, v] of this.state) {
      const t = tensors.get(name)!;
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, "float32")));
    }
    this.step = step;
  }

  dispose(): void {
    for (const v of this.state.values()) v.dispose();
    for (const s of this.constants.values()) s.dispose();
    this.state.clear();
    this.constants.clear();
  }
}
