// Running the WebGPU backend in tests, without a GPU: a child node process on the private software Vulkan driver
// (Mesa's lavapipe, scripts/install-lavapipe.sh; src/runtime/software-vulkan.ts finds it). Dawn reads the driver's
// environment when it loads, hence a child process. Without the driver (or the `webgpu` packages) the tests
// skip with one line saying why and how to install it; with TUNEBOOK_REQUIRE_WEBGPU=1 (CI) they fail instead.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { findSoftwareVulkan } from "../../src/runtime/software-vulkan";

const ROOT = path.resolve(__dirname, "..", "..");

function installed(id: string): boolean {
  try {
    require.resolve(id);
    return true;
  } catch {
    return false;
  }
}

/**
 * The software driver's child environment, or why the WebGPU tests cannot run here (the packages or the driver
 * missing: the reason says how to install it).
 */
export function softwareWebgpu(): { env: Record<string, string> } | { skip: string } {
  const missing = ["webgpu", "@tensorflow/tfjs-backend-webgpu"].filter((id) => !installed(id));
  if (missing.length) return { skip: `${missing.join(" and ")} not installed (devDependencies: npm ci)` };
  const sw = findSoftwareVulkan();
  return sw.found ? { env: sw.env } : { skip: sw.why };
}

/** Register one test that skips with `why` (or fails, when TUNEBOOK_REQUIRE_WEBGPU=1 as in CI). */
export function skipWebgpuTests(name: string, why: string): void {
  test(name, (t) => {
    if (process.env.TUNEBOOK_REQUIRE_WEBGPU === "1") assert.fail(`TUNEBOOK_REQUIRE_WEBGPU=1 but ${why}`);
    t.skip(`WebGPU on a software driver: ${why}`);
  });
}

/** Run a TypeScript file in a child node process with `env` added; resolves with its output, rejects on failure. */
export function runChild(
  file: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolve({ stdout, stderr, seconds });
      else
        reject(new Error(`${path.basename(file)} exited with ${code}:\n${stderr.split("\n").slice(-25).join("\n")}`));
    });
  });
}

/** The JSON a child printed on its `MARKER {...}` line. */
export function childResult<T>(stdout: string, marker: string): T {
  const line = stdout.split("\n").find((l) => l.startsWith(`${marker} `));
  if (!line) throw new Error(`no ${marker} line in the child's output:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(marker.length + 1)) as T;
}
