/**
 * Which implementation of each fast path runs: chosen once per active backend, not at every call.
 *
 * `blas`: the wasm backend's matmuls run on a native BLAS (native-blas.ts), where a transposed operand is a BLAS
 * flag and costs nothing, so the kernels use `x·Wᵀ`, `q·kᵀ` and `dyᵀ·x` directly. `plain`: every other case;
 * tfjs-wasm sends transposed-operand products to a slow scalar loop, so the kernels use plain products with
 * explicit transposes, and the split form of rotary. Both sets compute the same values (float32 rounding aside).
 *
 * `initBackend()` selects the set; installing or removing the native matmul selects again; a backend switched by
 * `tf.setBackend` outside `initBackend()` is noticed at the next kernel call.
 */
import * as tf from "@tensorflow/tfjs";

/** The two implementation sets (see the file comment). */
export type KernelSetName = "blas" | "plain";

let nativeMatMul = false;
let chosen: { backend: string; set: KernelSetName } | null = null;

/**
 * Pick the implementation set for the active backend; returns its name. `initBackend()` calls this.
 *
 * @example
 * selectKernels(); // "blas" on wasm with OpenBLAS installed, else "plain"
 */
export function selectKernels(): KernelSetName {
  const backend = tf.getBackend();
  chosen = { backend, set: nativeMatMul && backend === "wasm" ? "blas" : "plain" };
  return chosen.set;
}

/** The implementation set in use (selected again only when the active backend changed). */
export function kernelSet(): KernelSetName {
  if (!chosen || chosen.backend !== tf.getBackend()) return selectKernels();
  return chosen.set;
}

/** Told by native-blas.ts whenever the wasm backend's matmul starts or stops running on the native BLAS. */
export function noteNativeMatMul(active: boolean): void {
  nativeMatMul = active;
  selectKernels();
}
