/**
 * A private Vulkan software driver for the WebGPU backend without a GPU: Mesa's lavapipe (≥ 25; Debian 12's own
 * 22.3 lacks a feature Dawn requires), extracted by `scripts/install-lavapipe.sh` into a folder of its own. This
 * finds it and gives the environment a child process needs: Dawn reads `VK_ICD_FILENAMES` and the library path
 * when it loads, so the variables must be set before the process starts, not from inside it.
 *
 * Where: `TUNEBOOK_VULKAN_ICD` (the driver's ICD JSON), else `lvp_icd.json` in the script's default folder,
 * `${XDG_CACHE_HOME:-~/.cache}/tunebook/lavapipe`. A software adapter is never chosen by `initBackend()` by itself
 * (backend.ts, `softwareAdapter`): it is for testing the WebGPU code path, not for speed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The variable naming the private driver's ICD JSON. */
export const VULKAN_ICD_ENV = "TUNEBOOK_VULKAN_ICD";

/** The install script, relative to a tunebook checkout. */
export const LAVAPIPE_INSTALL_SCRIPT = "scripts/install-lavapipe.sh";

/** What `findSoftwareVulkan` found. */
export type SoftwareVulkan =
  | {
      found: true;
      /** The ICD JSON (its `library_path` absolute). */
      icd: string;
      /** The folder of the driver's library (and the newer libdrm extracted beside it). */
      libDir: string;
      /** "mesa-vulkan-drivers 25.0.7-2~bpo12+1" when the install script recorded it. */
      version?: string;
      /** Variables to add to a child process's environment. */
      env: Record<string, string>;
    }
  | { found: false; why: string };

/**
 * The install script's default folder.
 * @example
 * defaultLavapipeDir(); // "/home/me/.cache/tunebook/lavapipe"
 */
export function defaultLavapipeDir(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.TUNEBOOK_LAVAPIPE_DIR ||
    path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "tunebook", "lavapipe")
  );
}

/**
 * Find the private software Vulkan driver; `found: false` says why, and how to install it.
 * @example
 * const sw = findSoftwareVulkan();
 * if (sw.found) spawnSync(process.execPath, ["job.js"], { env: { ...process.env, ...sw.env } });
 */
export function findSoftwareVulkan(env: NodeJS.ProcessEnv = process.env): SoftwareVulkan {
  const install = `install it with ${LAVAPIPE_INSTALL_SCRIPT} (Debian 12, as root or with sudo)`;
  const given = env[VULKAN_ICD_ENV];
  const icd = given || path.join(defaultLavapipeDir(env), "lvp_icd.json");
  const source = given ? `${VULKAN_ICD_ENV}=${given}` : icd;
  if (!fs.existsSync(icd))
    return {
      found: false,
      why: given
        ? `${source} does not exist; ${install}`
        : `no software Vulkan driver: ${VULKAN_ICD_ENV} is not set and ${icd} does not exist; ${install}`,
    };
  let lib: unknown;
  try {
    lib = JSON.parse(fs.readFileSync(icd, "utf8"))?.ICD?.library_path;
  } catch (e: any) {
    return { found: false, why: `${source} is not an ICD JSON file (${String(e?.message ?? e).split("\n")[0]})` };
  }
  if (typeof lib !== "string" || !path.isAbsolute(lib) || !fs.existsSync(lib))
    return {
      found: false,
      why: `${source}: ICD.library_path ${JSON.stringify(lib)} is not an absolute path to an existing driver; ${install}`,
    };
  const libDir = path.dirname(lib);
  const versionFile = path.join(path.dirname(icd), "driver-version");
  const version = fs.existsSync(versionFile) ? fs.readFileSync(versionFile, "utf8").trim() : undefined;
  return {
    found: true,
    icd,
    libDir,
    version,
    env: {
      VK_ICD_FILENAMES: icd,
      LD_LIBRARY_PATH: [libDir, env.LD_LIBRARY_PATH].filter(Boolean).join(path.delimiter),
      XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR || os.tmpdir(),
    },
  };
}
