/** `tunebook/train`: the trainer, optimizers, schedules, batching and checkpoints. */
export { train, Trainer, TrainingDivergedError } from "./trainer";
export type { StepResult, TrainerHooks } from "./trainer";
export { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, TrainConfigError } from "./config";
export type { TrainConfig, TrainCallbacks, StepInfo, EvalInfo, CheckpointInfo, TrainSummary } from "./config";
export type { TrainableModel, Batch } from "./types";
export { causalLMTrainable } from "./causal-lm";
export type { CausalLM, CausalLMTrainableOptions } from "./causal-lm";
export { AdamW, DEFAULT_ADAMW } from "./adamw";
export { Adafactor, DEFAULT_ADAFACTOR } from "./adafactor";
export { createOptimizer } from "./create-optimizer";
export { decays, OPTIMIZERS } from "./optimizer";
export type { Optimizer, OptimizerName } from "./optimizer";
export { lrAt, lrMultiplier, SCHEDULES } from "./schedule";
export type { ScheduleName } from "./schedule";
export { BatchStream, collate, prepareExamples, TrainDataError } from "./data";
export {
  findLatestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  TrainCheckpointError,
} from "./checkpoint";
export type { TokenizedExample } from "../types/example";
