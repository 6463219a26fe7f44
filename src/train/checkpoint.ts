/**
 * Training checkpoints: one directory per checkpoint, written atomically, plus a `latest` pointer.
 *
 * ```
 * checkpointDir/
 *   step-000100/
 *     model.safetensors       the model's trainable tensors (F32, by their names)
 *     optimizer.safetensors   the optimizer state (`<param>.exp_avg`, ...), metadata {optimizer, step}
 *     trainer_state.json      step, schedule, RNG and data position, config, loss history (see trainer.ts)
 *   latest                    the name of the newest complete checkpoint ("step-000100\n")
 * ```
 *
 * A save writes everything into a hidden temp directory in `checkpointDir`, fsyncs each file and the
 * directory, renames it to `step-NNNNNN` and only then replaces `latest` (temp file + fsync + rename). A crash
 * at any point leaves the previous checkpoint and pointer as they were; leftover temp directories are ignored
 * and removed by the next save. `latest` is the commit point: `findLatestCheckpoint` trusts it when it names a
 * complete checkpoint, and otherwise falls back to the highest-numbered complete one.
 */
import * as fs from "fs";
import * as path from "path";
import { readSafetensorsFile, writeSafetensorsFile, type SafeTensor } from "../model/safetensors";
import { fsyncPath } from "../runtime/atomic";

export const MODEL_FILE = "model.safetensors";
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const STATE_FILE = "trainer_state.json";
export const LATEST_FILE = "latest";
const TMP_PREFIX = ".tmp-";
const OLD_PREFIX = ".old-";

/** Stages a save passes through (for `faultInjection` in tests: throw or kill the process there). */
export type SaveStage = "model-written" | "optimizer-written" | "state-written" | "renamed" | "latest-written";

export class TrainCheckpointError extends Error {
  override name = "TrainCheckpointError";
}

/** What a checkpoint holds, as plain data. */
export interface CheckpointContents {
  model: Map<string, SafeTensor>;
  optimizer: Map<string, SafeTensor>;
  optimizerMetadata: Record<string, string>;
  /** The parsed `trainer_state.json`. */
  state: Record<string, any> & { step: number };
}

export interface CheckpointSaveOptions {
  /** Keep only the newest K checkpoints (0 = keep all). The one `latest` names is never removed. */
  keepLast: number;
  /** Test hook called after each stage; throwing there simulates a crash mid-save. */
  faultInjection?: (stage: SaveStage, tmpDir: string) => void;
}

export const DEFAULT_CHECKPOINT_SAVE_OPTIONS: CheckpointSaveOptions = { keepLast: 2 };

/**
 * The directory name of a step's checkpoint, zero-padded so names sort by step.
 * @example
 * checkpointName(100); // "step-000100"
 */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/**
 * Write a small file durably: temp file in the same directory, fsync, rename, fsync the directory. (Like
 * runtime/atomic's `writeFileAtomic`, but with the `.tmp-` prefix that `pruneLeftovers` cleans after a crash.)
 * @example
 * writeFileAtomic("runs/a/latest", "step-000100\n");
 */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `${TMP_PREFIX}${path.basename(file)}.${process.pid}.${Date.now().toString(36)}`);
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncPath(path.dirname(file));
}

/** Whether `dir` holds a complete checkpoint (all three files, the state parsing as JSON with a step). */
export function isCompleteCheckpoint(dir: string): boolean {
  try {
    for (const f of [MODEL_FILE, OPTIMIZER_FILE]) if (!fs.statSync(path.join(dir, f)).isFile()) return false;
    const s = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8"));
    return Number.isInteger(s?.step);
  } catch {
    return false;
  }
}

/**
 * Complete checkpoints in `dir`, oldest first.
 * @example
 * listCheckpoints("runs/a").map((c) => c.step); // [80, 100]
 */
export function listCheckpoints(dir: string): { step: number; path: string }[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => ({ name, m: /^step-(\d+)$/.exec(name) }))
    .filter((x) => x.m && isCompleteCheckpoint(path.join(dir, x.name)))
    .map((x) => ({ step: Number(x.m![1]), path: path.join(dir, x.name) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * The checkpoint to resume from: the one `latest` names if complete, else the newest complete one.
 * @example
 * const dir = findLatestCheckpoint("runs/demo");   // "runs/demo/step-000100" or undefined
 */
export function findLatestCheckpoint(dir: string): string | undefined {
  try {
    const name = fs.readFileSync(path.join(dir, LATEST_FILE), "utf8").trim();
    if (/^step-\d+$/.test(name) && isCompleteCheckpoint(path.join(dir, name))) return path.join(dir, name);
  } catch {
    // no pointer: fall back to scanning
  }
  const all = listCheckpoints(dir);
  return all.length ? all[all.length - 1].path : undefined;
}

/**
 * Save one checkpoint atomically and prune old ones; returns its directory.
 * @example
 * await saveCheckpoint("runs/demo", 100, { model, optimizer, optimizerMetadata: { optimizer: "adamw", step: "100" }, state });
 */
export async function saveCheckpoint(
  dir: string,
  step: number,
  contents: CheckpointContents,
  opts: Partial<CheckpointSaveOptions> = {},
): Promise<string> {
  const o = { ...DEFAULT_CHECKPOINT_SAVE_OPTIONS, ...opts };
  fs.mkdirSync(dir, { recursive: true });
  removeStale(dir);
  const name = checkpointName(step);
  const final = path.join(dir, name);
  const tmp = fs.mkdtempSync(path.join(dir, `${TMP_PREFIX}${name}-`));
  const hook = (stage: SaveStage) => o.faultInjection?.(stage, tmp);
  try {
    await writeSafetensorsFile(path.join(tmp, MODEL_FILE), contents.model, { format: "pt", step: String(step) });
    hook("model-written");
    await writeSafetensorsFile(path.join(tmp, OPTIMIZER_FILE), contents.optimizer, { format: "pt", ...contents.optimizerMetadata });
    hook("optimizer-written");
    writeFileAtomic(path.join(tmp, STATE_FILE), JSON.stringify(contents.state, null, 1) + "\n");
    fsyncPath(tmp);
    hook("state-written");
    if (fs.existsSync(final)) {
      // re-saving a step (after resuming from an earlier one): move the old one aside, then swap
      const old = path.join(dir, `${OLD_PREFIX}${name}-${process.pid}-${Date.now().toString(36)}`);
      fs.renameSync(final, old);
      fs.renameSync(tmp, final);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, final);
    }
    fsyncPath(dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  hook("renamed");
  writeFileAtomic(path.join(dir, LATEST_FILE), name + "\n");
  hook("latest-written");
  if (o.keepLast > 0) pruneCheckpoints(dir, o.keepLast);
  return final;
}

/** Remove temp/old directories left by an interrupted save. */
function removeStale(dir: string): void {
  for (const n of fs.readdirSync(dir))
    if (n.startsWith(TMP_PREFIX) || n.startsWith(OLD_PREFIX)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
}

/**
 * Delete all but the newest `keepLast` complete checkpoints (never the one `latest` names).
 * @example
 * pruneCheckpoints("runs/a", 2);
 */
export function pruneCheckpoints(dir: string, keepLast: number): void {
  const latest = findLatestCheckpoint(dir);
  const all = listCheckpoints(dir);
  for (const c of all.slice(0, Math.max(0, all.length - keepLast))) if (c.path !== latest) fs.rmSync(c.path, { recursive: true, force: true });
}

/**
 * Read a checkpoint directory. Throws a `TrainCheckpointError` naming the file when something is missing or bad.
 * @example
 * const ckpt = await loadCheckpoint(findLatestCheckpoint("runs/demo")!);
 * ckpt.state.step; // 100
 */
export async function loadCheckpoint(ckptDir: string): Promise<CheckpointContents> {
  if (!fs.existsSync(ckptDir)) throw new TrainCheckpointError(`${ckptDir}: no such checkpoint directory`);
  const statePath = path.join(ckptDir, STATE_FILE);
  let state: any;
  try {
    state = JSON.parse(fs.readFileSync(statePath, "utf8"));
  } catch (e: any) {
    throw new TrainCheckpointError(`${statePath}: cannot read trainer state (${e?.code ?? e?.message ?? e})`);
  }
  if (!Number.isInteger(state?.step) || state.step < 0) throw new TrainCheckpointError(`${statePath}: "step" must be an integer ≥ 0, found ${JSON.stringify(state?.step)}`);
  const model = await readSafetensorsFile(path.join(ckptDir, MODEL_FILE));
  const optimizer = await readSafetensorsFile(path.join(ckptDir, OPTIMIZER_FILE));
  return { model: model.tensors, optimizer: optimizer.tensors, optimizerMetadata: optimizer.metadata, state };
}
