/**
 * One error type for everything the hub module refuses or cannot do, with a machine-readable `code` so callers
 * (the CLI, notebooks, tests) can branch without parsing messages. Messages are written for a person: they name
 * the repo, revision, file(s), the cache folder and what to do next.
 */

/** What went wrong, in a word. */
export type HubErrorCode =
  | "bad-id" //            neither an existing folder nor an `org/name` repo id
  | "local-missing" //     a local folder lacks required files
  | "repo-not-found" //    the hub says the repository does not exist (or is private)
  | "gated" //             the repository needs accepted terms and a token
  | "revision-not-found" // branch, tag or commit unknown
  | "file-not-found" //    a required file is not in the repository at that revision
  | "offline-missing" //   offline (or hub unreachable) and the cache lacks files
  | "interrupted" //       the connection dropped and retries were spent; the partial file is kept
  | "checksum" //          downloaded bytes do not match the advertised sha256 / git hash / size
  | "bad-header" //        the hub sent a commit, etag, size or redirect that is not what a hub sends (never used as a path)
  | "disk-full" //         no room for a download (checked before it starts, and on ENOSPC)
  | "locked" //            another process holds the download's lock and a caller's wait limit ran out
  | "http" //              any other HTTP failure
  | "no-safetensors"; //   the revision carries only PyTorch pickles

/**
 * @example
 * try { await resolveModelDir("EleutherAI/pythia-70m", { offline: true }); }
 * catch (e) { if (e instanceof HubError && e.code === "offline-missing") console.log(e.message); }
 */
export class HubError extends Error {
  readonly code: HubErrorCode;
  constructor(code: HubErrorCode, message: string) {
    super(message);
    this.name = "HubError";
    this.code = code;
  }
}
