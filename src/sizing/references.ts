/**
 * Published numbers to check the calculator against, and the checks themselves (the course's "model sizes ×
 * compute" slide is src/course/sizing.ts):
 * - the LoRA paper's GPT-3 175B figures (≈10,000× fewer trainable parameters, 1.2 TB → 350 GB),
 * - the KV cache of a grouped-query model (Llama-2-70B: 327,680 bytes per token in fp16),
 * - memory measured in this project's own training runs (`compareToMeasured`: give it the numbers).
 */
import { estimateMemory, type JobOptions, type SizingResult } from "./estimate";
import { CONVENTIONS, type Convention, kvCacheBytes } from "./formulas";
import { modelShape } from "./models";
import { formatGiB, formatParams, SizingError } from "./units";

/** What the LoRA paper reports for GPT-3 175B (Hu et al. 2021, sections 1 and 4.2). */
export const LORA_PAPER_GPT3 = Object.freeze({
  params: 175e9,
  /** "reduce the number of trainable parameters by 10,000 times" */
  trainableReduction: 10_000,
  /** "reduce the VRAM consumption during training from 1.2TB to 350GB" */
  fullVramBytes: 1.2e12,
  loraVramBytes: 350e9,
  /** "the checkpoint size is reduced by roughly 10,000× (from 350GB to 35MB)", r = 4 on Wq and Wv */
  checkpointBytes: 35e6,
  rank: 4,
  targets: ["q_proj", "v_proj"],
});

/** The LoRA paper's GPT-3 figures recomputed. */
export interface LoraPaperCheck {
  trainableParams: number;
  trainableReduction: number;
  /** LoRA weights in fp16. */
  checkpointBytes: number;
  lora: SizingResult;
  /** Full fine-tuning under each convention. */
  full: Record<Convention, SizingResult>;
  /** full.totalBytes / lora.totalBytes per convention. */
  memoryReduction: Record<Convention, number>;
  paper: typeof LORA_PAPER_GPT3;
}

/**
 * Recompute the LoRA paper's GPT-3 175B numbers: rank 4 on Wq and Wv over 96 layers, fp16 frozen base;
 * activations for one 512-token sequence with full recomputation on both sides (the paper gives
 * neither batch nor context for its VRAM figure).
 *
 * @example
 * const c = loraPaperCheck();
 * c.trainableParams;      // 18874368 = 96 · 2 · 4 · (12288 + 12288)
 * c.trainableReduction;   // ≈ 9,250 ("10,000×")
 */
export function loraPaperCheck(job: Partial<JobOptions> = {}): LoraPaperCheck {
  const shape = modelShape("gpt3-175b");
  const common: Partial<JobOptions> = { dtype: "fp16", batch: 1, seq: 512, recompute: "full", ...job };
  const lora = estimateMemory(shape, {
    ...common,
    job: "lora",
    loraRank: LORA_PAPER_GPT3.rank,
    loraTargets: [...LORA_PAPER_GPT3.targets],
  });
  const full = {} as Record<Convention, SizingResult>;
  const memoryReduction = {} as Record<Convention, number>;
  for (const c of CONVENTIONS) {
    full[c] = estimateMemory(shape, { ...common, job: "train", convention: c });
    memoryReduction[c] = full[c].totalBytes / lora.totalBytes;
  }
  return {
    trainableParams: lora.trainableParams,
    trainableReduction: shape.params / lora.trainableParams,
    checkpointBytes: lora.trainableParams * 2,
    lora,
    full,
    memoryReduction,
    paper: LORA_PAPER_GPT3,
  };
}

/**
 * KV cache bytes per token of a named model in fp16 (batch 1).
 *
 * @example
 * kvBytesPerToken("llama-2-70b"); // 327680 = 2 · 80 · 8 · 128 · 2
 */
export function kvBytesPerToken(model: string, bytesPerValue = 2): number {
  return kvCacheBytes(modelShape(model), 1, 1, bytesPerValue).value;
}

/** A measured memory figure to hold an estimate against. */
export interface Measurement {
  label: string;
  /** The calculator's estimate: bytes, or a result (its `totalBytes`). */
  estimated: number | SizingResult;
  /** What was measured (e.g. tf.memory().numBytes at the peak of a step). */
  measuredBytes: number;
}

/** One compared row. */
export interface MeasurementError {
  label: string;
  estimatedBytes: number;
  measuredBytes: number;
  /** estimated − measured. */
  errorBytes: number;
  /** (estimated − measured) / measured. */
  relativeError: number;
}

/**
 * Hold estimates against measurements: per row the error, and overall the mean and largest absolute
 * relative error. For notebook 05's measured training steps (full and LoRA) on this machine.
 *
 * @example
 * compareToMeasured([{ label: "pythia-70m full", estimated: 1.2e9, measuredBytes: 1.0e9 }]).rows[0].relativeError; // 0.2
 */
export function compareToMeasured(measurements: Measurement[]): {
  rows: MeasurementError[];
  meanAbsRelativeError: number;
  maxAbsRelativeError: number;
} {
  if (!Array.isArray(measurements) || measurements.length === 0)
    throw new SizingError("compareToMeasured: give at least one measurement {label, estimated, measuredBytes}");
  const rows = measurements.map((m, i) => {
    const label = m?.label ?? `#${i}`;
    const est = typeof m?.estimated === "number" ? m.estimated : m?.estimated?.totalBytes;
    if (typeof est !== "number" || !Number.isFinite(est) || est < 0)
      throw new SizingError(
        `compareToMeasured: ${label}: estimated must be bytes >= 0 or a SizingResult, got ${JSON.stringify(m?.estimated)}`,
      );
    if (typeof m.measuredBytes !== "number" || !Number.isFinite(m.measuredBytes) || m.measuredBytes <= 0) {
      throw new SizingError(
        `compareToMeasured: ${label}: measuredBytes must be a positive number of bytes, got ${JSON.stringify(m.measuredBytes)}`,
      );
    }
    return {
      label,
      estimatedBytes: est,
      measuredBytes: m.measuredBytes,
      errorBytes: est - m.measuredBytes,
      relativeError: (est - m.measuredBytes) / m.measuredBytes,
    };
  });
  const abs = rows.map((r) => Math.abs(r.relativeError));
  return {
    rows,
    meanAbsRelativeError: abs.reduce((a, b) => a + b, 0) / abs.length,
    maxAbsRelativeError: Math.max(...abs),
  };
}

/**
 * The LoRA paper's GPT-3 figures next to the recomputed ones, formatted.
 *
 * @example
 * show(table(loraPaperRows(loraPaperCheck())));
 */
export function loraPaperRows(c: LoraPaperCheck = loraPaperCheck()): Record<string, string>[] {
  const gb = (b: number) => `${(b / 1e9).toFixed(0)} GB`;
  return [
    {
      quantity: "trainable parameters (r = 4 on Wq, Wv)",
      paper: "≈ 175B / 10,000",
      calculator: `${formatParams(c.trainableParams)} (175B / ${Math.round(c.trainableReduction).toLocaleString("en-US")})`,
    },
    { quantity: "adapter checkpoint (fp16)", paper: "35 MB", calculator: `${(c.checkpointBytes / 1e6).toFixed(1)} MB` },
    { quantity: "VRAM with LoRA", paper: "350 GB", calculator: gb(c.lora.totalBytes) },
    {
      quantity: "VRAM, full fine-tuning: pure 16-bit (8 B/param)",
      paper: "1.2 TB",
      calculator: `${gb(c.full["pure-16bit"].totalBytes)} → ${c.memoryReduction["pure-16bit"].toFixed(1)}× LoRA`,
    },
    {
      quantity: "VRAM, full fine-tuning: mixed precision 16 B/param",
      paper: "",
      calculator: `${gb(c.full["eleutherai-16"].totalBytes)} → ${c.memoryReduction["eleutherai-16"].toFixed(1)}× LoRA`,
    },
    {
      quantity: "VRAM, full fine-tuning: mixed precision 18 B/param",
      paper: "",
      calculator: `${gb(c.full["hf-18"].totalBytes)} → ${c.memoryReduction["hf-18"].toFixed(1)}× LoRA`,
    },
  ];
}

/**
 * KV cache per token and for a context, for named models, formatted.
 *
 * @example
 * show(table(kvCacheRows(["llama-2-7b", "llama-2-70b"], 4096)));
 */
export function kvCacheRows(models: string[], seq: number, batch = 1): Record<string, string | number>[] {
  return models.map((m) => {
    const s = modelShape(m);
    const perToken = kvBytesPerToken(m);
    return {
      model: s.name,
      layers: s.layers,
      heads: s.heads,
      "kv heads": s.kvHeads,
      "head dim": s.headDim,
      "bytes per token (fp16)": perToken,
      [`cache for ${batch} × ${seq} tokens`]: formatGiB(perToken * seq * batch),
    };
  });
}
