/**
 * Helpers the course notebooks call so that their cells only configure, call and show: parameter tables and
 * the Pythia family chart (03), the live training monitor (03, 04), before/after and metric rows (03, 04),
 * and saving a fine-tuned model with its tokenizer (03).
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
