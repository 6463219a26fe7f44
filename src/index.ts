/**
 * tunebook — the public API, grouped by the course's flow: runtime → data → tokenizer → model →
 * train/lora → eval → display. Notebooks and user code import from here (`import { ... } from "tunebook"`).
 *
 * @example
 * import { initBackend } from "tunebook";
 * await initBackend();   // prints which backend was chosen and why
 */

// runtime
export {
  initBackend,
  backendReport,
  currentBackend,
  parseBackendName,
  BACKENDS,
  BackendError,
} from "./runtime/backend";
export type { BackendName, BackendChoice, InitBackendOptions } from "./runtime/backend";
export { Rng } from "./runtime/seed";
export { environmentReport, formatEnvironment } from "./hub/environment";
export type { EnvironmentReport, EnvironmentOptions } from "./hub/environment";

// display (notebooks, CLI and callbacks; the library's core never imports it)
export { show, table, markdown, html, toBundle, displayable, isDisplayable, DISPLAY } from "./display/show";
export type { Displayable } from "./display/show";
export { Figure } from "./display/figure";
export type { FigureOptions } from "./display/figure";
export { progress, liveChart } from "./display/live";
export type { Progress, ProgressExtra, ProgressOptions, LiveChart, LiveChartOptions } from "./display/live";
export { plotlyBundle, isPlotlyFigure } from "./display/plotly";
export type { PlotlyFigure, PlotlyTrace } from "./display/plotly";
export { tableBundle } from "./display/table";
export type { TableOptions } from "./display/table";
export { inKernel, sendBundle } from "./display/kernel";
export type { MimeBundle } from "./display/kernel";

// notebooks (headless execution)
export { runNotebook, runNotebooks, formatFailure } from "./tools/notebooks/runner";
export type { NotebookResult, RunOptions } from "./tools/notebooks/runner";

// hub
export {
  hubCacheDir,
  isOffline,
  isHubReachable,
  resolveRepoFiles,
  resolveModelDir,
  parseModelSource,
  textProgress,
  HubError,
  DEFAULT_RESOLVE_OPTIONS,
} from "./hub";
export type {
  ResolveOptions,
  ResolvedFiles,
  ResolveModelOptions,
  DownloadProgress,
  ProgressCallback,
  HubErrorCode,
  ModelSource,
} from "./hub";

// tokenizer
export { loadTokenizer, tokenizerFromJSON, padAndTruncate, TokenizerError, DEFAULT_PAD_TRUNC } from "./tokenizer";
export type { Tokenizer, PadTruncOptions, BatchEncoding } from "./tokenizer";
export { trainByteLevelBPE } from "./tokenizer/train-bpe";

// model
export {
  parseSafetensors,
  serializeSafetensors,
  readSafetensorsFile,
  writeSafetensorsFile,
  readSafetensorsHeader,
  loadCheckpointTensors,
  SafetensorsError,
} from "./model/safetensors";
export type { SafeTensor, SafetensorsDType, SafetensorsContents } from "./model/safetensors";
export {
  configFromHF,
  configToHF,
  makeConfig,
  validateConfig,
  headDim,
  rotaryDims,
  ConfigError,
  DEFAULT_GPTNEOX_CONFIG,
  HIDDEN_ACTS,
} from "./model/config";
export type { GPTNeoXConfig, HiddenAct } from "./model/config";
export { PYTHIA_PRESETS, PRESET_NAMES, getPreset, findPreset, countParameters } from "./model/presets";
export type { ParameterCount } from "./model/presets";
export { GPTNeoXForCausalLM } from "./model/gptneox";
export type { ForwardOptions, ForwardOutput } from "./model/gptneox";
export {
  loadPretrained,
  saveModel,
  modelFromTensors,
  modelStateDict,
  readConfigFile,
  CheckpointError,
} from "./model/load";
export { KVCache } from "./model/kvcache";
export { causalLMLoss, tokenLogProbs, countLossTokens } from "./model/loss";
export { IGNORE_INDEX } from "./types/example";
export { generate, generateDetailed, DEFAULT_GENERATE_OPTIONS } from "./model/generate";
export type { GenerateOptions, GenerateResult, FinishReason } from "./model/generate";
export { DEFAULT_SAMPLING } from "./model/sampling";
export type { SamplingOptions } from "./model/sampling";
export { scoreSequence } from "./model/score";
export type { SequenceScore } from "./model/score";
export {
  loadModel,
  loadTokenizerFrom,
  loadConfig,
  resolveModel,
  courseModelId,
  defaultModelDir,
  DEFAULT_MODEL,
  PYTHIA_70M,
} from "./pipeline";
export type { LoadModelOptions, LoadedModel } from "./pipeline";

// train
export { train, Trainer, TrainingDivergedError } from "./train/trainer";
export type { StepResult, TrainerHooks } from "./train/trainer";
export { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, TrainConfigError } from "./train/config";
export type { TrainConfig, TrainCallbacks, StepInfo, EvalInfo, CheckpointInfo, TrainSummary } from "./train/config";
export type { TrainableModel, Batch } from "./train/types";
export type { TokenizedExample } from "./types/example";
export { causalLMTrainable } from "./train/causal-lm";
export type { CausalLM, CausalLMTrainableOptions } from "./train/causal-lm";
export { AdamW, DEFAULT_ADAMW } from "./train/adamw";
export { Adafactor, DEFAULT_ADAFACTOR } from "./train/adafactor";
export { createOptimizer } from "./train/create-optimizer";
export { decays, OPTIMIZERS } from "./train/optimizer";
export type { Optimizer, OptimizerName } from "./train/optimizer";
export { lrAt, lrMultiplier, SCHEDULES } from "./train/schedule";
export type { ScheduleName } from "./train/schedule";
export { BatchStream, collate, prepareExamples, TrainDataError } from "./train/data";
export {
  findLatestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  TrainCheckpointError,
} from "./train/checkpoint";
export { Linear, LayerNorm, embedding, activation } from "./model/layers";
export type { LinearLike } from "./model/layers";
export { parameterShapes, blockLinearNames } from "./model/gptneox";
export type { SaveOptions } from "./model/load";
export { nextToken } from "./model/sampling";

// sizing
export {
  estimateMemory,
  resolveJob,
  defaultLoraTargets,
  DEFAULT_JOB,
  JOBS,
  BREAKDOWN_PARTS,
  modelShape,
  loadModelShape,
  knownModelNames,
  REFERENCE_MODELS,
  makeShape,
  shapeFromGPTNeoX,
  shapeFromHFConfig,
  shapeFromParams,
  targetLinears,
  weightBytes,
  kvCacheBytes,
  activationBytesFor,
  trainingBytesPerParam,
  qloraBaseBytes,
  loraParams,
  flopsPerToken,
  NF4_BITS_PER_PARAM,
  SIZING_OPTIMIZERS,
  CONVENTIONS,
  RECOMPUTE,
  GPU_CATALOG,
  THIS_MACHINE,
  thisMachine,
  gpuIds,
  getGpu,
  usableBytes,
  peakTflops,
  maxParamsFor,
  gpuReport,
  gpuReportRows,
  fitMatrix,
  sizingPlan,
  DEFAULT_FIT_JOBS,
  LORA_PAPER_GPT3,
  loraPaperCheck,
  loraPaperRows,
  kvBytesPerToken,
  kvCacheRows,
  compareToMeasured,
  formatEstimate,
  breakdownRows,
  estimateJson,
  breakdownChart,
  fitHeatmap,
  maxParamsChart,
  gpuCatalogRows,
  comparisonRows,
  SizingError,
  parseParamCount,
  formatGiB,
  formatParams,
} from "./sizing";
export type {
  Job,
  JobOptions,
  Breakdown,
  SizingResult,
  ComputeEstimate,
  ModelShape,
  ShapeDims,
  Gpu,
  GpuReport,
  FitCell,
  PlanRow,
  Measurement,
  MeasurementError,
  LoraPaperCheck,
  SizingOptimizer,
  Convention,
  Recompute,
  FigureSpec,
} from "./sizing";

// data generation, dedup, filters
export { LocalGenerator, DEFAULT_LOCAL_GENERATION } from "./model/local-generator";
export type { LocalGenerationOptions } from "./model/local-generator";
export {
  expandPairs,
  questionsFromSections,
  PARAPHRASE_TEMPLATES,
  QUESTION_TYPES,
  DEFAULT_EXPAND,
  sectionsFromMarkdown,
  splitSentences,
  OpenAIGenerator,
  openAIGeneratorFromEnv,
  DEFAULT_OPENAI_GENERATION,
  RateLimiter,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RETRY,
  parseRetryAfter,
  answerWithModel,
  pairsWithModel,
  parseGeneratedPair,
  DEFAULT_PAIRS_WITH_MODEL,
  splitByGroup,
  sourceGroup,
  GeneratorError,
} from "./data/generate";
export type {
  QAPair,
  Section,
  Provenance,
  Generator,
  Generation,
  GenerationOptions,
  GeneratorErrorCode,
  OpenAIGeneratorOptions,
  OpenAIStats,
  RateLimitOptions,
  RetryOptions,
  ExpandOptions,
  ParaphraseTemplate,
  QuestionType,
  MarkdownSectionOptions,
  AnswerWithModelOptions,
  PairsWithModelOptions,
  RejectedGeneration,
  GroupSplitOptions,
} from "./data/generate";
export { dedup, normalizeText, shingles, jaccard, DEFAULT_DEDUP } from "./data/dedup";
export type { DedupOptions, DedupResult, DuplicateRecord } from "./data/dedup";
export { filterPairs, checkPair, repeatedNgramShare, FILTER_REASONS, DEFAULT_FILTERS } from "./data/filters";
export type { FilterOptions, FilterResult, DroppedItem, FilterReason, CustomFilter } from "./data/filters";

// data
export {
  SCHEMA_NAMES,
  SCHEMAS,
  validateRecord,
  inferSchema,
  parseJsonl,
  readJsonl,
  readJsonlSync,
  writeJsonl,
  toJsonl,
  formatIssue,
  JsonlError,
  DEFAULT_JSONL_OPTIONS,
  QA_TEMPLATE,
  INSTRUCTION_TEMPLATE,
  classificationTemplate,
  extractionTemplate,
  stringTemplate,
  templateFor,
  placeholders,
  renderExamples,
  TemplateError,
  chatTemplate,
  tokenizeExample,
  tokenizeDataset,
  padBatch,
  tokenTable,
  DEFAULT_PREPARE,
  splitTrainTest,
  nestedSubsets,
  sampleItems,
  DEFAULT_SPLIT,
  DEFAULT_SUBSET_FRACTIONS,
  lengthStats,
  labelCounts,
  datasetStats,
  fieldLengths,
  loadDataset,
  loadDatasetSync,
  datasetTemplate,
  datasetOverview,
  dataDir,
  DATASETS,
  DATASET_NAMES,
  parseEmail,
  emailHeader,
  decodeEncodedWords,
  htmlToText,
  truncateWords,
} from "./data";
export type {
  SchemaName,
  DataRecord,
  QARecord,
  InstructionRecord,
  ClassificationRecord,
  ExtractionRecord,
  RecordIssue,
  JsonlOptions,
  JsonlIssue,
  JsonlResult,
  PromptTemplate,
  RenderedExample,
  ChatMessage,
  ChatTemplateConfig,
  ChatTemplateOptions,
  PrepareOptions,
  PreparedRecord,
  PrepareStats,
  PaddedBatch,
  SplitOptions,
  Subset,
  LengthStats,
  DatasetStats,
  Dataset,
  DatasetInfo,
  ParsedEmail,
} from "./data";

// eval
export {
  normalizeAnswer,
  exactMatch,
  tokenF1,
  labelFromGeneration,
  accuracy,
  majorityBaseline,
  perplexity,
  scoreExamples,
  scoreCompletions,
  classifyByLikelihood,
  categorize,
  repetitionRatio,
  errorTable,
  errorCounts,
  errorExamples,
  ERROR_CATEGORIES,
  DEFAULT_ERROR_OPTIONS,
  evaluateModel,
  DEFAULT_EVAL_OPTIONS,
  compareModels,
} from "./eval";
export type {
  TokenScore,
  ScoreOptions,
  ErrorCategory,
  ErrorOptions,
  ErrorCount,
  EvalOptions,
  EvalRecord,
  EvalMetrics,
  EvalResult,
  ModelUnderTest,
  Comparison,
  ComparisonRow,
  MetricComparison,
} from "./eval";

// pipeline (what the CLI and notebooks call: tasks, fine-tuning, LoRA attachment, sweeps, saving)
export {
  fineTune,
  cloneModel,
  dataSizeSweep,
  DEFAULT_SWEEP_OPTIONS,
  loadTask,
  TEMPLATE_NAMES,
  parseLoraOption,
  loadAdapterInto,
  attachLora,
  applyLora,
  AdapterSupportError,
  saveFineTuned,
  TOKENIZER_FILES,
} from "./pipeline";
export type {
  FineTuneOptions,
  FineTuneResult,
  SweepOptions,
  SweepRow,
  Task,
  TaskSpec,
  LoraSpec,
  LoraAttachment,
  SaveFineTunedOptions,
  SavedFile,
} from "./pipeline";

// lora
export {
  LoraModel,
  LoraLinear,
  LoraError,
  loraTrainable,
  saveAdapter,
  loadAdapter,
  generateWithAdapter,
  parseLoraSpec,
  resolveLoraConfig,
  loraScaling,
  DEFAULT_LORA_CONFIG,
  loraParameterCount,
  loraCountTable,
  toPeftConfig,
  fromPeftConfig,
} from "./lora";
export type {
  LoraConfig,
  AdapterInfo,
  AdapterSelection,
  LoraParameterCount,
  LoadAdapterOptions,
} from "./lora";

// scaling (measured step time/memory across sizes, fits, recorded GPU numbers)
export {
  measureScaling,
  resolveScalingModel,
  DEFAULT_SCALING_OPTIONS,
  asyncTrainStep,
  fitPowerLaw,
  predictPowerLaw,
  extrapolate,
  fitStepTime,
  gpuStepEstimates,
  measuredMfu,
  recordedVsEstimate,
  DEFAULT_GPU_ESTIMATE,
  loadRecordings,
  validateRecording,
  recordedDir,
  recordedRows,
  RecordingError,
  RECORD_FORMAT,
  RECORD_VERSION,
  backendRows,
  scalingTableRows,
  recordedTableRows,
  scalingChart,
} from "./scaling";
export type {
  ScalingOptions,
  ScalingRow,
  ScalingResult,
  ScalingProgress,
  ScalingModel,
  PowerLawFit,
  Extrapolation,
  GpuEstimateOptions,
  GpuStepEstimate,
  RecordedVsEstimate,
  Recording,
  RecordedRow,
  ScalingChartOptions,
} from "./scaling";

// export (the same job for transformers/PEFT + accelerate, axolotl)
export {
  exportJob,
  DEFAULT_EXPORT,
  ENGINES,
  ExportError,
  clusterPlan,
  planAttemptRows,
  planSummaryRows,
  DEFAULT_CLUSTER_PLAN,
  PRECISIONS,
  ExportPlanError,
  toHfArgs,
  recordsHash,
  renderRows,
  recordsFromRows,
  datasetCard,
  ExportDataError,
  trainScript,
  accelerateConfig,
  deepspeedConfig,
  axolotlConfig,
  exportReadme,
  evalCommand,
  exportSummary,
} from "./export";
export type {
  ExportOptions,
  ExportResult,
  ExportHooks,
  Engine,
  ClusterPlan,
  ClusterPlanOptions,
  PlanAttempt,
  Precision,
  ExportedJob,
  HfArgs,
  PeftLora,
  SplitInfo,
  CardInfo,
} from "./export";

// static course site
export { renderSite, DEFAULT_SITE_OPTIONS, SiteRenderError } from "./tools/site/render";
export type { SiteOptions, SiteResult } from "./tools/site/render";

// bench (tunebook vs PyTorch on the same CPU) and backend internals
export { runBench, DEFAULT_BENCH } from "./tools/bench/run";
export { runWorkload, DEFAULT_WORKLOAD, BENCH_MODES } from "./tools/bench/workloads";
export { benchLines, formatTable, METRICS } from "./tools/bench/report";
export { machinePeak } from "./tools/bench/peak";
export { withTransposedWeights } from "./kernels/linear";
export { startThreadedWasm, WASM_THREADS_ENV } from "./kernels/wasm-threads";
export {
  nativeBlasStatus,
  nativeMatMulActive,
  matmulEngine,
  installNativeMatMul,
  uninstallNativeMatMul,
  BLAS_ENV,
} from "./kernels/native-blas";
export type { NativeBlasStatus } from "./kernels/native-blas";
export { heapWorkerStats, HEAP_WORKERS_ENV } from "./kernels/heap-workers";

// course (one module per notebook: its tables, figures, demos and measurements)
export {
  sweepFigure,
  errorFigure,
  comparisonFigure,
  measureStepMemory,
  measureStepMemoryInChild,
  compareWithSizing,
  benchLoraLatency,
  loraDiagram,
  loraCountsChart,
  lossCurvesChart,
  memoryChart,
  memoryTable,
  fullVsLora,
  qaExamples,
  qaPrompt,
  CUSTOMER_DEMO,
  askEachAdapter,
  verifyMerge,
  TASK_PLACEMENT,
  TASK_SOURCE,
  taskPlacementChart,
  COURSE_TABLE,
  courseTableCheck,
  courseTableRows,
  parameterRows,
  familyPoints,
  familyFigure,
  trainingMonitor,
  DEFAULT_MONITOR_OPTIONS,
  beforeAfterRows,
  predictionRows,
  metricRows,
  promptInput,
  percent,
  comparisonSummary,
  DEFAULT_ROW_OPTIONS,
  tasksFigure,
} from "./course";
export type {
  ParameterRow,
  FamilyPoint,
  MonitorOptions,
  TrainingMonitor,
  BeforeAfterRow,
  PredictionRow,
  MetricRow,
  RowOptions,
  EvalFigure,
  SweepMetric,
  StepMemory,
  MemoryComparisonRow,
  LoraLatency,
  MergeCheck,
  TaskPlacement,
  TaskKind,
  CourseRow,
  CourseCheckRow,
} from "./course";
export { heldOutText, textPerplexity, DEFAULT_TEXT_PERPLEXITY_OPTIONS } from "./course";
export type { HeldOutPassage, TextPerplexity, TextPerplexityOptions } from "./course";
// notebook 00 (why and when to fine-tune): the loop figure, prompting vs fine-tuning, data samples, model sizes
export {
  clipText,
  pickDemonstrations,
  fewShotTemplate,
  promptingSetup,
  cardRecipe,
  labelledShare,
  promptingRows,
  promptingFigure,
  promptingSummary,
  DEFAULT_PROMPTING_OPTIONS,
  courseLoopSvg,
  courseLoopFigure,
  COURSE_LOOP,
  LOOP_TOOLS,
  excerpt,
  passageRows,
  pairRows,
  fineTuningSize,
  pretrainingRecord,
  dataSizeRows,
  modelSizeRows,
  ADVICE_SIZES,
  DEFAULT_MODEL_SIZE_OPTIONS,
} from "./course";
export type {
  PromptingOptions,
  PromptingSetup,
  PromptingResult,
  PromptingRow,
  LoopStep,
  PassageRow,
  PairRow,
  FineTuningSize,
  PretrainingRecord,
  DataSizeRow,
  ModelSizeOptions,
  ModelSizeRow,
} from "./course";
export { confusionMatrix, confusionFromRecords, confusionFigure } from "./eval";
export type { ConfusionMatrix } from "./eval";
