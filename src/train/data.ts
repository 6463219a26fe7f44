/**
 * Training data for the trainer: tokenized examples → seeded, shuffled, fixed-size batches with right padding.
 *
 * - Examples are checked once (integer ids, labels the same length, -100 or an id) and truncated to
 *   `maxLength`. An example left with no loss position (fewer than 2 tokens, or every label after the first
 *   masked) cannot teach anything and would make a 0/0 loss: it is dropped and counted in `dropped`.
 * - The order is a stream over epochs: each epoch draws a fresh permutation from one seeded `Rng`; a batch
 *   that reaches the end of an epoch continues into the next one, so every batch has exactly `batchSize`
 *   examples (a 10-example set with batch 4 gives batches of 4 spanning epochs, as `drop_last=False` with
 *   wrap-around would).
 * - The position `{epoch, index, epochRngState}` (epoch number, index into that epoch's permutation, and the
 *   RNG state the permutation was drawn from) is all it takes to continue exactly: it goes into
 *   `trainer_state.json`.
 * - Collation pads on the right with `padId` to the longest example in the batch (or to `maxLength`), sets
 *   labels to -100 at pads and builds the attention mask (1 real, 0 pad).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../runtime/seed";
import { IGNORE_INDEX, type TokenizedExample } from "../types/example";
import type { Batch } from "./types";

/** An example after validation and truncation: labels always present. */
export interface PreparedExample {
  inputIds: number[];
  labels: number[];
}

export interface BatchOptions {
  /** Examples per batch (fixed). */
  batchSize: number;
  /** Longer examples are truncated to this many tokens (keeping the start, as HF `truncation=True` does). */
  maxLength: number;
  /** Token id written into padded positions (their labels are -100 and their mask 0, so its value is moot). */
  padId: number;
  /** Pad each batch to its longest example (less work) or always to `maxLength` (fixed shapes). */
  padTo: "longest" | "maxLength";
  /** Seed of the shuffling RNG. */
  seed: number;
  /** Shuffle every epoch (true) or keep the given order (false). */
  shuffle: boolean;
}

export const DEFAULT_BATCH_OPTIONS: BatchOptions = {
  batchSize: 4,
  maxLength: 256,
  padId: 0,
  padTo: "longest",
  seed: 0,
  shuffle: true,
};

/** Where the stream stands: enough to continue exactly after a restart. */
export interface DataPosition {
  /** Epoch number, from 0. */
  epoch: number;
  /** Index of the next example in this epoch's permutation. */
  index: number;
  /** RNG state this epoch's permutation was drawn from. */
  epochRngState: number;
}

/** Bad training data: the message names the example and the field. */
export class TrainDataError extends Error {
  override name = "TrainDataError";
}

/**
 * Loss positions of one example: labels after the first (the causal shift) that are not -100.
 * @example
 * lossTokenCount([-100, -100, 7, 8]); // 2
 */
export function lossTokenCount(labels: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < labels.length; i++) if (labels[i] !== IGNORE_INDEX) n++;
  return n;
}

/**
 * Check and truncate examples. Throws a `TrainDataError` naming `source[i].field` for bad input.
 * @example
 * const { examples, dropped } = prepareExamples([{ inputIds: [5, 6, 7], labels: [-100, 6, 7] }], 256);
 */
export function prepareExamples(
  data: readonly TokenizedExample[],
  maxLength: number,
  source = "data",
): { examples: PreparedExample[]; dropped: number } {
  if (!Array.isArray(data))
    throw new TrainDataError(`${source}: expected an array of {inputIds, labels?}, found ${typeof data}`);
  if (!Number.isInteger(maxLength) || maxLength < 2)
    throw new TrainDataError(`maxLength: expected an integer ≥ 2, found ${maxLength}`);
  const examples: PreparedExample[] = [];
  let dropped = 0;
  data.forEach((ex, i) => {
    const where = `${source}[${i}]`;
    if (!ex || !Array.isArray(ex.inputIds))
      throw new TrainDataError(`${where}.inputIds: expected an array of token ids`);
    ex.inputIds.forEach((id: number, j: number) => {
      if (!Number.isInteger(id) || id < 0)
        throw new TrainDataError(
          `${where}.inputIds[${j}]: expected an integer token id ≥ 0, found ${JSON.stringify(id)}`,
        );
    });
    let labels = ex.inputIds;
    if (ex.labels !== undefined) {
      if (!Array.isArray(ex.labels)) throw new TrainDataError(`${where}.labels: expected an array (or leave it out)`);
      if (ex.labels.length !== ex.inputIds.length)
        throw new TrainDataError(
          `${where}.labels: length ${ex.labels.length} differs from inputIds length ${ex.inputIds.length}`,
        );
      ex.labels.forEach((l: number, j: number) => {
        if (!Number.isInteger(l) || (l < 0 && l !== IGNORE_INDEX))
          throw new TrainDataError(
            `${where}.labels[${j}]: expected a token id ≥ 0 or ${IGNORE_INDEX}, found ${JSON.stringify(l)}`,
          );
      });
      labels = ex.labels;
    }
    const inputIds = ex.inputIds.slice(0, maxLength);
    const cut = labels.slice(0, maxLength);
    if (lossTokenCount(cut) === 0) dropped++;
    else examples.push({ inputIds, labels: cut });
  });
  if (examples.length === 0)
    throw new TrainDataError(
      `${source}: no example has a token to learn from (all ${data.length} are shorter than 2 tokens or fully masked after truncation to ${maxLength})`,
    );
  return { examples, dropped };
}

/**
 * Right-pad examples into one batch of int32 tensors `[B, T]`.
 * @example
 * const b = collate([{ inputIds: [5, 6, 7], labels: [5, 6, 7] }, { inputIds: [8, 9], labels: [8, 9] }], 1);
 * // b.inputIds = [[5,6,7],[8,9,1]], b.labels = [[5,6,7],[8,9,-100]], b.attentionMask = [[1,1,1],[1,1,0]], b.numTokens = 3
 */
export function collate(examples: readonly PreparedExample[], padId: number, padToLength?: number): Batch {
  if (examples.length === 0) throw new TrainDataError("collate: no examples");
  const B = examples.length;
  const T = padToLength ?? Math.max(...examples.map((e) => e.inputIds.length));
  const ids = new Int32Array(B * T).fill(padId);
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  const mask = new Int32Array(B * T);
  let numTokens = 0;
  let numInputTokens = 0;
  examples.forEach((e, b) => {
    const n = Math.min(e.inputIds.length, T);
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = e.inputIds[t];
      labels[b * T + t] = e.labels[t];
      mask[b * T + t] = 1;
    }
    numTokens += lossTokenCount(e.labels.slice(0, n));
    numInputTokens += n;
  });
  return {
    inputIds: tf.tensor2d(ids, [B, T], "int32"), // [B, T]
    attentionMask: tf.tensor2d(mask, [B, T], "int32"), // [B, T]
    labels: tf.tensor2d(labels, [B, T], "int32"), // [B, T]
    numTokens,
    numInputTokens,
  };
}

/**
 * Dispose a batch's tensors (when it was made outside a tidy).
 * @example
 * const b = collate(examples, 1); try { ... } finally { disposeBatch(b); }
 */
export function disposeBatch(b: Batch): void {
  tf.dispose([b.inputIds, b.labels, ...(b.attentionMask ? [b.attentionMask] : [])]);
}

/**
 * An endless, seeded stream of fixed-size batches over epochs; its position can be saved and restored.
 * @example
 * const stream = new BatchStream(examples, { batchSize: 8, maxLength: 128, padId: 1, seed: 42 });
 * const batch = tf.tidy(() => model.loss(stream.nextBatch()));   // or take examples: stream.nextExamples()
 * const pos = stream.position();   // save; later: stream.setPosition(pos)
 */
export class BatchStream {
  readonly opts: BatchOptions;
  readonly examples: PreparedExample[];
  /** Examples dropped for having no loss position. */
  readonly dropped: number;
  private readonly rng: Rng;
  private perm: number[] = [];
  private pos: DataPosition;

  constructor(data: readonly TokenizedExample[], opts: Partial<BatchOptions> = {}, source = "data") {
    this.opts = { ...DEFAULT_BATCH_OPTIONS, ...opts };
    if (!Number.isInteger(this.opts.batchSize) || this.opts.batchSize < 1)
      throw new TrainDataError(`batchSize: expected an integer ≥ 1, found ${this.opts.batchSize}`);
    const { examples, dropped } = prepareExamples(data, this.opts.maxLength, source);
    this.examples = examples;
    this.dropped = dropped;
    this.rng = new Rng(this.opts.seed);
    this.pos = { epoch: 0, index: 0, epochRngState: this.rng.state };
    this.drawPermutation();
  }

  /** Number of usable examples (after drops). */
  get size(): number {
    return this.examples.length;
  }

  /** Epochs completed so far, as a fraction (for progress displays). */
  get epochFloat(): number {
    return this.pos.epoch + this.pos.index / this.examples.length;
  }

  private drawPermutation(): void {
    this.rng.state = this.pos.epochRngState;
    const idx = Array.from({ length: this.examples.length }, (_, i) => i);
    this.perm = this.opts.shuffle ? this.rng.shuffle(idx) : idx;
  }

  /** The current position (a copy). */
  position(): DataPosition {
    return { ...this.pos };
  }

  /** Continue from a saved position. */
  setPosition(p: DataPosition): void {
    if (
      !p ||
      !Number.isInteger(p.epoch) ||
      p.epoch < 0 ||
      !Number.isInteger(p.index) ||
      p.index < 0 ||
      p.index > this.examples.length ||
      !Number.isInteger(p.epochRngState)
    )
      throw new TrainDataError(
        `data position: expected {epoch, index ≤ ${this.examples.length}, epochRngState} (integers), found ${JSON.stringify(p)}`,
      );
    this.pos = { ...p };
    this.drawPermutation();
  }

  /** The next `batchSize` examples (host side; advances the stream, crossing epochs as needed). */
  nextExamples(): PreparedExample[] {
    const out: PreparedExample[] = [];
    while (out.length < this.opts.batchSize) {
      if (this.pos.index >= this.perm.length) {
        // the permutation drawing advanced the RNG: the next epoch starts from that state
        this.pos = { epoch: this.pos.epoch + 1, index: 0, epochRngState: this.rng.state };
        this.drawPermutation();
      }
      out.push(this.examples[this.perm[this.pos.index++]]);
    }
    return out;
  }

  /** The next batch as tensors (create it inside a tidy, or dispose it with `disposeBatch`). */
  nextBatch(): Batch {
    return collate(
      this.nextExamples(),
      this.opts.padId,
      this.opts.padTo === "maxLength" ? this.opts.maxLength : undefined,
    );
  }
}

/**
 * Fixed, unshuffled batches covering every example once (the last one may be smaller): for evaluation.
 * @example
 * for (const exs of sequentialBatches(evalExamples, 8)) { const b = collate(exs, padId); ... }
 */
export function* sequentialBatches(
  examples: readonly PreparedExample[],
  batchSize: number,
): Generator<PreparedExample[]> {
  for (let i = 0; i < examples.length; i += batchSize) yield examples.slice(i, i + batchSize);
}
