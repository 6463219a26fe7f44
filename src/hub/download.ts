/**
 * Download one file into `blobs/{etag}` of the cache: resumable, verified, atomic.
 *
 * - Bytes go to `blobs/{etag}.incomplete` (the name Python's huggingface_hub uses, so either tool can resume the
 *   other's partial download); an existing partial file is resumed with `Range: bytes={size}-`. A server that
 *   ignores Range (200) restarts the file; a Content-Range that does not start where we are restarts it too.
 * - A dropped or stalled connection is retried (resuming) up to `retries` times, then reported with the partial
 *   file kept, so the next call resumes.
 * - Before the rename into `blobs/{etag}` the size is checked, and the content hash: sha256 when the etag is a
 *   64-hex LFS oid, the git blob sha1 when it is a 40-hex git oid. A mismatch deletes the partial file: nothing
 *   corrupt ever reaches `blobs/`. An etag that is not such a hex digest never gets here (http.ts refuses it).
 * - Processes share the cache: a download holds `.locks/{repo}/{etag}.tunebook.lock` (runtime/file-lock.ts) from
 *   the first byte to the rename, so a second process downloading the same blob waits (reporting the other's
 *   progress) and then uses the finished blob; a lock left by a crashed process is taken over.
 * - The blob is fsynced before the rename and its folder after, so a power cut leaves either no blob or a whole one.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fsyncPath } from "../runtime/atomic";
import {
  acquireFileLock,
  describeOwner,
  FileLockError,
  type FileLockOptions,
  type HeldLock,
} from "../runtime/file-lock";
import { HubError } from "./errors";
import { type FileMetadata, hubFetch, HubUnreachable } from "./http";

/** One progress report: `loaded` of `total` bytes of `file` (a repo path) are on disk. */
export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number;
  /** Set while another process downloads this file: who ("pid 123 on host since …"); `loaded` is its progress. */
  waitingFor?: string;
}
export type ProgressCallback = (p: DownloadProgress) => void;

export interface BlobDownload {
  /** The resolve URL (redirects are followed). */
  url: string;
  token?: string;
  blobPath: string;
  /** Repo path of the file, for progress and messages. */
  file: string;
  /** "org/name@revision", for messages. */
  label: string;
  meta: FileMetadata;
  /** The inter-process lock file for this blob (none: no lock, e.g. a private cache). */
  lockPath?: string;
  /** Lock tuning (stale age, poll interval); mainly for tests. */
  lock?: Omit<FileLockOptions, "purpose" | "onWait">;
  retries: number;
  readTimeoutMs: number;
  onProgress?: ProgressCallback;
}

/** A network problem worth retrying (the partial file stays). */
class Interrupted extends Error {}

const inflight = new Map<string, Promise<void>>();

/**
 * Download `d.url` into `d.blobPath` unless it is there already; concurrent calls for the same blob share one
 * download.
 *
 * @example
 * await downloadBlob({ url, blobPath, file: "model.safetensors", label: "EleutherAI/pythia-70m@main", meta,
 *   retries: 3, readTimeoutMs: 30_000, onProgress: (p) => console.log(p.loaded, p.total) });
 */
export function downloadBlob(d: BlobDownload): Promise<void> {
  const running = inflight.get(d.blobPath);
  if (running) return running;
  const p = download(d).finally(() => inflight.delete(d.blobPath));
  inflight.set(d.blobPath, p);
  return p;
}

function sizeOf(p: string): number | undefined {
  try {
    return fs.statSync(p).size;
  } catch {
    return undefined;
  }
}

async function download(d: BlobDownload): Promise<void> {
  if (fs.existsSync(d.blobPath)) return;
  const incomplete = `${d.blobPath}.incomplete`;
  let lock: HeldLock | undefined;
  if (d.lockPath) {
    try {
      lock = await acquireFileLock(d.lockPath, {
        ...d.lock,
        purpose: `download of ${d.file} of ${d.label}`,
        onWait: (owner) =>
          d.onProgress?.({
            file: d.file,
            loaded: sizeOf(incomplete) ?? 0,
            total: d.meta.size,
            waitingFor: describeOwner(owner),
          }),
      });
    } catch (e) {
      if (e instanceof FileLockError) throw new HubError("locked", e.message);
      throw e;
    }
  }
  try {
    // another process may have finished it while we waited
    if (!fs.existsSync(d.blobPath)) await downloadLocked(d, incomplete);
    else d.onProgress?.({ file: d.file, loaded: d.meta.size, total: d.meta.size });
  } finally {
    lock?.release();
  }
}

/** Free bytes where `dir` lives, or undefined where the platform cannot tell. */
function freeBytes(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

async function downloadLocked(d: BlobDownload, incomplete: string): Promise<void> {
  fs.mkdirSync(path.dirname(d.blobPath), { recursive: true });
  const total = d.meta.size;
  const need = total - Math.min(sizeOf(incomplete) ?? 0, total);
  const free = freeBytes(path.dirname(d.blobPath));
  if (free !== undefined && free < need) {
    throw new HubError(
      "disk-full",
      `not enough disk space for ${d.file} of ${d.label}: ${need} bytes needed, ${free} free in ${path.dirname(d.blobPath)}; ` +
        `free some space or point HF_HUB_CACHE at a larger disk`,
    );
  }
  for (let attempt = 0; ; attempt++) {
    let have = sizeOf(incomplete);
    if (have !== undefined && have > total) {
      fs.rmSync(incomplete, { force: true }); // longer than the file: not a prefix of it
      have = undefined;
    }
    try {
      if (have === undefined || have < total || total === 0) await fetchInto(d, incomplete, have ?? 0);
      break;
    } catch (e) {
      if (!(e instanceof Interrupted)) throw e;
      if (attempt >= d.retries) {
        const got = sizeOf(incomplete) ?? 0;
        throw new HubError(
          "interrupted",
          `downloading ${d.file} of ${d.label} stopped after ${got} of ${total} bytes (${e.message})` +
            (d.retries ? ` and ${d.retries} resumed retries did not finish it` : "") +
            `. The partial file is kept at ${incomplete}: run the same call again to resume from there.`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
    }
  }
  await verify(d, incomplete);
  fsyncPath(incomplete);
  fs.renameSync(incomplete, d.blobPath);
  fsyncPath(path.dirname(d.blobPath));
}

async function fetchInto(d: BlobDownload, incomplete: string, start: number): Promise<void> {
  const ac = new AbortController();
  let timer = setTimeout(() => ac.abort(), d.readTimeoutMs);
  const headers: Record<string, string> = start > 0 ? { Range: `bytes=${start}-` } : {};
  let res: Response;
  try {
    res = await hubFetch(d.url, { method: "GET", token: d.token, follow: "all", headers, signal: ac.signal });
  } catch (e: any) {
    clearTimeout(timer);
    if (e instanceof HubUnreachable) throw new Interrupted(e.reason);
    throw e;
  }
  let offset = 0;
  if (res.status === 206) {
    const m = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
    if (!m || Number(m[1]) !== start) {
      clearTimeout(timer);
      await res.body?.cancel().catch(() => undefined);
      fs.rmSync(incomplete, { force: true });
      throw new Interrupted(`the server resumed at the wrong offset (${res.headers.get("content-range")}); restarting`);
    }
    offset = start;
  } else if (res.status === 416) {
    clearTimeout(timer);
    fs.rmSync(incomplete, { force: true });
    throw new Interrupted("the server refused to resume the partial file; restarting");
  } else if (res.status !== 200) {
    clearTimeout(timer);
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 500 || res.status === 429) throw new Interrupted(`HTTP ${res.status}`);
    throw new HubError("http", `downloading ${d.file} of ${d.label}: HTTP ${res.status} from ${res.url || d.url}`);
  }

  // Synchronous writes keep the reader draining the socket: bytes already received when a connection drops are
  // on disk (an erroring web stream discards what it still queues), so the resume starts as late as possible.
  const fd = fs.openSync(incomplete, offset > 0 ? "a" : "w");
  let loaded = offset;
  d.onProgress?.({ file: d.file, loaded, total: d.meta.size });
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        try {
          fs.writeSync(fd, chunk);
        } catch (e: any) {
          throw writeFailed(d, incomplete, loaded, e);
        }
        loaded += chunk.byteLength;
        clearTimeout(timer);
        timer = setTimeout(() => ac.abort(), d.readTimeoutMs);
        d.onProgress?.({ file: d.file, loaded, total: d.meta.size });
      }
    }
  } catch (e: any) {
    if (e instanceof HubError) throw e;
    const why = ac.signal.aborted
      ? `no data for ${d.readTimeoutMs / 1000} s`
      : (e?.cause?.code ?? e?.message ?? String(e));
    throw new Interrupted(`connection lost: ${why}`);
  } finally {
    clearTimeout(timer);
    fs.closeSync(fd);
  }
  if (loaded < d.meta.size) throw new Interrupted(`connection closed early`);
}

/** A failed write to the partial file: ENOSPC and friends, named, with the partial file kept for a resume. */
function writeFailed(d: BlobDownload, incomplete: string, loaded: number, e: any): HubError {
  const code = e?.code ?? "";
  return new HubError(
    code === "ENOSPC" || code === "EDQUOT" ? "disk-full" : "interrupted",
    `writing ${incomplete} (${d.file} of ${d.label}) failed after ${loaded} of ${d.meta.size} bytes: ${code || e?.message || e}` +
      `${code === "ENOSPC" || code === "EDQUOT" ? " (the disk is full)" : ""}. The partial file is kept: free space and run again to resume.`,
  );
}

function hashFile(p: string, algo: "sha256" | "sha1", prefix?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash(algo);
    if (prefix !== undefined) h.update(prefix);
    fs.createReadStream(p)
      .on("data", (c) => h.update(c))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

async function verify(d: BlobDownload, incomplete: string): Promise<void> {
  const size = sizeOf(incomplete) ?? 0;
  const discard = (why: string): never => {
    fs.rmSync(incomplete, { force: true });
    throw new HubError(
      "checksum",
      `downloaded ${d.file} of ${d.label} is corrupt: ${why}. It was discarded and nothing was written to the cache; ` +
        `run again, and if this repeats, something between you and the hub (a proxy, a mirror set by HF_ENDPOINT) alters the file.`,
    );
  };
  if (size !== d.meta.size) discard(`${size} bytes received, ${d.meta.size} expected`);
  const etag = d.meta.etag;
  if (/^[0-9a-f]{64}$/.test(etag)) {
    const got = await hashFile(incomplete, "sha256");
    if (got !== etag)
      discard(`its sha256 is ${got}, the hub advertised ${etag} (${d.meta.lfs ? "X-Linked-Etag" : "ETag"})`);
  } else if (/^[0-9a-f]{40}$/.test(etag) && !d.meta.lfs) {
    const got = await hashFile(incomplete, "sha1", `blob ${size}\0`);
    if (got !== etag) discard(`its git blob hash is ${got}, the hub advertised ${etag} (ETag)`);
  } else {
    // http.ts refuses such etags; never let an unverifiable file into blobs/ if a caller bypasses it
    discard(`its etag ${JSON.stringify(etag)} is not a sha256 or git blob sha1 to check it against`);
  }
}
