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
 * A save writes everything into a hidden temp directory (`.tmp-step-NNNNNN-<pid>-…`) in `checkpointDir`,
 * fsyncs each file and the directory, renames it to `step-NNNNNN` and only then replaces `latest` (temp file +
 * fsync + rename: runtime/atomic). Replacing or pruning a checkpoint renames it aside (`.old-…`) before
 * deleting it. A crash at any point leaves the previous checkpoint and pointer as they were; the leftovers are
 * ignored by every reader; a save removes those of processes that are gone (the pid is in the name), never
 * those of a live one (it may be writing them); `cleanCheckpointLeftovers` removes all of them, for the one
 * writer, e.g. `tunebook train` while it holds the run lock. `latest` is the commit point:
 * `findLatestCheckpoint` trusts it when it names a complete checkpoint, and otherwise falls back to the
 * highest-numbered complete one. A failed write (ENOSPC, ...) throws a `CheckpointWriteError` that names the
 * file and the newest intact checkpoint.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readSafetensorsFile, writeSafetensorsFile, type SafeTensor } from "../model/safetensors";
import { fsyncPath, writeFileAtomic } from "../runtime/atomic";

export const MODEL_FILE = "model.safetensors";
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const STATE_FILE = "trainer_state.json";
export const LATEST_FILE = "latest";
const TMP_PREFIX = ".tmp-";
const OLD_PREFIX = ".old-";
/** runtime/atomic's temp name for the pointer (`.latest.tmp-<pid>-…`). */
const POINTER_TMP = /^\.latest\.tmp-\d+-[0-9a-z]+$/;

/**
 * Stages a save passes through (for `faultInjection` in tests: throw or kill the process there).
 * "pruned-aside": an old checkpoint was renamed aside by pruning and is about to be deleted.
 */
export type SaveStage =
  | "model-written"
  | "optimizer-written"
  | "state-written"
  | "renamed"
  | "latest-written"
  | "pruned-aside";

export class TrainCheckpointError extends Error {
  override name = "TrainCheckpointError";
}

const FS_ERRORS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "I/O error",
  EFBIG: "file too large",
  EMFILE: "too many open files",
  ENOENT: "folder vanished",
};

/**
 * The code of a failed file-system call (`ENOSPC`, ...), also when a library wrapped it in its message.
 * @example
 * fsErrorCode(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })); // "ENOSPC"
 */
export function fsErrorCode(e: unknown): string | undefined {
  const code = (e as any)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  return /\b(E(?:NOSPC|DQUOT|ROFS|ACCES|PERM|IO|FBIG|MFILE))\b/.exec(String((e as any)?.message ?? ""))?.[1];
}

/** "no space left on device (ENOSPC)" */
export function fsErrorText(code: string): string {
  return FS_ERRORS[code] ? `${FS_ERRORS[code]} (${code})` : code;
}

/** A checkpoint file could not be written; nothing half-written became `latest`. */
export class CheckpointWriteError extends TrainCheckpointError {
  override name = "CheckpointWriteError";
  constructor(
    /** The file being written when it failed. */
    readonly file: string,
    readonly code: string,
    /** The newest complete checkpoint (what `latest` resolves to now), if any. */
    readonly intact: string | undefined,
    step: number,
  ) {
    super(
      `cannot write ${file}: ${fsErrorText(code)} while saving the checkpoint of step ${step}; newest intact checkpoint: ${intact ?? "none"}`,
    );
  }
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
  const name = checkpointName(step);
  const final = path.join(dir, name);
  let writing = dir; // the file being written, for the error message
  let tmp: string | undefined;
  try {
    fs.mkdirSync(dir, { recursive: true });
    removeDeadLeftovers(dir);
    writing = path.join(dir, `${TMP_PREFIX}${name}-${process.pid}-`);
    tmp = fs.mkdtempSync(writing);
    const hook = (stage: SaveStage) => o.faultInjection?.(stage, tmp!);
    writing = path.join(tmp, MODEL_FILE);
    await writeSafetensorsFile(writing, contents.model, { format: "pt", step: String(step) });
    hook("model-written");
    writing = path.join(tmp, OPTIMIZER_FILE);
    await writeSafetensorsFile(writing, contents.optimizer, { format: "pt", ...contents.optimizerMetadata });
    hook("optimizer-written");
    writing = path.join(tmp, STATE_FILE);
    writeFileAtomic(writing, JSON.stringify(contents.state, null, 1) + "\n");
    fsyncPath(tmp);
    hook("state-written");
    writing = final;
    if (fs.existsSync(final)) {
      // re-saving a step (after resuming from an earlier one): move the old one aside, swap, then delete it
      const old = asideName(dir, name);
      fs.renameSync(final, old);
      try {
        fs.renameSync(tmp, final);
      } catch (e) {
        fs.renameSync(old, final);
        throw e;
      }
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, final);
    }
    tmp = undefined;
    fsyncPath(dir);
    o.faultInjection?.("renamed", final);
    writing = path.join(dir, LATEST_FILE);
    writeFileAtomic(writing, name + "\n");
    o.faultInjection?.("latest-written", final);
  } catch (e) {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    const code = fsErrorCode(e);
    if (code) throw new CheckpointWriteError(writing, code, findLatestCheckpoint(dir), step);
    throw e;
  }
  if (o.keepLast > 0) pruneCheckpoints(dir, o.keepLast, o.faultInjection);
  return final;
}

/** The pid in a leftover's name (`.tmp-step-…-<pid>-…`, `.old-step-…-<pid>-…`, `.latest.tmp-<pid>-…`). */
const LEFTOVER_PID = /^(?:\.(?:tmp|old)-step-\d+-|\.latest\.tmp-)(\d+)-/;

const processGone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e: any) {
    return e?.code === "ESRCH";
  }
};

/**
 * What saves by processes that no longer exist left behind (their pid is in the name): safe to remove without
 * a lock, since nobody is writing them. (Assumes one host per checkpoint folder; under `tunebook train`'s lock
 * `cleanCheckpointLeftovers` removes the rest.)
 */
function removeDeadLeftovers(dir: string): void {
  for (const n of fs.readdirSync(dir)) {
    const m = LEFTOVER_PID.exec(n);
    if (m && Number(m[1]) !== process.pid && processGone(Number(m[1])))
      fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  }
}

const asideName = (dir: string, name: string) =>
  path.join(
    dir,
    `${OLD_PREFIX}${name}-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
  );

/**
 * Remove what interrupted saves and prunes left in `dir` (`.tmp-*`, `.old-*`); returns the names removed. A
 * checkpoint set aside for a re-save whose swap never happened is put back instead when `latest` names it.
 * Call it only while no other process writes to `dir` (it would delete that process's save in progress).
 * @example
 * cleanCheckpointLeftovers("runs/a/checkpoints"); // [".tmp-step-000004-1234-Ab3xYz"]
 */
export function cleanCheckpointLeftovers(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  let pointer = "";
  try {
    pointer = fs.readFileSync(path.join(dir, LATEST_FILE), "utf8").trim();
  } catch {
    // no pointer
  }
  const removed: string[] = [];
  for (const n of fs.readdirSync(dir).sort()) {
    const m = /^\.old-(step-\d+)-/.exec(n);
    if (m && m[1] === pointer && !fs.existsSync(path.join(dir, m[1])) && isCompleteCheckpoint(path.join(dir, n))) {
      fs.renameSync(path.join(dir, n), path.join(dir, m[1]));
      continue;
    }
    if (n.startsWith(TMP_PREFIX) || n.startsWith(OLD_PREFIX) || POINTER_TMP.test(n)) {
      fs.rmSync(path.join(dir, n), { recursive: true, force: true });
      removed.push(n);
    }
  }
  if (removed.length) fsyncPath(dir);
  return removed;
}

/**
 * Delete all but the newest `keepLast` complete checkpoints (never the one `latest` names). Each is renamed
 * aside first, so a crash mid-delete leaves a hidden leftover, never a half-deleted `step-*`.
 * @example
 * pruneCheckpoints("runs/a", 2);
 */
export function pruneCheckpoints(
  dir: string,
  keepLast: number,
  faultInjection?: CheckpointSaveOptions["faultInjection"],
): void {
  const latest = findLatestCheckpoint(dir);
  const all = listCheckpoints(dir);
  for (const c of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (c.path === latest) continue;
    const old = asideName(dir, path.basename(c.path));
    fs.renameSync(c.path, old);
    fsyncPath(dir);
    faultInjection?.("pruned-aside", old);
    fs.rmSync(old, { recursive: true, force: true });
  }
}

/**
 * Point `latest` at an existing complete checkpoint (for example back at the last good one after a newer
 * checkpoint turned out to diverge), so a plain resume takes that one. Written atomically.
 */
export function pointLatestAt(dir: string, ckptDir: string): void {
  if (path.resolve(path.dirname(ckptDir)) !== path.resolve(dir) || !isCompleteCheckpoint(ckptDir))
    throw new TrainCheckpointError(`${ckptDir}: not a complete checkpoint in ${dir}`);
  writeFileAtomic(path.join(dir, LATEST_FILE), path.basename(ckptDir) + "\n");
}

/**
 * Delete every checkpoint in `dir` and its pointer (starting a run over), each set aside before it is deleted.
 * @example
 * removeAllCheckpoints("runs/a/checkpoints");
 */
export function removeAllCheckpoints(dir: string): void {
  fs.rmSync(path.join(dir, LATEST_FILE), { force: true });
  for (const c of listCheckpoints(dir)) {
    const old = asideName(dir, path.basename(c.path));
    fs.renameSync(c.path, old);
    fs.rmSync(old, { recursive: true, force: true });
  }
  fsyncPath(dir);
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
  if (!Number.isInteger(state?.step) || state.step < 0)
    throw new TrainCheckpointError(`${statePath}: "step" must be an integer ≥ 0, found ${JSON.stringify(state?.step)}`);
  const model = await readSafetensorsFile(path.join(ckptDir, MODEL_FILE));
  const optimizer = await readSafetensorsFile(path.join(ckptDir, OPTIMIZER_FILE));
  return { model: model.tensors, optimizer: optimizer.tensors, optimizerMetadata: optimizer.metadata, state };
}
