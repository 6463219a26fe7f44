/**
 * The fair before/after of the iteration loop: fine-tune a fresh copy of the base model on each training-data
 * variant (the data before, the data plus targeted examples, the data plus as many random ones, ...) with the
 * same config, the same number of updates and the same seeds, and evaluate every copy on the same test records.
 * Only the data differs between the runs of one seed, so a difference in the metric is the data's doing (or the
 * seed's: run several seeds and compare the spread).
 */
import type { PromptTemplate } from "../data/templates";
import type { TrainConfig } from "../train/config";
import { fineTuneAndEvaluate } from "./finetune";
import type { EvalOptions, EvalResult, ModelUnderTest } from "../eval/run";

/** Options of `trainVariants`. */
export interface VariantOptions {
  /** One run per variant and seed; the seed orders the training (`train.seed`). */
  seeds: number[];
  /** The one trainer config (its `numSteps` is used for every variant: the same updates whatever the data). */
  train: Partial<TrainConfig>;
  eval: Partial<EvalOptions>;
  /** Also evaluate every run on these records (a validation split: where to look for the mistakes to target). */
  validation?: readonly Record<string, unknown>[];
  onRunStart?: (info: { variant: string; seed: number; run: number; runs: number }) => void;
}

/** One evaluated run. */
export interface VariantResult {
  variant: string;
  seed: number;
  examples: number;
  steps: number;
  result: EvalResult;
  /** The run on `validation`, when given. */
  validation?: EvalResult;
}

/**
 * Train and evaluate every variant × seed (seed-major order, so a cut-short loop still has whole seeds).
 * @example
 * const runs = await trainVariants(base, spam.template, { before: d0, "+32 targeted": [...d0, ...extra] }, test,
 *   { seeds: [0, 1], train: { lr: 2e-3, numSteps: 60, batchSize: 8 }, eval: { labels: ["ham", "spam"] } });
 */
export async function trainVariants(
  base: ModelUnderTest,
  template: PromptTemplate,
  variants: Record<string, readonly Record<string, unknown>[]>,
  testRecords: readonly Record<string, unknown>[],
  options: VariantOptions,
): Promise<VariantResult[]> {
  const names = Object.keys(variants ?? {});
  if (names.length === 0) throw new Error("trainVariants: variants must name at least one training set");
  for (const n of names)
    if (!Array.isArray(variants[n]) || variants[n].length === 0)
      throw new Error(`trainVariants: variants["${n}"] must be a non-empty array of records`);
  if (!Array.isArray(options?.seeds) || options.seeds.length === 0 || !options.seeds.every(Number.isInteger))
    throw new Error(
      `trainVariants: seeds must be a non-empty array of integers, found ${JSON.stringify(options?.seeds)}`,
    );
  if (!(Number.isInteger(options.train?.numSteps) && options.train.numSteps! > 0))
    throw new Error(
      `trainVariants: train.numSteps must be an integer > 0 (the same for every variant), found ${options.train?.numSteps}`,
    );
  if (testRecords.length === 0) throw new Error("trainVariants: no test records");
  const out: VariantResult[] = [];
  const runs = names.length * options.seeds.length;
  for (const seed of options.seeds)
    for (const variant of names) {
      options.onRunStart?.({ variant, seed, run: out.length + 1, runs });
      const sets = options.validation?.length ? [testRecords, options.validation] : [testRecords];
      const {
        summary,
        results: [result, validation],
      } = await fineTuneAndEvaluate(
        base,
        template,
        variants[variant],
        { ...options.train, numEpochs: 0, seed },
        sets,
        options.eval,
      );
      out.push({
        variant,
        seed,
        examples: variants[variant].length,
        steps: summary.step,
        result,
        ...(validation ? { validation } : {}),
      });
    }
  return out;
}
