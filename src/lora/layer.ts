/**
 * `LoraLinear`: a frozen dense layer `y = x·Wᵀ + b` plus named low-rank adapters, each adding
 * `scaling · dropout(x)·Aᵀ·Bᵀ` with A `[r, in]` and B `[out, r]` — PEFT's `LoraLayer`/`Linear` in TensorFlow.js.
 *
 * Like PEFT: adapters are kept by name, any subset is active (with optional weights for a combination), one
 * `deltaWeight(name) = scaling · B·A` serves both merge (`W += Δ`) and unmerge (`W -= Δ`), and non-finite
 * merged weights are refused with the adapter's name.
 *
 * The forward and backward products are one kernel (src/kernels/lora-linear.ts) whose inputs are x and the
 * adapters' A and B: the frozen base gets no gradient and none is computed. Dropout is inverted dropout
 * (mask ∈ {0, 1/(1−p)}), drawn in training mode only from the adapter's own seeded generator on this layer: layers
 * never share masks, and a checkpoint saves each generator's state so a resumed run draws the masks an
 * uninterrupted one would have.
 */
import * as tf from "@tensorflow/tfjs";
import type { Linear, LinearLike } from "../model/layers";
import { leanReshape, loraLinear } from "../kernels";
import { Rng, deriveSeed } from "../runtime/seed";
import { type LoraConfig, LoraError, loraScaling } from "./config";

/** One adapter on one layer. */
export interface LoraAdapter {
  readonly name: string;
  /** `[r, in]`. */
  readonly A: tf.Variable;
  /** `[out, r]`. */
  readonly B: tf.Variable;
  readonly r: number;
  readonly scaling: number;
  readonly dropout: number;
  /** Draws this adapter's dropout masks on this layer; `dropoutRng.state` is what a training checkpoint saves. */
  readonly dropoutRng: Rng;
}

/** Tag of the dropout stream in `deriveSeed`, so it never repeats the draws that initialised A and B. */
const DROPOUT_STREAM = 0x44524f50; // "DROP"

/** How the wrapped layer runs. */
interface ActiveTerm {
  adapter: LoraAdapter;
  /** Multiplier of the combination (1 for a single adapter). */
  weight: number;
}

/**
 * PEFT's initialisation of A: `kaiming_uniform_(A, a=sqrt(5))`, i.e. uniform on ±1/sqrt(in) (gain
 * sqrt(2/(1+a²)) = sqrt(1/3), bound = gain·sqrt(3/fan_in)); seeded.
 *
 * @example
 * kaimingUniformA(8, 512, new Rng(0)); // Float32Array(4096), every |value| ≤ 1/sqrt(512)
 */
export function kaimingUniformA(r: number, inFeatures: number, rng: Rng): Float32Array {
  const bound = 1 / Math.sqrt(inFeatures);
  const out = new Float32Array(r * inFeatures);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.next() - 1) * bound;
  return out;
}

/** A layer with a frozen base and named LoRA adapters; it stands in for the base through `setLinear`. */
export class LoraLinear implements LinearLike {
  private readonly adapters = new Map<string, LoraAdapter>();
  private active: ActiveTerm[] = [];
  private readonly merged: string[] = [];
  /** Dropout applies only while true (set by `loraTrainable` around the training forward pass). */
  training = false;

  constructor(
    /** The frozen dense layer (its variables are the model's own). */
    readonly base: Linear,
    /** Mixed with each adapter's seed into its dropout generator's seed. */
    private readonly dropoutSeed = 0,
  ) {}

  get name(): string {
    return this.base.name;
  }
  get inFeatures(): number {
    return this.base.inFeatures;
  }
  get outFeatures(): number {
    return this.base.outFeatures;
  }

  /**
   * Add an adapter (inactive until `setActive`). A is Kaiming-uniform and B zero (so it changes nothing until
   * trained), or both random with `initLoraWeights: false`.
   */
  addAdapter(
    name: string,
    cfg: Pick<LoraConfig, "r" | "alpha" | "dropout" | "useRslora" | "initLoraWeights">,
    seed = 0,
  ): LoraAdapter {
    if (this.adapters.has(name))
      throw new LoraError(`${this.name}: an adapter named ${JSON.stringify(name)} already exists`);
    const rng = new Rng(seed);
    const a = kaimingUniformA(cfg.r, this.inFeatures, rng); // [r, in]
    const b = new Float32Array(this.outFeatures * cfg.r); // [out, r]
    if (!cfg.initLoraWeights) for (let i = 0; i < b.length; i++) b[i] = rng.normal() * 0.02;
    const id = `lora/${name}/${this.name}`;
    const adapter: LoraAdapter = {
      name,
      A: tf.tidy(() =>
        tf.variable(tf.tensor2d(a, [cfg.r, this.inFeatures]), true, `${id}/A_${Math.random().toString(36).slice(2)}`),
      ),
      B: tf.tidy(() =>
        tf.variable(tf.tensor2d(b, [this.outFeatures, cfg.r]), true, `${id}/B_${Math.random().toString(36).slice(2)}`),
      ),
      r: cfg.r,
      scaling: loraScaling(cfg),
      dropout: cfg.dropout,
      dropoutRng: new Rng(deriveSeed(this.dropoutSeed, seed, DROPOUT_STREAM)),
    };
    this.adapters.set(name, adapter);
    return adapter;
  }

  /** Load A `[r, in]` and B `[out, r]` values into an existing adapter (shapes checked; errors name `source`). */
  setWeights(name: string, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], source: string): void {
    const ad = this.get(name);
    if (aShape.join(",") !== ad.A.shape.join(","))
      throw new LoraError(
        `${source}: lora_A has shape [${aShape}], expected [${ad.A.shape}] (r=${ad.r}, in=${this.inFeatures} of ${this.name})`,
      );
    if (bShape.join(",") !== ad.B.shape.join(","))
      throw new LoraError(
        `${source}: lora_B has shape [${bShape}], expected [${ad.B.shape}] (out=${this.outFeatures} of ${this.name}, r=${ad.r})`,
      );
    tf.tidy(() => {
      ad.A.assign(tf.tensor2d(a, aShape as [number, number]));
      ad.B.assign(tf.tensor2d(b, bShape as [number, number]));
    });
  }

  adapterNames(): string[] {
    return [...this.adapters.keys()];
  }
  has(name: string): boolean {
    return this.adapters.has(name);
  }
  get(name: string): LoraAdapter {
    const ad = this.adapters.get(name);
    if (!ad)
      throw new LoraError(
        `${this.name}: no adapter named ${JSON.stringify(name)} (have: ${this.adapterNames().join(", ") || "none"})`,
      );
    return ad;
  }
  /** Names of the active adapters with their combination weights. */
  activeAdapters(): { name: string; weight: number }[] {
    return this.active.map((t) => ({ name: t.adapter.name, weight: t.weight }));
  }
  /** Names of the adapters currently merged into the base weight. */
  mergedAdapters(): string[] {
    return [...this.merged];
  }

  /** Make these adapters the active ones (empty: base only). Merged adapters stay in W either way. */
  setActive(names: readonly string[], weights?: readonly number[]): void {
    if (weights && weights.length !== names.length)
      throw new LoraError(`${this.name}: ${names.length} adapters but ${weights.length} weights`);
    this.active = names.map((n, i) => ({ adapter: this.get(n), weight: weights ? weights[i] : 1 }));
  }

  /** Remove an adapter and free its variables (unmerge it first if merged). */
  deleteAdapter(name: string): void {
    const ad = this.get(name);
    if (this.merged.includes(name)) this.unmerge(name);
    this.active = this.active.filter((t) => t.adapter !== ad);
    ad.A.dispose();
    ad.B.dispose();
    this.adapters.delete(name);
  }

  /** `scaling · B·A` `[out, in]` (times `weight`): the change the adapter makes to W. */
  deltaWeight(name: string, weight = 1): tf.Tensor2D {
    const ad = this.get(name);
    return tf.tidy(() => tf.mul(tf.matMul(ad.B, ad.A), ad.scaling * weight) as tf.Tensor2D); // [out, r]·[r, in] = [out, in]
  }

  /** Add the adapter's delta into W (refusing non-finite results, naming the adapter); it then costs nothing per call. */
  merge(name: string): void {
    if (this.merged.includes(name))
      throw new LoraError(`${this.name}: adapter ${JSON.stringify(name)} is already merged`);
    const w = this.base.weight;
    const next = tf.tidy(() => tf.add(w, this.deltaWeight(name))); // [out, in]
    const finite = tf.tidy(() => tf.all(tf.isFinite(next)).dataSync()[0] === 1);
    if (!finite) {
      next.dispose();
      throw new LoraError(
        `cannot merge adapter ${JSON.stringify(name)} into ${this.name}: the merged weights are not finite (NaN or Infinity in its lora_A/lora_B?)`,
      );
    }
    w.assign(next);
    next.dispose();
    this.merged.push(name);
  }

  /** Subtract a merged adapter's delta from W again (W is restored up to float rounding). */
  unmerge(name: string): void {
    const i = this.merged.indexOf(name);
    if (i < 0) throw new LoraError(`${this.name}: adapter ${JSON.stringify(name)} is not merged`);
    const w = this.base.weight;
    tf.tidy(() => w.assign(tf.sub(w, this.deltaWeight(name))));
    this.merged.splice(i, 1);
  }

  /** `[..., in]` → `[..., out]`: base plus the active adapters that are not merged. */
  apply(x: tf.Tensor): tf.Tensor {
    const terms = this.active.filter((t) => !this.merged.includes(t.adapter.name) && t.weight !== 0);
    if (terms.length === 0) return this.base.apply(x);
    const lead = x.shape.slice(0, -1);
    const inF = x.shape[x.rank - 1];
    if (inF !== this.inFeatures)
      throw new Error(`${this.name}: input has ${inF} features, expected ${this.inFeatures}`);
    const n = lead.reduce((a, b) => a * b, 1);
    const masks = terms.map((t) => (this.training && t.adapter.dropout > 0 ? this.dropoutMask(n, t.adapter) : null));
    const { weight, bias } = this.base.denseWeights();
    const adapters = terms.map((t, i) => ({
      A: t.adapter.A as tf.Tensor as tf.Tensor2D,
      B: t.adapter.B as tf.Tensor as tf.Tensor2D,
      scale: t.adapter.scaling * t.weight,
      mask: masks[i],
    }));
    const y = loraLinear(leanReshape(x, [n, inF]) as tf.Tensor2D, weight, bias, adapters); // [N, out]
    return leanReshape(y, [...lead, this.outFeatures]); // [..., out]
  }

  /** Inverted-dropout mask `[N, in]`: 0 with probability p, else 1/(1−p); one seed per call from the adapter's generator. */
  private dropoutMask(n: number, ad: LoraAdapter): tf.Tensor2D {
    const p = ad.dropout;
    const seed = Math.floor(ad.dropoutRng.next() * 2 ** 31); // tfjs's seeded randomUniform draws in JS: the same on every backend
    return tf.tidy(
      () =>
        tf.mul(
          tf.cast(tf.greaterEqual(tf.randomUniform([n, this.inFeatures], 0, 1, "float32", seed), p), "float32"),
          1 / (1 - p),
        ) as tf.Tensor2D,
    );
  }

  /** Free every adapter's variables (the base layer is the model's and stays). */
  dispose(): void {
    for (const ad of this.adapters.values()) {
      ad.A.dispose();
      ad.B.dispose();
    }
    this.adapters.clear();
    this.active = [];
  }
}
