/**
 * The data-size sweep: how much does more data help? For each fraction of the training set (nested, seeded
 * subsets: each contains the smaller ones, src/data/split.ts), fine-tune a FRESH copy of the base model with
 * the same config, evaluate it on the same test set, and record one row. Plot the rows with `sweepFigure`.
 *
 * With a fixed `numSteps`, every subset gets the same number of updates (the same compute): small subsets are
 * seen many times over, so the sweep measures the value of more DISTINCT examples. With `numEpochs`, the
 * compute grows with the data instead.
 */
import type { PromptTemplate } from "../data/templates";
import { DEFAULT_SUBSET_FRACTIONS, nestedSubsets } from "../data/split";
import type { StepInfo, TrainConfig } from "../train/config";
import { cloneModel, fineTune } from "./finetune";
import { evaluateModel, type EvalOptions, type ModelUnderTest } from "../eval/run";

/** Options of `dataSizeSweep`, merged over `DEFAULT_SWEEP_OPTIONS`. */
export interface SweepOptions {
  /** Shares of the training set, in (0, 1]. */
  fractions: number[];
  /** Seed of the subset order. */
  seed: number;
  /** The trainer config every run uses (checkpoints are not written: each run is short and thrown away). */
  train: Partial<TrainConfig>;
  /** Evaluation options (e.g. `limit`, `labels`, `maxNewTokens`). */
  eval: Partial<EvalOptions>;
  /** Also evaluate the untouched base model, as a row with fraction 0. */
  includeBase: boolean;
  /** Progress: a run starts, an update is done, a row is ready. */
  onRunStart?: (info: { fraction: number; examples: number; run: number; runs: number }) => void;
  onStep?: (fraction: number, info: StepInfo) => void;
  onRow?: (row: SweepRow) => void;
}

export const DEFAULT_SWEEP_OPTIONS: SweepOptions = {
  fractions: [...DEFAULT_SUBSET_FRACTIONS], // 10, 25, 50, 100 %
  seed: 0,
  train: {},
  eval: {},
  includeBase: false,
};

/** One point of the sweep. */
export interface SweepRow {
  fraction: number;
  /** Training examples used. */
  examples: number;
  steps: number;
  /** Loss of the last update (NaN for the base row). */
  trainLoss: number;
  /** Loss on the test set's answers (log perplexity). */
  evalLoss: number;
  perplexity: number;
  exactMatch: number;
  f1: number;
  accuracy?: number;
  seconds: number;
}

/**
 * Run the sweep. The base model is never modified.
 * @example
 * const rows = await dataSizeSweep({ model, tokenizer }, ds.template, ds.train, ds.test.slice(0, 50),
 *   { fractions: [0.1, 0.5, 1], train: { lr: 1e-3, numSteps: 100 }, onRow: (r) => console.log(r) });
 * show(sweepFigure(rows, { metrics: ["exactMatch", "f1"] }));
 */
export async function dataSizeSweep(
  base: ModelUnderTest,
  template: PromptTemplate,
  trainRecords: readonly Record<string, unknown>[],
  testRecords: readonly Record<string, unknown>[],
  options: Partial<SweepOptions> = {},
): Promise<SweepRow[]> {
  const o: SweepOptions = { ...DEFAULT_SWEEP_OPTIONS, ...options };
  if (!Array.isArray(o.fractions) || o.fractions.length === 0)
    throw new Error("dataSizeSweep: fractions must be a non-empty array of numbers in (0, 1]");
  if (testRecords.length === 0) throw new Error("dataSizeSweep: no test records");
  const subsets = nestedSubsets(trainRecords, o.fractions, o.seed);
  const rows: SweepRow[] = [];
  const runs = subsets.length + (o.includeBase ? 1 : 0);
  const evalOpts = { ...o.eval, perplexity: true };

  if (o.includeBase) {
    o.onRunStart?.({ fraction: 0, examples: 0, run: 1, runs });
    const t0 = performance.now();
    const ev = await evaluateModel(base.model, base.tokenizer, template, testRecords, evalOpts);
    const row: SweepRow = {
      fraction: 0,
      examples: 0,
      steps: 0,
      trainLoss: NaN,
      evalLoss: ev.metrics.evalLoss!,
      perplexity: ev.metrics.perplexity!,
      exactMatch: ev.metrics.exactMatch,
      f1: ev.metrics.f1,
      ...(ev.metrics.accuracy !== undefined ? { accuracy: ev.metrics.accuracy } : {}),
      seconds: (performance.now() - t0) / 1000,
    };
    rows.push(row);
    o.onRow?.(row);
  }

  for (const [k, subset] of subsets.entries()) {
    o.onRunStart?.({ fraction: subset.fraction, examples: subset.size, run: k + 1 + (o.includeBase ? 1 : 0), runs });
    const t0 = performance.now();
    const model = cloneModel(base.model);
    try {
      const { summary } = await fineTune(
        model,
        base.tokenizer,
        template,
        subset.items,
        { ...o.train, checkpointDir: "", resume: false },
        {
          callbacks: o.onStep ? { onStep: (s) => o.onStep!(subset.fraction, s) } : {},
        },
      );
      const ev = await evaluateModel(model, base.tokenizer, template, testRecords, evalOpts);
      const row: SweepRow = {
        fraction: subset.fraction,
        examples: subset.size,
        steps: summary.step,
        trainLoss: summary.finalLoss,
        evalLoss: ev.metrics.evalLoss!,
        perplexity: ev.metrics.perplexity!,
        exactMatch: ev.metrics.exactMatch,
        f1: ev.metrics.f1,
        ...(ev.metrics.accuracy !== undefined ? { accuracy: ev.metrics.accuracy } : {}),
        seconds: (performance.now() - t0) / 1000,
      };
      rows.push(row);
      o.onRow?.(row);
    } finally {
      model.dispose();
    }
  }
  return rows;
}
