/**
 * Reading a file a user named — weights, configs, tokenizer files, JSONL data, notebooks — only when it is a
 * regular file. A FIFO would block `open()` until some writer appears (forever, for a hostile or mistaken path),
 * a character device such as /dev/zero never ends, and a folder fails later with a raw EISDIR. So the path is
 * `stat`ed first and anything but a regular file is refused with one line naming the path and what it is; the
 * file is then opened with O_NONBLOCK (a FIFO swapped in after the stat still cannot block) and `fstat`ed again.
 */
import * as fs from "node:fs";

/** A path that is missing, unreadable or not a regular file. The message is one line naming the path. */
export class FileAccessError extends Error {
  override name = "FileAccessError";
  constructor(
    message: string,
    readonly file: string,
    /** "missing", "unreadable", or what the path is instead of a file ("folder", "FIFO (named pipe)", ...). */
    readonly kind: string,
    /** The system error code when reading failed (ENOENT, EACCES, ...). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** What a stat says a path is, in words. */
export function describeFileKind(st: fs.Stats): string {
  if (st.isFile()) return "regular file";
  if (st.isDirectory()) return "folder";
  if (st.isFIFO()) return "FIFO (named pipe)";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "character device";
  if (st.isBlockDevice()) return "block device";
  return "special file";
}

const code = (e: any): string => e?.code ?? e?.message ?? String(e);

function notRegular(file: string, what: string, st: fs.Stats): FileAccessError {
  const kind = describeFileKind(st);
  return new FileAccessError(`${file}: ${what} is a ${kind}, not a regular file`, file, kind);
}

function statError(file: string, what: string, e: any): FileAccessError {
  if (e?.code === "ENOENT") return new FileAccessError(`${file}: ${what} does not exist`, file, "missing", "ENOENT");
  return new FileAccessError(`${file}: cannot read ${what} (${code(e)})`, file, "unreadable", e?.code);
}

/**
 * Throw a `FileAccessError` unless `file` is a regular file (symlinks are followed). `what` names the file's
 * role in the message ("the weights file", "the model config").
 *
 * @example
 * assertRegularFile("model/model.safetensors", "the weights file"); // throws "…: the weights file is a FIFO (named pipe), not a regular file"
 */
export function assertRegularFile(file: string, what = "the file"): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw statError(file, what, e);
  }
  if (!st.isFile()) throw notRegular(file, what, st);
  return st;
}

/** Open a regular file for reading (never blocks on a FIFO), or throw a `FileAccessError`. */
export function openRegularFileSync(file: string, what = "the file"): number {
  assertRegularFile(file, what);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw statError(file, what, e);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw notRegular(file, what, st);
  }
  return fd;
}

/** `fs.promises.open` for reading a regular file only (see `openRegularFileSync`). */
export async function openRegularFile(file: string, what = "the file"): Promise<fs.promises.FileHandle> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    throw statError(file, what, e);
  }
  if (!st.isFile()) throw notRegular(file, what, st);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw statError(file, what, e);
  }
  const again = await fh.stat();
  if (!again.isFile()) {
    await fh.close();
    throw notRegular(file, what, again);
  }
  return fh;
}

/**
 * The bytes of a regular file, or a `FileAccessError` naming it.
 *
 * @example
 * const text = readRegularFileSync("config.json", "the model config").toString("utf8");
 */
export function readRegularFileSync(file: string, what = "the file"): Buffer {
  const fd = openRegularFileSync(file, what);
  try {
    return fs.readFileSync(fd);
  } catch (e) {
    throw statError(file, what, e);
  } finally {
    fs.closeSync(fd);
  }
}

/** Async `readRegularFileSync`. */
export async function readRegularFile(file: string, what = "the file"): Promise<Buffer> {
  const fh = await openRegularFile(file, what);
  try {
    return await fh.readFile();
  } catch (e) {
    throw statError(file, what, e);
  } finally {
    await fh.close();
  }
}
