/**
 * The environment report behind `tunebook env` and the first cell of every notebook: which backend runs
 * and why, threads, versions (node, tfjs, tslab and the TypeScript it compiles cells with, the project's
 * TypeScript), memory, and whether the Hugging Face hub is reachable.
 */
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { initBackend, backendReport, type BackendChoice } from "./backend";

export interface EnvironmentReport {
  backend: string;
  backendReason: string;
  backendSkipped: { name: string; why: string }[];
  gpu: boolean;
  threads: { cpus: number; backend: number };
  versions: Record<string, string>;
  memory: { totalMiB: number; freeMiB: number; processRssMiB: number; tfTensors: number; tfMiB: number };
  hub: { endpoint: string; offline: boolean; reachable: boolean | null; detail: string };
  platform: string;
}

function pkgVersion(name: string): string {
  try {
    const p = require.resolve(`${name}/package.json`, { paths: [process.cwd(), __dirname] });
    return JSON.parse(fs.readFileSync(p, "utf8")).version;
  } catch {
    return "not installed";
  }
}

function backendThreads(choice: BackendChoice): number {
  if (choice.name === "wasm") {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const wasm = require("@tensorflow/tfjs-backend-wasm");
      return wasm.getThreadsCount?.() ?? 1;
    } catch {
      return 1;
    }
  }
  if (choice.name === "cpu") return 1;
  return os.cpus().length;
}

/** The TypeScript version tslab compiles notebook cells with (it bundles its own). */
function tslabTypeScript(): string {
  try {
    const tslabDir = path.dirname(require.resolve("tslab/package.json", { paths: [process.cwd(), __dirname] }));
    const p = require.resolve("@tslab/typescript-for-tslab/package.json", { paths: [tslabDir] });
    return JSON.parse(fs.readFileSync(p, "utf8")).version;
  } catch {
    return "unknown";
  }
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
  const choice = await initBackend({ verbose: false });
  const mem = tf.memory();
  const hubMod = await import("../hub");
  const endpoint = process.env.HF_ENDPOINT || "https://huggingface.co";
  const offline = hubMod.isOffline();
  let reachable: boolean | null = null;
  let detail: string;
  if (offline) detail = "HF_HUB_OFFLINE is set: only the local cache and local folders are used";
  else if (opts.probeHub === false) detail = "not probed";
  else {
    reachable = await hubMod.isHubReachable({ endpoint, timeoutMs: opts.hubTimeoutMs ?? 3000 });
    detail = reachable
      ? "reachable: models download into the Hugging Face cache"
      : "unreachable: the embedded default model and the local cache are used";
  }
  return {
    backend: choice.name,
    backendReason: choice.reason,
    backendSkipped: choice.skipped,
    gpu: choice.gpu,
    threads: { cpus: os.cpus().length, backend: backendThreads(choice) },
    versions: {
      node: process.versions.node,
      tfjs: tf.version.tfjs,
      tslab: pkgVersion("tslab"),
      "typescript (tslab cells)": tslabTypeScript(),
      typescript: pkgVersion("typescript"),
      tunebook:
        pkgVersion("tunebook") === "not installed"
          ? JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")).version
          : pkgVersion("tunebook"),
    },
    memory: {
      totalMiB: Math.round(os.totalmem() / 2 ** 20),
      freeMiB: Math.round(os.freemem() / 2 ** 20),
      processRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      tfTensors: mem.numTensors,
      tfMiB: Math.round((mem.numBytes / 2 ** 20) * 10) / 10,
    },
    hub: { endpoint, offline, reachable, detail },
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
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
