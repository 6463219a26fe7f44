/**
 * Adafactor (Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", ICML 2018,
 * arXiv:1804.04235) with the semantics of Hugging Face's `transformers.optimization.Adafactor`, which the
 * original course used through the HF Trainer (`optim="adafactor"`, i.e. `scale_parameter=False,
 * relative_step=False`, an external learning rate and schedule; those are the defaults here).
 *
 * For update t with gradient g (float32), ρ_t = 1 − t^decayRate:
 *   u  = g² + ε1
 *   matrices (rank ≥ 2, factored over the last two axes):
 *     R ← ρ_t R + (1 − ρ_t) mean_last(u)        C ← ρ_t C + (1 − ρ_t) mean_second_last(u)
 *     U = g · rsqrt(R / mean(R)) ⊗ rsqrt(C)     (the rank-1 approximation of v̂)
 *   vectors:  V ← ρ_t V + (1 − ρ_t) u,  U = g · rsqrt(V)
 *   U ← U / max(1, RMS(U) / clipThreshold)
 *   α = relativeStep ? min(warmupInit ? 1e-6·t : 1e-2, 1/√t) : lr;   scaleParameter: α ← α · max(ε2, RMS(p))
 *   U ← α U;   beta1 set: M ← β1 M + (1 − β1) U,  U = M
 *   p ← p − wd · α · p  (only where `decays(name, shape)`), then p ← p − U
 *
 * State per parameter: `<name>.exp_avg_sq_row` / `.exp_avg_sq_col` (matrices) or `.exp_avg_sq` (vectors),
 * and `.exp_avg` when `beta1` is set — HF's names.
 */
import * as tf from "@tensorflow/tfjs";
import { BaseOptimizer, DEFAULT_NO_DECAY_PATTERN } from "./optimizer";

export interface AdafactorOptions {
  /** [ε1 added to g², ε2 floor of the parameter scale]. */
  eps: [number, number];
  clipThreshold: number;
  decayRate: number;
  /** First-moment coefficient; null = no first moment (HF's default). */
  beta1: number | null;
  weightDecay: number;
  /** Multiply the step by the parameter's RMS (HF default True; the HF Trainer passes False). */
  scaleParameter: boolean;
  /** Ignore `lr` and use the paper's relative step min(1e-2, 1/√t) (HF default True; the HF Trainer passes False). */
  relativeStep: boolean;
  warmupInit: boolean;
  /** Names matching this (case-insensitive) get no decay; rank < 2 never does. */
  noDecayPattern: string;
}

/** The HF Trainer's `optim="adafactor"` settings. */
export const DEFAULT_ADAFACTOR: AdafactorOptions = {
  eps: [1e-30, 1e-3],
  clipThreshold: 1.0,
  decayRate: -0.8,
  beta1: null,
  weightDecay: 0,
  scaleParameter: false,
  relativeStep: false,
  warmupInit: false,
  noDecayPattern: DEFAULT_NO_DECAY_PATTERN,
};

/** Root mean square, in its own tidy (no full-size square left behind). */
const rms = (x: tf.Tensor): tf.Scalar => tf.tidy(() => x.square().mean().sqrt() as tf.Scalar);

/**
 * Adafactor over named variables.
 * @example
 * const opt = new Adafactor(model.trainableVariables());   // external lr, as the HF Trainer uses it
 * tf.tidy(() => opt.apply(grads, 1e-3));
 */
export class Adafactor extends BaseOptimizer {
  readonly name = "adafactor" as const;
  readonly opts: AdafactorOptions;

  constructor(params: Map<string, tf.Variable>, opts: Partial<AdafactorOptions> = {}) {
    const o = { ...DEFAULT_ADAFACTOR, ...opts };
    super(params, o.noDecayPattern);
    if (o.beta1 !== null && !(o.beta1 >= 0 && o.beta1 < 1))
      throw new RangeError(`adafactor beta1: expected null or a number in [0, 1), found ${o.beta1}`);
    if (!Array.isArray(o.eps) || o.eps.length !== 2 || !o.eps.every((x) => x >= 0))
      throw new RangeError(`adafactor eps: expected [eps1, eps2] ≥ 0, found ${JSON.stringify(o.eps)}`);
    if (!(o.clipThreshold > 0))
      throw new RangeError(`adafactor clipThreshold: expected a number > 0, found ${o.clipThreshold}`);
    if (!(o.decayRate < 0))
      throw new RangeError(`adafactor decayRate: expected a negative number, found ${o.decayRate}`);
    if (o.warmupInit && !o.relativeStep) throw new RangeError("adafactor warmupInit requires relativeStep (as in HF)");
    if (!(o.weightDecay >= 0))
      throw new RangeError(`adafactor weightDecay: expected a number ≥ 0, found ${o.weightDecay}`);
    this.opts = o;
    for (const [name, p] of params) {
      const s = p.shape;
      if (s.length >= 2) {
        this.addState(name, "exp_avg_sq_row", s.slice(0, -1));
        this.addState(name, "exp_avg_sq_col", [...s.slice(0, -2), s[s.length - 1]]);
      } else {
        this.addState(name, "exp_avg_sq", s);
      }
      if (o.beta1 !== null) this.addState(name, "exp_avg", s);
    }
    for (const x of [o.eps[0], o.eps[1], 1 / o.clipThreshold, 1]) this.constant(x);
    if (o.beta1 !== null) for (const x of [o.beta1, 1 - o.beta1]) this.constant(x);
  }

  apply(grads: Map<string, tf.Tensor>, lr: number, gradScale = 1): void {
    const t = ++this.step;
    const o = this.opts;
    const rho = 1 - t ** o.decayRate;
    const relStep = o.relativeStep ? Math.min(o.warmupInit ? 1e-6 * t : 1e-2, 1 / Math.sqrt(t)) : lr;
    const eps1 = this.constant(o.eps[0]);
    const eps2 = this.constant(o.eps[1]);
    const invClip = this.constant(1 / o.clipThreshold);
    const one = this.constant(1);
    tf.tidy(() => {
      const rhoT = tf.scalar(rho);
      const oneMinusRho = tf.scalar(1 - rho);
      const relStepT = tf.scalar(relStep);
      const scale = gradScale === 1 ? null : tf.scalar(gradScale);
      for (const [name, p] of this.params) {
        const g0 = grads.get(name);
        if (!g0) continue;
        // one parameter at a time, each stage in its own tidy: peak memory is a few copies of ONE tensor
        tf.tidy(() => {
          const g = scale ? g0.mul(scale) : g0; // [...shape]
          let u = tf.tidy(() => {
            if (p.rank >= 2) {
              const row = this.slot(name, "exp_avg_sq_row")!;
              const col = this.slot(name, "exp_avg_sq_col")!;
              const u0 = g.square().add(eps1); // [..., R, C]
              row.assign(tf.tidy(() => row.mul(rhoT).add(u0.mean(-1).mul(oneMinusRho)))); // [..., R]
              col.assign(tf.tidy(() => col.mul(rhoT).add(u0.mean(-2).mul(oneMinusRho)))); // [..., C]
              u0.dispose();
              const rFactor = row.div(row.mean(-1, true)).rsqrt().expandDims(-1); // [..., R, 1]
              const cFactor = col.expandDims(-2).rsqrt(); // [..., 1, C]
              return rFactor.mul(cFactor).mul(g); // [..., R, C]
            }
            const v = this.slot(name, "exp_avg_sq")!;
            v.assign(tf.tidy(() => v.mul(rhoT).add(g.square().add(eps1).mul(oneMinusRho))));
            return v.rsqrt().mul(g);
          });
          const alpha = o.scaleParameter ? relStepT.mul(tf.maximum(eps2, rms(p))) : relStepT; // scalar
          u = tf.tidy(() => u.div(tf.maximum(rms(u).mul(invClip), one)).mul(alpha)); // clipped, scaled update
          if (o.beta1 !== null) {
            const m = this.slot(name, "exp_avg")!;
            m.assign(tf.tidy(() => m.mul(this.constant(o.beta1!)).add(u.mul(this.constant(1 - o.beta1!)))));
            u = m;
          }
          p.assign(
            tf.tidy(() =>
              (o.weightDecay !== 0 && this.decayed.get(name) ? p.sub(p.mul(alpha.mul(o.weightDecay))) : p).sub(u),
            ),
          );
        });
      }
    });
  }

  describe(): Record<string, unknown> {
    return { name: this.name, step: this.step, ...this.opts };
  }
}
