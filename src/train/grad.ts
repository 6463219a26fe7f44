/**
 * Gradients for one optimizer step: accumulation over micro-batches and global-norm clipping.
 *
 * Normalisation: each micro-batch's loss is the mean over its `numTokens` loss positions, so its gradient is
 * weighted by `numTokens` and the sum divided by the step's total N:
 *     g = Σ_i n_i ∇L_i / N,   loss = Σ_i n_i L_i / N
 * — the gradient of the mean over every loss token of the step, whatever the split into micro-batches.
 * (HF's Trainer instead averages micro-batch means, which weights short micro-batches more; the two agree
 * when every micro-batch has the same token count.) To keep the step lean the division by N is folded into
 * the clipping factor and applied once, inside the optimizer's per-parameter update (`apply(grads, lr, scale)`).
 *
 * Clipping follows `torch.nn.utils.clip_grad_norm_`: total = ‖g‖₂ over all parameters together,
 * coefficient = min(1, maxNorm / (total + 1e-6)); the reported norm is the one before clipping.
 */
import * as tf from "@tensorflow/tfjs";
import { sumOfSquares } from "../kernels/native-blas";
import { shareClonesOnWasm } from "../model/layers";
import type { Batch, TrainableModel } from "./types";

/** One recorded op of tfjs's gradient tape (the fields this file reads; tfjs-core's `TapeNode`). */
interface TapeNode {
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs's engine that `leanVariableGrads` drives (present in tfjs 4.x). */
interface TapeEngine {
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

function tapeEngine(): TapeEngine | null {
  const e = tf.engine() as unknown as Partial<TapeEngine>;
  const ok =
    e.state &&
    typeof e.state.gradientDepth === "number" &&
    typeof e.startTape === "function" &&
    typeof e.endTape === "function" &&
    typeof e.scopedRun === "function";
  return ok ? (e as TapeEngine) : null;
}

/** The tape nodes on a path from `xs` to `y`, in recording order, with each node's inputs that `xs` reach. */
function nodesBetween(
  tape: TapeNode[],
  xs: tf.Tensor[],
  y: tf.Tensor,
): { node: TapeNode; inputs: [string, tf.Tensor][] }[] {
  const fromX = new Set(xs.map((x) => x.id)); // tensors that depend on some x
  const reached: boolean[] = tape.map((node) => {
    const hit = Object.values(node.inputs).some((t) => fromX.has(t.id));
    if (hit) for (const o of node.outputs) fromX.add(o.id);
    return hit;
  });
  const toY = new Set([y.id]); // tensors y depends on
  const onPath: boolean[] = new Array(tape.length).fill(false);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!node.outputs.some((o) => toY.has(o.id))) continue;
    for (const t of Object.values(node.inputs)) toY.add(t.id);
    onPath[i] = reached[i];
  }
  const out: { node: TapeNode; inputs: [string, tf.Tensor][] }[] = [];
  tape.forEach((node, i) => {
    if (onPath[i]) out.push({ node, inputs: Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id)) });
  });
  return out;
}

/**
 * `tf.variableGrads` with the memory of a training step in mind. tfjs's own backward pass keeps every
 * intermediate gradient and every tensor saved for the backward pass until the whole pass ends, so its peak is
 * all activations plus all their gradients. This walks the same tape, in the same order, with the same gradient
 * functions, but frees each op's saved tensors and output gradients as soon as that op has been
 * differentiated, so the peak is the forward's saved activations plus a few layers' gradients. Same numbers as
 * `tf.variableGrads` (same ops in the same order). Falls back to `tf.variableGrads` inside another gradient
 * computation (higher-order gradients) or if the engine does not look as expected.
 *
 * @example
 * const { value, grads } = leanVariableGrads(() => model.loss(batch), [...vars.values()]); // grads by variable name
 */
export function leanVariableGrads(
  f: () => tf.Scalar,
  varList: tf.Variable[],
): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const engine = tapeEngine();
  if (!engine || engine.state.gradientDepth > 0)
    return tf.variableGrads(f, varList) as { value: tf.Scalar; grads: Record<string, tf.Tensor> };
  const xs = varList.filter((v) => v.trainable);
  if (xs.length === 0) throw new Error(`leanVariableGrads: none of the ${varList.length} variables is trainable`);
  let tape: TapeNode[] | null = null;
  let grad: Map<number, tf.Tensor> | null = null; // tensor id → its gradient so far
  let ok = false;
  try {
    const y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy("forward", f),
    );
    tape = engine.state.activeTape ?? [];
    if (!(y instanceof tf.Tensor) || y.rank !== 0)
      throw new Error(
        `leanVariableGrads: f must return a scalar tensor, got ${y instanceof tf.Tensor ? `shape [${y.shape}]` : typeof y}`,
      );
    const path = nodesBetween(tape, xs, y);
    const xIds = new Set(xs.map((x) => x.id));
    const g = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    grad = g;
    for (let i = path.length - 1; i >= 0; i--) {
      const { node, inputs } = path[i];
      const dys = node.outputs.map((o) => g.get(o.id) ?? null);
      if (!node.gradient)
        throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const gradient = node.gradient;
      const dxs = tf.tidy(() => {
        const fns = gradient(dys); // customGrad ops compute every input gradient here; the unused ones die with this tidy
        return inputs.map(([name]) => {
          if (!(name in fns)) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}`);
          return fns[name]();
        });
      });
      inputs.forEach(([name, x], k) => {
        const dx = dxs[k];
        if (dx.dtype !== "float32" || dx.shape.join(",") !== x.shape.join(",")) {
          throw new Error(
            `Error in gradient for op ${node.kernelName}: the gradient of input '${name}' is ${dx.dtype} [${dx.shape}], expected float32 [${x.shape}]`,
          );
        }
        const prev = g.get(x.id);
        if (prev) {
          g.set(x.id, tf.add(prev, dx));
          tf.dispose(prev === dx ? [prev] : [prev, dx]);
        } else g.set(x.id, dx);
      });
      // this op is done: its saved tensors and its outputs' gradients are needed by nobody else
      for (const o of node.outputs) {
        const dy = grad.get(o.id);
        if (!dy || xIds.has(o.id)) continue;
        grad.delete(o.id);
        if (![...grad.values()].includes(dy)) dy.dispose(); // (unless a gradient function passed it on as is)
      }
      if (node.saved) for (const t of node.saved) t.dispose();
    }
    const grads: Record<string, tf.Tensor> = {};
    for (const x of xs) {
      const g = grad.get(x.id);
      if (g) grads[x.name] = g;
      grad.delete(x.id);
    }
    tf.dispose([...new Set(grad.values())]); // gradients of tensors no path needed (e.g. the ones of y alone)
    if (Object.keys(grads).length === 0) {
      // free y only if the forward pass made it (a function may return a variable or a tensor it keeps)
      if (tape.some((n) => n.outputs.some((o) => o.id === y.id))) y.dispose();
      throw new Error("Cannot find a connection between any variable and the result of the loss function y=f(x)");
    }
    ok = true;
    return { value: y as tf.Scalar, grads };
  } finally {
    if (!ok && grad) tf.dispose([...new Set(grad.values())]); // a gradient function threw: free what was built
    // what tfjs's engine.gradients does at the end: free everything the tape saved, drop the tape
    for (const node of tape ?? engine.state.activeTape ?? []) if (node.saved) for (const t of node.saved) t.dispose();
    if (engine.state.gradientDepth === 0) engine.state.activeTape = null;
  }
}

/** Raw accumulation result (tensors live in the caller's tidy). */
export interface AccumulatedGradients {
  /** Σ_i (n_i / n_1) ∇L_i by parameter name: relative to the first micro-batch, so one micro-batch costs no multiply. */
  gradSums: Map<string, tf.Tensor>;
  /** Σ_i (n_i / n_1) L_i. */
  lossSum: tf.Scalar;
  /** n_1, the unit of `gradSums` and `lossSum`. */
  unit: number;
  /** N = Σ_i n_i. */
  numTokens: number;
  numInputTokens: number;
}

/**
 * Run forward/backward on each micro-batch and sum token-weighted gradients. Call inside `tf.tidy`; each
 * micro-batch's own tensors are freed as soon as it is added in.
 * @example
 * tf.tidy(() => {
 *   const acc = accumulateGradients(model, vars, [() => collate(a, padId), () => collate(b, padId)]);
 *   const { loss, gradNorm, scale } = stepNumbers(acc, 1.0);
 *   optimizer.apply(scaleGradients(acc.gradSums, scale), lr);
 * });
 */
export function accumulateGradients(
  model: TrainableModel,
  vars: Map<string, tf.Variable>,
  microBatches: Iterable<() => Batch>,
): AccumulatedGradients {
  shareClonesOnWasm(); // tensors saved for the backward pass share buffers instead of being copied (wasm)
  const varList = [...vars.values()];
  const keyOf = new Map<string, string>();
  for (const [k, v] of vars) keyOf.set(v.name, k);
  let gradSums: Map<string, tf.Tensor> | undefined;
  let lossSum: tf.Scalar | undefined;
  let unit = 0;
  let numTokens = 0;
  let numInputTokens = 0;
  for (const make of microBatches) {
    const batch = make();
    const n = batch.numTokens;
    numInputTokens += batch.numInputTokens ?? n;
    const batchTensors = [batch.inputIds, batch.labels, ...(batch.attentionMask ? [batch.attentionMask] : [])];
    if (n === 0) {
      tf.dispose(batchTensors);
      continue; // nothing to learn from: contributes neither loss nor gradient
    }
    const { value, grads } = leanVariableGrads(() => model.loss(batch), varList); // frees as backprop goes
    if (value.rank !== 0) throw new Error(`model.loss(batch) must return a scalar, got shape [${value.shape}]`);
    tf.dispose(batchTensors);
    if (!gradSums || !lossSum) {
      // first micro-batch: keep as is (the unit)
      unit = n;
      lossSum = value;
      gradSums = new Map();
      for (const [varName, g] of Object.entries(grads)) {
        const key = keyOf.get(varName);
        if (key === undefined) g.dispose();
        else gradSums.set(key, g);
      }
    } else {
      const w = tf.scalar(n / unit);
      const ls = lossSum;
      lossSum = replace(
        tf.tidy(() => ls.add(value.mul(w))),
        [ls, value],
      ) as tf.Scalar;
      for (const [varName, g] of Object.entries(grads)) {
        const key = keyOf.get(varName);
        const prev = key === undefined ? undefined : gradSums.get(key);
        if (key === undefined) g.dispose();
        else
          gradSums.set(
            key,
            replace(
              tf.tidy(() => (prev ? prev.add(g.mul(w)) : g.mul(w))),
              prev ? [prev, g] : [g],
            ),
          );
      }
      w.dispose();
    }
    numTokens += n;
  }
  if (!gradSums || !lossSum) throw new Error("accumulateGradients: no micro-batch had a loss token");
  return { gradSums, lossSum, unit, numTokens, numInputTokens };
}

/** Dispose `old` tensors and return `x` (running sums inside a tidy stay small). */
function replace<T extends tf.Tensor>(x: T, old: tf.Tensor[]): T {
  tf.dispose(old);
  return x;
}

/**
 * Σ‖g‖² over all gradients, as a scalar tensor.
 * @example
 * const norm = Math.sqrt(tf.tidy(() => globalNormSquared(grads).dataSync()[0]));
 */
export function globalNormSquared(grads: Map<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => {
    // with a native BLAS: one dot product per gradient, read in place (no square tensor; cblas_dsdot)
    const native = [...grads.values()].map(sumOfSquares);
    if (native.every((x): x is number => x !== null)) return tf.scalar(native.reduce((a, b) => a + b, 0));
    const parts = [...grads.values()].map((g) => tf.tidy(() => g.square().sum())); // no full-size squares kept
    return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
  });
}

/**
 * PyTorch's clip coefficient: min(1, maxNorm / (norm + 1e-6)); 1 when `maxNorm` ≤ 0 (no clipping).
 * @example
 * clipCoefficient(4, 1); // ≈ 0.25
 */
export function clipCoefficient(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * Clip gradients by their global norm (a functional `clip_grad_norm_`). Call inside `tf.tidy`.
 * @example
 * const { grads: clipped, norm } = tf.tidy(() => clipByGlobalNorm(grads, 1.0)); // norm before clipping
 */
export function clipByGlobalNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = Math.sqrt(globalNormSquared(grads).dataSync()[0]);
  const c = clipCoefficient(norm, maxNorm);
  if (c === 1) return { grads, norm };
  const cs = tf.scalar(c);
  return { grads: new Map([...grads].map(([k, g]) => [k, g.mul(cs)])), norm };
}

/** Host-side numbers of a step before the update: mean loss, pre-clip norm of the mean gradient, scale to apply. */
export interface StepNumbers {
  loss: number;
  gradNorm: number;
  /** Multiplier taking `gradSums` to the clipped mean gradient: clipCoefficient · n_1 / N (exactly 1 for one unclipped micro-batch). */
  scale: number;
}

/**
 * Read the step's loss and gradient norm with one device sync, and work out the single scale factor.
 * Call inside `tf.tidy`.
 * @example
 * const { loss, gradNorm, scale } = stepNumbers(acc, 1.0); // then optimizer.apply(acc.gradSums, lr, scale)
 */
export function stepNumbers(acc: AccumulatedGradients, maxGradNorm: number): StepNumbers {
  const both = tf.stack([acc.lossSum, globalNormSquared(acc.gradSums)]).dataSync(); // [2]
  const toMean = acc.unit / acc.numTokens; // exactly 1 for a single micro-batch
  const loss = both[0] * toMean;
  const gradNorm = Math.sqrt(both[1]) * toMean;
  return { loss, gradNorm, scale: clipCoefficient(gradNorm, maxGradNorm) * toMean };
}

/**
 * Apply the scale from `stepNumbers` (skipped when it is exactly 1). Call inside `tf.tidy`. (The trainer
 * passes the scale to `optimizer.apply` instead, which scales one parameter at a time.)
 * @example
 * const mean = scaleGradients(acc.gradSums, stepNumbers(acc, 1.0).scale);
 */
export function scaleGradients(grads: Map<string, tf.Tensor>, scale: number): Map<string, tf.Tensor> {
  if (scale === 1) return grads;
  const s = tf.scalar(scale);
  return new Map([...grads].map(([k, g]) => [k, g.mul(s)]));
}
