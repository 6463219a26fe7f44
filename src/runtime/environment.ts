/**
 * The machine's half of the environment report behind `tunebook env` and the first cell of every notebook:
 * which backend runs and why, threads, versions (node, tfjs, tslab and the TypeScript it compiles cells with,
 * the project's TypeScript), memory. Whether the Hugging Face hub is reachable is the hub's business
 * (hub/status.ts); hub/environment.ts joins the two, so runtime/ stays below hub/.
 */
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendChoice } from "./backend";

/** Facts about this process and machine (no network). */
export interface MachineReport {
  backend: string;
  backendReason: string;
  backendSkipped: { name: string; why: string }[];
  gpu: boolean;
  threads: { cpus: number; backend: number };
  versions: Record<string, string>;
  memory: { totalMiB: number; freeMiB: number; processRssMiB: number; tfTensors: number; tfMiB: number };
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

/**
 * Gather the machine's facts (initialises the backend if needed).
 * @example
 * const m = await machineReport();
 * console.log(m.backend, m.versions.tfjs);
 */
export async function machineReport(): Promise<MachineReport> {
  const choice = await initBackend({ verbose: false });
  const mem = tf.memory();
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
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}
