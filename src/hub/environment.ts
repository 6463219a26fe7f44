/**
 * The environment report behind `tunebook env` and the first cell of every notebook: the machine's facts
 * (runtime/environment.ts) and the hub's status (status.ts). It lives in hub/ because that is the lowest layer
 * that knows both; runtime/ must not import the hub.
 */
import { backendReport } from "../runtime/backend";
import { machineReport, type MachineReport } from "../runtime/environment";
import { hubStatus, type HubStatus } from "./status";

export interface EnvironmentReport extends MachineReport {
  hub: HubStatus;
}

export interface EnvironmentOptions {
  /** Probe the hub over the network (default true unless HF_HUB_OFFLINE is set). */
  probeHub?: boolean;
  /** Milliseconds to wait for the hub (default 3000). */
  hubTimeoutMs?: number;
}

/**
 * Gather the environment report (initialises the backend if needed).
 * @example
 * const env = await environmentReport();
 * console.log(env.backend, env.versions.tfjs);
 */
export async function environmentReport(opts: EnvironmentOptions = {}): Promise<EnvironmentReport> {
  const machine = await machineReport();
  const hub = await hubStatus({ probe: opts.probeHub, timeoutMs: opts.hubTimeoutMs });
  const { platform, ...rest } = machine;
  return { ...rest, hub, platform }; // hub before platform: the key order `tunebook env --json` prints
}

/** Plain-text rendering of the report (one fact per line). */
export function formatEnvironment(r: EnvironmentReport): string {
  const lines = [
    backendReport(),
    `threads: ${r.threads.backend} (backend), ${r.threads.cpus} CPU cores`,
    `versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    `memory: ${r.memory.freeMiB} MiB free of ${r.memory.totalMiB} MiB; this process ${r.memory.processRssMiB} MiB; tfjs ${r.memory.tfTensors} tensors, ${r.memory.tfMiB} MiB`,
    `hub: ${r.hub.endpoint} — ${r.hub.detail}`,
    `platform: ${r.platform}`,
  ];
  return lines.join("\n");
}
