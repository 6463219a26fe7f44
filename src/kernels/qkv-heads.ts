/**
 * q, k and v per head, `[B, H, T, D]` each, from the fused `query_key_value` output viewed as `[B, T, H, 3D]`
 * (GPT-NeoX interleaves them per head: `[q | k | v]` in each head's 3D values).
 *
 * Why a kernel: through tfjs ops this is a `SplitV` on the last axis and three `Transpose`s forward, a `Concat` and
 * three `Transpose`s backward — strided copies, one element at a time on one thread (SplitV alone was 0.4–0.7 s of
 * a pythia-70m step at 8 × 128 on a loaded machine). Each output row of D values is one contiguous run of the
 * input, so on the wasm backend the kernel `QkvHeads` (three outputs) is 3·B·T·H `copyWithin`s of D floats on the
 * heap, and its gradient `QkvHeadsGrad` the same copies back. Elsewhere the tfjs ops run.
 */
import * as tf from "@tensorflow/tfjs";
import { backendInternals } from "./tfjs-internals";
import { heapView, onWasmHeap, registerWasmKernels, wasmMemory } from "./wasm-heap";

const FORWARD = "QkvHeads";
const BACKWARD = "QkvHeadsGrad";

/**
 * Copy between `[B, T, H, 3D]` (at float index `packed`) and three `[B, H, T, D]` (at `heads[s]`), either way.
 * Indices are in floats over the whole heap.
 */
function copyHeads(
  heap: Float32Array,
  packed: number,
  heads: number[],
  [B, T, H, D]: number[],
  toHeads: boolean,
): void {
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const src = packed + ((b * T + t) * H + h) * 3 * D; // [b, t, h, 0]
        const dst = ((b * H + h) * T + t) * D; // [b, h, t, 0]
        for (let s = 0; s < 3; s++) {
          const p = src + s * D,
            q = heads[s] + dst;
          if (toHeads) heap.copyWithin(q, p, p + D);
          else heap.copyWithin(p, q, q + D);
        }
      }
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown };

/** `{x}` `[B, T, H, 3D]` → q, k, v `[B, H, T, D]`. */
function forwardKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const { x } = inputs;
  const [B, T, H, D3] = x.shape;
  const D = D3 / 3;
  const be = backendInternals(backend);
  const outs = [0, 1, 2].map(() => be.makeOutput!([B, H, T, D], "float32"));
  const heap = new Float32Array(wasmMemory()!.buffer); // after the allocations (they may grow the heap)
  const at = (t: tf.TensorInfo) => heapView(t)!.byteOffset / 4;
  copyHeads(heap, at(x), outs.map(at), [B, T, H, D], true);
  return outs;
}

/** `{dq, dk, dv}` `[B, H, T, D]` → dx `[B, T, H, 3D]`. */
function backwardKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { dq, dk, dv } = inputs;
  const [B, H, T, D] = dq.shape;
  const out = backendInternals(backend).makeOutput!([B, T, H, 3 * D], "float32");
  const heap = new Float32Array(wasmMemory()!.buffer);
  const at = (t: tf.TensorInfo) => heapView(t)!.byteOffset / 4;
  copyHeads(heap, at(out), [dq, dk, dv].map(at), [B, T, H, D], false);
  return out;
}

if (!tf.getKernel(FORWARD, "wasm")) {
  registerWasmKernels([
    [FORWARD, forwardKernel],
    [BACKWARD, backwardKernel],
  ]);
  tf.registerGradient({
    kernelName: FORWARD,
    // the engine passes zeros for an output that no gradient reached
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const [dq, dk, dv] = dy as tf.Tensor[];
      return { x: () => tf.engine().runKernel(BACKWARD, { dq, dk, dv }) as tf.Tensor };
    },
  });
}

function fusedFor(x: tf.Tensor): boolean {
  return onWasmHeap(x);
}

/**
 * q, k, v `[B, H, T, D]` from `qkv` `[B, T, H, 3D]` (q, k, v interleaved per head, as GPT-NeoX stores them).
 *
 * @example
 * const [q, k, v] = splitHeads(tf.reshape(qkvOut, [B, T, H, 3 * D]) as tf.Tensor4D); // [B, H, T, D] each
 */
export function splitHeads(qkv: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  if (fusedFor(qkv)) {
    return tf.engine().runKernel(FORWARD, { x: qkv }) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  }
  // split before transposing: on wasm, splitting the transposed tensor is several times slower
  return tf.split(qkv, 3, -1).map((t) => tf.transpose(t, [0, 2, 1, 3])) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}
