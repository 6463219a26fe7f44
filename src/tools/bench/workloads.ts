/**
 * The four measurements of `tunebook bench`, each run in the current process (the runner starts one process
 * per mode so that peak memory is per mode). Shapes and protocol follow the PyTorch reference
 * (`shared/bench/torch_neox.py`): a seeded random-weight model of the preset's architecture, seeded random
 * token ids, and the median of `iters` timed runs after `warmup` untimed ones.
 *
 * - `full`: one training update over all parameters — forward, next-token loss, backward, AdamW
 *   (lr 1e-4, weight decay 0.01, no clipping) — through the course's own `Trainer.trainStep()`.
 * - `lora`: the same with the base frozen and a LoRA adapter (r = 8, alpha = 16 on `query_key_value`,
 *   src/lora's `applyLora`); only the adapter is updated.
 * - `generate`: greedy decoding with the KV cache, batch 1, a 32-token prompt, 64 new tokens (EOS ignored).
 * - `load`: `GPTNeoXForCausalLM.fromPretrained` of the preset saved as F16 safetensors (as the hub ships it)
 *   in a temporary folder; the write is not timed, the folder is removed afterwards.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { GPTNeoXForCausalLM } from "../../model/gptneox";
import { generate } from "../../model/generate";
import { getPreset } from "../../model/presets";
import { matmulEngine } from "../../kernels/native-blas";
import { Rng } from "../../runtime/seed";
import { causalLMTrainable } from "../../train/causal-lm";
import { Trainer } from "../../train/trainer";
import type { TrainableModel } from "../../train/types";
import { applyLora } from "../../pipeline/adapters";
import { flopParams, machinePeak, weightBytesPerToken } from "./peak";
import { peakRssMiB, summarize, timeRuns, type Summary } from "./stats";

export const BENCH_MODES = ["full", "lora", "generate", "load"] as const;
export type BenchMode = (typeof BENCH_MODES)[number];

export interface WorkloadOptions {
  /** Preset name (`pythia-70m`, `pythia-160m`, ...). */
  model: string;
  iters: number;
  warmup: number;
  /** Training batch (rows × tokens). */
  batch: number;
  seq: number;
  /** Generation prompt length and new tokens. */
  prompt: number;
  newTokens: number;
  loraR: number;
  loraAlpha: number;
  seed: number;
  /** Progress per run (the CLI's child writes it to stderr, the parent shows it). */
  onRun?: (index: number, seconds: number, warmup: boolean) => void;
}

/** The reference's shapes: 8 × 128 training tokens, a 32-token prompt and 64 new tokens, LoRA r 8 / alpha 16. */
export const DEFAULT_WORKLOAD: WorkloadOptions = {
  model: "pythia-70m",
  iters: 5,
  warmup: 2,
  batch: 8,
  seq: 128,
  prompt: 32,
  newTokens: 64,
  loraR: 8,
  loraAlpha: 16,
  seed: 0,
};

/** What one mode measured (seconds per run; `value` is the headline number of the mode). */
export interface WorkloadResult {
  mode: BenchMode;
  /** tokens/s (full, lora), new tokens/s (generate), seconds (load). */
  value: number;
  runs: Summary;
  peakRssMiB: number;
  backend: string;
  /** What ran the matmuls: the native BLAS behind the wasm backend (e.g. "OpenBLAS 0.3.21 (Cooperlake), 2 threads") or the backend itself. */
  matmul?: string;
  /** Model FLOP/s and MFU (training modes; 6·N per token full, 4·N per token LoRA as the reference). */
  modelFlopsPerS?: number;
  mfu?: number;
  /** Extra facts for the notes (loss, trainable parameters, file size, ...). */
  details: Record<string, unknown>;
}

function randomIds(rng: Rng, rows: number, len: number, vocab: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: len }, () => Math.floor(rng.next() * vocab)));
}

async function trainWorkload(o: WorkloadOptions, lora: boolean): Promise<WorkloadResult> {
  const cfg = getPreset(o.model);
  const model = GPTNeoXForCausalLM.create(cfg, { seed: o.seed });
  const rng = new Rng(o.seed + 1);
  const steps = o.warmup + o.iters;
  const examples = randomIds(rng, o.batch * steps, o.seq, cfg.vocabSize).map((inputIds) => ({ inputIds }));
  let trainable: TrainableModel;
  if (lora)
    trainable = applyLora(
      model,
      { r: o.loraR, alpha: o.loraAlpha, targets: ["query_key_value"] },
      { seed: o.seed },
    ).trainable;
  else trainable = causalLMTrainable(model);
  const trainer = new Trainer(trainable, examples, {
    lr: 1e-4,
    weightDecay: 0.01,
    maxGradNorm: 0,
    batchSize: o.batch,
    maxLength: o.seq,
    numSteps: steps,
    shuffle: false,
    warmupSteps: 0,
    schedule: "constant",
    logEvery: steps,
  });
  const losses: number[] = [];
  const tensorsBefore = tf.memory().numTensors;
  const secs = await timeRuns(() => losses.push(trainer.trainStep().loss), o);
  const leaked = tf.memory().numTensors - tensorsBefore;
  const runs = summarize(secs);
  const tokens = o.batch * o.seq;
  const tps = tokens / runs.median;
  const N = flopParams(cfg);
  const flopsPerS = (lora ? 4 : 6) * N * tps;
  const trainableParams = [...trainable.trainableVariables().values()].reduce((a, v) => a + v.size, 0);
  trainer.dispose();
  model.dispose();
  return {
    mode: lora ? "lora" : "full",
    value: tps,
    runs,
    peakRssMiB: peakRssMiB(),
    backend: tf.getBackend(),
    matmul: matmulEngine(),
    modelFlopsPerS: flopsPerS,
    mfu: flopsPerS / machinePeak().flopsPerS,
    details: {
      tokensPerStep: tokens,
      lossFirst: losses[0],
      lossLast: losses[losses.length - 1],
      trainableParams,
      tensorsLeakedPerRun: leaked / steps,
      flopParams: N,
      flopsPerToken: (lora ? 4 : 6) * N,
    },
  };
}

async function generateWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  const cfg = getPreset(o.model);
  const model = GPTNeoXForCausalLM.create(cfg, { seed: o.seed });
  const rng = new Rng(o.seed + 2);
  let produced = 0;
  const secs = await timeRuns(async () => {
    const prompt = randomIds(rng, 1, o.prompt, cfg.vocabSize)[0];
    const out = await generate(model, prompt, { maxNewTokens: o.newTokens, eosTokenId: null, doSample: false });
    produced = out.length;
  }, o);
  if (produced !== o.newTokens) throw new Error(`bench generate: expected ${o.newTokens} new tokens, got ${produced}`);
  const runs = summarize(secs);
  model.dispose();
  const N = flopParams(cfg);
  return {
    mode: "generate",
    value: o.newTokens / runs.median,
    runs,
    peakRssMiB: peakRssMiB(),
    backend: tf.getBackend(),
    matmul: matmulEngine(),
    details: {
      promptTokens: o.prompt,
      newTokens: o.newTokens,
      flopParams: N,
      weightBytesPerToken: weightBytesPerToken(N),
    },
  };
}

async function loadWorkload(o: WorkloadOptions): Promise<WorkloadResult> {
  const cfg = getPreset(o.model);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-bench-load-"));
  try {
    const src = GPTNeoXForCausalLM.create(cfg, { seed: o.seed });
    await src.save(dir, { dtype: "F16" });
    src.dispose();
    const bytes = fs.readdirSync(dir).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
    const secs = await timeRuns(async () => (await GPTNeoXForCausalLM.fromPretrained(dir)).dispose(), o);
    const runs = summarize(secs);
    return {
      mode: "load",
      value: runs.median,
      runs,
      peakRssMiB: peakRssMiB(),
      backend: tf.getBackend(),
      matmul: matmulEngine(),
      details: { dtype: "F16", bytesOnDisk: bytes },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Run one mode here and now (the backend must be initialised).
 *
 * @example
 * const r = await runWorkload("generate", { ...DEFAULT_WORKLOAD, iters: 5 }); // r.value: new tokens/s
 */
export async function runWorkload(mode: BenchMode, opts: Partial<WorkloadOptions> = {}): Promise<WorkloadResult> {
  const o = { ...DEFAULT_WORKLOAD, ...opts };
  switch (mode) {
    case "full":
      return trainWorkload(o, false);
    case "lora":
      return trainWorkload(o, true);
    case "generate":
      return generateWorkload(o);
    case "load":
      return loadWorkload(o);
    default:
      throw new Error(`bench: unknown mode ${JSON.stringify(mode)}; use one of ${BENCH_MODES.join(", ")}`);
  }
}
