/**
 * What a backend can do that the layers above must not assume: read a tensor synchronously, and bind many inputs
 * in one kernel.
 *
 * The WebGPU backend in Node (`@tensorflow/tfjs-backend-webgpu` over Dawn's `webgpu` package) has no synchronous
 * read: tfjs reads GPU memory synchronously through an `OffscreenCanvas`, which Node lacks, so `dataSync()`,
 * `arraySync()` and `bufferSync()` on a GPU-resident tensor throw "OffscreenCanvas is not defined". Code that
 * must run there awaits `data()`; a synchronous API calls `readSync` here, which says what to call instead.
 *
 * A WebGPU kernel binds each input as a storage buffer, and Dawn's default `maxStorageBuffersPerShaderStage` is 8
 * (one of them the output), so `tf.addN` over more than 7 tensors fails to compile there: `sumTensors` adds them
 * in groups the backend can bind.
 */
import * as tf from "@tensorflow/tfjs";

/** Inputs one WebGPU kernel may bind besides its output (Dawn's default limit of 8 storage buffers, less one). */
export const WEBGPU_MAX_KERNEL_INPUTS = 7;

/**
 * Whether the active backend reads tensors synchronously (false for webgpu without `OffscreenCanvas`, i.e. Node).
 * @example
 * syncReads(); // true on wasm and cpu
 */
export function syncReads(): boolean {
  return (
    tf.getBackend() !== "webgpu" || typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== "undefined"
  );
}

/** Error for a synchronous API called on a backend that has no synchronous reads. */
export class SyncReadError extends Error {
  override name = "SyncReadError";
}

/**
 * `t.dataSync()` where the backend can; otherwise a `SyncReadError` naming `caller` and its asynchronous
 * counterpart `instead`.
 * @example
 * const [loss] = readSync(lossTensor, "Trainer.evaluate", "await trainer.evaluateAsync()");
 */
export function readSync(t: tf.Tensor, caller: string, instead: string): tf.backend_util.TypedArray {
  if (!syncReads())
    throw new SyncReadError(
      `${caller} reads the device synchronously, which the ${tf.getBackend()} backend cannot do here (no OffscreenCanvas in Node): use ${instead}`,
    );
  return t.dataSync() as tf.backend_util.TypedArray;
}

/** The most tensors one `tf.addN` may take on the active backend. */
function maxAddN(): number {
  return tf.getBackend() === "webgpu" ? WEBGPU_MAX_KERNEL_INPUTS : Number.POSITIVE_INFINITY;
}

/**
 * Σ xs (same shapes) with `tf.addN`, in groups of at most `maxInputs` (default: what the active backend binds;
 * one `addN` over all of them where it can, so the numbers are those of `tf.addN`). Call inside `tf.tidy`; throws
 * on an empty list.
 * @example
 * sumTensors(parts); // one addN on wasm; groups of 7, then their sums, on webgpu
 */
export function sumTensors<T extends tf.Tensor>(xs: T[], maxInputs = maxAddN()): T {
  if (xs.length === 0) throw new Error("sumTensors: nothing to add");
  if (!(maxInputs >= 2)) throw new Error(`sumTensors: maxInputs must be at least 2, found ${maxInputs}`);
  const max = maxInputs;
  let level: tf.Tensor[] = xs;
  while (level.length > 1) {
    if (level.length <= max) return tf.addN(level) as T;
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += max) {
      const group = level.slice(i, i + max);
      next.push(group.length === 1 ? group[0] : tf.addN(group));
    }
    level = next;
  }
  return level[0] as T;
}

/**
 * A computation that needs device reads along the way, written once as a generator: it yields each tensor it
 * needs read (the driver reads it, disposes it and sends the values back) and returns its result. `runReads`
 * drives it with synchronous reads, `runReadsAsync` with awaited ones: one body for a synchronous API and its
 * `…Async` twin.
 */
export type Reads<T> = Generator<tf.Tensor, T, ArrayLike<number>>;

/**
 * Drive `g` with synchronous reads (`readSync`: a `SyncReadError` naming `caller` and `instead` on a backend
 * without them).
 * @example
 * return runReads(scoreReads(model, examples), "scoreExamples", "await scoreExamplesAsync(...)");
 */
export function runReads<T>(g: Reads<T>, caller: string, instead: string): T {
  let r = g.next(new Float32Array(0)); // (the first value sent is ignored by a generator)
  while (!r.done) {
    const t = r.value;
    let v: ArrayLike<number>;
    try {
      v = readSync(t, caller, instead);
    } catch (e) {
      t.dispose();
      g.return(undefined as T); // runs the generator's finally blocks
      throw e;
    }
    t.dispose();
    r = g.next(v);
  }
  return r.value;
}

/**
 * Drive `g` with awaited reads (every backend).
 * @example
 * return runReadsAsync(scoreReads(model, examples));
 */
export async function runReadsAsync<T>(g: Reads<T>): Promise<T> {
  let r = g.next(new Float32Array(0));
  while (!r.done) {
    const t = r.value;
    let v: ArrayLike<number>;
    try {
      v = await t.data();
    } catch (e) {
      t.dispose();
      g.return(undefined as T);
      throw e;
    }
    t.dispose();
    r = g.next(v);
  }
  return r.value;
}
