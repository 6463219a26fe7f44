/**
 * An inter-process lock held as a file: created with O_EXCL (only one process can create it), holding who owns
 * it (pid, host, when it was taken, the process's own start time) so a waiting process can tell a live owner
 * from a crashed one. The owner refreshes the file's mtime (a heartbeat) while it works.
 *
 * A lock is stale, and is taken over, when
 *  - its owner is on this host and its pid is gone, or that pid now belongs to a process started at another
 *    time (pid reuse; Linux's /proc tells), or
 *  - its heartbeat is older than `staleMs` (an owner on another host sharing the folder, a frozen process, a
 *    file this module did not write).
 *
 * Takeover renames the stale file aside and checks that what it moved is the stale owner it judged; if another
 * waiter got there first and already holds a fresh lock, that lock is put back. Node has no flock(), so this is
 * the same scheme as `proper-lockfile` or git's `index.lock`, plus the owner record.
 *
 * Python's huggingface_hub locks with flock() on `.locks/{repo}/{etag}.lock`; a file lock made with open() cannot
 * share that file (Python truncates it and never writes an owner), so callers use their own name beside it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Who holds a lock, as written in the lock file (JSON). */
export interface LockOwner {
  pid: number;
  host: string;
  /** When the lock was taken (ISO 8601). */
  since: string;
  /** The owning process's start time in clock ticks since boot (Linux), to notice a reused pid. */
  procStart?: string;
  /** What the lock protects, for messages ("download of model.safetensors"). */
  purpose?: string;
}

export interface FileLockOptions {
  /** What the lock protects, written into the lock and used in messages. */
  purpose?: string;
  /** A lock whose heartbeat is older than this is stale, ms. Generous: a live owner refreshes it every `heartbeatMs`. */
  staleMs?: number;
  /** How often the owner refreshes the lock's mtime, ms. */
  heartbeatMs?: number;
  /** How often a waiting process looks again, ms. */
  pollMs?: number;
  /** Give up waiting after this long, ms (default: wait as long as the owner is alive). */
  timeoutMs?: number;
  /** Called on each poll while another process holds the lock. */
  onWait?: (owner: LockOwner | undefined, waitedMs: number) => void;
}

export const DEFAULT_FILE_LOCK = {
  staleMs: 10 * 60_000,
  heartbeatMs: 10_000,
  pollMs: 250,
  timeoutMs: Infinity,
};

/** A held lock. `release()` deletes the file only while it is still this holder's. */
export interface HeldLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** True while the lock file still names this holder (false once another process took it over). */
  stillHeld(): boolean;
  release(): void;
}

/** The lock could not be taken within `timeoutMs`, or its folder cannot hold a lock. */
export class FileLockError extends Error {
  constructor(
    message: string,
    readonly owner?: LockOwner,
  ) {
    super(message);
    this.name = "FileLockError";
  }
}

/** Field 22 of /proc/{pid}/stat (start time in ticks since boot), or undefined off Linux / when gone. */
function procStartOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) is in parentheses and may hold spaces: count from the last ")"
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e?.code === "EPERM"; // exists, owned by another user
  }
}

/** The owner recorded in a lock file; undefined when the file is missing, empty (being written) or foreign. */
export function readLockOwner(lockPath: string): LockOwner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(lockPath, "utf8"));
    return Number.isInteger(o?.pid) && typeof o?.host === "string" && typeof o?.since === "string" ? o : undefined;
  } catch {
    return undefined;
  }
}

/** "pid 123 on host-a since 2026-12-05T10:00:00.000Z" */
export function describeOwner(o: LockOwner | undefined): string {
  return o ? `pid ${o.pid} on ${o.host} since ${o.since}` : "an unknown process";
}

/** Why the lock at `lockPath` is stale, or undefined when its owner may still be working. */
export function staleReason(
  lockPath: string,
  staleMs = DEFAULT_FILE_LOCK.staleMs,
  now = Date.now(),
): string | undefined {
  let mtime: number;
  try {
    mtime = fs.statSync(lockPath).mtimeMs;
  } catch {
    return undefined; // gone: not stale, free
  }
  const o = readLockOwner(lockPath);
  if (o && o.host === os.hostname()) {
    if (!pidAlive(o.pid)) return `its owner (${describeOwner(o)}) is no longer running`;
    const start = procStartOf(o.pid);
    if (o.procStart && start && start !== o.procStart)
      return `its owner (${describeOwner(o)}) exited and the pid was reused`;
  }
  const age = now - mtime;
  if (age > staleMs) return `its owner (${describeOwner(o)}) has not touched it for ${Math.round(age / 1000)} s`;
  return undefined;
}

function tryCreate(lockPath: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockPath, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
  } catch (e: any) {
    if (e?.code === "EEXIST") return false;
    throw new FileLockError(`cannot create lock file ${lockPath}: ${e?.code ?? e?.message ?? e}`);
  }
  try {
    fs.writeSync(fd, JSON.stringify(owner));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Move a stale lock out of the way, unless it changed since it was judged stale. */
function takeOver(lockPath: string, judged: string): void {
  const aside = `${lockPath}.stale-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch {
    return; // already gone: someone else took it over or its owner released it
  }
  let moved = "";
  try {
    moved = fs.readFileSync(aside, "utf8");
  } catch {
    // unreadable: treat as what we judged
  }
  if (moved !== judged) {
    // another waiter replaced it with a fresh lock between our look and our rename: put that one back
    try {
      fs.linkSync(aside, lockPath);
    } catch {
      // a third process holds it now; the fresh lock we moved is lost, verification downstream still guards
    }
  }
  fs.rmSync(aside, { force: true });
}

function hold(lockPath: string, owner: LockOwner, heartbeatMs: number): HeldLock {
  const mine = JSON.stringify(owner);
  const isMine = () => {
    try {
      return fs.readFileSync(lockPath, "utf8") === mine;
    } catch {
      return false;
    }
  };
  const timer = setInterval(() => {
    const t = new Date();
    try {
      fs.utimesSync(lockPath, t, t);
    } catch {
      // removed under us (taken over): release() will see it is not ours
    }
  }, heartbeatMs);
  timer.unref();
  let released = false;
  return {
    path: lockPath,
    owner,
    stillHeld: isMine,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (isMine()) fs.rmSync(lockPath, { force: true });
    },
  };
}

/**
 * Take the lock at `lockPath` (its folder is created), waiting while another live process holds it and taking
 * over a stale one. Release it in a `finally`.
 *
 * @example
 * const lock = await acquireFileLock(".locks/model.lock", { purpose: "download of model.safetensors",
 *   onWait: (o) => console.error(`waiting for ${describeOwner(o)}`) });
 * try { ... } finally { lock.release(); }
 */
export async function acquireFileLock(lockPath: string, opts: FileLockOptions = {}): Promise<HeldLock> {
  const o = { ...DEFAULT_FILE_LOCK, ...opts };
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const started = Date.now();
  for (;;) {
    const owner: LockOwner = {
      pid: process.pid,
      host: os.hostname(),
      since: new Date().toISOString(),
      procStart: procStartOf(process.pid),
      purpose: o.purpose,
    };
    if (tryCreate(lockPath, owner)) return hold(lockPath, owner, o.heartbeatMs);
    let judged: string;
    try {
      judged = fs.readFileSync(lockPath, "utf8");
    } catch {
      continue; // released between our create and our read: try again at once
    }
    if (staleReason(lockPath, o.staleMs)) {
      takeOver(lockPath, judged);
      continue;
    }
    const waited = Date.now() - started;
    const holder = readLockOwner(lockPath);
    if (waited >= o.timeoutMs) {
      throw new FileLockError(
        `${o.purpose ?? lockPath}: still locked by ${describeOwner(holder)} after waiting ${Math.round(waited / 1000)} s (lock file ${lockPath}); ` +
          `if that process is gone, delete the lock file`,
        holder,
      );
    }
    o.onWait?.(holder, waited);
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
}
