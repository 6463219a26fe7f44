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
 *   {cache}/.locks/models--{org}--{name}/{etag}.tunebook.lock
 *                                       held while blobs/{etag} downloads (Python's flock files are {etag}.lock)
 *
 * Every write here is atomic: a temporary name in the same folder, then a rename.
 *
 * Every name that becomes a path here came from a user (revision, file names) or from a server (commit, etag),
 * so each is checked against what the hub really uses before it is joined (`checkCommit`, `checkEtag`,
 * `checkRevision`, `checkRepoFilename`), and the joined path is checked to be inside the repo's folder as well:
 * a hostile server or argument is refused with one line instead of writing outside the cache.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HubError } from "./errors";
import { writeFileAtomic } from "../runtime/atomic";

/** A 40-hex git commit id (lowercase, as the hub sends it; huggingface_hub's REGEX_COMMIT_HASH). */
export const COMMIT_RE = /^[0-9a-f]{40}$/;
/** A blob name: the sha256 of an LFS file (64 hex) or the git blob sha1 of a small file (40 hex). */
export const ETAG_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

const show = (s: string): string => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);

/** Refuse anything but a 40-hex commit id; `where` names its source ("X-Repo-Commit header from ..."). */
export function checkCommit(commit: string, where: string): string {
  if (!COMMIT_RE.test(commit)) {
    throw new HubError("bad-header", `${where}: ${show(commit)} is not a commit id (expected 40 lowercase hex digits)`);
  }
  return commit;
}

/** Refuse anything but a hex digest usable as a blob name; `where` names its source. */
export function checkEtag(etag: string, where: string): string {
  if (!ETAG_RE.test(etag)) {
    throw new HubError(
      "bad-header",
      `${where}: ${show(etag)} is not a content hash (expected a sha256 of 64 or a git blob sha1 of 40 lowercase hex digits)`,
    );
  }
  return etag;
}

/**
 * Refuse a revision that could not be a git branch, tag or commit of a hub repo, or that would leave the
 * `refs/` folder once joined: git's ref-name rules (git check-ref-format), which also exclude `..`, empty
 * segments, a leading or trailing `/`, backslashes, control characters and NUL. `main`, `step3000`, `v1.0`,
 * `refs/pr/1` and commit ids pass.
 */
export function checkRevision(revision: string, where = "revision"): string {
  const segments = revision.split("/");
  const why =
    revision.length === 0
      ? "it is empty"
      : revision.length > 255
        ? "it is longer than 255 characters"
        : /[\x00-\x20\x7f~^:?*[\\]/.test(revision)
          ? "it contains a space, a control character or one of ~ ^ : ? * [ \\"
          : revision.includes("..")
            ? 'it contains ".."'
            : revision.includes("@{") || revision === "@"
              ? 'it contains "@{" or is "@"'
              : segments.some((x) => x === "")
                ? "it has an empty path segment (a leading, trailing or double /)"
                : segments.some((x) => x.startsWith(".") || x.endsWith(".lock"))
                  ? 'a segment starts with "." or ends with ".lock"'
                  : revision.endsWith(".")
                    ? 'it ends with "."'
                    : undefined;
  if (why) {
    throw new HubError(
      "bad-id",
      `invalid ${where} ${show(revision)}: ${why}; expected a branch, tag or commit like "main", "step3000", "refs/pr/1" or a 40-hex commit id`,
    );
  }
  return revision;
}

/** `p`, after checking that it is `root` or inside it once resolved (belt and braces after the name checks). */
function inside(root: string, p: string, what: string): string {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new HubError("bad-id", `refusing to use ${p} for ${what}: it is outside ${root}`);
  }
  return p;
}

/** Folder name of a model repo inside the cache: `EleutherAI/pythia-70m` -> `models--EleutherAI--pythia-70m`. */
export function repoFolderName(repoId: string): string {
  return ["models", ...repoId.split("/")].join("--");
}

/** Paths of one repo's cache folder. */
export class RepoCache {
  readonly root: string;
  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    const folder = repoFolderName(repoId);
    if (folder.includes("/") || folder.includes("\\") || folder.includes("..")) {
      throw new HubError("bad-id", `invalid repo id ${show(repoId)}: expected org/name`);
    }
    this.root = path.join(cacheDir, folder);
  }
  blob(etag: string): string {
    checkEtag(etag, "blob name");
    return inside(this.root, path.join(this.root, "blobs", etag), `blob ${etag}`);
  }
  /** The lock file a download of blobs/{etag} holds, beside huggingface_hub's `.locks/{repo}/{etag}.lock`. */
  blobLock(etag: string): string {
    checkEtag(etag, "blob name");
    return inside(
      this.cacheDir,
      path.join(this.cacheDir, ".locks", path.basename(this.root), `${etag}.tunebook.lock`),
      `the lock of blob ${etag}`,
    );
  }
  snapshotDir(commit: string): string {
    checkCommit(commit, "snapshot commit");
    return inside(this.root, path.join(this.root, "snapshots", commit), `snapshot ${commit}`);
  }
  pointer(commit: string, file: string): string {
    checkRepoFilename(file);
    const dir = this.snapshotDir(commit);
    return inside(dir, path.join(dir, ...file.split("/")), `file ${file}`);
  }
  ref(revision: string): string {
    checkRevision(revision);
    const refs = path.join(this.root, "refs");
    return inside(refs, path.join(refs, ...revision.split("/")), `revision ${revision}`);
  }
  noExist(commit: string, file: string): string {
    checkCommit(commit, "snapshot commit");
    checkRepoFilename(file);
    const dir = path.join(this.root, ".no_exist", commit);
    return inside(dir, path.join(dir, ...file.split("/")), `file ${file}`);
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

/**
 * Reject repo file names that would escape the snapshot folder (`..`, absolute, drive or UNC paths, backslashes,
 * empty segments) or that no filesystem takes (NUL and other control characters):
 * the names come from the caller or from a repo's index file and are joined onto the cache folder.
 */
export function checkRepoFilename(file: string, where = "file name"): void {
  const bad =
    !file ||
    file.length > 1000 ||
    /[\x00-\x1f\x7f]/.test(file) ||
    file.includes("\\") ||
    file.startsWith("/") ||
    /^[A-Za-z]:/.test(file) ||
    file.split("/").some((s) => s === ".." || s === "." || s === "");
  if (bad) {
    throw new HubError(
      "bad-id",
      `invalid ${where} ${show(file)}: expected a relative path inside the repository like "model.safetensors" or "onnx/model.onnx"`,
    );
  }
}
