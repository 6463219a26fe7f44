/**
 * The lean gradient walk: `tf.variableGrads` with the memory of a training step in mind, driving tfjs's gradient
 * tape directly (tfjs-internals.ts), and the squared norm of a list of gradients.
 */
import * as tf from "@tensorflow/tfjs";
import { sumOfSquares } from "./native-blas";
import { sumTensors } from "./reads";
import { type TapeNode, tapeEngine } from "./tfjs-internals";

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

/**
 * Σ‖g‖² over all tensors, as a scalar tensor. With a native BLAS: one dot product per tensor, read in place (no
 * square tensor; `cblas_dsdot`, accumulated in double precision); otherwise one squared sum per tensor.
 *
 * @example
 * squaredNorm([tf.tensor1d([3, 4])]).dataSync(); // [25]
 */
export function squaredNorm(xs: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const native = xs.map(sumOfSquares);
    if (native.every((x): x is number => x !== null)) return tf.scalar(native.reduce((a, b) => a + b, 0));
    const parts = xs.map((g) => tf.tidy(() => g.square().sum())); // no full-size squares kept
    return sumTensors(parts) as tf.Scalar; // (addN in groups where the backend binds few inputs: webgpu)
  });
}
