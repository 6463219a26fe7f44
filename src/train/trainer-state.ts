/**
 * What `trainer_state.json` holds and how a checkpoint is checked against the run resuming from it, plus the
 * error a diverging run stops with.
 *
 * `trainer_state.json` (format "tunebook-trainer-state", version 2): step, numSteps, schedule {name, lr,
 * warmupSteps, numSteps, nextLr}, optimizer {name, step, hyper-parameters}, rng {seed, epochRngState, model},
 * data {epoch, index, epochRngState, size, dropped}, lossHistory (one per update), evalHistory [{step, evalLoss,
 * numTokens}], tokensSeen, trainable [{name, shape}], config (the TrainConfig, evalData as a count), savedAt.
 * `rng.model` holds the model's own generators (`TrainableModel.rngState()`: LoRA dropout), `{}` when it has
 * none; version 1 lacked it, and such a checkpoint resumes only a model without random draws.
 */
import type * as tf from "@tensorflow/tfjs";
import { TrainCheckpointError, type CheckpointContents } from "./checkpoint";
import type { StateTensor } from "./optimizer";
import type { TrainableModel } from "./types";

export const TRAINER_STATE_FORMAT = "tunebook-trainer-state";
export const TRAINER_STATE_VERSION = 2;

/**
 * Why a run stopped: a NaN/Infinity loss or gradient norm (the update was not applied), a loss above the
 * divergence bar for `divergence.patience` updates (or at the end of the run), or weights that became non-finite.
 */
export type DivergenceReason = "non-finite-loss" | "non-finite-grad-norm" | "exploded" | "non-finite-weights";

/** What a `TrainingDivergedError` carries. */
export interface DivergenceDetails {
  reason: DivergenceReason;
  /** The update at which the run stopped (1-based). */
  step: number;
  /** That update's loss. */
  loss: number;
  gradNorm: number;
  /** The newest checkpoint whose weights then gave a finite loss below the divergence bar, if any is left. */
  lastCheckpoint: string | undefined;
  /** The last good checkpoint when `keepCheckpoints` has pruned it since. */
  prunedGood?: string;
  /** A newer checkpoint than the good one, whose weights gave a non-finite loss or one above the divergence bar: not to resume from. */
  badCheckpoint?: string;
  /** "exploded": the bar the loss was above, its running minimum, updates in a row above it, and the setting. */
  bar?: number;
  runningMin?: number;
  streak?: number;
  factor?: number;
  patience?: number;
  /** "exploded" at the last update: the run ended (or was stopped) before `patience` was reached. */
  atEnd?: boolean;
  /** "non-finite-weights": the first tensor holding NaN or Infinity. */
  tensor?: string;
}

/** Numbers in messages: short, and exponents for the huge ones a diverging run produces. */
const fmt = (x: number) =>
  !Number.isFinite(x)
    ? String(x)
    : x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)
      ? x.toExponential(2)
      : String(+x.toPrecision(4));

/**
 * Training diverged: the loss or gradient norm is NaN/Infinity, the loss exploded (see divergence.ts), or the
 * weights stopped being finite. Its message is one line: the step, the loss, the cause and the last good
 * checkpoint (whose weights are finite), which `lastCheckpoint` also holds.
 *
 * @example
 * try { await train(trainable, examples, { lr: 1 }); }
 * catch (e) { if (e instanceof TrainingDivergedError) console.log(e.message, e.lastCheckpoint); }
 */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
  readonly reason: DivergenceReason;
  readonly step: number;
  readonly loss: number;
  readonly gradNorm: number;
  readonly lastCheckpoint: string | undefined;
  readonly details: DivergenceDetails;

  constructor(d: DivergenceDetails) {
    const cause =
      d.reason === "non-finite-loss"
        ? `the loss is ${d.loss} (gradient norm ${fmt(d.gradNorm)}); this update was not applied`
        : d.reason === "non-finite-grad-norm"
          ? `the gradient norm is ${d.gradNorm} (loss ${fmt(d.loss)}); this update was not applied`
          : d.reason === "non-finite-weights"
            ? `weight ${JSON.stringify(d.tensor)} holds NaN or Infinity after the update (loss ${fmt(d.loss)}); no checkpoint was saved`
            : `the loss ${fmt(d.loss)} has been above ${fmt(d.bar!)} (divergence.factor ${d.factor} × its running minimum ${fmt(d.runningMin!)}) ` +
              `for ${d.streak} update${d.streak === 1 ? "" : "s"} in a row` +
              (d.atEnd
                ? ` when the run ended (divergence.patience ${d.patience} not reached); its weights were not saved`
                : ` (divergence.patience ${d.patience})`);
    const good = d.lastCheckpoint
      ? `Last good checkpoint: ${d.lastCheckpoint}`
      : d.prunedGood
        ? `The last good checkpoint, ${d.prunedGood}, was pruned by keepCheckpoints`
        : "No good checkpoint was saved before it";
    const bad = !d.badCheckpoint
      ? ""
      : d.lastCheckpoint
        ? ` (not the newer ${d.badCheckpoint}: its weights gave a diverging loss; \`latest\` now points at the good one)`
        : ` (${d.badCheckpoint}'s weights gave a diverging loss)`;
    super(
      `training stopped at step ${d.step}: ${cause}. ${good}${bad}. Try a lower lr, some warmupSteps or maxGradNorm > 0.`.replace(
        /[\r\n]+/g,
        " ",
      ),
    );
    this.details = d;
    this.reason = d.reason;
    this.step = d.step;
    this.loss = d.loss;
    this.gradNorm = d.gradNorm;
    this.lastCheckpoint = d.lastCheckpoint;
  }
}

/**
 * The first tensor holding NaN or ±Infinity, or undefined when all are finite.
 * @example
 * firstNonFinite(new Map([["w", { data: Float32Array.of(1, NaN) }]])); // "w"
 */
export function firstNonFinite(tensors: Iterable<[string, { data: unknown }]>): string | undefined {
  for (const [name, t] of tensors) {
    const d = t.data;
    if (!(d instanceof Float32Array || d instanceof Float64Array)) continue; // integer tensors are always finite
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return name;
  }
  return undefined;
}

/**
 * Check that a checkpoint fits this run (optimizer, data size, trainable tensor names and shapes) and return
 * the optimizer state as plain tensors. Throws a `TrainCheckpointError` naming the file and the tensor or field.
 * @example
 * const optState = checkCheckpointFits(dir, await loadCheckpoint(dir), vars, "adamw", stream.size);
 */
export function checkCheckpointFits(
  ckptDir: string,
  ck: CheckpointContents,
  vars: Map<string, tf.Variable>,
  optimizerName: string,
  dataSize: number,
): Map<string, StateTensor> {
  const s = ck.state as any;
  const where = `${ckptDir}/trainer_state.json`;
  if (s.format !== TRAINER_STATE_FORMAT)
    throw new TrainCheckpointError(`${where}: not a tunebook trainer state (format ${JSON.stringify(s.format)})`);
  if (!(s.version === 1 || s.version === TRAINER_STATE_VERSION))
    throw new TrainCheckpointError(
      `${where}: trainer state version ${JSON.stringify(s.version)}, this tunebook reads 1 and ${TRAINER_STATE_VERSION}`,
    );
  if (s.optimizer?.name !== optimizerName)
    throw new TrainCheckpointError(
      `${where}: saved with optimizer "${s.optimizer?.name}" but this run uses "${optimizerName}"`,
    );
  if (s.data?.size !== dataSize)
    throw new TrainCheckpointError(
      `${where}: saved with ${s.data?.size} training examples but this run has ${dataSize}: the data changed, so the position cannot be restored`,
    );
  for (const [k, v] of vars) {
    const t = ck.model.get(k);
    if (!t)
      throw new TrainCheckpointError(
        `${ckptDir}/model.safetensors: no tensor "${k}" (the model's trainable variables differ from the checkpoint's)`,
      );
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i]))
      throw new TrainCheckpointError(
        `${ckptDir}/model.safetensors: tensor "${k}" has shape [${t.shape}], the model expects [${v.shape}]`,
      );
    if (!(t.data instanceof Float32Array))
      throw new TrainCheckpointError(
        `${ckptDir}/model.safetensors: tensor "${k}" is ${t.dtype}, expected a float type`,
      );
  }
  const extra = [...ck.model.keys()].filter((k) => !vars.has(k));
  if (extra.length)
    throw new TrainCheckpointError(
      `${ckptDir}/model.safetensors: tensors the model does not train: ${extra.slice(0, 5).join(", ")}`,
    );
  const bad = firstNonFinite(ck.model);
  if (bad)
    throw new TrainCheckpointError(
      `${ckptDir}/model.safetensors: tensor "${bad}" holds NaN or Infinity: resume from an earlier checkpoint`,
    );
  const badState = firstNonFinite(ck.optimizer);
  if (badState)
    throw new TrainCheckpointError(
      `${ckptDir}/optimizer.safetensors: tensor "${badState}" holds NaN or Infinity: resume from an earlier checkpoint`,
    );
  const optState = new Map<string, StateTensor>();
  for (const [k, t] of ck.optimizer) {
    if (!(t.data instanceof Float32Array))
      throw new TrainCheckpointError(`${ckptDir}/optimizer.safetensors: tensor "${k}" is ${t.dtype}, expected F32`);
    optState.set(k, { shape: t.shape, data: t.data });
  }
  return optState;
}

/**
 * Give the model back its generators' states from `rng.model` (LoRA dropout), so the resumed run draws what an
 * uninterrupted one would have. Throws a `TrainCheckpointError` when the model draws random numbers and the
 * checkpoint has no states for them (a version-1 checkpoint), or when they do not fit.
 * @example
 * restoreModelRng(dir, ck.state, loraTrainable(model, "default"));
 */
export function restoreModelRng(ckptDir: string, state: Record<string, any>, model: TrainableModel): void {
  const where = `${ckptDir}/trainer_state.json`;
  const mine = model.rngState?.() ?? {};
  const saved = state.rng?.model;
  if (saved === undefined) {
    if (Object.keys(mine).length === 0) return;
    throw new TrainCheckpointError(
      `${where}: no rng.model, but this model draws random numbers (${Object.keys(mine).slice(0, 2).join(", ")}${Object.keys(mine).length > 2 ? ", ..." : ""}): ` +
        `the checkpoint was saved without its dropout generators, so the resumed run could not repeat the uninterrupted one; start afresh or train without dropout`,
    );
  }
  if (!saved || typeof saved !== "object" || Array.isArray(saved))
    throw new TrainCheckpointError(
      `${where}: rng.model: expected an object of generator states, found ${JSON.stringify(saved)}`,
    );
  if (!model.setRngState) {
    if (Object.keys(saved).length)
      throw new TrainCheckpointError(
        `${where}: rng.model has generator states (${Object.keys(saved).slice(0, 2).join(", ")}) but this model draws no random numbers: was it saved from another model?`,
      );
    return;
  }
  try {
    model.setRngState(saved, `${where} rng.model`);
  } catch (e: any) {
    throw new TrainCheckpointError(e?.message ?? String(e));
  }
}
