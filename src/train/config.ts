/**
 * The trainer's configuration and callbacks. Options are merged over `DEFAULT_TRAIN_CONFIG`
 * (`{...DEFAULT_TRAIN_CONFIG, ...opts}`); defaults follow Hugging Face's `TrainingArguments` unless a reason
 * is given. Every field except `evalData` is JSON, so a config file (`tunebook train --config FILE.json`)
 * and `trainer_state.json` hold the same thing.
 */
import { DEFAULT_DIVERGENCE, divergenceProblem, type DivergenceConfig } from "./divergence";
import { OPTIMIZERS, type OptimizerName } from "./optimizer";
import { SCHEDULES, scheduleProblem, type ScheduleName } from "./schedule";
import type { TokenizedExample } from "../types/example";

export interface TrainConfig {
  /** Peak learning rate. */
  lr: number;
  /** Optimizer updates to run (ignored when `numEpochs` > 0). */
  numSteps: number;
  /** When > 0: train this many passes over the data; numSteps = ceil(numEpochs · examples / (batchSize · gradAccumSteps)). */
  numEpochs: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches per update (effective batch = batchSize · gradAccumSteps). */
  gradAccumSteps: number;
  /** Truncate examples to this many tokens. */
  maxLength: number;
  /** Id used for padding (masked out of attention and loss, so any valid id works; Pythia's is 1). */
  padId: number;
  /** Pad batches to their longest example ("longest") or always to maxLength. */
  padTo: "longest" | "maxLength";
  /** Global gradient-norm clipping threshold; 0 = off. */
  maxGradNorm: number;
  /** Decoupled weight decay (not on biases/norms: see optimizer.ts). */
  weightDecay: number;
  /** Names that get no weight decay (case-insensitive regex); rank-1 tensors never do. */
  noDecayPattern: string;
  /** Linear warm-up updates. */
  warmupSteps: number;
  schedule: ScheduleName;
  optimizer: OptimizerName;
  /** Extra optimizer hyper-parameters (AdamW: beta1, beta2, eps; Adafactor: eps, beta1, scaleParameter, ...). */
  optimizerOptions: Record<string, unknown>;
  /** Seed of the data order (the same seed gives the same losses on the same backend). */
  seed: number;
  /** Shuffle the training data each epoch. */
  shuffle: boolean;
  /** Evaluate every N updates (and after the last); 0 = never. */
  evalEvery: number;
  /** Held-out examples for the eval loss. */
  evalData: TokenizedExample[];
  /** Eval micro-batch size; 0 = batchSize. */
  evalBatchSize: number;
  /** Where checkpoints go; "" = no checkpoints. */
  checkpointDir: string;
  /** Save every N updates (and after the last); 0 = only after the last. */
  checkpointEvery: number;
  /** Keep the newest K checkpoints; 0 = all. */
  keepCheckpoints: number;
  /** Call onStep every N updates (and after the last). */
  logEvery: number;
  /**
   * Resume: true = from checkpointDir's latest, a string = from that checkpoint directory, false = start fresh.
   * The resumed run's own config applies (raise numSteps to train longer; the schedule follows the new
   * numSteps); the optimizer and the training data must be the ones the checkpoint was made with.
   */
  resume: boolean | string;
  /**
   * When to stop a run whose loss explodes (see divergence.ts); a NaN/Infinity loss always stops it. Given
   * fields are merged over `DEFAULT_DIVERGENCE` (`{ patience: 20 }` keeps the default factor and floor).
   */
  divergence: DivergenceConfig;
}

/**
 * The trainer's defaults: Hugging Face `TrainingArguments`' where one exists (each field says whose).
 * Pass only what you change; it is merged over these.
 *
 * @example
 * const cfg = { ...DEFAULT_TRAIN_CONFIG, lr: 1e-3, numSteps: 200, batchSize: 8 };
 */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  lr: 5e-5, // HF TrainingArguments.learning_rate
  numSteps: 100,
  numEpochs: 0,
  batchSize: 4,
  gradAccumSteps: 1,
  maxLength: 256, // enough for the course's prompt+answer pairs; a 2-core CPU pays quadratically past it
  padId: 0,
  padTo: "longest",
  maxGradNorm: 1.0, // HF max_grad_norm
  weightDecay: 0, // HF weight_decay
  noDecayPattern: "(^|\\.)bias$|norm",
  warmupSteps: 0,
  schedule: "linear", // HF lr_scheduler_type
  optimizer: "adamw",
  optimizerOptions: {},
  seed: 42, // HF seed
  shuffle: true,
  evalEvery: 0,
  evalData: [],
  evalBatchSize: 0,
  checkpointDir: "",
  checkpointEvery: 0,
  keepCheckpoints: 2,
  logEvery: 1,
  resume: false,
  divergence: DEFAULT_DIVERGENCE, // factor 4, patience 5, floor 1: the reasons are in divergence.ts
};

/** What `onStep` receives. Times are in seconds and count this run only (not the run before a resume). */
export interface StepInfo {
  /** Updates done so far (1 after the first). */
  step: number;
  numSteps: number;
  /** This update's loss (token-weighted mean over its micro-batches). */
  loss: number;
  /** Learning rate this update used. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Real (non-pad) input tokens per second so far in this run. */
  tokensPerSec: number;
  elapsed: number;
  /** Estimated seconds to `numSteps`. */
  eta: number;
  /** Passes over the data so far (fractional). */
  epoch: number;
}

export interface EvalInfo {
  step: number;
  evalLoss: number;
  /** Loss tokens the eval loss averages over. */
  numTokens: number;
}

export interface CheckpointInfo {
  step: number;
  path: string;
}

export interface TrainSummary {
  /** Updates done in total (including those before a resume). */
  step: number;
  /** Updates this run did. */
  stepsRun: number;
  /** Loss per update since step 1 (restored on resume). */
  losses: number[];
  finalLoss: number;
  evals: EvalInfo[];
  finalEvalLoss?: number;
  /** Seconds this run took. */
  elapsed: number;
  tokensPerSec: number;
  /** Real input tokens this run processed. */
  tokens: number;
  lastCheckpoint?: string;
  resumedFrom?: string;
  /** Examples dropped for having no loss token (see data.ts). */
  droppedExamples: number;
  /** True when `trainer.stop()` ended the run before numSteps. */
  stopped: boolean;
}

type MaybePromise = void | Promise<void>;

/** Hooks for live displays and logging (nothing here imports display). Each may be async. */
export interface TrainCallbacks {
  onStep?(info: StepInfo): MaybePromise;
  onEval?(info: EvalInfo): MaybePromise;
  onCheckpoint?(info: CheckpointInfo): MaybePromise;
  onEnd?(summary: TrainSummary): MaybePromise;
}

export class TrainConfigError extends Error {
  override name = "TrainConfigError";
}

const intAtLeast = (c: any, k: keyof TrainConfig, min: number) => {
  if (!Number.isInteger(c[k]) || c[k] < min)
    throw new TrainConfigError(`train config ${k}: expected an integer ≥ ${min}, found ${JSON.stringify(c[k])}`);
};
const numAtLeast = (c: any, k: keyof TrainConfig, min: number) => {
  if (typeof c[k] !== "number" || !Number.isFinite(c[k]) || c[k] < min)
    throw new TrainConfigError(`train config ${k}: expected a finite number ≥ ${min}, found ${JSON.stringify(c[k])}`);
};

/**
 * Merge options over the defaults and check every field; throws a `TrainConfigError` naming the field.
 * @example
 * const config = resolveTrainConfig({ lr: 3e-4, numSteps: 200, optimizer: "adafactor" });
 */
export function resolveTrainConfig(opts: Partial<TrainConfig> = {}): TrainConfig {
  if (opts === null || typeof opts !== "object")
    throw new TrainConfigError(`train config: expected an object, found ${opts === null ? "null" : typeof opts}`);
  const unknown = Object.keys(opts).filter((k) => !(k in DEFAULT_TRAIN_CONFIG));
  if (unknown.length)
    throw new TrainConfigError(
      `train config: unknown field(s) ${unknown.join(", ")} (known: ${Object.keys(DEFAULT_TRAIN_CONFIG).join(", ")})`,
    );
  const c: TrainConfig = { ...DEFAULT_TRAIN_CONFIG };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (c as any)[k] = v;
  if (!c.divergence || typeof c.divergence !== "object" || Array.isArray(c.divergence))
    throw new TrainConfigError(
      `train config divergence: expected an object like ${JSON.stringify(DEFAULT_DIVERGENCE)}, found ${JSON.stringify(c.divergence)}`,
    );
  c.divergence = {
    ...DEFAULT_DIVERGENCE,
    ...Object.fromEntries(Object.entries(c.divergence).filter(([, v]) => v !== undefined)),
  };
  const dp = divergenceProblem(c.divergence as unknown as Record<string, unknown>);
  if (dp) throw new TrainConfigError(`train config ${dp}`);
  numAtLeast(c, "lr", 0);
  intAtLeast(c, "numSteps", 1);
  numAtLeast(c, "numEpochs", 0);
  intAtLeast(c, "batchSize", 1);
  intAtLeast(c, "gradAccumSteps", 1);
  intAtLeast(c, "maxLength", 2);
  intAtLeast(c, "padId", 0);
  numAtLeast(c, "maxGradNorm", 0);
  numAtLeast(c, "weightDecay", 0);
  intAtLeast(c, "warmupSteps", 0);
  intAtLeast(c, "seed", 0);
  intAtLeast(c, "evalEvery", 0);
  intAtLeast(c, "evalBatchSize", 0);
  intAtLeast(c, "checkpointEvery", 0);
  intAtLeast(c, "keepCheckpoints", 0);
  intAtLeast(c, "logEvery", 1);
  if (!SCHEDULES.includes(c.schedule))
    throw new TrainConfigError(
      `train config schedule: expected one of ${SCHEDULES.join(", ")}, found ${JSON.stringify(c.schedule)}`,
    );
  const sp = scheduleProblem(c);
  if (sp) throw new TrainConfigError(`train config ${sp}`);
  if (!OPTIMIZERS.includes(c.optimizer))
    throw new TrainConfigError(
      `train config optimizer: expected one of ${OPTIMIZERS.join(", ")}, found ${JSON.stringify(c.optimizer)}`,
    );
  if (c.padTo !== "longest" && c.padTo !== "maxLength")
    throw new TrainConfigError(
      `train config padTo: expected "longest" or "maxLength", found ${JSON.stringify(c.padTo)}`,
    );
  if (typeof c.shuffle !== "boolean")
    throw new TrainConfigError(`train config shuffle: expected true or false, found ${JSON.stringify(c.shuffle)}`);
  if (typeof c.checkpointDir !== "string")
    throw new TrainConfigError(
      `train config checkpointDir: expected a path ("" for none), found ${JSON.stringify(c.checkpointDir)}`,
    );
  if (typeof c.noDecayPattern !== "string")
    throw new TrainConfigError(
      `train config noDecayPattern: expected a regular expression string, found ${JSON.stringify(c.noDecayPattern)}`,
    );
  if (!c.optimizerOptions || typeof c.optimizerOptions !== "object" || Array.isArray(c.optimizerOptions))
    throw new TrainConfigError(
      `train config optimizerOptions: expected an object, found ${JSON.stringify(c.optimizerOptions)}`,
    );
  if (!Array.isArray(c.evalData)) throw new TrainConfigError(`train config evalData: expected an array of examples`);
  if (c.evalEvery > 0 && c.evalData.length === 0)
    throw new TrainConfigError(`train config evalEvery is ${c.evalEvery} but evalData is empty`);
  if (!(typeof c.resume === "boolean" || (typeof c.resume === "string" && c.resume !== "")))
    throw new TrainConfigError(
      `train config resume: expected true, false or a checkpoint directory, found ${JSON.stringify(c.resume)}`,
    );
  if (c.resume === true && !c.checkpointDir)
    throw new TrainConfigError(
      `train config resume is true but checkpointDir is empty: name the directory to resume from`,
    );
  return c;
}

/**
 * The config as JSON for `trainer_state.json` (evalData replaced by its size).
 * @example
 * configForState(resolveTrainConfig({ evalData: examples })).evalData; // "40 examples"
 */
export function configForState(c: TrainConfig): Record<string, unknown> {
  const { evalData, ...rest } = c;
  return { ...rest, evalData: `${evalData.length} examples` };
}
