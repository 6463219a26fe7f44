/**
 * Measured scaling: the SAME training step (one AdamW update of a Pythia-shaped model, random weights,
 * a batch of B × T random tokens, through the course's `Trainer`) timed on the ACTIVE tfjs backend for a
 * list of model sizes. For each size: the median step time over a few timed steps after warm-up,
 * tokens/s, the tfjs tensor memory (persistent: weights + AdamW states; peak: during one profiled step),
 * the process RSS, and the calculator's estimate of the same job for comparison.
 *
 * Nothing here is tuned to a machine: CI runs two tiny sizes with one step; a user runs 14m → 160m.
 */
import * as tf from "@tensorflow/tfjs";
import { getPreset } from "../model/presets";
import { countParameters } from "../model/presets";
import type { GPTNeoXConfig } from "../model/config";
import { GPTNeoXForCausalLM } from "../model/gptneox";
import { Trainer } from "../train/trainer";
import { causalLMTrainable } from "../train/causal-lm";
import type { TokenizedExample } from "../types/example";
import { Rng } from "../runtime/seed";
import { currentBackend, initBackend } from "../runtime/backend";
import { estimateMemory } from "../sizing/estimate";
import { asyncTrainStep } from "./async-step";
import { flopParamCount } from "./throughput";

/** One model size to measure: a Pythia preset name (`"70m"`, `"pythia-70m"`) or a named config. */
export type ScalingModel = string | { name: string; config: GPTNeoXConfig };

/** What a measurement reports while it runs. */
export interface ScalingProgress {
  /** 0-based index of the model being measured, and how many there are. */
  index: number;
  total: number;
  model: string;
  phase: "create" | "warmup" | "step" | "done" | "skipped";
  /** Timed step number (1-based) for phase "step". */
  step?: number;
  /** Seconds of the step just finished (phases "warmup" and "step"). */
  seconds?: number;
  /** Why a size was skipped (phase "skipped"). */
  reason?: string;
}

export interface ScalingOptions {
  /** Model sizes, smallest first is nicest to watch. */
  sizes: ScalingModel[];
  /** Sequences per step. */
  batchSize: number;
  /** Tokens per sequence. */
  seqLen: number;
  /** Untimed steps first (kernel compilation, allocator warm-up). */
  warmupSteps: number;
  /** Timed steps; the row reports their median. */
  timedSteps: number;
  /** Seed for the random weights and tokens. */
  seed: number;
  /** Learning rate of the AdamW step (the value does not change the cost). */
  lr: number;
  /** Also run one profiled step for the peak tensor memory (tf.profile; slower). */
  profileMemory: boolean;
  /**
   * Skip a size whose estimated training memory (the calculator: fp32 AdamW + activations) exceeds this
   * many bytes; default: 4 GiB on wasm (a 32-bit address space), 80% of free RAM elsewhere. 0 = never skip.
   */
  maxEstimatedBytes: number | null;
  /**
   * "trainer": `Trainer.trainStep()` (synchronous read); "async": the same update with an awaited read
   * (`asyncTrainStep`); "auto": async on webgpu (no synchronous reads in Node), the trainer elsewhere.
   */
  stepMethod: "auto" | "trainer" | "async";
  onProgress?: (p: ScalingProgress) => void;
}

/** Defaults sized for a person's CPU run (minutes); CI passes tiny sizes and 1 step. */
export const DEFAULT_SCALING_OPTIONS: ScalingOptions = {
  sizes: ["pythia-14m", "pythia-31m", "pythia-70m", "pythia-160m"],
  batchSize: 4, // a typical small fine-tuning micro-batch
  seqLen: 128, // the course's prompt+answer pairs fit in it
  warmupSteps: 1, // the first step compiles kernels / grows the heap
  timedSteps: 3, // a median of 3 resists one slow step
  seed: 0,
  lr: 1e-4,
  profileMemory: true,
  maxEstimatedBytes: null,
  stepMethod: "auto",
};

/** One measured (or skipped) model size. */
export interface ScalingRow {
  model: string;
  params: number;
  nLayer: number;
  dModel: number;
  nHead: number;
  vocabSize: number;
  batchSize: number;
  seqLen: number;
  /** Tokens in one step (batchSize × seqLen). */
  tokensPerStep: number;
  /** Median seconds of one full step (forward, backward, clip, AdamW update, one device read); null if skipped. */
  stepSeconds: number | null;
  /** Every timed step, in order. */
  stepSecondsAll: number[];
  tokensPerSecond: number | null;
  /** N of 6·N: all parameters except the input embedding (a lookup), the project's MFU convention. */
  flopParams: number;
  /** Achieved model FLOP/s: 6·N·tokens / median step time. */
  flopsPerSecond: number | null;
  /** tfjs tensor bytes held between steps: weights + AdamW states. */
  persistentBytes: number | null;
  /** tfjs peak tensor bytes during one profiled step (null when not profiled). */
  peakBytes: number | null;
  /** Process resident memory after the steps (whole Node process, not only this model). */
  rssBytes: number | null;
  /** The calculator's estimate of the same job (train, fp32 AdamW, this batch and sequence length). */
  estimatedBytes: number;
  /** Loss of the first step (≈ ln(vocab) for random weights: a sanity check). */
  firstLoss: number | null;
  /** Why the size was not measured. */
  skipped?: string;
}

export interface ScalingResult {
  backend: string;
  /** How each step ran: "trainer" (Trainer.trainStep) or "async" (asyncTrainStep). */
  stepMethod: "trainer" | "async";
  backendReason: string;
  date: string;
  node: string;
  tfjs: string;
  options: Omit<ScalingOptions, "onProgress" | "sizes"> & { sizes: string[] };
  rows: ScalingRow[];
}

/** Resolve a size to a name and a config; errors name the bad entry. */
export function resolveScalingModel(m: ScalingModel): { name: string; config: GPTNeoXConfig } {
  if (typeof m === "string") {
    const config = getPreset(m);
    const name = m.toLowerCase().replace(/^eleutherai\//, "");
    return { name: name.startsWith("pythia-") ? name : `pythia-${name}`, config };
  }
  if (!m || typeof m.name !== "string" || typeof m.config !== "object") {
    throw new Error(
      `measureScaling: sizes entries must be a preset name or { name, config }, got ${JSON.stringify(m)}`,
    );
  }
  return m;
}

function checkOptions(o: ScalingOptions): void {
  const int = (v: number, field: string, min: number) => {
    if (!Number.isInteger(v) || v < min)
      throw new Error(`measureScaling: ${field} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  };
  if (!Array.isArray(o.sizes) || o.sizes.length === 0)
    throw new Error("measureScaling: sizes must list at least one model");
  int(o.batchSize, "batchSize", 1);
  int(o.seqLen, "seqLen", 2);
  int(o.warmupSteps, "warmupSteps", 0);
  int(o.timedSteps, "timedSteps", 1);
  if (!(o.lr >= 0)) throw new Error(`measureScaling: lr must be ≥ 0, got ${o.lr}`);
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of an empty list");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function memoryLimit(o: ScalingOptions, backend: string): number {
  if (o.maxEstimatedBytes !== null) return o.maxEstimatedBytes || Infinity;
  if (backend === "wasm") return 4 * 2 ** 30;
  return 0.8 * require("node:os").freemem();
}

function randomExamples(rng: Rng, n: number, len: number, vocab: number): TokenizedExample[] {
  return Array.from({ length: n }, () => ({ inputIds: Array.from({ length: len }, () => rng.int(vocab)) }));
}

/**
 * Measure one training step across model sizes on the active backend (initialising one if needed).
 * Each model and its optimizer state are freed before the next; `tf.memory().numTensors` is unchanged.
 *
 * @example
 * const r = await measureScaling({ sizes: ["14m", "31m"], batchSize: 2, seqLen: 32, timedSteps: 1 });
 * r.rows.map((x) => [x.model, x.stepSeconds, x.tokensPerSecond]);
 */
export async function measureScaling(opts: Partial<ScalingOptions> = {}): Promise<ScalingResult> {
  const o: ScalingOptions = { ...DEFAULT_SCALING_OPTIONS, ...opts };
  checkOptions(o);
  const models = o.sizes.map(resolveScalingModel);
  const choice = currentBackend() ?? (await initBackend({ verbose: false }));
  const limit = memoryLimit(o, choice.name);
  const method: "trainer" | "async" =
    o.stepMethod === "auto" ? (choice.name === "webgpu" ? "async" : "trainer") : o.stepMethod;
  if (!["auto", "trainer", "async"].includes(o.stepMethod))
    throw new Error(`measureScaling: stepMethod must be auto, trainer or async, got ${JSON.stringify(o.stepMethod)}`);
  const rows: ScalingRow[] = [];
  const tick = () => new Promise<void>((r) => setImmediate(r));
  for (let i = 0; i < models.length; i++) {
    const { name, config } = models[i];
    const report = (p: Omit<ScalingProgress, "index" | "total" | "model">) =>
      o.onProgress?.({ index: i, total: models.length, model: name, ...p });
    const params = countParameters(config).total;
    const estimatedBytes = estimateMemory(config, {
      job: "train",
      dtype: "fp32",
      batch: o.batchSize,
      seq: o.seqLen,
    }).totalBytes;
    const row: ScalingRow = {
      model: name,
      params,
      nLayer: config.numHiddenLayers,
      dModel: config.hiddenSize,
      nHead: config.numAttentionHeads,
      vocabSize: config.vocabSize,
      batchSize: o.batchSize,
      seqLen: o.seqLen,
      tokensPerStep: o.batchSize * o.seqLen,
      stepSeconds: null,
      stepSecondsAll: [],
      tokensPerSecond: null,
      flopParams: flopParamCount(config),
      flopsPerSecond: null,
      persistentBytes: null,
      peakBytes: null,
      rssBytes: null,
      estimatedBytes,
      firstLoss: null,
    };
    if (estimatedBytes > limit) {
      row.skipped = `the calculator estimates ${(estimatedBytes / 2 ** 30).toFixed(1)} GiB for this step, over the ${(limit / 2 ** 30).toFixed(1)} GiB allowed on ${choice.name}`;
      report({ phase: "skipped", reason: row.skipped });
      rows.push(row);
      continue;
    }
    report({ phase: "create" });
    await tick();
    const before = tf.memory().numTensors;
    const model = GPTNeoXForCausalLM.create(config, { seed: o.seed + i });
    const rng = new Rng(o.seed * 7919 + i);
    const data = randomExamples(rng, o.batchSize, o.seqLen, config.vocabSize);
    const trainer = new Trainer(causalLMTrainable(model), data, {
      lr: o.lr,
      batchSize: o.batchSize,
      maxLength: o.seqLen,
      numSteps: o.warmupSteps + o.timedSteps + 2,
      optimizer: "adamw",
      seed: o.seed,
      schedule: "constant",
    });
    const step = async () => (method === "async" ? asyncTrainStep(trainer) : trainer.trainStep());
    try {
      for (let w = 0; w < o.warmupSteps; w++) {
        const t0 = performance.now();
        const r = await step();
        row.firstLoss ??= r.loss;
        report({ phase: "warmup", seconds: (performance.now() - t0) / 1000 });
        await tick();
      }
      for (let s = 1; s <= o.timedSteps; s++) {
        const t0 = performance.now();
        const r = await step(); // ends with a device read (loss, grad norm): the step is complete
        const sec = (performance.now() - t0) / 1000;
        row.firstLoss ??= r.loss;
        row.stepSecondsAll.push(sec);
        report({ phase: "step", step: s, seconds: sec });
        await tick();
      }
      row.persistentBytes = tf.memory().numBytes;
      if (o.profileMemory) {
        const info = await tf.profile(async () => {
          await step();
        });
        row.peakBytes = info.peakBytes;
      }
      row.rssBytes = process.memoryUsage().rss;
      row.stepSeconds = median(row.stepSecondsAll);
      row.tokensPerSecond = row.tokensPerStep / row.stepSeconds;
      row.flopsPerSecond = (6 * row.flopParams * row.tokensPerStep) / row.stepSeconds;
    } finally {
      trainer.dispose();
      model.dispose();
    }
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) throw new Error(`measureScaling: ${leaked} tensors leaked measuring ${name}`);
    report({ phase: "done", seconds: row.stepSeconds ?? undefined });
    rows.push(row);
  }
  const { onProgress: _p, sizes: _s, ...rest } = o;
  return {
    backend: choice.name,
    stepMethod: method,
    backendReason: choice.reason,
    date: new Date().toISOString(),
    node: process.versions.node,
    tfjs: tf.version.tfjs,
    options: { ...rest, sizes: models.map((m) => m.name) },
    rows,
  };
}
