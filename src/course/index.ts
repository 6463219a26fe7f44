/**
 * The course layer: one module per notebook, holding what exists only for the course so that the notebooks'
 * cells only configure, call and show. 03 `small-model.ts` (parameter tables, the Pythia family chart);
 * 03 and 04 `monitor.ts` (the live training monitor) and `rows.ts` (before/after and metric rows); 04
 * `evaluate/` (figures, held-out text perplexity); 05 `gpu-scaling.ts` (which tasks want which size; the tokens/s figure and fit tables); 06 `lora/`
 * (the customer demo, figures, memory and latency measurements); 07 `sizing.ts` (the course's compute table).
 * Helpers the course notebooks call so that their cells only configure, call and show: parameter tables and
 * the Pythia family chart (03), the live training monitor (03, 04), before/after and metric rows (03, 04),
 * saving a fine-tuned model with its tokenizer (03), and notebook 00's loop figure, prompting-vs-fine-tuning
 * comparison, data samples and model-size table; 02 `data-generation/` (passages, retrieval-augmented
 * prompts, extractive answers picked by the model, training on generated data vs seeds only).
 */
export { parameterRows, familyPoints, familyFigure } from "./small-model";
export type { ParameterRow, FamilyPoint } from "./small-model";
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
export { sweepFigure, errorFigure, comparisonFigure, tasksFigure } from "./evaluate/figures";
export type { EvalFigure, SweepMetric } from "./evaluate/figures";
export { DATA_SIZE_RECIPES, liveDataSizeSlice } from "./evaluate/data-size";
export type { DataSizeRecipe } from "./evaluate/data-size";
export { variantTable, iterationSummary, curveSummary, UNFITTED_LOSS } from "./evaluate/iterate";
export { heldOutText, textPerplexity, DEFAULT_TEXT_PERPLEXITY_OPTIONS } from "./evaluate/heldout";
export type { HeldOutPassage, TextPerplexity, TextPerplexityOptions } from "./evaluate/heldout";
export {
  TASK_PLACEMENT,
  TASK_SOURCE,
  taskPlacementChart,
  throughputChart,
  throughputTableRows,
  fitResidualRows,
  extrapolationRows,
  shapeEffect,
  cpuRecordSummary,
  sameShapeComparison,
  fitSummary,
  fitVerdict,
  extrapolationTrust,
  calculatorRows,
  mfuSummary,
} from "./gpu-scaling";
export type {
  TaskKind,
  TaskPlacement,
  ThroughputMetric,
  ThroughputFitLine,
  ThroughputChartOptions,
} from "./gpu-scaling";
export {
  measureStepMemory,
  measureStepMemoryInChild,
  compareWithSizing,
  DEFAULT_STEP_MEMORY,
  benchLoraLatency,
  DEFAULT_LORA_LATENCY,
  loraDiagram,
  loraCountsChart,
  lossCurvesChart,
  memoryChart,
  memoryTable,
  CUSTOMER_DEMO,
  CUSTOMER_TOPICS,
  CUSTOMER_HELD_OUT,
  qaPrompt,
  qaExamples,
  askEachAdapter,
  askHeldOut,
  heldOutVerdict,
  heldOutScore,
  heldOutSummary,
  fullVsLora,
  verifyMerge,
  isPlainModel,
  trainAndScore,
  likelihoodAccuracy,
  peftLabel,
  DEFAULT_PEFT_RECIPE,
  loadPeftRecords,
  validatePeftRecord,
  peftRecordsDir,
  peftGroups,
  peftTable,
  peftFigure,
  peftVerdict,
  peftVerdictMarkdown,
  PeftRecordError,
  PEFT_RECORD_FORMAT,
  PEFT_RECORD_VERSION,
} from "./lora";
export type {
  StepMemory,
  StepMemoryMode,
  StepMemoryOptions,
  ChildSpec,
  MemoryComparisonRow,
  LoraLatency,
  LoraLatencyOptions,
  LoraFigure,
  RunResult,
  MergeCheck,
  CustomerTopic,
  HeldOutRow,
  HeldOutVerdict,
  PeftMethodSpec,
  PeftRecipe,
  PeftRow,
  PeftRecord,
  PeftMemory,
  PeftGroup,
  PeftVerdict,
} from "./lora";
export { COURSE_TABLE, courseTableCheck, courseTableRows } from "./sizing";
export type { CourseRow, CourseCheckRow } from "./sizing";
export {
  clipText,
  pickDemonstrations,
  fewShotTemplate,
  promptingSetup,
  cardRecipe,
  DEFAULT_PROMPTING_OPTIONS,
} from "./why-fine-tune/setup";
export type { PromptingOptions, PromptingSetup } from "./why-fine-tune/setup";
export { labelledShare, promptingRows, promptingFigure, promptingSummary } from "./why-fine-tune/results";
export type { PromptingResult, PromptingRow } from "./why-fine-tune/results";
export { courseLoopSvg, courseLoopFigure, COURSE_LOOP, LOOP_TOOLS } from "./why-fine-tune/loop";
export type { LoopStep } from "./why-fine-tune/loop";
export {
  excerpt,
  passageRows,
  pairRows,
  fineTuningSize,
  pretrainingRecord,
  dataSizeRows,
} from "./why-fine-tune/data";
export type { PassageRow, PairRow, FineTuningSize, PretrainingRecord, DataSizeRow } from "./why-fine-tune/data";
export { modelSizeRows, ADVICE_SIZES, DEFAULT_MODEL_SIZE_OPTIONS } from "./why-fine-tune/sizes";
export type { ModelSizeOptions, ModelSizeRow } from "./why-fine-tune/sizes";
export {
  passagesFor,
  passageTemplate,
  DEFAULT_PASSAGE_OPTIONS,
  extractiveAnswers,
  compareTrainingSets,
  usableCount,
  reportRows,
} from "./data-generation";
export type {
  PassageQuestion,
  PassageOptions,
  PassageDemo,
  ExtractiveOptions,
  ExtractiveAnswer,
  TrainingSetRow,
  CompareSetsOptions,
  UsableCount,
} from "./data-generation";
