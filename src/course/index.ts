/**
 * Helpers the course notebooks call so that their cells only configure, call and show: parameter tables and
 * the Pythia family chart (03), the live training monitor (03, 04), before/after and metric rows (03, 04),
 * saving a fine-tuned model with its tokenizer (03), and notebook 00's loop figure, prompting-vs-fine-tuning
 * comparison, data samples and model-size table.
 */
export { parameterRows, familyPoints, familyFigure } from "./parameters";
export type { ParameterRow, FamilyPoint } from "./parameters";
export { trainingMonitor, DEFAULT_MONITOR_OPTIONS } from "./monitor";
export type { MonitorOptions, TrainingMonitor } from "./monitor";
export {
  beforeAfterRows,
  predictionRows,
  metricRows,
  promptInput,
  percent,
  comparisonSummary,
  DEFAULT_ROW_OPTIONS,
} from "./rows";
export type { BeforeAfterRow, PredictionRow, MetricRow, RowOptions } from "./rows";
export { saveFineTuned, TOKENIZER_FILES } from "./save";
export type { SaveFineTunedOptions, SavedFile } from "./save";
export { tasksFigure } from "./figures";
export { heldOutText, textPerplexity, DEFAULT_TEXT_PERPLEXITY_OPTIONS } from "./heldout";
export type { HeldOutPassage, TextPerplexity, TextPerplexityOptions } from "./heldout";
export {
  clipText,
  pickDemonstrations,
  fewShotTemplate,
  promptingSetup,
  cardRecipe,
  DEFAULT_PROMPTING_OPTIONS,
} from "./why-fine-tune";
export type { PromptingOptions, PromptingSetup } from "./why-fine-tune";
export { labelledShare, promptingRows, promptingFigure, promptingSummary } from "./why-fine-tune-results";
export type { PromptingResult, PromptingRow } from "./why-fine-tune-results";
export { courseLoopSvg, courseLoopFigure, COURSE_LOOP, LOOP_TOOLS } from "./why-fine-tune-loop";
export type { LoopStep } from "./why-fine-tune-loop";
export {
  excerpt,
  passageRows,
  pairRows,
  fineTuningSize,
  pretrainingRecord,
  dataSizeRows,
} from "./why-fine-tune-data";
export type { PassageRow, PairRow, FineTuningSize, PretrainingRecord, DataSizeRow } from "./why-fine-tune-data";
export { modelSizeRows, ADVICE_SIZES, DEFAULT_MODEL_SIZE_OPTIONS } from "./why-fine-tune-sizes";
export type { ModelSizeOptions, ModelSizeRow } from "./why-fine-tune-sizes";
