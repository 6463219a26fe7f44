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
import { DEFAULT_SUBSET_FRACTIONS, nestedSubsets, sampleItems } from "../data/split";
import { resolveTrainConfig, type StepInfo, type TrainConfig } from "../train/config";
import { fineTuneAndEvaluate, type TrialResult } from "./finetune";
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
    const trial = await fineTuneAndEvaluate(base, template, subset.items, o.train, [testRecords], evalOpts, {
      callbacks: o.onStep ? { onStep: (s) => o.onStep!(subset.fraction, s) } : {},
    });
    const { metrics } = trial.results[0];
    const row: SweepRow = {
      fraction: subset.fraction,
      examples: subset.size,
      ...trialFields(trial),
      evalLoss: metrics.evalLoss!,
      perplexity: metrics.perplexity!,
    };
    rows.push(row);
    o.onRow?.(row);
  }
  return rows;
}

/** What a sweep's or a curve's row takes from its trial (scored on its first record set). */
function trialFields({ summary, results: [{ metrics }], seconds }: TrialResult) {
  return {
    steps: summary.step,
    trainLoss: summary.finalLoss,
    exactMatch: metrics.exactMatch,
    f1: metrics.f1,
    ...(metrics.accuracy !== undefined ? { accuracy: metrics.accuracy } : {}),
    seconds,
  };
}

/** Options of `dataSizeCurve`, merged over `DEFAULT_CURVE_OPTIONS`. */
export interface CurveOptions {
  /** Training examples per point (each a prefix of one seeded order of the pool, so the sizes are nested). */
  sizes: number[];
  /** One run per size and seed; the seed draws the subset AND orders the training (`train.seed`). */
  seeds: number[];
  /**
   * How many updates a run makes: `ceil(epochs × examples / batchSize)`, at least `minSteps` and at most
   * `maxSteps`. Passes over the data give a large set the updates it needs; the floor lets a small set be fitted
   * (its training loss flattens) instead of stopping after a handful of updates.
   */
  epochs: number;
  minSteps: number;
  maxSteps: number;
  /** Class of a record (e.g. `(r) => r.label`): each subset then takes the classes in turn (balanced). */
  stratify?: (record: Record<string, unknown>) => string;
  /** The trainer config of every run (`numSteps`, `numEpochs` and `seed` are set per run). */
  train: Partial<TrainConfig>;
  /** Evaluation options (e.g. `labels`, `maxNewTokens`). */
  eval: Partial<EvalOptions>;
  onRunStart?: (info: { examples: number; seed: number; steps: number; run: number; runs: number }) => void;
  onRow?: (row: CurveRow) => void;
}

export const DEFAULT_CURVE_OPTIONS: CurveOptions = {
  sizes: [16, 32, 64, 128, 256],
  seeds: [0, 1, 2],
  epochs: 4,
  minSteps: 60,
  maxSteps: 1000,
  train: {},
  eval: {},
};

/** One run of `dataSizeCurve`: one size, one seed. */
export interface CurveRow {
  examples: number;
  seed: number;
  steps: number;
  /** Passes over the subset the run made (steps × batch / examples). */
  epochs: number;
  trainLoss: number;
  /** Loss on the test answers; NaN when the eval options turn `perplexity` off. */
  evalLoss: number;
  exactMatch: number;
  f1: number;
  accuracy?: number;
  seconds: number;
}

/**
 * Updates for a run of `examples` examples: `ceil(epochs × examples / batchSize)` clamped to [minSteps, maxSteps].
 * @example
 * curveSteps(16, 8, { epochs: 4, minSteps: 60, maxSteps: 1000 });  // 60 (the floor)
 * curveSteps(512, 8, { epochs: 4, minSteps: 60, maxSteps: 1000 }); // 256
 */
export function curveSteps(
  examples: number,
  batchSize: number,
  o: Pick<CurveOptions, "epochs" | "minSteps" | "maxSteps">,
): number {
  if (!(Number.isInteger(examples) && examples > 0))
    throw new Error(`curveSteps: examples must be an integer > 0, found ${examples}`);
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new Error(`curveSteps: batchSize must be an integer > 0, found ${batchSize}`);
  if (!(o.epochs > 0)) throw new Error(`curveSteps: epochs must be > 0, found ${o.epochs}`);
  if (!(Number.isInteger(o.minSteps) && o.minSteps >= 1 && Number.isInteger(o.maxSteps) && o.maxSteps >= o.minSteps))
    throw new Error(`curveSteps: need integers 1 ≤ minSteps ≤ maxSteps, found ${o.minSteps} and ${o.maxSteps}`);
  return Math.min(o.maxSteps, Math.max(o.minSteps, Math.ceil((o.epochs * examples) / batchSize)));
}

/**
 * The `n` first records of one seeded order of `pool`. With `stratify`, each class is shuffled on its own and
 * the classes are taken in turn, so every prefix is as balanced as the pool allows. Prefixes of the same seed
 * are nested.
 * @example
 * curveSubset(spam.train, 16, 0, (r) => String(r.label)); // 8 ham, 8 spam
 */
export function curveSubset<T extends Record<string, unknown>>(
  pool: readonly T[],
  n: number,
  seed: number,
  stratify?: (record: T) => string,
): T[] {
  if (!(Number.isInteger(n) && n > 0 && n <= pool.length))
    throw new Error(`curveSubset: size must be an integer in [1, ${pool.length}] (the pool), found ${n}`);
  if (!stratify) return sampleItems(pool, n, seed);
  const groups = new Map<string, T[]>();
  for (const r of pool) {
    const k = stratify(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const lists = [...groups.keys()].sort().map((k, i) => sampleItems(groups.get(k)!, groups.get(k)!.length, seed + i));
  const out: T[] = [];
  for (let i = 0; out.length < n; i++) for (const l of lists) if (i < l.length && out.length < n) out.push(l[i]);
  return out;
}

/**
 * A data-size curve with error bars: for every size and seed, fine-tune a fresh copy of the base model on the
 * seed's subset for `curveSteps` updates, evaluate it on the same test records, and return one row per run.
 * Summarise with `curveStats` (src/eval/data-size-records.ts) and plot with `dataSizeFigure`.
 * @example
 * const rows = await dataSizeCurve(base, spam.template, spam.train, test, { sizes: [16, 256], seeds: [0],
 *   train: { lr: 2e-3, batchSize: 8, maxLength: 128 }, eval: { labels: ["ham", "spam"], maxNewTokens: 2 } });
 */
export async function dataSizeCurve(
  base: ModelUnderTest,
  template: PromptTemplate,
  pool: readonly Record<string, unknown>[],
  testRecords: readonly Record<string, unknown>[],
  options: Partial<CurveOptions> = {},
): Promise<CurveRow[]> {
  const o: CurveOptions = { ...DEFAULT_CURVE_OPTIONS, ...options };
  if (!Array.isArray(o.sizes) || o.sizes.length === 0 || !o.sizes.every((n) => Number.isInteger(n) && n > 0))
    throw new Error(`dataSizeCurve: sizes must be a non-empty array of integers > 0, found ${JSON.stringify(o.sizes)}`);
  if (Math.max(...o.sizes) > pool.length)
    throw new Error(
      `dataSizeCurve: sizes must be at most the pool's ${pool.length} records, found ${Math.max(...o.sizes)}`,
    );
  if (!Array.isArray(o.seeds) || o.seeds.length === 0 || !o.seeds.every(Number.isInteger))
    throw new Error(`dataSizeCurve: seeds must be a non-empty array of integers, found ${JSON.stringify(o.seeds)}`);
  if (testRecords.length === 0) throw new Error("dataSizeCurve: no test records");
  const batchSize = resolveTrainConfig(o.train).batchSize;
  const sizes = [...o.sizes].sort((a, b) => a - b);
  const runs = sizes.length * o.seeds.length;
  const rows: CurveRow[] = [];
  for (const seed of o.seeds) {
    const order = curveSubset(pool, sizes[sizes.length - 1], seed, o.stratify);
    for (const examples of sizes) {
      const steps = curveSteps(examples, batchSize, o);
      o.onRunStart?.({ examples, seed, steps, run: rows.length + 1, runs });
      const trial = await fineTuneAndEvaluate(
        base,
        template,
        order.slice(0, examples),
        { ...o.train, numSteps: steps, numEpochs: 0, seed },
        [testRecords],
        o.eval,
      );
      const row: CurveRow = {
        examples,
        seed,
        ...trialFields(trial),
        epochs: (trial.summary.step * batchSize) / examples,
        evalLoss: trial.results[0].metrics.evalLoss ?? NaN,
      };
      rows.push(row);
      o.onRow?.(row);
    }
  }
  return rows;
}
