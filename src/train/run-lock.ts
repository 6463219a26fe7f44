/**
 * One writer per run folder: `tunebook train` holds `OUT/tunebook_run.lock` while it runs, so a second run into
 * the same folder stops at once instead of replacing the first one's checkpoints, and cleaning up after a
 * crashed save (which deletes temp files) never touches a live run's files.
 *
 * The lock file is JSON `{pid, host, startedAt, token}`, created whole (written to a temp file, then hard-linked
 * to the lock name, which fails if it exists: nobody ever reads a half-written lock). A lock whose process is
 * gone (same host, and the pid is not running or now belongs to another process) is stale and taken over; a lock from another host cannot be checked and is never taken over.
 * Released when the run ends (also on error and on process exit); `tunebook train` releases it on
 * SIGINT/SIGTERM too.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fsyncPath } from "../runtime/atomic";

export const LOCK_FILE = "tunebook_run.lock";

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Random: tells this lock apart from a later one with the same pid. */
  token: string;
  /** Linux: the holder's boot id and start time (tells a reused pid apart). */
  proc?: string;
}

/** The folder is locked by a live run, or the lock cannot be read or taken. */
export class RunLockError extends Error {
  override name = "RunLockError";
  constructor(
    message: string,
    readonly holder?: LockInfo,
  ) {
    super(message);
  }
}

export interface RunLock {
  file: string;
  info: LockInfo;
  /** The stale lock this one replaced, if any. */
  tookOver?: LockInfo;
  /** Remove the lock if it is still ours (idempotent). */
  release(): void;
}

const holderText = (h: LockInfo) => `pid ${h.pid} on host ${h.host}, started ${h.startedAt}`;

/** Read a lock file; undefined when there is none. Throws a `RunLockError` naming the file when it is not a lock. */
export function readRunLock(dir: string): LockInfo | undefined {
  const file = path.join(dir, LOCK_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e: any) {
    if (e?.code === "ENOENT") return undefined;
    throw new RunLockError(`${file}: cannot read the lock file (${e?.code ?? e?.message ?? e})`);
  }
  let j: any;
  try {
    j = JSON.parse(text);
  } catch {
    j = undefined;
  }
  if (!j || !Number.isInteger(j.pid) || j.pid <= 0 || typeof j.host !== "string" || typeof j.startedAt !== "string")
    throw new RunLockError(
      `${file}: not a tunebook lock file (expected JSON {pid, host, startedAt}); delete it if no tunebook train is using ${dir}`,
    );
  return {
    pid: j.pid,
    host: j.host,
    startedAt: j.startedAt,
    token: String(j.token ?? ""),
    ...(typeof j.proc === "string" ? { proc: j.proc } : {}),
  };
}

/** Locks this process holds (by token): a lock with our own pid but another token is a dead process's. */
const HELD = new Set<string>();

/**
 * Linux: which process this pid is, as "boot id:start time in clock ticks" (both immune to clock changes), so
 * a pid reused by a later process is told apart from the lock's holder; undefined elsewhere.
 */
function processIdentity(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // the name may hold spaces and parentheses
    const bootId = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return fields[19] && bootId ? `${bootId}:${fields[19]}` : undefined; // field 22 (starttime), counted from field 3
  } catch {
    return undefined;
  }
}

/**
 * Whether the lock's holder is still running: "alive", "dead", or "unknown" (another host).
 * @example
 * lockHolderState(readRunLock("runs/a")!); // "alive" while that run trains
 */
export function lockHolderState(h: LockInfo): "alive" | "dead" | "unknown" {
  if (h.host !== os.hostname()) return "unknown";
  if (h.pid === process.pid) return HELD.has(h.token) ? "alive" : "dead"; // e.g. a container restarted with the same pids
  try {
    process.kill(h.pid, 0);
  } catch (e: any) {
    if (e?.code === "ESRCH") return "dead";
    // EPERM: the process exists but belongs to someone else
  }
  const now = h.proc ? processIdentity(h.pid) : undefined;
  return now !== undefined && now !== h.proc ? "dead" : "alive";
}

/** Create the lock file whole, or return false when one exists. */
function createLock(file: string, info: LockInfo): boolean {
  const tmp = `${file}.${info.pid}.${info.token}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info) + "\n");
  try {
    fs.linkSync(tmp, file);
    fsyncPath(path.dirname(file));
    return true;
  } catch (e: any) {
    if (e?.code === "EEXIST") return false;
    if (e?.code !== "EPERM" && e?.code !== "ENOTSUP" && e?.code !== "EOPNOTSUPP") throw e;
    // a filesystem without hard links: exclusive create (a reader may briefly see it empty)
    try {
      fs.writeFileSync(file, JSON.stringify(info) + "\n", { flag: "wx" });
      return true;
    } catch (e2: any) {
      if (e2?.code === "EEXIST") return false;
      throw e2;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Remove a stale lock, but only if it is still the one judged stale: it is renamed aside first and put back
 * when another process replaced it in the meantime.
 */
function removeStaleLock(file: string, stale: LockInfo): void {
  const aside = `${file}.stale-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  try {
    fs.renameSync(file, aside);
  } catch (e: any) {
    if (e?.code === "ENOENT") return; // someone else removed it first
    throw e;
  }
  let same = false;
  try {
    const j = JSON.parse(fs.readFileSync(aside, "utf8"));
    same = j.pid === stale.pid && j.startedAt === stale.startedAt && String(j.token ?? "") === stale.token;
  } catch {
    same = false;
  }
  if (!same) {
    try {
      fs.linkSync(aside, file); // a live run's lock: put it back
    } catch {
      // a third run locked the folder meanwhile; it holds the lock now
    }
  }
  fs.rmSync(aside, { force: true });
}

/**
 * Take the run lock of `dir` (created if missing). A live holder: a `RunLockError` naming it. A stale one:
 * `onStale` gets one line about it and the lock is taken over.
 * @example
 * const lock = acquireRunLock("runs/a", { onStale: (line) => console.error(line) });
 * try { ...train... } finally { lock.release(); }
 */
export function acquireRunLock(dir: string, opts: { onStale?: (line: string) => void } = {}): RunLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const proc = processIdentity(process.pid);
  const info: LockInfo = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    token: crypto.randomBytes(8).toString("hex"),
    ...(proc ? { proc } : {}),
  };
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    let created: boolean;
    try {
      created = createLock(file, info);
    } catch (e: any) {
      throw new RunLockError(`${file}: cannot create the lock file (${e?.code ?? e?.message ?? e})`);
    }
    if (created) {
      HELD.add(info.token);
      return makeLock(file, info, tookOver);
    }
    const holder = readRunLock(dir);
    if (!holder) continue; // released between our attempt and the read
    const state = lockHolderState(holder);
    if (state === "alive")
      throw new RunLockError(
        `${dir} is in use by another tunebook train (${holderText(holder)}; lock ${file}): wait for it to finish or stop it`,
        holder,
      );
    if (state === "unknown")
      throw new RunLockError(
        `${dir} is locked by a run on another host (${holderText(holder)}; lock ${file}): if that run is gone, delete the lock file`,
        holder,
      );
    opts.onStale?.(`${dir}: taking over a stale lock (${holderText(holder)}, no longer running)`);
    tookOver = holder;
    removeStaleLock(file, holder);
  }
  throw new RunLockError(`${file}: could not take the lock (it kept changing hands)`);
}

function makeLock(file: string, info: LockInfo, tookOver: LockInfo | undefined): RunLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    HELD.delete(info.token);
    process.removeListener("exit", release);
    try {
      if (JSON.parse(fs.readFileSync(file, "utf8")).token === info.token) fs.rmSync(file, { force: true });
    } catch {
      // gone already, or replaced: not ours to remove
    }
  };
  process.on("exit", release); // a process.exit() elsewhere still frees the folder
  return { file, info, tookOver, release };
}
