/**
 * `resolveRepoFiles`: a local folder or a hub repo id (+ revision) -> paths of the requested files on disk, in
 * the Hugging Face cache layout (see cache.ts), downloading what is missing.
 *
 * Order of work for a repo id:
 *  1. The cache alone (skipped with `refresh: true`): revision -> commit (a 40-hex revision is its own commit, else refs/{revision}); if every
 *     requested file is in snapshots/{commit}/ (optional ones may instead be recorded in .no_exist/), return
 *     them without touching the network.
 *  2. Offline (HF_HUB_OFFLINE=1 or `offline: true`): whatever the cache has, or one error naming the missing
 *     files, the cache folder and how to get them.
 *  3. Online: HEAD each file (the first at the revision, which pins the commit; the rest at that commit, so all
 *     files come from one snapshot), download missing blobs (download.ts; one
 *     process per blob, others wait), link them into the snapshot, write
 *     refs/{revision}. If the hub cannot be reached, fall back to step 2's answer.
 *
 * Why not `@huggingface/hub`'s `downloadFileToCacheDir`/`snapshotDownload` (2.17.5, installed)? They resolve
 * files through the `/api/.../paths-info` endpoint rather than the resolve URL's headers, restart partial
 * downloads from zero, verify neither the size nor the sha256, report no progress, and `downloadFileToCacheDir`
 * never writes refs/{revision}, so a branch could not be resolved offline afterwards; `snapshotDownload` fetches
 * every file of the repo (Pythia's would add pytorch_model.bin). The download path here is small and plain
 * Node `fetch`, and writes the same layout as both Python's huggingface_hub and huggingface.js.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkRepoFilename, checkRevision, COMMIT_RE, RepoCache } from "./cache";
import { downloadBlob, type ProgressCallback } from "./download";
import { downloadTimeoutMs, hubCacheDir, hubEndpoint, hubToken, isOffline } from "./env";
import { HubError } from "./errors";
import { fetchFileMetadata, HubUnreachable, resolveUrl } from "./http";

export interface ResolveOptions {
  /** Branch, tag or commit (Pythia's training checkpoints are branches like "step3000"). */
  revision?: string;
  /** Files to fetch when they exist; their absence is not an error. */
  optional?: string[];
  /** Use the cache only. Default: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE. */
  offline?: boolean;
  /** Hub URL. Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Access token for private/gated repos. Default: HF_TOKEN. */
  token?: string;
  /** Called as bytes arrive: `{ file, loaded, total }` (see `textProgress` for a terminal printer). */
  onProgress?: ProgressCallback;
  /** Cache folder. Default: `hubCacheDir()` (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Resumed retries after a dropped connection, per file. */
  retries?: number;
  /**
   * Ask the hub even when the cache already holds every file for this revision (a branch may have moved).
   * Default false: a complete cached snapshot is used without any request, like a pinned download.
   */
  refresh?: boolean;
}

export const DEFAULT_RESOLVE_OPTIONS = {
  revision: "main",
  optional: [] as string[],
  retries: 3,
  refresh: false,
};

export interface ResolvedFiles {
  /** The folder holding the files: the local folder, or snapshots/{commit} in the cache. */
  dir: string;
  /** Requested repo path -> absolute path on disk (required files always; optional ones when found). */
  files: Record<string, string>;
  /** The commit the files come from (repo ids only). */
  commit?: string;
  source: "local" | "cache" | "download";
  /** Optional files that were not found (absent from the repo or folder, or unknown while offline). */
  missing: string[];
  /** Set when the answer came from the cache because the network was off or unreachable: why. */
  offline?: string;
}

/** What a model argument names. */
export type ModelSource = { kind: "local"; dir: string } | { kind: "repo"; repoId: string };

const REPO_ID_RE = /^[A-Za-z0-9][\w.-]{0,95}\/[\w.-]{1,96}$/;

/**
 * Decide whether `idOrPath` is a local folder or a hub repo id. An existing folder wins (as in transformers);
 * a path-like string (absolute, `./x`, `../x`, `~/x`, more than one `/`) that does not exist is a missing
 * folder; `org/name` is a repo id.
 *
 * @example
 * parseModelSource("EleutherAI/pythia-70m"); // { kind: "repo", repoId: "EleutherAI/pythia-70m" }
 * parseModelSource("./my-model");          // { kind: "local", dir: "/abs/my-model" } (or an error if absent)
 */
export function parseModelSource(idOrPath: string): ModelSource {
  const s = (idOrPath ?? "").trim();
  if (!s) throw new HubError("bad-id", "empty model name: pass a local folder or a repo id like EleutherAI/pythia-70m");
  const expanded = s === "~" || s.startsWith("~/") ? path.join(os.homedir(), s.slice(1)) : s;
  const abs = path.resolve(expanded);
  if (fs.existsSync(abs)) {
    if (!fs.statSync(abs).isDirectory()) {
      throw new HubError("bad-id", `${abs} is a file; pass the folder that holds config.json and the weights`);
    }
    return { kind: "local", dir: abs };
  }
  const pathLike =
    path.isAbsolute(expanded) ||
    /^\.{1,2}([/\\]|$)/.test(s) ||
    s.startsWith("~") ||
    s.includes("\\") ||
    s.split("/").length > 2 ||
    s.endsWith("/");
  if (pathLike) throw new HubError("bad-id", `local folder ${abs} does not exist (from "${s}")`);
  if (REPO_ID_RE.test(s) && !s.includes("--") && !s.includes("..")) return { kind: "repo", repoId: s };
  throw new HubError(
    "bad-id",
    `"${s}" is neither an existing folder (looked for ${abs}) nor a Hugging Face repo id: repo ids look like org/name, e.g. EleutherAI/pythia-70m`,
  );
}

function resolveLocal(dir: string, required: string[], optional: string[]): ResolvedFiles {
  const files: Record<string, string> = {};
  const missingRequired: string[] = [];
  const missing: string[] = [];
  for (const f of [...required, ...optional]) {
    const p = path.join(dir, ...f.split("/"));
    if (fs.existsSync(p) && fs.statSync(p).isFile()) files[f] = p;
    else (required.includes(f) ? missingRequired : missing).push(f);
  }
  if (missingRequired.length) {
    const present = fs.readdirSync(dir).slice(0, 20).join(", ") || "(empty)";
    throw new HubError(
      "local-missing",
      `local folder ${dir} lacks ${missingRequired.join(", ")} (it holds: ${present})`,
    );
  }
  return { dir, files, source: "local", missing };
}

/** Look the files up in the cache for `revision`; no network. */
function lookupCache(repo: RepoCache, revision: string, required: string[], optional: string[]) {
  const commit = repo.commitFor(revision);
  const files: Record<string, string> = {};
  const missingRequired: string[] = [];
  const absent: string[] = [];
  const unknown: string[] = [];
  for (const f of [...required, ...optional]) {
    const p = commit ? repo.cachedFile(commit, f) : undefined;
    if (p) files[f] = p;
    else if (required.includes(f)) missingRequired.push(f);
    else if (commit && repo.isKnownAbsent(commit, f)) absent.push(f);
    else unknown.push(f);
  }
  return { commit, files, missingRequired, absent, unknown };
}

function offlineAnswer(
  repo: RepoCache,
  revision: string,
  required: string[],
  optional: string[],
  reason: string,
): ResolvedFiles {
  const c = lookupCache(repo, revision, required, optional);
  if (c.commit && c.missingRequired.length === 0) {
    return {
      dir: repo.snapshotDir(c.commit),
      files: c.files,
      commit: c.commit,
      source: "cache",
      missing: [...c.absent, ...c.unknown],
      offline: reason,
    };
  }
  const missing = c.commit ? c.missingRequired : required.length ? required : optional;
  const where = c.commit
    ? `${repo.snapshotDir(c.commit)} (revision ${revision} = commit ${c.commit})`
    : `${repo.root} (no snapshot recorded for revision "${revision}": ${COMMIT_RE.test(revision) ? "no such snapshot folder" : `no refs/${revision}`})`;
  const rev = revision === "main" ? "" : ` --revision ${revision}`;
  throw new HubError(
    "offline-missing",
    [
      `cannot load ${repo.repoId} (revision ${revision}) without the network: ${reason}.`,
      `Missing from the cache: ${missing.join(", ")}`,
      `Looked in: ${where}`,
      `To get them: run once with network access${isOffline() ? " (unset HF_HUB_OFFLINE)" : ""}, or`,
      `  huggingface-cli download ${repo.repoId} ${missing.join(" ")}${rev}   (with HF_HUB_CACHE=${repo.cacheDir}), or`,
      `  pass a local folder that holds these files instead of the repo id.`,
    ].join("\n"),
  );
}

/**
 * Resolve `files` (all required) and `opts.optional` of a local folder or hub repo to paths on disk.
 *
 * @example
 * const r = await resolveRepoFiles("EleutherAI/pythia-70m", ["config.json"], {
 *   revision: "step3000", optional: ["tokenizer_config.json"], onProgress: textProgress(),
 * });
 * r.files["config.json"]; // ~/.cache/huggingface/hub/models--EleutherAI--pythia-70m/snapshots/<commit>/config.json
 */
export async function resolveRepoFiles(
  idOrPath: string,
  files: string[],
  opts: ResolveOptions = {},
): Promise<ResolvedFiles> {
  const o = { ...DEFAULT_RESOLVE_OPTIONS, ...opts };
  const required = [...new Set(files)];
  const optional = [...new Set(o.optional ?? [])].filter((f) => !required.includes(f));
  for (const f of [...required, ...optional]) checkRepoFilename(f);
  const source = parseModelSource(idOrPath);
  if (source.kind === "local") return resolveLocal(source.dir, required, optional);

  const revision = checkRevision(o.revision || "main");
  const repo = new RepoCache(o.cacheDir ?? hubCacheDir(), source.repoId);
  const cached = lookupCache(repo, revision, required, optional);
  if (!o.refresh && cached.commit && cached.missingRequired.length === 0 && cached.unknown.length === 0) {
    return {
      dir: repo.snapshotDir(cached.commit),
      files: cached.files,
      commit: cached.commit,
      source: "cache",
      missing: cached.absent,
    };
  }
  if (o.offline ?? isOffline()) {
    return offlineAnswer(
      repo,
      revision,
      required,
      optional,
      o.offline ? "offline: true was passed" : "HF_HUB_OFFLINE is set",
    );
  }
  const endpoint = hubEndpoint(o.endpoint);
  try {
    return await resolveOnline(repo, revision, required, optional, { ...o, endpoint, token: hubToken(o.token) });
  } catch (e) {
    if (e instanceof HubUnreachable) return offlineAnswer(repo, revision, required, optional, e.reason);
    throw e;
  }
}

async function resolveOnline(
  repo: RepoCache,
  revision: string,
  required: string[],
  optional: string[],
  o: ResolveOptions & { endpoint: string; retries: number },
): Promise<ResolvedFiles> {
  let commit: string | undefined = COMMIT_RE.test(revision) ? revision : undefined;
  const files: Record<string, string> = {};
  const missing: string[] = [];
  const missingRequired: string[] = [];
  let downloaded = false;
  const pin = (c: string | undefined) => {
    if (commit || !c) return;
    commit = c;
    repo.writeRef(revision, c);
  };
  for (const f of [...required, ...optional]) {
    const r = await fetchFileMetadata(o.endpoint, repo.repoId, commit ?? revision, f, o.token);
    if (r.kind === "absent") {
      pin(r.commit);
      if (required.includes(f)) missingRequired.push(f);
      else {
        missing.push(f);
        if (commit) repo.markAbsent(commit, f);
      }
      continue;
    }
    pin(r.meta.commit);
    const at: string = commit ?? r.meta.commit;
    let p = repo.cachedFile(at, f);
    if (!p) {
      const blobPath = repo.blob(r.meta.etag);
      if (!fs.existsSync(blobPath)) {
        await downloadBlob({
          url: resolveUrl(o.endpoint, repo.repoId, at, f),
          token: o.token,
          blobPath,
          file: f,
          label: `${repo.repoId}@${revision}`,
          meta: r.meta,
          lockPath: repo.blobLock(r.meta.etag),
          retries: o.retries,
          readTimeoutMs: downloadTimeoutMs(),
          onProgress: o.onProgress,
        });
        downloaded = true;
      }
      p = repo.link(at, f, r.meta.etag);
    }
    files[f] = p;
  }
  if (missingRequired.length) {
    throw new HubError(
      "file-not-found",
      `${repo.repoId} at revision ${revision}${commit ? ` (commit ${commit})` : ""} has no ${missingRequired.join(", ")} (asked ${o.endpoint})`,
    );
  }
  if (!commit) throw new HubError("http", `${o.endpoint} named no commit for ${repo.repoId}@${revision}`);
  return { dir: repo.snapshotDir(commit), files, commit, source: downloaded ? "download" : "cache", missing };
}
