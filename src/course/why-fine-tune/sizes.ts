/**
 * Which model size to start with (notebook 00): the model in hand next to the Pythia sizes the advice is about,
 * with parameters counted from each config and memory estimated by the sizing calculator (src/sizing/, the
 * formulas notebook 07 explains), all computed in the run. The advice itself (start at 400M–1B where the
 * hardware allows) is the notebook's prose; this table gives it numbers.
 */
import type { GPTNeoXConfig } from "../../model/config";
import { countParameters, getPreset } from "../../model/presets";
import { estimateMemory } from "../../sizing/estimate";
import { getGpu } from "../../sizing/gpus";
import { formatGiB, formatParams } from "../../sizing/units";

/** The Pythia sizes the advice compares, smallest first. */
export const ADVICE_SIZES: readonly string[] = Object.freeze([
  "pythia-70m",
  "pythia-160m",
  "pythia-410m",
  "pythia-1b",
  "pythia-1.4b",
]);

/** Options of `modelSizeRows`, merged over `DEFAULT_MODEL_SIZE_OPTIONS`. */
export interface ModelSizeOptions {
  /** The GPU whose memory decides "fits" (an id of the sizing catalog). */
  gpu: string;
  /** Tokens per training sequence and sequences per step, for the activations. */
  seq: number;
  batch: number;
}

export const DEFAULT_MODEL_SIZE_OPTIONS: ModelSizeOptions = {
  gpu: "v100-16gb", // the course chapter's example card: a 16 GB V100, common in clouds
  seq: 512, // the sizing calculator's default context
  batch: 1, // the smallest step: what "fits at all" means
};

/** One model's row. */
export interface ModelSizeRow {
  model: string;
  parameters: string;
  "weights (fp16)": string;
  "full fine-tuning (AdamW)": string;
  "LoRA (rank 8)": string;
  [fits: string]: string;
}

/**
 * Rows for the given models (configs by name), then the Pythia sizes of `ADVICE_SIZES`: parameters, fp16
 * weights, the memory of full fine-tuning (mixed precision AdamW, 16 bytes per parameter plus activations) and
 * of LoRA, and whether each job fits the GPU.
 * @example
 * show(table(modelSizeRows({ "embedded default": model.config })));
 */
export function modelSizeRows(
  models: Record<string, GPTNeoXConfig> = {},
  options: Partial<ModelSizeOptions> = {},
): ModelSizeRow[] {
  const o = { ...DEFAULT_MODEL_SIZE_OPTIONS, ...options };
  const gpu = getGpu(o.gpu);
  const all: [string, GPTNeoXConfig][] = [
    ...Object.entries(models),
    ...ADVICE_SIZES.filter((name) => !(name in models)).map((name): [string, GPTNeoXConfig] => [name, getPreset(name)]),
  ];
  const yes = (ok: boolean | undefined) => (ok ? "yes" : "no");
  return all.map(([name, cfg]) => {
    const params = countParameters(cfg).total;
    const job = { seq: o.seq, batch: o.batch };
    const train = estimateMemory(cfg, { ...job, job: "train" }, gpu);
    const lora = estimateMemory(cfg, { ...job, job: "lora" }, gpu);
    return {
      model: name,
      parameters: `${params.toLocaleString("en-US")} (${formatParams(params)})`,
      "weights (fp16)": formatGiB(2 * params),
      "full fine-tuning (AdamW)": formatGiB(train.totalBytes),
      "LoRA (rank 8)": formatGiB(lora.totalBytes),
      [`full fine-tuning fits one ${gpu.name}`]: yes(train.gpu?.fits),
      [`LoRA fits one ${gpu.name}`]: yes(lora.gpu?.fits),
    };
  });
}
