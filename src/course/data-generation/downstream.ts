/**
 * Does generated data help? Fine-tune one copy of the base model per training set (same config: updates,
 * batch, learning rate, seed) and score each copy on the same held-out records: token F1 of generated answers
 * and perplexity of the reference answers. The base model is scored too, as the row to beat.
 */
import type { PromptTemplate } from "../../data/templates";
import { evaluateModel, type EvalOptions } from "../../eval/run";
import type { GPTNeoXForCausalLM } from "../../model/gptneox";
import { cloneModel, fineTune, type FineTuneOptions } from "../../pipeline/finetune";
import type { Tokenizer } from "../../tokenizer/types";
import type { TrainConfig } from "../../train/config";

/** One training set's result on the held-out records. */
export interface TrainingSetRow {
  set: string;
  /** Training records (0 for the base model). */
  examples: number;
  /** Updates run (0 for the base model). */
  updates: number;
  f1: number;
  exactMatch: number;
  perplexity: number;
  /** Mean training loss over the last 10 updates (NaN for the base model). */
  finalTrainLoss: number;
  seconds: number;
}

export interface CompareSetsOptions {
  train: Partial<TrainConfig>;
  eval?: Partial<EvalOptions>;
  /** Score the base model as a first row (default true). */
  includeBase?: boolean;
  /** Called before each run (e.g. a progress bar), with the set's name. */
  onRunStart?: (set: string, run: number, runs: number) => void;
  /** Training callbacks for each fine-tuning (e.g. a live loss chart). */
  callbacks?: (set: string) => FineTuneOptions["callbacks"];
}

/**
 * Fine-tune a copy of `model` on each named training set with the same config and score it on `test`.
 *
 * @example
 * const rows = await compareTrainingSets(model, tokenizer, QA_TEMPLATE, { seeds, "seeds + generated": train },
 *   qaTest, { train: { numSteps: 60, batchSize: 8, lr: 2e-3, seed: 0 } });
 */
export async function compareTrainingSets(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  template: PromptTemplate,
  sets: Record<string, readonly Record<string, unknown>[]>,
  test: readonly Record<string, unknown>[],
  options: CompareSetsOptions,
): Promise<TrainingSetRow[]> {
  if (!options?.train || typeof options.train !== "object")
    throw new Error("compareTrainingSets: options.train must be a train config (numSteps, batchSize, lr, seed)");
  const names = Object.keys(sets ?? {});
  if (names.length === 0) throw new Error("compareTrainingSets: sets must name at least one training set");
  for (const n of names)
    if (!Array.isArray(sets[n]) || sets[n].length === 0)
      throw new Error(`compareTrainingSets: set ${JSON.stringify(n)} must be a non-empty array of records`);
  if (!Array.isArray(test) || test.length === 0)
    throw new Error("compareTrainingSets: test must be a non-empty array of records");
  const includeBase = options.includeBase ?? true;
  const runs = names.length + (includeBase ? 1 : 0);
  const rows: TrainingSetRow[] = [];
  const score = async (m: GPTNeoXForCausalLM) => {
    const r = await evaluateModel(m, tokenizer, template, test, options.eval ?? {});
    return { f1: r.metrics.f1, exactMatch: r.metrics.exactMatch, perplexity: r.metrics.perplexity ?? Number.NaN };
  };
  let run = 0;
  if (includeBase) {
    options.onRunStart?.("base", run++, runs);
    const t0 = Date.now();
    const s = await score(model);
    rows.push({
      set: "base",
      examples: 0,
      updates: 0,
      ...s,
      finalTrainLoss: Number.NaN,
      seconds: (Date.now() - t0) / 1000,
    });
  }
  for (const name of names) {
    options.onRunStart?.(name, run++, runs);
    const t0 = Date.now();
    const copy = cloneModel(model);
    try {
      const res = await fineTune(copy, tokenizer, template, sets[name], options.train, {
        callbacks: options.callbacks?.(name),
      });
      const losses = res.summary.losses.slice(-10);
      const s = await score(copy);
      rows.push({
        set: name,
        examples: sets[name].length,
        updates: res.summary.step,
        ...s,
        finalTrainLoss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length),
        seconds: (Date.now() - t0) / 1000,
      });
    } finally {
      copy.dispose();
    }
  }
  return rows;
}
