/**
 * `tf.clone` (the `Identity` kernel) sharing the input's buffer on the WebAssembly backend, as the CPU and WebGL
 * backends already do (a reference count, like wasm's own `Reshape`), instead of copying it.
 *
 * Why: tfjs clones every tensor an op saves for its gradient (`keep(clone(t))`), so during a training step on
 * wasm every saved activation, and every weight a dense layer saves, would be a full copy: the largest memory
 * holder of a step once the logits are gone. Tensors are immutable (a `Variable.assign` swaps the buffer, it never
 * writes into it), so sharing is safe. The in-place writers (the fused AdamW update of its own m and v, the fused
 * loss's softmax) first check that nothing shares the buffer (`soleOwner`).
 */
import * as tf from "@tensorflow/tfjs";
import { backendInternals } from "./tfjs-internals";

/** Backends whose `Identity` kernel now shares the input's buffer. */
const sharedIdentity = new Set<string>();

/**
 * Make `tf.clone` share buffers on the wasm backend. Idempotent; does nothing on other backends. Called by the
 * trainer and the training loss.
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
      const b = backendInternals(args.backend);
      if (x.dtype === "string" || !b.incRef) return original.kernelFunc(args); // strings live outside the heap
      b.incRef(x.dataId); // freed when the last holder is disposed
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  sharedIdentity.add(backend);
}
