// The real Hugging Face stack for interop tests: transformers 4.31, PEFT 0.5, accelerate 0.21 (pure Python, in
// ../shared/hf-python next to the fixtures) on Debian's python3-torch. In CI (CI=true) a missing python3 or torch
// fails the test; elsewhere the test is skipped with the reason.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { TestContext } from "node:test";
import { FIXTURES } from "../helpers/backend";

export const PY = "/usr/bin/python3";
export const HF_TOOL = path.join(__dirname, "hf_tool.py");
/** The folder whose sitecustomize.py hands train.py a stand-in tokenizer (see that file). */
export const STANDIN_DIR = path.join(__dirname, "standin");
const SETUP = process.env.TUNEBOOK_HF_PYTHON_SETUP || path.join(FIXTURES, "..", "hf-python", "setup.sh");

const inCI = () => /^(1|true|yes)$/i.test(process.env.CI ?? "");

export interface HfStack {
  /** PYTHONPATH entry holding transformers, peft, accelerate, huggingface_hub. */
  pythonPath: string;
  env: NodeJS.ProcessEnv;
}

let cached: HfStack | string | undefined;

function locate(): HfStack | string {
  if (!fs.existsSync(PY)) return `${PY} is missing (install Debian's python3)`;
  const torch = spawnSync(PY, ["-c", "import torch"], { encoding: "utf8" });
  if (torch.status !== 0)
    return `${PY} has no torch (apt-get install python3-torch): ${(torch.stderr || "").trim().split("\n").pop()}`;
  if (!fs.existsSync(SETUP))
    return `${SETUP} is missing (the Hugging Face stack next to the fixtures; TUNEBOOK_FIXTURES or TUNEBOOK_HF_PYTHON_SETUP)`;
  // one extraction at a time: setup.sh swaps the folder in when it finds no stamp, and two test processes that both
  // started before the first stamp would otherwise swap it under each other's running python (ModuleNotFoundError)
  const dir = process.env.HF_PYTHON_DIR || path.join(process.env.TMPDIR || "/tmp", "tunebook-hf-python");
  const setup = fs.existsSync("/usr/bin/flock")
    ? spawnSync("/usr/bin/flock", [`${dir}.lock`, "bash", SETUP], { encoding: "utf8" })
    : spawnSync("bash", [SETUP], { encoding: "utf8" });
  if (setup.status !== 0) return `${SETUP} failed: ${setup.stderr.trim()}`;
  const pythonPath = setup.stdout.trim();
  const env = {
    ...process.env,
    PYTHONPATH: pythonPath,
    HF_HUB_OFFLINE: "1",
    TRANSFORMERS_OFFLINE: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  const check = spawnSync(PY, ["-c", "import transformers, peft, accelerate"], { encoding: "utf8", env });
  if (check.status !== 0)
    return `transformers/peft/accelerate do not import from ${pythonPath}: ${check.stderr.trim().split("\n").pop()}`;
  return { pythonPath, env };
}

/**
 * The stack, or null after skipping the test (outside CI) with the reason. In CI a missing piece throws.
 * @example
 * const hf = hfStack(t); if (!hf) return;
 */
export function hfStack(t: TestContext): HfStack | null {
  cached ??= locate();
  if (typeof cached !== "string") return cached;
  if (inCI()) throw new Error(`interop tests need the Hugging Face stack: ${cached}`);
  t.skip(cached);
  return null;
}

export interface PyResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run python3 with the stack on PYTHONPATH (extra env merged in). */
export function runPython(
  hf: HfStack,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): PyResult {
  const r = spawnSync(PY, args, {
    encoding: "utf8",
    env: { ...hf.env, ...opts.env },
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 180_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw new Error(`python3 ${args.join(" ")}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** hf_tool.py's JSON answer; a failing run throws with its stderr. */
export function hfTool(hf: HfStack, args: string[]): { json: any; stderr: string } {
  const r = runPython(hf, [HF_TOOL, ...args]);
  if (r.status !== 0) throw new Error(`hf_tool.py ${args[0]} exited ${r.status}:\n${r.stderr.slice(-4000)}`);
  const last = r.stdout.trim().split("\n").pop()!;
  return { json: JSON.parse(last), stderr: r.stderr };
}

/** What transformers/PEFT print when a checkpoint and the model disagree on a key (any release we know). */
export const LOAD_WARNING =
  /newly initialized|were not used when initializing|not initialized from the model checkpoint|TRAIN this model|missing keys|unexpected keys|Missing key|Unexpected key/i;

/** Fails naming the warning when the loader complained about any key. */
export function assertNoLoadWarnings(stderr: string, what: string): void {
  const line = stderr.split("\n").find((l) => LOAD_WARNING.test(l));
  if (line) throw new Error(`${what}: the Hugging Face loader warned: ${line.slice(0, 400)}`);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`size mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}
