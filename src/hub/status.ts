/**
 * The hub's line of the environment report: which endpoint, whether the environment asks for no network, and
 * (when probed) whether the endpoint answers.
 */
import { isOffline } from "./env";
import { isHubReachable } from "./http";

export interface HubStatus {
  endpoint: string;
  offline: boolean;
  /** null when not probed (offline, or `probe: false`). */
  reachable: boolean | null;
  detail: string;
}

export interface HubStatusOptions {
  /** Probe the hub over the network (default true unless HF_HUB_OFFLINE is set). */
  probe?: boolean;
  /** Milliseconds to wait for the hub (default 3000). */
  timeoutMs?: number;
}

/**
 * Where the hub is and whether it can be used now.
 * @example
 * const s = await hubStatus({ timeoutMs: 1000 });
 * console.log(s.detail);
 */
export async function hubStatus(opts: HubStatusOptions = {}): Promise<HubStatus> {
  const endpoint = process.env.HF_ENDPOINT || "https://huggingface.co";
  const offline = isOffline();
  let reachable: boolean | null = null;
  let detail: string;
  if (offline) detail = "HF_HUB_OFFLINE is set: only the local cache and local folders are used";
  else if (opts.probe === false) detail = "not probed";
  else {
    reachable = await isHubReachable({ endpoint, timeoutMs: opts.timeoutMs ?? 3000 });
    detail = reachable
      ? "reachable: models download into the Hugging Face cache"
      : "unreachable: the embedded default model and the local cache are used";
  }
  return { endpoint, offline, reachable, detail };
}
