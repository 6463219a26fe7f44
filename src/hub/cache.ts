/**
 * The Hugging Face cache layout, exactly as Python's `huggingface_hub.file_download` writes it, so both
 * ecosystems share one cache:
 *
 *   {cache}/models--{org}--{name}/
 *     blobs/{etag}                      the bytes; etag = sha256 for LFS files, the git blob sha1 otherwise
 *     blobs/{etag}.incomplete           a download in progress (resumed with an HTTP Range request)
 *     snapshots/{commit}/{path}         relative symlink -> ../../blobs/{etag} (a copy where symlinks fail)
 *     refs/{revision}                   the commit hash a branch/tag pointed to (none for commit revisions)
 *     .no_exist/{commit}/{path}         empty marker: the file is known not to exist at that commit
 *
 * Every write here is atomic: a temporary name in the same folder, then a rename.
 */
import * as fs from "fs";
import * as path from "path";
import { HubError } from "./errors";
import { writeFileAtomic } from "../runtime/atomic";

/** A 40-hex git commit id. */
export const COMMIT_RE = /^[0-9a-f]{40}$/;

/** Folder name of a model repo inside the cache: `EleutherAI/pythia-70m` -> `models--EleutherAI--pythia-70m`. */
export function repoFolderName(repoId: string): string {
  return ["models", ...repoId.split("/")].join("--");
}

/** Paths of one repo's cache folder. */
export class RepoCache {
  readonly root: string;
  constructor(readonly cacheDir: string, readonly repoId: string) {
    this.root = path.join(cacheDir, repoFolderName(repoId));
  }
  blob(etag: string): string {
    return path.join(this.root, "blobs", etag);
  }
  snapshotDir(commit: string): string {
    return path.join(this.root, "snapshots", commit);
  }
  pointer(commit: string, file: string): string {
    return path.join(this.snapshotDir(commit), ...file.split("/"));
  }
  ref(revision: string): string {
    return path.join(this.root, "refs", ...revision.split("/"));
  }
  noExist(commit: string, file: string): string {
    return path.join(this.root, ".no_exist", commit, ...file.split("/"));
  }

  /** The commit a revision points to in the cache: the revision itself if it is a commit, else refs/{revision}. */
  commitFor(revision: string): string | undefined {
    if (COMMIT_RE.test(revision)) return revision;
    try {
      const c = fs.readFileSync(this.ref(revision), "utf8").trim();
      return COMMIT_RE.test(c) ? c : undefined;
    } catch {
      return undefined;
    }
  }

  /** The snapshot file for `file` at `commit` if it exists and its target is readable (dangling links = missing). */
  cachedFile(commit: string, file: string): string | undefined {
    const p = this.pointer(commit, file);
    try {
      return fs.statSync(p).isFile() ? p : undefined;
    } catch {
      return undefined;
    }
  }

  isKnownAbsent(commit: string, file: string): boolean {
    return fs.existsSync(this.noExist(commit, file));
  }

  /** Record refs/{revision} = commit (nothing for a revision that already is this commit). */
  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const p = this.ref(revision);
    const old = fs.existsSync(p) ? fs.readFileSync(p, "utf8").trim() : undefined;
    if (old !== commit) writeFileAtomic(p, commit);
  }

  markAbsent(commit: string, file: string): void {
    try {
      writeFileAtomic(this.noExist(commit, file), "");
    } catch {
      // only an optimisation: the next online call asks the hub again
    }
  }

  /** Make snapshots/{commit}/{file} point at blobs/{etag}: a relative symlink, or a copy where symlinks fail. */
  link(commit: string, file: string, etag: string): string {
    const dst = this.pointer(commit, file);
    const src = this.blob(etag);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    const tmp = tempName(dst);
    try {
      fs.symlinkSync(path.relative(path.dirname(dst), src), tmp);
    } catch {
      fs.copyFileSync(src, tmp); // e.g. Windows without developer mode, some network filesystems
    }
    fs.renameSync(tmp, dst);
    return dst;
  }
}

function tempName(p: string): string {
  return path.join(path.dirname(p), `.${path.basename(p)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

export { writeFileAtomic };

/**
 * Reject repo file names that would escape the snapshot folder (`..`, absolute, drive or UNC paths, backslashes):
 * the names come from the caller or from a repo's index file and are joined onto the cache folder.
 */
export function checkRepoFilename(file: string, where = "file name"): void {
  const bad =
    !file ||
    file.includes("\\") ||
    file.startsWith("/") ||
    /^[A-Za-z]:/.test(file) ||
    file.split("/").some((s) => s === ".." || s === "." || s === "");
  if (bad) {
    throw new HubError(
      "bad-id",
      `invalid ${where} "${file}": expected a relative path inside the repository like "model.safetensors" or "onnx/model.onnx"`,
    );
  }
}
