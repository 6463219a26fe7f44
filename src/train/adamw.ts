/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization",
 * ICLR 2019, arXiv:1711.05101), with the exact semantics of PyTorch's `torch.optim.AdamW`
 * (non-amsgrad, non-maximize). For update t = 1, 2, ... with gradient g:
 *
 *   p ← p · (1 − lr · wd)                       (decoupled decay, only where `decays(name, shape)`)
 *   m ← β1 · m + (1 − β1) · g
 *   v ← β2 · v + (1 − β2) · g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)     (ε outside the square root)
 *
 * State per parameter: `<name>.exp_avg` (m) and `<name>.exp_avg_sq` (v), the names PyTorch uses.
 */
import * as tf from "@tensorflow/tfjs";
import { fusedAdamW } from "../kernels";
import { BaseOptimizer, DEFAULT_NO_DECAY_PATTERN } from "./optimizer";

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay coefficient (PyTorch's default 0.01). */
  weightDecay: number;
  /** Names matching this (case-insensitive) get no decay; rank < 2 never does. */
  noDecayPattern: string;
}

/** PyTorch's defaults. */
export const DEFAULT_ADAMW: AdamWOptions = {
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  noDecayPattern: DEFAULT_NO_DECAY_PATTERN,
};

/** `a + b`, freeing both operands (temporaries) at once. */
function addFree(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const y = tf.add(a, b);
  tf.dispose([a, b]);
  return y;
}

/** `a + s` (s a kept scalar), freeing `a`. */
function addScalarFree(a: tf.Tensor, s: tf.Scalar): tf.Tensor {
  const y = tf.add(a, s);
  a.dispose();
  return y;
}

/** `a · s` (s a kept scalar), freeing `a`. */
function mulFree(a: tf.Tensor, s: tf.Scalar): tf.Tensor {
  const y = tf.mul(a, s);
  a.dispose();
  return y;
}

/**
 * AdamW over named variables.
 * @example
 * const opt = new AdamW(model.trainableVariables(), { weightDecay: 0.1 });
 * tf.tidy(() => opt.apply(grads, 1e-3));
 */
export class AdamW extends BaseOptimizer {
  readonly name = "adamw" as const;
  readonly opts: AdamWOptions;

  constructor(params: Map<string, tf.Variable>, opts: Partial<AdamWOptions> = {}) {
    const o = { ...DEFAULT_ADAMW, ...opts };
    super(params, o.noDecayPattern);
    for (const k of ["beta1", "beta2"] as const)
      if (!(o[k] >= 0 && o[k] < 1)) throw new RangeError(`adamw ${k}: expected a number in [0, 1), found ${o[k]}`);
    if (!(o.eps >= 0)) throw new RangeError(`adamw eps: expected a number ≥ 0, found ${o.eps}`);
    if (!(o.weightDecay >= 0)) throw new RangeError(`adamw weightDecay: expected a number ≥ 0, found ${o.weightDecay}`);
    this.opts = o;
    for (const [name, p] of params) {
      this.addState(name, "exp_avg", p.shape);
      this.addState(name, "exp_avg_sq", p.shape);
    }
    for (const x of [o.beta1, 1 - o.beta1, o.beta2, 1 - o.beta2, o.eps]) this.constant(x);
  }

  apply(grads: Map<string, tf.Tensor>, lr: number, gradScale = 1): void {
    const t = ++this.step;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    const [b1, c1, b2, c2, e] = [beta1, 1 - beta1, beta2, 1 - beta2, eps].map((x) => this.constant(x));
    tf.tidy(() => {
      const stepSize = tf.scalar(lr / bc1);
      const invSqrtBc2 = tf.scalar(1 / Math.sqrt(bc2));
      const decay = tf.scalar(1 - lr * weightDecay);
      const scale = gradScale === 1 ? null : tf.scalar(gradScale);
      for (const [name, p] of this.params) {
        const g0 = grads.get(name);
        if (!g0) continue;
        const m0 = this.slot(name, "exp_avg")!;
        const v0 = this.slot(name, "exp_avg_sq")!;
        const dec = weightDecay !== 0 && this.decayed.get(name) ? 1 - lr * weightDecay : 1;
        if (
          fusedAdamW(p, m0, v0, g0, {
            beta1,
            beta2,
            eps,
            stepSize: lr / bc1,
            invSqrtBc2: 1 / Math.sqrt(bc2),
            decay: dec,
            gradScale,
          })
        )
          continue;
        // one parameter at a time, each temporary freed as soon as the next one exists: at most three
        // parameter-sized temporaries are alive, which matters for the two [50304, 512] matrices
        tf.tidy(() => {
          const g = scale ? g0.mul(scale) : g0; // [...shape]
          const m = this.slot(name, "exp_avg")!;
          const v = this.slot(name, "exp_avg_sq")!;
          m.assign(addFree(m.mul(b1), g.mul(c1))); // m ← β1 m + (1-β1) g
          v.assign(addFree(v.mul(b2), mulFree(g.square(), c2))); // v ← β2 v + (1-β2) g²
          if (g !== g0) g.dispose();
          // update = stepSize · m / (√v / √(1-β2^t) + ε)
          const denom = addScalarFree(mulFree(v.sqrt(), invSqrtBc2), e);
          const ratio = m.div(denom);
          denom.dispose();
          const update = mulFree(ratio, stepSize);
          const decayed = weightDecay !== 0 && this.decayed.get(name) ? p.mul(decay) : null;
          const next = (decayed ?? p).sub(update);
          tf.dispose([update, ...(decayed ? [decayed] : [])]);
          p.assign(next);
          next.dispose(); // the variable holds the buffer now
        });
      }
    });
  }

  describe(): Record<string, unknown> {
    return { name: this.name, step: this.step, ...this.opts };
  }
}
