/**
 * What `trainer_state.json` holds and how a checkpoint is checked against the run resuming from it, plus the
 * error a diverging run stops with.
 *
 * `trainer_state.json` (format "tunebook-trainer-state", version 1): step, numSteps, schedule {name, lr,
 * warmupSteps, numSteps, nextLr}, optimizer {name, step, hyper-parameters}, rng {seed, epochRngState}, data
 * {epoch, index, epochRngState, size, dropped}, lossHistory (one per update), evalHistory [{step, evalLoss,
 * numTokens}], tokensSeen, trainable [{name, shape}], config (the TrainConfig, evalData as a count), savedAt.
 */
import type * as tf from "@tensorflow/tfjs";
import { TrainCheckpointError, type CheckpointContents } from "./checkpoint";
import type { StateTensor } from "./optimizer";

export const TRAINER_STATE_FORMAT = "tunebook-trainer-state";
export const TRAINER_STATE_VERSION = 1;

/** Training hit a NaN/Inf loss or gradient norm. */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
    readonly lastCheckpoint: string | undefined,
  ) {
    super(
      `training stopped at step ${step}: the ${Number.isFinite(loss) ? "gradient norm" : "loss"} is ${Number.isFinite(loss) ? gradNorm : loss} ` +
        `(loss ${loss}, gradient norm ${gradNorm}); this step was not applied. ` +
        (lastCheckpoint ? `Last good checkpoint: ${lastCheckpoint} (resume from it with resume: true). ` : "No checkpoint was saved before it. ") +
        `Try a lower lr, some warmupSteps or maxGradNorm > 0.`,
    );
  }
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
  if (s.format !== TRAINER_STATE_FORMAT) throw new TrainCheckpointError(`${where}: not a tunebook trainer state (format ${JSON.stringify(s.format)})`);
  if (s.optimizer?.name !== optimizerName)
    throw new TrainCheckpointError(`${where}: saved with optimizer "${s.optimizer?.name}" but this run uses "${optimizerName}"`);
  if (s.data?.size !== dataSize)
    throw new TrainCheckpointError(`${where}: saved with ${s.data?.size} training examples but this run has ${dataSize}: the data changed, so the position cannot be restored`);
  for (const [k, v] of vars) {
    const t = ck.model.get(k);
    if (!t) throw new TrainCheckpointError(`${ckptDir}/model.safetensors: no tensor "${k}" (the model's trainable variables differ from the checkpoint's)`);
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i]))
      throw new TrainCheckpointError(`${ckptDir}/model.safetensors: tensor "${k}" has shape [${t.shape}], the model expects [${v.shape}]`);
    if (!(t.data instanceof Float32Array)) throw new TrainCheckpointError(`${ckptDir}/model.safetensors: tensor "${k}" is ${t.dtype}, expected a float type`);
  }
  const extra = [...ck.model.keys()].filter((k) => !vars.has(k));
  if (extra.length) throw new TrainCheckpointError(`${ckptDir}/model.safetensors: tensors the model does not train: ${extra.slice(0, 5).join(", ")}`);
  const optState = new Map<string, StateTensor>();
  for (const [k, t] of ck.optimizer) {
    if (!(t.data instanceof Float32Array)) throw new TrainCheckpointError(`${ckptDir}/optimizer.safetensors: tensor "${k}" is ${t.dtype}, expected F32`);
    optState.set(k, { shape: t.shape, data: t.data });
  }
  return optState;
}
