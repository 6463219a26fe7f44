/**
 * Where the Hugging Face cache lives and how to reach the hub, read from the same environment variables as
 * Python's `huggingface_hub` (`constants.py`), so that files Python tools already downloaded are reused:
 *
 *   cache:    HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE (legacy), else $HF_HOME/hub,
 *             where HF_HOME defaults to $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface
 *   endpoint: HF_ENDPOINT (default https://huggingface.co)
 *   token:    HF_TOKEN (or the legacy HUGGING_FACE_HUB_TOKEN)
 *   offline:  HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) set to 1/true/yes/on
 *   timeouts: HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT (seconds)
 *
 * Everything is read when called (not at import), so a notebook can change `process.env` and call again.
 */
import * as os from "node:os";
import * as path from "node:path";

/** The public hub; HF_ENDPOINT overrides it (mirrors, a local test server). */
export const DEFAULT_ENDPOINT = "https://huggingface.co";

function expandUser(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

function envTrue(v: string | undefined): boolean {
  return v !== undefined && ["1", "ON", "YES", "TRUE"].includes(v.trim().toUpperCase());
}

/**
 * The Hugging Face hub cache folder (it need not exist yet).
 *
 * @example
 * process.env.HF_HOME = "/data/hf";
 * hubCacheDir(); // "/data/hf/hub"
 */
export function hubCacheDir(): string {
  const explicit = process.env.HF_HUB_CACHE || process.env.HUGGINGFACE_HUB_CACHE;
  if (explicit) return path.resolve(expandUser(explicit));
  const home =
    process.env.HF_HOME || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "huggingface");
  return path.resolve(expandUser(home), "hub");
}

/**
 * True when the environment asks for no network: `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) is 1/true/yes/on.
 *
 * @example
 * if (isOffline()) console.log("using the cache only");
 */
export function isOffline(): boolean {
  return envTrue(process.env.HF_HUB_OFFLINE) || envTrue(process.env.TRANSFORMERS_OFFLINE);
}

/** The hub endpoint without a trailing slash: the argument, else HF_ENDPOINT, else https://huggingface.co. */
export function hubEndpoint(endpoint?: string): string {
  return (endpoint || process.env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, "");
}

/** The access token: the argument, else HF_TOKEN, else HUGGING_FACE_HUB_TOKEN; undefined when none is set. */
export function hubToken(token?: string): string | undefined {
  return token || process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined;
}

function envSeconds(name: string, fallbackMs: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v * 1000 : fallbackMs;
}

/** Timeout for the metadata (HEAD) request, ms: HF_HUB_ETAG_TIMEOUT seconds, default 10 s (as in Python). */
export function etagTimeoutMs(): number {
  return envSeconds("HF_HUB_ETAG_TIMEOUT", 10_000);
}

/** Longest wait for the next bytes of a download, ms: HF_HUB_DOWNLOAD_TIMEOUT seconds, default 30 s. */
export function downloadTimeoutMs(): number {
  return envSeconds("HF_HUB_DOWNLOAD_TIMEOUT", 30_000);
}
