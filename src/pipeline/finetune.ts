/**
 * Fine-tune a causal LM on template records in one call: tokenize (prompt masked, EOS appended:
 * src/data/prepare.ts), train with the trainer (src/train/), and report the held-out loss. What the data-size
 * sweep runs once per subset and what `tunebook train` runs once. The model's weights are updated in place.
 */
import * as tf from "@tensorflow/tfjs";
import { GPTNeoXForCausalLM } from "../model/gptneox";
import { tokenizeDataset, type PrepareOptions, type PrepareStats } from "../data/prepare";
import type { PromptTemplate } from "../data/templates";
import type { Tokenizer } from "../tokenizer/types";
import { causalLMTrainable } from "../train/causal-lm";
import { resolveTrainConfig, type TrainCallbacks, type TrainConfig, type TrainSummary } from "../train/config";
import { Trainer } from "../train/trainer";
import type { TrainableModel } from "../train/types";
import { evaluateModel, type EvalOptions, type EvalResult, type ModelUnderTest } from "../eval/run";

/** Options of `fineTune`. */
export interface FineTuneOptions {
  /** Held-out records: tokenized like the training ones; their loss is evaluated at the end (and every
   * `evalEvery` updates when set). */
  evalRecords?: readonly Record<string, unknown>[];
  /** Tokenization options (maxLength defaults to the train config's). */
  prepare?: Partial<PrepareOptions>;
  callbacks?: TrainCallbacks;
  /** What to train (default: every parameter of the model). The LoRA hook passes its adapter here. */
  trainable?: TrainableModel;
  /** Called with the trainer once it exists (e.g. to wire Ctrl-C to `trainer.stop()`). */
  onTrainer?: (trainer: Trainer) => void;
}

export interface FineTuneResult {
  summary: TrainSummary;
  /** Loss on `evalRecords` after training (undefined without them). */
  evalLoss?: number;
  trainStats: PrepareStats;
  evalStats?: PrepareStats;
  /** The resolved trainer config (evalData left out). */
  config: Omit<TrainConfig, "evalData">;
}

/**
 * Tokenize records with a template and train the model on them.
 * @example
 * const { summary, evalLoss } = await fineTune(model, tokenizer, ds.template, ds.train,
 *   { lr: 1e-3, numSteps: 200, batchSize: 8 }, { evalRecords: ds.test, callbacks: { onStep: (s) => chart.push(s.step, s.loss) } });
 */
export async function fineTune(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  template: PromptTemplate,
  records: readonly Record<string, unknown>[],
  config: Partial<TrainConfig> = {},
  options: FineTuneOptions = {},
): Promise<FineTuneResult> {
  if (records.length === 0) throw new Error("fineTune: no training records");
  const base = resolveTrainConfig({ ...config, evalData: [], evalEvery: 0 }); // checks the fields before tokenizing
  const maxLength = Math.min(base.maxLength, model.config.maxPositionEmbeddings);
  const prep = {
    addEos: tokenizer.eosTokenId !== undefined,
    ...options.prepare,
    maxLength: options.prepare?.maxLength ?? maxLength,
  };
  const train = tokenizeDataset(template, tokenizer, records, prep);
  const evalSet = options.evalRecords?.length
    ? tokenizeDataset(template, tokenizer, options.evalRecords, prep)
    : undefined;
  const padId = config.padId ?? tokenizer.padTokenId ?? base.padId;
  const trainer = new Trainer(
    options.trainable ?? causalLMTrainable(model),
    train.examples,
    {
      ...config,
      maxLength,
      padId,
      evalData: evalSet?.examples ?? [],
      evalEvery: evalSet ? (config.evalEvery ?? 0) : 0,
    },
    options.callbacks ?? {},
  );
  try {
    options.onTrainer?.(trainer);
    const summary = await trainer.train();
    let evalLoss: number | undefined;
    if (evalSet) {
      const lastEval = summary.evals[summary.evals.length - 1];
      evalLoss = lastEval && lastEval.step === summary.step ? lastEval.evalLoss : (await trainer.evaluateAsync()).loss;
    }
    const { evalData: _unused, ...rest } = trainer.config;
    return { summary, evalLoss, trainStats: train.stats, evalStats: evalSet?.stats, config: rest };
  } finally {
    trainer.dispose();
  }
}

/**
 * An independent copy of a model (same config, copied weights): fine-tune the copy, keep the original.
 * Dispose it when done.
 * @example
 * const copy = cloneModel(base); await fineTune(copy, tok, t, train); copy.dispose();
 */
export function cloneModel(model: GPTNeoXForCausalLM): GPTNeoXForCausalLM {
  // each weight copied on the device (× 1 is exact): no read back to the CPU, so it works where reads must be
  // awaited (webgpu in Node), and the copy owns its buffers (the optimizers may update them in place)
  const params = new Map<string, tf.Variable>();
  for (const [name, v] of model.parameters())
    params.set(
      name,
      tf.tidy(() => tf.variable(tf.mul(v, 1), true)),
    );
  return new GPTNeoXForCausalLM(model.config, params);
}

/** What `fineTuneAndEvaluate` returns. */
export interface TrialResult {
  summary: TrainSummary;
  /** One evaluation per record set given, in that order. */
  results: EvalResult[];
  /** Wall seconds of the whole trial (training and every evaluation). */
  seconds: number;
}

/**
 * One throwaway trial of an experiment (a size of a data-size curve, a data variant, a seed): fine-tune a fresh
 * copy of the base model on `records`, evaluate the copy on each record set with the same options, and dispose
 * the copy, the base untouched. The run writes no checkpoint and resumes none (`checkpointDir: ""`), so trials
 * never meet each other's files.
 * @example
 * const { summary, results: [test] } = await fineTuneAndEvaluate(base, spam.template, subset,
 *   { lr: 2e-3, numSteps: 60, batchSize: 8, seed: 1 }, [testRecords], { labels: ["ham", "spam"] });
 */
export async function fineTuneAndEvaluate(
  base: ModelUnderTest,
  template: PromptTemplate,
  records: readonly Record<string, unknown>[],
  config: Partial<TrainConfig>,
  evalSets: readonly (readonly Record<string, unknown>[])[],
  evalOptions: Partial<EvalOptions> = {},
  options: Pick<FineTuneOptions, "callbacks"> = {},
): Promise<TrialResult> {
  if (!Array.isArray(evalSets) || evalSets.length === 0 || evalSets.some((s) => !Array.isArray(s) || s.length === 0))
    throw new Error("fineTuneAndEvaluate: evalSets must be a non-empty list of non-empty record arrays");
  const t0 = performance.now();
  const model = cloneModel(base.model);
  try {
    const { summary } = await fineTune(
      model,
      base.tokenizer,
      template,
      records,
      { ...config, checkpointDir: "", resume: false },
      options,
    );
    const results: EvalResult[] = [];
    for (const set of evalSets) results.push(await evaluateModel(model, base.tokenizer, template, set, evalOptions));
    return { summary, results, seconds: (performance.now() - t0) / 1000 };
  } finally {
    model.dispose();
  }
}
