/**
 * Evaluation: metrics, generation on a test set, likelihood scoring, error analysis, base-vs-tuned comparison.
 * The data-size sweep fine-tunes, so it is the pipeline's (src/pipeline/sweep.ts).
 */
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
  scoreExamplesAsync,
  scoreCompletions,
  scoreCompletionsAsync,
  completionExample,
  classifyByLikelihood,
  classifyByLikelihoodAsync,
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
export { confusionMatrix, confusionFromRecords, confusionFigure } from "./confusion";
export type { ConfusionMatrix } from "./confusion";
export {
  validateDataSizeRecord,
  loadDataSizeRecords,
  dataSizeRecordsDir,
  curveStats,
  dataSizeFigure,
  DataSizeRecordError,
  DATA_SIZE_FORMAT,
  DATA_SIZE_VERSION,
  DATA_SIZE_METRICS,
} from "./data-size-records";
export type { DataSizeRecord, DataSizeRow, DataSizeMetric, CurvePoint } from "./data-size-records";
export {
  wordCounts,
  wrongExamples,
  worstMistake,
  selectByError,
  variantRows,
  variantFigure,
} from "./targeted";
export type { SelectOptions, VariantRun, VariantRow } from "./targeted";
