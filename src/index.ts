/**
 * tunebook — the public API: what a learner or practitioner uses, in the course's order (runtime → data → model →
 * train/LoRA → eval → sizing → export). Each value has a doc comment with an example. Everything else is one
 * subpath away, each the barrel of one folder: `tunebook/runtime`, `tunebook/display`, `tunebook/hub`,
 * `tunebook/tokenizer`, `tunebook/data`, `tunebook/model`, `tunebook/train`, `tunebook/lora`, `tunebook/eval`,
 * `tunebook/sizing`, `tunebook/scaling`, `tunebook/export`, `tunebook/pipeline`, `tunebook/course` (the notebooks'
 * helpers, figures and tables) and `tunebook/tools` (notebook runner, site, bench); `tunebook/kernels` is internal
 * (the fast paths and tfjs internals, no stability promise).
 *
 * @example
 * import { initBackend, loadModel, fineTune, evaluateModel } from "tunebook";
 * await initBackend();   // prints which backend was chosen and why
 */

// Runtime: pick the backend once, at the top of a notebook or script.
export { initBackend, backendReport } from "./runtime/backend";
export type { BackendName, BackendChoice, InitBackendOptions } from "./runtime/backend";
export { Rng } from "./runtime/seed";

// The machine and the hub, in one report.
export { environmentReport } from "./hub/environment";
export type { EnvironmentReport, EnvironmentOptions } from "./hub/environment";

// Display: rich output in a notebook, plain text elsewhere (tunebook/display has the rest).
export { show, table, markdown } from "./display/show";
export type { Displayable } from "./display/show";
export { Figure } from "./display/figure";
export type { PlotlyFigure } from "./types/figure";
export type { FigureOptions } from "./display/figure";
export { progress, liveChart } from "./display/live";
export type { Progress, ProgressExtra, ProgressOptions, LiveChart, LiveChartOptions } from "./display/live";

// Models: load, build, count, generate, score (tunebook/model has the rest).
export { loadModel, loadTokenizerFrom, DEFAULT_MODEL, PYTHIA_70M, courseModelId } from "./pipeline/pretrained";
export { loadTokenizer } from "./tokenizer/load";
export type { Tokenizer } from "./tokenizer/types";
export { loadPretrained } from "./model/load";
export type { SaveOptions } from "./model/load";
export { saveModel } from "./model/weights";
export { getPreset, PYTHIA_PRESETS, countParameters } from "./model/presets";
export type { ParameterCount } from "./model/presets";
export { makeConfig } from "./model/config";
export type { GPTNeoXConfig, HiddenAct } from "./model/config";
export { GPTNeoXForCausalLM } from "./model/gptneox";
export type { ForwardOptions, ForwardOutput } from "./model/gptneox";
export { generate, generateDetailed } from "./model/generate";
export type { GenerateOptions, GenerateResult, FinishReason } from "./model/generate";
export { scoreSequence } from "./model/score";
export type { SequenceScore } from "./model/score";
export { causalLMLoss } from "./model/loss";
export { LocalGenerator } from "./model/local-generator";
export type { LocalGenerationOptions } from "./model/local-generator";

// Data: JSONL, datasets, templates, tokenisation, generation, dedup and filters (tunebook/data has the rest).
export { readJsonl, writeJsonl } from "./data/jsonl";
export { loadDataset } from "./data/datasets";
export type { Dataset, DatasetInfo } from "./data/datasets";
export { splitByGroup } from "./data/generate/group-split";
export { templateFor, QA_TEMPLATE, INSTRUCTION_TEMPLATE } from "./data/templates";
export { chatTemplate } from "./data/chat-template";
export { tokenizeDataset, padBatch } from "./data/prepare";
export type { PrepareOptions, PreparedRecord, PaddedBatch } from "./data/prepare";
export { dedup } from "./data/dedup";
export type { DedupOptions, DedupResult, DuplicateRecord } from "./data/dedup";
export { filterPairs } from "./data/filters";
export type { FilterOptions, FilterResult, DroppedItem, FilterReason, CustomFilter } from "./data/filters";
export { expandPairs } from "./data/generate/expand";
export { OpenAIGenerator, openAIGeneratorFromEnv } from "./data/generate/openai";
export type { QAPair, Generator } from "./data/generate/types";
export { nestedSubsets } from "./data/split";
export { datasetStats } from "./data/stats";

// Training: the trainer, optimizers and checkpoints (tunebook/train has the rest).
export { train, Trainer } from "./train/trainer";
export type { StepResult, TrainerHooks } from "./train/trainer";
export { DEFAULT_TRAIN_CONFIG } from "./train/config";
export type { TrainConfig, TrainCallbacks, StepInfo, EvalInfo, CheckpointInfo, TrainSummary } from "./train/config";
export { causalLMTrainable } from "./train/causal-lm";
export type { CausalLMTrainableOptions } from "./train/causal-lm";
export type { TrainableModel, Batch } from "./train/types";
export type { TokenizedExample } from "./types/example";
export { AdamW } from "./train/adamw";
export { Adafactor } from "./train/adafactor";
export { saveCheckpoint, loadCheckpoint, findLatestCheckpoint } from "./train/checkpoint";
export { TrainingDivergedError } from "./train/trainer-state";

// Pipeline: what the CLI and the notebooks call (tunebook/pipeline has the rest).
export { fineTune, cloneModel } from "./pipeline/finetune";
export { loadTask } from "./pipeline/task";
export { attachLora, applyLora } from "./pipeline/adapters";
export { dataSizeSweep } from "./pipeline/sweep";

// LoRA: adapters, PEFT files (tunebook/lora has the rest).
export { LoraModel } from "./lora/model";
export { saveAdapter, loadAdapter } from "./lora/peft";
export { DEFAULT_LORA_CONFIG } from "./lora/config";
export type { LoraConfig } from "./lora/config";
export { loraParameterCount } from "./lora/counts";

// Evaluation: metrics, generation-based evaluation, errors, comparisons (tunebook/eval has the rest).
export { evaluateModel } from "./eval/run";
export type { EvalOptions, EvalRecord, EvalMetrics, EvalResult, ModelUnderTest } from "./eval/run";
export { compareModels } from "./eval/compare";
export type { Comparison, ComparisonRow } from "./eval/compare";
export { exactMatch, tokenF1, accuracy, perplexity } from "./eval/metrics";
export { errorTable } from "./eval/errors";
export { confusionFromRecords } from "./eval/confusion";
export type { ConfusionMatrix } from "./eval/confusion";

// Sizing and scaling: memory and time before you rent a GPU (tunebook/sizing, tunebook/scaling).
export { estimateMemory } from "./sizing/estimate";
export type { Job, JobOptions, Breakdown, SizingResult } from "./sizing/estimate";
export { formatEstimate } from "./sizing/report";
export { sizingPlan, maxParamsFor } from "./sizing/fit";
export { getGpu } from "./sizing/gpus";
export type { Gpu } from "./sizing/gpus";
export { measureScaling } from "./scaling/measure";
export { fitStepTime } from "./scaling/fit";

// Export: the same job for transformers, PEFT and accelerate (tunebook/export).
export { exportJob } from "./export/export";
export type { ExportOptions, ExportResult } from "./export/export";
