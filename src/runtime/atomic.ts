/**
 * Atomic writes, used wherever tunebook writes something a user made (models, adapters, checkpoints,
 * datasets, exports, notebooks): write into a temporary sibling, flush it, then rename it into place, so
 * an interrupted write leaves the previous version intact and never a half-written one.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** A unique temporary name next to `p` (same folder, so the final rename stays on one filesystem). */
export function tempSibling(p: string, tag = "tmp"): string {
  return path.join(
    path.dirname(p),
    `.${path.basename(p)}.${tag}-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
  );
}

/** fsync a file or folder by path (folders: makes a rename durable); errors on platforms that refuse are ignored. */
export function fsyncPath(p: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, "r");
    fs.fsyncSync(fd);
  } catch {
    // some platforms cannot fsync a directory; the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /** fsync the data and the folder before returning (durable across power loss; default true). */
  fsync?: boolean;
  /** Create the parent folder if missing (default true). */
  mkdir?: boolean;
}

/**
 * Write a file atomically: temp file in the same folder, (fsync), rename.
 * @example
 * writeFileAtomic("out/config.json", JSON.stringify(config, null, 2));
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const { fsync = true, mkdir = true } = opts;
  if (mkdir) fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempSibling(file);
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
      if (fsync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (fsync) fsyncPath(path.dirname(file));
}

/**
 * Move a finished folder `tmp` to `target`, replacing an existing `target`: the old one is set aside first,
 * put back if the swap fails, and removed after it succeeds.
 * @example
 * const tmp = tempSibling(out); fs.mkdirSync(tmp); ...write into tmp...; replaceDir(tmp, out);
 */
export function replaceDir(tmp: string, target: string): void {
  if (!fs.existsSync(target)) {
    fs.renameSync(tmp, target);
    fsyncPath(path.dirname(target));
    return;
  }
  const old = tempSibling(target, "old");
  fs.renameSync(target, old);
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.renameSync(old, target); // put the previous folder back
    throw e;
  }
  fs.rmSync(old, { recursive: true, force: true });
  fsyncPath(path.dirname(target));
}
