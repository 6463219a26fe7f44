/**
 * The HTTP side of the hub: one request helper (redirects followed by hand so the token never leaves the hub's
 * origin), file metadata from `HEAD {endpoint}/{repo}/resolve/{revision}/{path}`, and a reachability probe.
 *
 * Metadata follows Python's `huggingface_hub.get_hf_file_metadata`: the commit comes from `X-Repo-Commit`, the
 * etag from `X-Linked-Etag` (LFS: the sha256 of the content) or `ETag` (the git blob sha1), quotes and `W/`
 * stripped; the size from `X-Linked-Size` or `Content-Length`. Only relative redirects (renamed repos) are
 * followed for metadata: LFS files answer with a 302 to a CDN, and the headers that matter are on that first
 * response.
 *
 * Nothing a server sends becomes a path unchecked: the commit must be 40 hex, the etag a hex digest (X-Linked-Etag
 * a sha256), the size a plain integer, a redirect http(s); anything else is refused with the header named.
 */
import { checkCommit, checkEtag } from "./cache";
import { HubError } from "./errors";
import { etagTimeoutMs, hubEndpoint, isOffline } from "./env";

const USER_AGENT = "tunebook/0.1 (hub; node)";

/** The network could not be used (connection refused, DNS, timeout, HTTP 5xx/429): callers fall back to the cache. */
export class HubUnreachable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "HubUnreachable";
  }
}

/** What the hub says about one file. */
export interface FileMetadata {
  commit: string;
  etag: string;
  size: number;
  /** true when the content lives in LFS (the etag is then its sha256). */
  lfs: boolean;
}

/** `found` with metadata, or `absent` (HTTP 404 EntryNotFound) with the commit when the hub sent it. */
export type MetadataResult = { kind: "found"; meta: FileMetadata } | { kind: "absent"; commit?: string };

/** `{endpoint}/{repo}/resolve/{revision}/{file}` with the revision and each path segment URL-encoded. */
export function resolveUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  const p = file.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${p}`;
}

function describeNetworkError(e: any): string {
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return "timed out";
  const c = e?.cause;
  return [c?.code, c?.message ?? e?.message].filter(Boolean).join(" ") || String(e);
}

export interface HubFetchOptions {
  method: "HEAD" | "GET";
  token?: string;
  headers?: Record<string, string>;
  /** "relative": follow only redirects within the same host (metadata); "all": follow every redirect (download). */
  follow: "relative" | "all";
  signal?: AbortSignal;
}

/**
 * fetch with redirects followed by hand: the Authorization header is sent only to the origin of the first URL.
 * Network failures become HubUnreachable.
 */
export async function hubFetch(url: string, opts: HubFetchOptions): Promise<Response> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; hop <= 10; hop++) {
    const headers: Record<string, string> = {
      "User-Agent": USER_AGENT,
      "Accept-Encoding": "identity",
      ...opts.headers,
    };
    if (opts.token && new URL(current).origin === origin) headers.Authorization = `Bearer ${opts.token}`;
    let res: Response;
    try {
      res = await fetch(current, { method: opts.method, headers, redirect: "manual", signal: opts.signal });
    } catch (e) {
      throw new HubUnreachable(`could not reach ${new URL(current).origin} (${describeNetworkError(e)})`);
    }
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location) return res;
    const isRelative = !/^[a-z][a-z0-9+.-]*:\/\//i.test(location);
    if (opts.follow === "relative" && !isRelative) return res;
    await res.body?.cancel().catch(() => undefined);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new HubError(
        "bad-header",
        `${current} redirected to ${JSON.stringify(location)} (Location header), which is not a URL`,
      );
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new HubError(
        "bad-header",
        `${current} redirected to ${next.protocol} URL ${JSON.stringify(location)} (Location header): only http and https are followed`,
      );
    }
    current = next.toString();
  }
  throw new HubError("http", `too many redirects starting at ${url}`);
}

function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1") || undefined;
}

/**
 * HEAD one file and read its metadata.
 *
 * @example
 * const r = await fetchFileMetadata("https://huggingface.co", "EleutherAI/pythia-70m", "main", "config.json");
 * if (r.kind === "found") console.log(r.meta.commit, r.meta.size);
 */
export async function fetchFileMetadata(
  endpoint: string,
  repoId: string,
  revision: string,
  file: string,
  token?: string,
): Promise<MetadataResult> {
  const url = resolveUrl(endpoint, repoId, revision, file);
  const res = await hubFetch(url, {
    method: "HEAD",
    token,
    follow: "relative",
    signal: AbortSignal.timeout(etagTimeoutMs()),
  });
  await res.body?.cancel().catch(() => undefined);
  const code = res.headers.get("x-error-code") ?? "";
  const where = `${repoId} (revision ${revision}) on ${endpoint}`;
  if (res.status >= 500 || res.status === 429) throw new HubUnreachable(`${endpoint} answered HTTP ${res.status}`);
  if (code === "EntryNotFound" || (res.status === 404 && !code)) {
    const c = res.headers.get("x-repo-commit") ?? undefined;
    return { kind: "absent", commit: c === undefined ? undefined : checkCommit(c, `X-Repo-Commit header from ${url}`) };
  }
  if (code === "RevisionNotFound") {
    throw new HubError(
      "revision-not-found",
      `revision "${revision}" not found in ${repoId} on ${endpoint}: check the branch, tag or commit name (Pythia checkpoints are branches like "step3000")`,
    );
  }
  if (code === "GatedRepo") {
    throw new HubError(
      "gated",
      `${where} is gated: accept its terms at ${endpoint}/${repoId} and set HF_TOKEN to a token of that account`,
    );
  }
  if (code === "RepoNotFound" || res.status === 401 || res.status === 403) {
    throw new HubError(
      "repo-not-found",
      `repository ${repoId} not found on ${endpoint} (HTTP ${res.status}): check the name; if it is private or gated, set HF_TOKEN`,
    );
  }
  if (res.status >= 400)
    throw new HubError("http", `HEAD ${url} failed with HTTP ${res.status}${code ? ` (${code})` : ""}`);

  const commit = res.headers.get("x-repo-commit");
  const linked = normalizeEtag(res.headers.get("x-linked-etag"));
  const etag = linked ?? normalizeEtag(res.headers.get("etag"));
  const sizeHeader = res.headers.has("x-linked-size") ? "X-Linked-Size" : "Content-Length";
  const sizeText = res.headers.get(sizeHeader);
  if (!commit || !etag || sizeText === null) {
    const missing = [!commit && "X-Repo-Commit", !etag && "ETag", sizeText === null && "size"]
      .filter(Boolean)
      .join(", ");
    throw new HubError("http", `${url} answered without ${missing}: is ${endpoint} (HF_ENDPOINT) a Hugging Face hub?`);
  }
  checkCommit(commit, `X-Repo-Commit header from ${url}`);
  const lfs = linked !== undefined;
  checkEtag(etag, `${lfs ? "X-Linked-Etag" : "ETag"} header from ${url}`);
  if (lfs && etag.length !== 64) {
    throw new HubError(
      "bad-header",
      `X-Linked-Etag header from ${url}: "${etag}" is not a sha256 (expected 64 lowercase hex digits for an LFS file)`,
    );
  }
  const size = /^\d{1,16}$/.test(sizeText.trim()) ? Number(sizeText.trim()) : NaN;
  if (!Number.isSafeInteger(size)) {
    throw new HubError(
      "bad-header",
      `${sizeHeader} header from ${url}: ${JSON.stringify(sizeText.slice(0, 40))} is not a size in bytes`,
    );
  }
  return { kind: "found", meta: { commit, etag, size, lfs } };
}

/**
 * Whether the hub answers at all (any HTTP status below 500), within `timeoutMs`. Offline mode (HF_HUB_OFFLINE=1
 * or `offline: true`) answers false without touching the network.
 *
 * @example
 * const model = (await isHubReachable()) ? "EleutherAI/pythia-70m" : "data/default-model";
 */
export async function isHubReachable(
  opts: { endpoint?: string; timeoutMs?: number; offline?: boolean } = {},
): Promise<boolean> {
  if (opts.offline ?? isOffline()) return false;
  try {
    const res = await fetch(hubEndpoint(opts.endpoint), {
      method: "HEAD",
      headers: { "User-Agent": USER_AGENT },
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs ?? 3000),
    });
    await res.body?.cancel().catch(() => undefined);
    return res.status < 500;
  } catch {
    return false;
  }
}
