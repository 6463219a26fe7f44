/**
 * The key/value cache of incremental decoding: per layer, the keys and values (after rotary) of every position
 * seen so far, `[B, H, past, D]`, so a new token attends to them without recomputing the prefix.
 *
 * Growth is by concatenation (the old tensors are disposed). A "preallocated" buffer would not save copies in
 * TensorFlow.js: tensors are immutable and writing a slice (`tensorScatterUpdate`) produces a full new tensor, so
 * it would copy the whole buffer every step too, and attend over unused slots as well.
 */
import * as tf from "@tensorflow/tfjs";

/** One layer's cached keys and values, `[B, H, past, D]`. */
export interface LayerKV {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

/**
 * A KV cache for one batch of sequences. `forward(ids, { cache })` reads it and appends the new positions
 * in place; the tensors it holds survive `tf.tidy` (they are kept) until `dispose()`.
 *
 * @example
 * const cache = new KVCache(model.config.numHiddenLayers);
 * model.forward(promptIds, { cache });          // fills it
 * model.forward(nextIds, { cache, lastOnly: true });
 * cache.dispose();
 */
export class KVCache {
  private readonly layers: (LayerKV | null)[];
  private disposed = false;

  constructor(readonly numLayers: number) {
    this.layers = new Array(numLayers).fill(null);
  }

  /** Positions cached so far (0 when empty). */
  get length(): number {
    const l = this.layers[0];
    return l ? l.key.shape[2] : 0;
  }

  /** Batch size of the cached sequences (undefined when empty). */
  get batchSize(): number | undefined {
    return this.layers[0]?.key.shape[0];
  }

  /** Cached keys/values of layer `i`, or null when empty. */
  get(i: number): LayerKV | null {
    this.check();
    return this.layers[i];
  }

  /**
   * Append `key`/`value` `[B, H, T, D]` to layer `i` and return the full (past + new) tensors. The returned
   * tensors are owned by the cache (do not dispose them).
   */
  append(i: number, key: tf.Tensor4D, value: tf.Tensor4D): LayerKV {
    this.check();
    const old = this.layers[i];
    const next: LayerKV = old
      ? { key: tf.concat([old.key, key], 2) as tf.Tensor4D, value: tf.concat([old.value, value], 2) as tf.Tensor4D }
      : { key: key.clone(), value: value.clone() };
    tf.keep(next.key);
    tf.keep(next.value);
    if (old) {
      old.key.dispose();
      old.value.dispose();
    }
    this.layers[i] = next;
    return next;
  }

  /**
   * Re-order the cached batch: row `b` becomes the old row `rows[b]` (a row may be taken several times, e.g. one
   * prompt's cache for each of its candidate answers). Every layer's keys and values are gathered, the old ones freed.
   * @example
   * cache.selectRows([0, 0, 1, 1]); // two prompts' prefixes, each for two labels
   */
  selectRows(rows: readonly number[]): void {
    this.check();
    const B = this.batchSize;
    if (B === undefined) throw new Error("KVCache.selectRows: the cache is empty");
    if (rows.length === 0 || !rows.every((r) => Number.isInteger(r) && r >= 0 && r < B))
      throw new Error(
        `KVCache.selectRows: rows must be a non-empty list of integers in [0, ${B}), found ${JSON.stringify(rows)}`,
      );
    const idx = tf.tensor1d(rows as number[], "int32");
    try {
      this.layers.forEach((l, i) => {
        if (!l) return;
        const next: LayerKV = {
          key: tf.keep(tf.gather(l.key, idx, 0)) as tf.Tensor4D,
          value: tf.keep(tf.gather(l.value, idx, 0)) as tf.Tensor4D,
        };
        l.key.dispose();
        l.value.dispose();
        this.layers[i] = next;
      });
    } finally {
      idx.dispose();
    }
  }

  /** Free the cached tensors; the cache cannot be used afterwards. */
  dispose(): void {
    for (const l of this.layers) {
      l?.key.dispose();
      l?.value.dispose();
    }
    this.layers.fill(null);
    this.disposed = true;
  }

  private check(): void {
    if (this.disposed) throw new Error("KVCache: used after dispose()");
  }
}
