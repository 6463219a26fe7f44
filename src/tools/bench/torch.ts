/**
 * The PyTorch reference, run in the same `tunebook bench` invocation so that ratios compare runs on the same
 * machine at the same time. The script is the project's `torch_neox.py` (a seeded random-weight GPT-NeoX in
 * plain PyTorch, eager attention, fp32); it is found at `TUNEBOOK_TORCH_BENCH`, else `shared/bench/` beside or
 * inside the checkout, else the copy in this folder. The interpreter is `TUNEBOOK_TORCH_PYTHON`, else
 * `/usr/bin/python3` (Debian's python3-torch), and is used only if `import torch` works.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BenchMode, WorkloadOptions } from "./workloads";

/** What the reference reported for one mode (only the fields the ratios need, plus the raw JSON). */
export interface TorchResult {
  mode: BenchMode;
  /** tokens/s (full, lora) or new tokens/s (generate). */
  value: number;
  peakRssMiB: number;
  /** Model FLOP/s (full: 6·N·tokens/s, lora: 4·N·tokens/s). */
  modelFlopsPerS?: number;
  torchVersion: string;
  raw: Record<string, unknown>;
}

/** Candidate locations of `torch_neox.py`, first existing wins. */
export function torchScriptCandidates(): string[] {
  const repo = path.resolve(__dirname, "..", "..", ".."); // src/tools/bench or dist/tools/bench → the checkout
  return [
    process.env.TUNEBOOK_TORCH_BENCH ?? "",
    path.join(repo, "..", "shared", "bench", "torch_neox.py"),
    path.join(repo, "shared", "bench", "torch_neox.py"),
    path.join(repo, "src", "tools", "bench", "torch_neox.py"),
  ].filter((p) => p !== "");
}

/** Where the reference can run: `{python, script}`, or why not. */
export function findTorch(): { ok: true; python: string; script: string } | { ok: false; why: string } {
  const script = torchScriptCandidates().find((p) => fs.existsSync(p));
  if (!script) return { ok: false, why: `torch_neox.py not found (looked in ${torchScriptCandidates().join(", ")})` };
  const python = process.env.TUNEBOOK_TORCH_PYTHON || "/usr/bin/python3";
  const r = spawnSync(python, ["-c", "import torch"], { encoding: "utf8", timeout: 60_000 });
  if (r.error) return { ok: false, why: `${python} did not run: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, why: `${python} cannot import torch` };
  return { ok: true, python, script };
}

/** Parse the reference's `--json` output (its last JSON line) into a TorchResult. */
export function parseTorchOutput(mode: BenchMode, stdout: string): TorchResult {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.trim().startsWith("{"));
  if (!line) throw new Error(`PyTorch reference (${mode}) printed no JSON line`);
  const raw = JSON.parse(line) as Record<string, any>;
  const value = mode === "generate" ? raw.new_tokens_per_s : raw.tokens_per_s;
  if (typeof value !== "number" || typeof raw.peak_maxrss_mib !== "number") {
    throw new Error(
      `PyTorch reference (${mode}): expected ${mode === "generate" ? "new_tokens_per_s" : "tokens_per_s"} and peak_maxrss_mib numbers in its JSON`,
    );
  }
  const flops =
    mode === "full"
      ? raw.model_flops_per_s
      : mode === "lora" && typeof raw.approx_gflops_per_s_4N === "number"
        ? raw.approx_gflops_per_s_4N * 1e9
        : undefined;
  return {
    mode,
    value,
    peakRssMiB: raw.peak_maxrss_mib,
    modelFlopsPerS: typeof flops === "number" ? flops : undefined,
    torchVersion: String(raw.torch_version ?? "?"),
    raw,
  };
}

/**
 * Run the reference for one mode (full, lora or generate) with the same shapes and protocol.
 *
 * @example
 * const t = findTorch(); if (t.ok) console.log((await runTorch(t, "full", DEFAULT_WORKLOAD, 2)).value); // tokens/s
 */
export function runTorch(
  where: { python: string; script: string },
  mode: BenchMode,
  o: WorkloadOptions,
  threads: number,
): Promise<TorchResult> {
  if (mode === "load") return Promise.reject(new Error("the PyTorch reference has no load mode"));
  const args = [
    where.script,
    "--json",
    "--model",
    o.model,
    "--mode",
    mode,
    "--threads",
    String(threads),
    "--iters",
    String(o.iters),
    "--warmup",
    String(o.warmup),
    "--batch",
    String(o.batch),
    "--seq",
    String(o.seq),
    "--prompt",
    String(o.prompt),
    "--new-tokens",
    String(o.newTokens),
    "--lora-r",
    String(o.loraR),
    "--lora-alpha",
    String(o.loraAlpha),
    "--seed",
    String(o.seed),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(where.python, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0)
        return reject(
          new Error(`PyTorch reference (${mode}) exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`),
        );
      try {
        resolve(parseTorchOutput(mode, out));
      } catch (e) {
        reject(e);
      }
    });
  });
}
