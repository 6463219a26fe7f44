/**
 * The trainer: seeded batches → token-weighted gradient accumulation → global-norm clipping → AdamW or
 * Adafactor at the scheduled learning rate, with evaluation, callbacks, atomic checkpoints and exact resume.
 *
 * One optimizer update: forward/backward per micro-batch in one `tf.tidy`, one device read (loss and gradient
 * norm together), then the update in place on the variables and the optimizer's state variables — nothing
 * outlives the step, so `tf.memory().numTensors` is the same after every step. `train()` awaits that read
 * (`trainStepAsync`, `evaluateAsync`), so it runs on every backend, WebGPU in Node included (which has no
 * synchronous reads); `trainStep()` and `evaluate()` read synchronously, for the backends that can.
 *
 * Determinism: the data order comes from `seed` alone, the model's own random draws (LoRA dropout) from
 * generators it exposes as `rngState()`, and every operation is deterministic on a given backend, so the same
 * seed (and the same initial weights) gives the same losses. Resume restores the trainable tensors, the
 * optimizer state and step, the data position (epoch, index, RNG state), the model's generators, the loss and
 * eval history — a run of 3 + 3 steps gives bit-identical losses and weights to a run of 6 on the same backend.
 * (AdamW's one-pass wasm update computes in float64 and stores float32, the tensor path used elsewhere in
 * float32: a run resumed on another backend agrees to ≈ 1e-7, not bit for bit.)
 *
 * Divergence (divergence.ts): a non-finite loss or gradient norm stops training before the update (the weights
 * stay as they were); a loss above `divergence.factor` × its running minimum for `divergence.patience` updates,
 * or still above it when the run ends, stops it after the update. Either way a `TrainingDivergedError` names
 * the step, the loss and the last good checkpoint. A checkpoint counts as good once the next update's loss, which
 * its weights produced, was finite and below the bar (a checkpoint saved just before a NaN may already hold
 * weights of 1e19). No checkpoint is saved while the loss is above the bar (so a long explosion cannot prune the
 * good ones) or when a weight is not finite.
 *
 * `trainer_state.json`: see trainer-state.ts.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  TrainCheckpointError,
  findLatestCheckpoint,
  isCompleteCheckpoint,
  loadCheckpoint,
  pointLatestAt,
  saveCheckpoint,
  type SaveStage,
} from "./checkpoint";
import {
  TRAINER_STATE_FORMAT,
  TRAINER_STATE_VERSION,
  TrainingDivergedError,
  checkCheckpointFits,
  firstNonFinite,
  restoreModelRng,
  type DivergenceDetails,
} from "./trainer-state";
import {
  configForState,
  resolveTrainConfig,
  type EvalInfo,
  type TrainCallbacks,
  type TrainConfig,
  type TrainSummary,
} from "./config";
import { createOptimizer } from "./create-optimizer";
import { DivergenceMonitor } from "./divergence";
import { BatchStream, collate, lossTokenCount, prepareExamples, sequentialBatches, type PreparedExample } from "./data";
import { readSync } from "../kernels";
import { accumulateGradients, stepNumbersFrom, stepNumbersTensor } from "./grad";
import type { Optimizer } from "./optimizer";
import { lrAt, type ScheduleConfig } from "./schedule";
import type { TokenizedExample } from "../types/example";
import type { TrainableModel } from "./types";

/** Numbers from one update. */
export interface StepResult {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  numTokens: number;
  numInputTokens: number;
}

/** Test hooks (not part of the config file). */
export interface TrainerHooks {
  /** Called at each stage of every checkpoint save; throwing simulates a crash mid-save. */
  faultInjection?: (stage: SaveStage, tmpDir: string) => void;
}

/** An update between its device work and its read: gradients and the step's two numbers, kept (see beginStep). */
interface PendingStep {
  lr: number;
  stepNo: number;
  kept: {
    both: tf.Tensor1D;
    grads: Record<string, tf.Tensor>;
    unit: number;
    numTokens: number;
    numInputTokens: number;
  };
}

const now = () => performance.now();
const nextTick = () => new Promise<void>((r) => setImmediate(r));

export { TrainingDivergedError, TRAINER_STATE_FORMAT, TRAINER_STATE_VERSION };

/**
 * A training run over one model and one data set.
 * @example
 * const trainer = new Trainer(causalLMTrainable(model), examples, { lr: 1e-3, numSteps: 200, checkpointDir: "runs/a" },
 *   { onStep: (s) => chart.push(s.step, s.loss) });
 * const summary = await trainer.train();
 * trainer.dispose();   // frees the optimizer state (the model is yours)
 */
export class Trainer {
  readonly config: TrainConfig;
  readonly optimizer: Optimizer;
  readonly stream: BatchStream;
  /** Updates the run aims for (from numSteps, or numEpochs). */
  readonly numSteps: number;
  step = 0;
  lossHistory: number[] = [];
  evalHistory: EvalInfo[] = [];
  /** Real input tokens seen since step 0 (restored on resume). */
  tokensSeen = 0;
  lastCheckpoint: string | undefined;
  /** Judges each update's loss (its state follows from `lossHistory`). */
  readonly divergence: DivergenceMonitor;
  /** The newest checkpoint whose weights then gave a finite loss below the bar; what errors name. */
  private goodCheckpoint: string | undefined;
  /** A checkpoint saved (or resumed from) after the last judged update: good if the next loss is. */
  private unjudgedCheckpoint: string | undefined;
  /** The newest checkpoint whose weights then gave a loss above the bar (errors warn against resuming from it). */
  private badCheckpoint: string | undefined;
  private readonly vars: Map<string, tf.Variable>;
  private readonly evalExamples: PreparedExample[];
  private stopRequested = false;

  constructor(
    readonly model: TrainableModel,
    data: readonly TokenizedExample[],
    opts: Partial<TrainConfig> = {},
    readonly callbacks: TrainCallbacks = {},
    readonly hooks: TrainerHooks = {},
  ) {
    this.config = resolveTrainConfig(opts);
    const c = this.config;
    const vars = model.trainableVariables();
    if (!(vars instanceof Map) || vars.size === 0)
      throw new Error("model.trainableVariables() returned no variables: nothing to train");
    this.vars = vars;
    this.stream = new BatchStream(
      data,
      {
        batchSize: c.batchSize,
        maxLength: c.maxLength,
        padId: c.padId,
        padTo: c.padTo,
        seed: c.seed,
        shuffle: c.shuffle,
      },
      "data",
    );
    this.evalExamples = c.evalData.length ? prepareExamples(c.evalData, c.maxLength, "evalData").examples : [];
    this.numSteps =
      c.numEpochs > 0
        ? Math.max(1, Math.ceil((c.numEpochs * this.stream.size) / (c.batchSize * c.gradAccumSteps)))
        : c.numSteps;
    this.optimizer = createOptimizer(c.optimizer, vars, {
      weightDecay: c.weightDecay,
      noDecayPattern: c.noDecayPattern,
      ...c.optimizerOptions,
    });
    this.divergence = new DivergenceMonitor(c.divergence);
  }

  private diverged(d: Omit<DivergenceDetails, "lastCheckpoint">): TrainingDivergedError {
    const good = this.goodCheckpoint;
    const gone = good !== undefined && !isCompleteCheckpoint(good);
    const bad = this.unjudgedCheckpoint ?? this.badCheckpoint; // unjudged only when this very loss is non-finite
    // a plain resume takes `latest`: point it back at the good checkpoint rather than the newer diverging one
    if (good !== undefined && !gone && bad !== undefined) pointLatestAt(path.dirname(good), good);
    return new TrainingDivergedError({
      ...d,
      lastCheckpoint: gone ? undefined : good,
      prunedGood: gone ? good : undefined,
      badCheckpoint: bad,
    });
  }

  /** The schedule this run follows. */
  get schedule(): ScheduleConfig {
    return {
      lr: this.config.lr,
      numSteps: this.numSteps,
      warmupSteps: this.config.warmupSteps,
      schedule: this.config.schedule,
    };
  }

  private padLength(): number | undefined {
    return this.config.padTo === "maxLength" ? this.config.maxLength : undefined;
  }

  /** Ask the run to end after the current update (a checkpoint is saved if checkpointDir is set). */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * One optimizer update over `gradAccumSteps` micro-batches, reading the loss and gradient norm synchronously
   * (wasm, cpu, tensorflow; on webgpu in Node it throws a `SyncReadError`: use `trainStepAsync`). Throws
   * `TrainingDivergedError` on a non-finite loss or gradient norm (without updating), and when the loss has been
   * above the divergence bar for `divergence.patience` updates (after updating: `step` and `lossHistory` include
   * that update).
   */
  trainStep(): StepResult {
    const pending = this.beginStep();
    try {
      return this.endStep(pending, readSync(pending.kept.both, "Trainer.trainStep", "await trainer.trainStepAsync()"));
    } finally {
      tf.dispose(pending.kept);
    }
  }

  /**
   * `trainStep` with an awaited read: the same update with the same numbers, on every backend (webgpu included).
   * What `train()` runs.
   * @example
   * const { loss, gradNorm } = await trainer.trainStepAsync();
   */
  async trainStepAsync(): Promise<StepResult> {
    const pending = this.beginStep();
    try {
      return this.endStep(pending, await pending.kept.both.data());
    } finally {
      tf.dispose(pending.kept);
    }
  }

  /**
   * First half of an update: forward/backward per micro-batch in one tidy; keeps the gradients and the step's two
   * numbers as one `[2]` tensor for a single device read (the caller disposes `kept`).
   */
  private beginStep(): PendingStep {
    const c = this.config;
    const lr = lrAt(this.step, this.schedule);
    const micro = Array.from({ length: c.gradAccumSteps }, () => this.stream.nextExamples());
    const pad = this.padLength();
    const kept = tf.tidy(() => {
      const acc = accumulateGradients(
        this.model,
        this.vars,
        micro.map((exs) => () => collate(exs, c.padId, pad)),
      );
      const grads: Record<string, tf.Tensor> = {};
      for (const [k, g] of acc.gradSums) grads[k] = g;
      return {
        both: stepNumbersTensor(acc),
        grads,
        unit: acc.unit,
        numTokens: acc.numTokens,
        numInputTokens: acc.numInputTokens,
      };
    });
    return { lr, stepNo: this.step + 1, kept };
  }

  /** Second half: the numbers read, the divergence checks, the optimizer update and the bookkeeping. */
  private endStep(pending: PendingStep, both: ArrayLike<number>): StepResult {
    const { lr, stepNo, kept } = pending;
    const n = stepNumbersFrom(both, kept, this.config.maxGradNorm);
    if (!Number.isFinite(n.loss) || !Number.isFinite(n.gradNorm))
      throw this.diverged({
        reason: Number.isFinite(n.loss) ? "non-finite-grad-norm" : "non-finite-loss",
        step: stepNo,
        loss: n.loss,
        gradNorm: n.gradNorm,
      });
    tf.tidy(() => this.optimizer.apply(new Map(Object.entries(kept.grads)), lr, n.scale));
    const r = { loss: n.loss, gradNorm: n.gradNorm, numTokens: kept.numTokens, numInputTokens: kept.numInputTokens };
    this.step = stepNo;
    this.lossHistory.push(r.loss);
    this.tokensSeen += r.numInputTokens;
    const v = this.divergence.observe(r.loss, r.gradNorm);
    if (this.unjudgedCheckpoint) {
      if (v.above) this.badCheckpoint = this.unjudgedCheckpoint;
      else [this.goodCheckpoint, this.badCheckpoint] = [this.unjudgedCheckpoint, undefined]; // its weights gave this loss
    }
    this.unjudgedCheckpoint = undefined;
    if (v.diverged) throw this.exploded(stepNo, r.loss, r.gradNorm, false);
    return { step: stepNo, lr, ...r };
  }

  private exploded(step: number, loss: number, gradNorm: number, atEnd: boolean): TrainingDivergedError {
    const d = this.divergence;
    return this.diverged({
      reason: "exploded",
      step,
      loss,
      gradNorm,
      atEnd,
      bar: d.bar,
      runningMin: d.runningMin,
      streak: d.streak,
      factor: d.config.factor,
      patience: d.config.patience,
    });
  }

  /**
   * Token-weighted mean loss over examples (default: `evalData`), without gradients, read synchronously (on
   * webgpu in Node: `evaluateAsync`).
   * @example
   * const { loss } = trainer.evaluate();  // Math.exp(loss) is the perplexity
   */
  evaluate(data?: readonly TokenizedExample[]): { loss: number; numTokens: number } {
    let sum = 0;
    let n = 0;
    for (const { tokens, loss } of this.evalBatches(data)) {
      const t = loss();
      try {
        sum += readSync(t, "Trainer.evaluate", "await trainer.evaluateAsync()")[0] * tokens;
      } finally {
        t.dispose();
      }
      n += tokens;
    }
    return { loss: sum / n, numTokens: n };
  }

  /**
   * `evaluate` with awaited reads (every backend, webgpu included); what `train()` runs.
   * @example
   * const { loss } = await trainer.evaluateAsync();
   */
  async evaluateAsync(data?: readonly TokenizedExample[]): Promise<{ loss: number; numTokens: number }> {
    let sum = 0;
    let n = 0;
    for (const { tokens, loss } of this.evalBatches(data)) {
      const t = loss();
      try {
        sum += (await t.data())[0] * tokens;
      } finally {
        t.dispose();
      }
      n += tokens;
    }
    return { loss: sum / n, numTokens: n };
  }

  /** Evaluation batches: each one's loss-token count and a function computing its mean loss (a scalar to read). */
  private *evalBatches(data?: readonly TokenizedExample[]): Generator<{ tokens: number; loss: () => tf.Tensor }> {
    const c = this.config;
    const examples = data ? prepareExamples(data, c.maxLength, "evaluate data").examples : this.evalExamples;
    if (examples.length === 0) throw new Error("evaluate: no eval data (set evalData or pass examples)");
    for (const exs of sequentialBatches(examples, c.evalBatchSize || c.batchSize)) {
      const tokens = exs.reduce((s, e) => s + lossTokenCount(e.labels), 0);
      yield { tokens, loss: () => tf.tidy(() => this.model.loss(collate(exs, c.padId, this.padLength()))) };
    }
  }

  /** The JSON written as `trainer_state.json`. */
  stateJSON(): Record<string, unknown> {
    const pos = this.stream.position();
    return {
      format: TRAINER_STATE_FORMAT,
      version: TRAINER_STATE_VERSION,
      step: this.step,
      numSteps: this.numSteps,
      schedule: {
        name: this.config.schedule,
        lr: this.config.lr,
        warmupSteps: this.config.warmupSteps,
        numSteps: this.numSteps,
        nextLr: lrAt(this.step, this.schedule),
      },
      optimizer: this.optimizer.describe(),
      rng: { seed: this.config.seed, epochRngState: pos.epochRngState, model: this.model.rngState?.() ?? {} },
      data: { ...pos, size: this.stream.size, dropped: this.stream.dropped },
      lossHistory: this.lossHistory,
      evalHistory: this.evalHistory,
      tokensSeen: this.tokensSeen,
      trainable: [...this.vars].map(([name, v]) => ({ name, shape: v.shape })),
      config: configForState(this.config),
      savedAt: new Date().toISOString(),
    };
  }

  /**
   * Save a checkpoint of the current state into `checkpointDir` (or `dir`); returns its path. Refuses (with a
   * `TrainingDivergedError`, writing nothing) when a weight or optimizer state holds NaN or Infinity.
   */
  async saveCheckpoint(dir: string = this.config.checkpointDir): Promise<string> {
    if (!dir) throw new TrainCheckpointError("saveCheckpoint: no checkpointDir configured");
    const model = new Map<string, { dtype: "F32"; shape: number[]; data: Float32Array }>();
    for (const [k, v] of this.vars)
      model.set(k, { dtype: "F32", shape: v.shape.slice(), data: (await v.data()) as Float32Array });
    const optimizer = new Map<string, { dtype: "F32"; shape: number[]; data: Float32Array }>();
    for (const [k, v] of this.optimizer.stateVariables())
      optimizer.set(k, { dtype: "F32", shape: v.shape.slice(), data: (await v.data()) as Float32Array });
    const bad = firstNonFinite(model) ?? firstNonFinite(optimizer);
    if (bad) throw this.nonFiniteWeights(bad);
    const path = await saveCheckpoint(
      dir,
      this.step,
      {
        model,
        optimizer,
        optimizerMetadata: { optimizer: this.optimizer.name, step: String(this.optimizer.step) },
        state: this.stateJSON() as any,
      },
      { keepLast: this.config.keepCheckpoints, faultInjection: this.hooks.faultInjection },
    );
    this.lastCheckpoint = path;
    this.unjudgedCheckpoint = this.divergence.streak === 0 ? path : undefined;
    return path;
  }

  private nonFiniteWeights(tensor: string): TrainingDivergedError {
    const loss = this.lossHistory.length ? this.lossHistory[this.lossHistory.length - 1] : NaN;
    return this.diverged({ reason: "non-finite-weights", step: this.step, loss, gradNorm: NaN, tensor });
  }

  /** Throw if a trainable weight holds NaN or Infinity (one awaited read; for runs that end without a save). */
  private async checkWeightsFinite(): Promise<void> {
    const names = [...this.vars.keys()];
    const counts = tf.tidy(() =>
      tf.stack(names.map((k) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(this.vars.get(k)!)), "float32")))),
    );
    let bad: ArrayLike<number>;
    try {
      bad = await counts.data();
    } finally {
      counts.dispose();
    }
    const i = Array.prototype.findIndex.call(bad, (x: number) => x !== 0);
    if (i >= 0) throw this.nonFiniteWeights(names[i]);
  }

  /** Restore model tensors, optimizer state, data position and history from a checkpoint directory. */
  async restore(ckptDir: string): Promise<void> {
    const ck = await loadCheckpoint(ckptDir);
    const s = ck.state as any;
    const optState = checkCheckpointFits(ckptDir, ck, this.vars, this.optimizer.name, this.stream.size);
    restoreModelRng(ckptDir, s, this.model); // checked (and set) before anything else changes
    this.optimizer.loadState(optState, Number(ck.optimizerMetadata.step ?? s.optimizer.step));
    for (const [k, v] of this.vars) {
      const t = ck.model.get(k)!;
      tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, t.shape, "float32")));
    }
    this.stream.setPosition({ epoch: s.data.epoch, index: s.data.index, epochRngState: s.data.epochRngState });
    this.step = s.step;
    this.lossHistory = Array.isArray(s.lossHistory) ? s.lossHistory.slice() : [];
    this.divergence.replay(this.lossHistory);
    this.evalHistory = Array.isArray(s.evalHistory) ? s.evalHistory.slice() : [];
    this.tokensSeen = Number(s.tokensSeen) || 0;
    this.lastCheckpoint = ckptDir;
    this.goodCheckpoint = undefined;
    this.badCheckpoint = undefined;
    this.unjudgedCheckpoint = ckptDir; // its tensors are finite (checkCheckpointFits); the next loss judges them
  }

  /** Run to `numSteps` (resuming first if `config.resume`), with evaluation, checkpoints and callbacks. */
  async train(): Promise<TrainSummary> {
    const c = this.config;
    const cb = this.callbacks;
    let resumedFrom: string | undefined;
    if (c.resume) {
      const dir = c.resume === true ? findLatestCheckpoint(c.checkpointDir) : c.resume;
      if (!dir) throw new TrainCheckpointError(`resume: no complete checkpoint in ${c.checkpointDir}`);
      await this.restore(dir);
      resumedFrom = dir;
    }
    const t0 = now();
    const startStep = this.step;
    let tokens = 0;
    let stepTime = 0;
    let savedAt = -1;
    this.stopRequested = false;
    while (this.step < this.numSteps && !this.stopRequested) {
      const ts = now();
      const r = await this.trainStepAsync();
      stepTime += (now() - ts) / 1000;
      tokens += r.numInputTokens;
      const step = r.step;
      const last = step === this.numSteps;
      if (cb.onStep && (step % c.logEvery === 0 || last)) {
        const elapsed = (now() - t0) / 1000;
        await cb.onStep({
          step,
          numSteps: this.numSteps,
          loss: r.loss,
          lr: r.lr,
          gradNorm: r.gradNorm,
          tokensPerSec: stepTime > 0 ? tokens / stepTime : 0,
          elapsed,
          eta: ((this.numSteps - step) * elapsed) / (step - startStep),
          epoch: this.stream.epochFloat,
        });
      }
      if (c.evalEvery > 0 && (step % c.evalEvery === 0 || last)) {
        const ev = await this.evaluateAsync();
        const info: EvalInfo = { step, evalLoss: ev.loss, numTokens: ev.numTokens };
        this.evalHistory.push(info);
        await cb.onEval?.(info);
      }
      const healthy = this.divergence.streak === 0; // an exploding run's weights are not worth a checkpoint
      if (healthy && c.checkpointDir && ((c.checkpointEvery > 0 && step % c.checkpointEvery === 0) || last)) {
        const saved = await this.saveCheckpoint(); // (not inside `onCheckpoint?.(...)`: that would skip the save without a callback)
        savedAt = step;
        await cb.onCheckpoint?.({ step, path: saved });
      }
      await nextTick(); // let displays update and Ctrl-C handlers run
    }
    const stopped = this.step < this.numSteps;
    if (this.divergence.streak > 0) {
      const lastLoss = this.lossHistory[this.lossHistory.length - 1];
      throw this.exploded(this.step, lastLoss, NaN, true);
    }
    if (stopped && c.checkpointDir && savedAt !== this.step && this.step > startStep) {
      const saved = await this.saveCheckpoint();
      savedAt = this.step;
      await cb.onCheckpoint?.({ step: this.step, path: saved });
    }
    if (savedAt !== this.step && this.step > startStep) await this.checkWeightsFinite();
    const elapsed = (now() - t0) / 1000;
    const summary: TrainSummary = {
      step: this.step,
      stepsRun: this.step - startStep,
      losses: this.lossHistory.slice(),
      finalLoss: this.lossHistory.length ? this.lossHistory[this.lossHistory.length - 1] : NaN,
      evals: this.evalHistory.slice(),
      finalEvalLoss: this.evalHistory.length ? this.evalHistory[this.evalHistory.length - 1].evalLoss : undefined,
      elapsed,
      tokensPerSec: stepTime > 0 ? tokens / stepTime : 0,
      tokens,
      lastCheckpoint: this.lastCheckpoint,
      resumedFrom,
      droppedExamples: this.stream.dropped,
      stopped,
    };
    await cb.onEnd?.(summary);
    return summary;
  }

  /** Free the optimizer state (the model's variables are left alone). */
  dispose(): void {
    this.optimizer.dispose();
  }
}

/**
 * Train a model in one call (creates a Trainer, runs it, frees the optimizer state).
 * @example
 * const summary = await train(causalLMTrainable(model), examples, { lr: 1e-3, numSteps: 100, warmupSteps: 10, schedule: "cosine" });
 * summary.losses; // one per update
 */
export async function train(
  model: TrainableModel,
  data: readonly TokenizedExample[],
  config: Partial<TrainConfig> = {},
  callbacks: TrainCallbacks = {},
): Promise<TrainSummary> {
  const t = new Trainer(model, data, config, callbacks);
  try {
    return await t.train();
  } finally {
    t.dispose();
  }
}
