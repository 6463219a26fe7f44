/**
 * Memory of one training step, full fine-tuning vs LoRA, measured on this machine and held against the
 * sizing calculator (src/sizing). Two measures:
 * - tensor bytes: `tf.memory().numBytes` before a step (weights + optimizer state) and the peak during it
 *   (`tf.profile`'s `peakBytes`: weights, optimizer state, activations kept for the backward pass, gradients);
 * - process peak RSS (`process.resourceUsage().maxRSS`) of a child process that builds the model and runs the
 *   steps alone (`measureStepMemoryInChild`), so one mode's peak does not hide the other's. RSS also counts the
 *   JavaScript heap, the WebAssembly heap (which never shrinks) and the loading of the model.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { GPTNeoXConfig } from "../../model/config";
import { GPTNeoXForCausalLM } from "../../model/gptneox";
import { loadPretrained } from "../../model/load";
import { Rng } from "../../runtime/seed";
import { causalLMTrainable } from "../../train/causal-lm";
import { Trainer } from "../../train/trainer";
import { estimateMemory, type SizingResult } from "../../sizing";
import { type LoraConfig, resolveLoraConfig } from "../../lora/config";
import { LoraModel } from "../../lora/model";
import { loraTrainable } from "../../lora/trainable";
import { bitFitTrainable } from "../../lora/bitfit";

/** What a step trains: every weight, one LoRA adapter, or the biases only (BitFit). */
export type StepMemoryMode = "full" | "lora" | "bitfit";
const MODES: readonly StepMemoryMode[] = ["full", "lora", "bitfit"];

/** What to measure. */
export interface StepMemoryOptions {
  mode: StepMemoryMode;
  batchSize: number;
  seqLen: number;
  /** LoRA settings (mode "lora"). */
  lora: Partial<LoraConfig>;
  /** Steps before the measured one (the optimizer state exists after the first). */
  warmupSteps: number;
  seed: number;
}

export const DEFAULT_STEP_MEMORY: StepMemoryOptions = {
  mode: "lora",
  batchSize: 4,
  seqLen: 64,
  lora: {},
  warmupSteps: 1,
  seed: 0,
};

/** One measurement. */
export interface StepMemory {
  mode: StepMemoryMode;
  batchSize: number;
  seqLen: number;
  trainableParams: number;
  /** Tensor bytes held between steps (weights, adapters, optimizer state). */
  tensorBytesBetweenSteps: number;
  /** Peak tensor bytes during one step. */
  tensorPeakBytes: number;
  /** Milliseconds of the measured step. */
  stepMs: number;
  /** Process peak resident memory (child-process measurements only). */
  rssPeakBytes?: number;
}

/**
 * Measure one training step's memory in this process (a temporary adapter is added and removed for "lora";
 * "bitfit" trains the model's biases, so run it on a model you can discard, as the child process does).
 *
 * @example
 * const full = await measureStepMemory(model, { mode: "full", batchSize: 4, seqLen: 64 });
 * const lora = await measureStepMemory(model, { mode: "lora", lora: { r: 8 } });
 * const bitfit = await measureStepMemory(model, { mode: "bitfit" }); // biases only
 */
export async function measureStepMemory(
  model: GPTNeoXForCausalLM,
  opts: Partial<StepMemoryOptions> = {},
): Promise<StepMemory> {
  const o = { ...DEFAULT_STEP_MEMORY, ...opts };
  if (!MODES.includes(o.mode))
    throw new Error(`measureStepMemory: mode must be one of ${MODES.join(", ")}, got ${JSON.stringify(o.mode)}`);
  const rng = new Rng(o.seed);
  const V = model.config.vocabSize;
  const data = Array.from({ length: Math.max(o.batchSize, 8) }, () => ({
    inputIds: Array.from({ length: o.seqLen }, () => rng.int(V)),
  }));
  const name = "__memory_probe";
  const trainable =
    o.mode === "full"
      ? causalLMTrainable(model)
      : o.mode === "bitfit"
        ? bitFitTrainable(model)
        : (LoraModel.of(model).addAdapter(name, o.lora, { seed: o.seed }), loraTrainable(model, name));
  const trainer = new Trainer(trainable, data, {
    lr: 1e-5,
    numSteps: o.warmupSteps + 1,
    batchSize: o.batchSize,
    maxLength: o.seqLen,
    seed: o.seed,
  });
  try {
    for (let i = 0; i < o.warmupSteps; i++) trainer.trainStep();
    const between = tf.memory().numBytes;
    const t0 = performance.now();
    const prof = await tf.profile(() => {
      trainer.trainStep();
    });
    const stepMs = performance.now() - t0;
    let n = 0;
    for (const v of trainable.trainableVariables().values()) n += v.size;
    return {
      mode: o.mode,
      batchSize: o.batchSize,
      seqLen: o.seqLen,
      trainableParams: n,
      tensorBytesBetweenSteps: between,
      tensorPeakBytes: Math.max(prof.peakBytes, between),
      stepMs,
    };
  } finally {
    trainer.dispose();
    if (o.mode === "lora") {
      const lora = LoraModel.of(model);
      lora.deleteAdapter(name);
      if (lora.listAdapters().length === 0) lora.unload();
    }
  }
}

/** What the child process is told: a model (folder, or a config built with fresh weights) and the step. */
export interface ChildSpec extends Partial<StepMemoryOptions> {
  modelDir?: string;
  config?: GPTNeoXConfig;
  backend?: string;
}

/**
 * Measure in a fresh child process (the peak RSS is then this step's alone). Runs the same function there.
 *
 * @example
 * const rows = [await measureStepMemoryInChild({ modelDir, mode: "full" }), await measureStepMemoryInChild({ modelDir, mode: "lora" })];
 */
export function measureStepMemoryInChild(spec: ChildSpec, timeoutMs = 600_000): Promise<StepMemory> {
  if (!spec.modelDir && !spec.config) throw new Error("measureStepMemoryInChild: give modelDir or config");
  const child = path.join(__dirname, `memory-child${path.extname(__filename)}`);
  // keep loaders such as tsx (`--import tsx`), drop the test runner's own flags
  const execArgv = process.execArgv.filter((a) => !a.startsWith("--test"));
  return new Promise((resolve, reject) => {
    const full: ChildSpec = { backend: tf.getBackend() || undefined, ...spec };
    const p = spawn(process.execPath, [...execArgv, child, JSON.stringify(full)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", (e) => (clearTimeout(timer), reject(e)));
    p.on("close", (code) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0)
        return reject(
          new Error(`memory child exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ") || line}`),
        );
      try {
        resolve(JSON.parse(line) as StepMemory);
      } catch {
        reject(new Error(`memory child printed no result: ${out.slice(-300)} ${err.slice(-300)}`));
      }
    });
  });
}

/** Run by memory-child: build the model, measure, add the process peak RSS. */
export async function runChild(spec: ChildSpec): Promise<StepMemory> {
  const model = spec.modelDir
    ? await loadPretrained(spec.modelDir)
    : GPTNeoXForCausalLM.create(spec.config!, { seed: spec.seed ?? 0 });
  const r = await measureStepMemory(model, spec);
  model.dispose();
  return { ...r, rssPeakBytes: process.resourceUsage().maxRSS * 1024 };
}

/** One row of measured vs predicted. */
export interface MemoryComparisonRow {
  mode: "full" | "lora";
  trainableParams: number;
  measuredTensorPeakBytes: number;
  measuredRssPeakBytes: number | null;
  predictedBytes: number;
  /** (predicted − measured tensor peak) / measured tensor peak. */
  relativeError: number;
  predicted: SizingResult;
}

/**
 * Put measurements next to the sizing calculator's fp32 AdamW estimate for the same model, batch and context.
 *
 * @example
 * compareWithSizing(model.config, [full, lora], { r: 8 }).map((r) => [r.mode, r.measuredTensorPeakBytes, r.predictedBytes]);
 */
export function compareWithSizing(
  cfg: GPTNeoXConfig,
  measured: readonly StepMemory[],
  lora: Partial<LoraConfig> = {},
): MemoryComparisonRow[] {
  const l = resolveLoraConfig(lora);
  return measured.map((m) => {
    if (m.mode !== "full" && m.mode !== "lora")
      throw new Error(`compareWithSizing: the sizing calculator has no ${m.mode} job; give it "full" and "lora" rows`);
    const predicted = estimateMemory(cfg, {
      job: m.mode === "full" ? "train" : "lora",
      dtype: "fp32",
      optimizer: "adamw",
      batch: m.batchSize,
      seq: m.seqLen,
      loraRank: l.r,
      loraTargets: Array.isArray(l.targetModules) ? l.targetModules : null,
    });
    return {
      mode: m.mode,
      trainableParams: m.trainableParams,
      measuredTensorPeakBytes: m.tensorPeakBytes,
      measuredRssPeakBytes: m.rssPeakBytes ?? null,
      predictedBytes: predicted.totalBytes,
      relativeError: (predicted.totalBytes - m.tensorPeakBytes) / m.tensorPeakBytes,
      predicted,
    };
  });
}
