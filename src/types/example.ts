/**
 * What a tokenized training example is, shared by every layer that builds, feeds, scores or trains on one
 * (data/prepare, train/data, model/loss, eval/likelihood). It sits at the bottom of the layers so that data/
 * can produce examples without importing the model or the trainer that consume them.
 */

/** Label value the loss skips (PyTorch / Hugging Face convention). */
export const IGNORE_INDEX = -100;

/** One tokenized training example. `labels` default to `inputIds`; -100 masks a position (e.g. the prompt). */
export interface TokenizedExample {
  inputIds: number[];
  /** Same length as `inputIds`; -100 = not scored (prompt, padding). Default: every token is scored. */
  labels?: number[];
}
