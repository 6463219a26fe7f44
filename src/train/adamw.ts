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
import { registerHeapKernel, runSplit } from "../kernels/heap-workers";
import { heapView, soleOwner } from "../kernels/wasm-heap";
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

/** The numbers of one AdamW update (bias corrections folded in). */
interface FusedStep {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** 1 / √(1 − β2^t). */
  invSqrtBc2: number;
  /** 1 − lr·wd, or 1 where the parameter is not decayed. */
  decay: number;
  gradScale: number;
}

/**
 * AdamW on elements [start, end) of p, m, v, g and the new parameter at byte `o` of the wasm heap (`a`: β1, β2, ε,
 * step size, 1/√(1 − β2^t), decay factor, gradient scale). m and v are updated in place. Self-contained: its
 * source is what the heap workers run on their slices (src/kernels/heap-workers.ts).
 */
function adamwSlice(
  heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  a: readonly number[],
): void {
  const pv = new Float32Array(heap, o[0], end),
    mv = new Float32Array(heap, o[1], end),
    vv = new Float32Array(heap, o[2], end);
  const gv = new Float32Array(heap, o[3], end),
    nv = new Float32Array(heap, o[4], end);
  const beta1 = a[0],
    beta2 = a[1],
    eps = a[2],
    stepSize = a[3],
    invSqrtBc2 = a[4],
    decay = a[5],
    gradScale = a[6];
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  for (let i = start; i < end; i++) {
    const gi = gv[i] * gradScale;
    mv[i] = beta1 * mv[i] + c1 * gi; // m ← β1 m + (1-β1) g   (stored as float32)
    vv[i] = beta2 * vv[i] + c2 * gi * gi; // v ← β2 v + (1-β2) g²
    nv[i] = pv[i] * decay - (stepSize * mv[i]) / (Math.sqrt(vv[i]) * invSqrtBc2 + eps); // p(1 - lr·wd) - step·m/(√v̂ + ε)
  }
}
registerHeapKernel(adamwSlice);

/**
 * The whole AdamW update of one parameter in ONE pass on the WebAssembly heap: m and v are updated in place (no
 * new buffers: the optimizer state stays where it is, so the heap does not fragment step after step) and the
 * new parameter is written into one fresh buffer (not in place: the wasm backend caches XNNPACK's packed copy
 * of a matmul operand by buffer, so a weight's values must never change under the same buffer). One
 * parameter-sized temporary instead of the 12 element-wise ops of the tensor path. Returns false (nothing done)
 * off wasm, or when m or v shares its buffer with another tensor; the caller then runs the tensor path.
 */
function fusedUpdate(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, k: FusedStep): boolean {
  if (tf.getBackend() !== "wasm" || !soleOwner(m) || !soleOwner(v) || g.size !== p.size) return false;
  const next = tf.fill(p.shape, 0, "float32"); // allocated on the heap before the views are taken (growth would move it)
  const [pv, mv, vv, gv, nv] = [p, m, v, g, next].map(heapView);
  if (!pv || !mv || !vv || !gv || !nv) {
    next.dispose();
    return false;
  }
  const { beta1, beta2, eps, stepSize, invSqrtBc2, decay, gradScale } = k;
  const offsets = [pv, mv, vv, gv, nv].map((a) => a.byteOffset);
  const args = [beta1, beta2, eps, stepSize, invSqrtBc2, decay, gradScale];
  if (!runSplit(adamwSlice, offsets, pv.length, args)) adamwSlice(pv.buffer, offsets, 0, pv.length, args);
  p.assign(next);
  next.dispose(); // the variable holds the buffer now
  return true;
}

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
          fusedUpdate(p, m0, v0, g0, {
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
        // parameter-sized temporaries are alive (was seven), which matters for the two [50304, 512] matrices
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
