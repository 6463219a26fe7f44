/**
 * The softmax cross-entropy of a chunk of logit rows as ONE kernel on the WebAssembly heap, for the fused output
 * layer + loss (head-loss.ts): per row `z` of `[R, V]` the maximum m, `s = Σ exp(z − m)` (float64) and the row's loss
 * `log s + m − z[label]`; in a gradient pass also `softmax(z) − onehot(label)`, written over z's own buffer.
 *
 * Why a kernel: through tfjs ops each chunk took a Softmax (XNNPACK), two scalar single-threaded Max passes over
 * `[R, V]` (of z and of p), a log, a gatherND and the JavaScript loop that subtracts the one-hot: ≈ 110 ms of a
 * pythia-70m step at 8 × 128 (4 chunks of [256, 50304]). Here the rows are split across the heap workers
 * (heap-workers.ts) and each row is read three times while it sits in cache (max; exp and sum; scale by 1/s) by a
 * small WebAssembly module (softmax-xent-wasm.ts: the maximum and exp in four float32 lanes, the sum in float64),
 * registered as the wasm kernel `SoftmaxCrossEntropy` (named in `tf.profile`). The exp's relative error is below
 * 3e-7 (2.5 float32 ulps; XNNPACK's softmax, which it replaces, is a float32 exp too): the rows' losses came within
 * 5e-8 of float64 and p within 1e-6 relative (tests/kernels/softmax-xent.test.ts).
 * Elsewhere (another backend, the single-threaded wasm build without a shared heap, a module that did not
 * compile) `softmaxCrossEntropyRows` returns null and the caller runs the tfjs ops.
 */
import * as tf from "@tensorflow/tfjs";
import { type HeapKernelExports, registerHeapKernel, runOnHeap } from "./heap-workers";
import { softmaxXentModule } from "./softmax-xent-wasm";
import { backendInternals } from "./tfjs-internals";
import {
  heapOffset,
  heapView,
  onWasmHeap,
  registerWasmKernels,
  sharedHeap,
  soleOwner,
  type WasmKernelArgs,
} from "./wasm-heap";

/**
 * Loop body for the heap workers: rows [start, end) of z `[R, V]` at `o[0]`, labels (int32) at `o[1]`, 32 bytes a
 * row at `o[2]` (the float64 pair s, m − z[label], and scratch); `a` = [V, 1 for a gradient pass (softmax − onehot over z) else 0].
 */
export function softmaxXentSlice(
  _heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  a: readonly number[],
  wasm?: HeapKernelExports,
): void {
  const V = a[0];
  const rows = a[1] === 1 ? wasm!.xentGrad : wasm!.xentLoss;
  rows(o[0] + 4 * V * start, o[1] + 4 * start, o[2] + 32 * start, end - start, V);
}
registerHeapKernel(softmaxXentSlice, softmaxXentModule);

const KERNEL = "SoftmaxCrossEntropy";

/** The wasm kernel `SoftmaxCrossEntropy`: `{z [R, V], labels [R] int32}`, attrs `{grads}` → the rows' losses `[R]`. */
function xentKernel({ inputs, attrs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { z, labels } = inputs;
  const [R, V] = z.shape;
  const be = backendInternals(backend);
  const loss = be.makeOutput!([R], "float32");
  const stats = be.makeOutput!([8 * R], "float32"); // 32 bytes a row (s, m − z[label], the tail): a scratch, freed below
  const o = [z, labels, stats].map((t) => heapOffset(t)!);
  runOnHeap(softmaxXentSlice, o, R, [V, attrs!.grads ? 1 : 0], undefined, V);
  const out = heapView(loss)!; // taken after the run: nothing allocates meanwhile
  const st = new DataView(out.buffer, o[2], 32 * R);
  for (let r = 0; r < R; r++) out[r] = Math.log(st.getFloat64(32 * r, true)) + st.getFloat64(32 * r + 8, true);
  be.disposeData!(stats.dataId);
  return loss;
}
registerWasmKernels([[KERNEL, xentKernel]]);

/**
 * Per-row cross-entropy `log Σ_v exp(z[r, v]) − z[r, labels[r]]` of logits z `[R, V]`, as `[R]`, by the heap
 * kernel; with `grads`, z's buffer holds `softmax(z) − onehot(labels)` afterwards (so z must be the caller's alone,
 * fresh from a product). Returns null, z untouched, where the kernel cannot run (see the header) or, with `grads`,
 * when z shares its buffer with another tensor: the caller then runs the tfjs ops.
 *
 * @example
 * const nll = softmaxCrossEntropyRows(z, Int32Array.of(3, 7), true); // [2]; z now holds the loss's gradient rows
 */
export function softmaxCrossEntropyRows(z: tf.Tensor2D, labels: Int32Array, grads: boolean): tf.Tensor1D | null {
  const [R, V] = z.shape;
  if (labels.length !== R) throw new Error(`softmaxCrossEntropyRows: ${labels.length} labels for ${R} rows`);
  for (const y of labels)
    if (!(y >= 0 && y < V)) throw new Error(`softmaxCrossEntropyRows: label ${y} is not in [0, ${V})`);
  if (!softmaxXentModule || !sharedHeap() || !onWasmHeap(z) || (grads && !soleOwner(z))) return null;
  return tf.tidy(() => {
    const lab = tf.tensor1d(labels, "int32");
    return tf.engine().runKernel(KERNEL, { z, labels: lab }, { grads } as unknown as tf.NamedAttrMap);
  }) as tf.Tensor1D;
}
