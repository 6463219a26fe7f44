/** Evaluation: metrics, generation on a test set, error analysis, base-vs-tuned comparison, data-size sweeps. */
export {
  normalizeAnswer,
  answerTokens,
  exactMatch,
  tokenF1,
  labelFromGeneration,
  accuracy,
  majorityBaseline,
  perplexity,
  mean,
} from "./metrics";
export type { TokenScore } from "./metrics";
export {
  scoreExamples,
  scoreCompletions,
  completionExample,
  classifyByLikelihood,
  DEFAULT_SCORE_OPTIONS,
} from "./likelihood";
export type { ScoreOptions, LikelihoodLabel } from "./likelihood";
export {
  categorize,
  repetitionRatio,
  errorTable,
  errorCounts,
  errorExamples,
  ERROR_CATEGORIES,
  DEFAULT_ERROR_OPTIONS,
} from "./errors";
export type { ErrorCategory, ErrorOptions, ErrorCount, CategorizedLike } from "./errors";
export { evaluateModel, DEFAULT_EVAL_OPTIONS } from "./run";
export type { EvalOptions, EvalRecord, EvalMetrics, EvalResult, ModelUnderTest } from "./run";
export { compareModels } from "./compare";
export type { Comparison, ComparisonRow, MetricComparison } from "./compare";
export { fineTune, cloneModel } from "./finetune";
export type { FineTuneOptions, FineTuneResult } from "./finetune";
export { dataSizeSweep, DEFAULT_SWEEP_OPTIONS } from "./sweep";
export type { SweepOptions, SweepRow } from "./sweep";
export { sweepFigure, errorFigure, comparisonFigure } from "./figures";
export type { EvalFigure, SweepMetric } from "./figures";
export { loadTask, TaskError, TEMPLATE_NAMES } from "./task";
export type { TaskSpec, Task } from "./task";
export { parseLoraOption, loadAdapterInto, attachLora, AdapterSupportError } from "./adapters";
export type { LoraSpec, LoraAttachment } from "./adapters";
export { confusionMatrix, confusionFromRecords, confusionFigure } from "./confusion";
export type { ConfusionMatrix } from "./confusion";
