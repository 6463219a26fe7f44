/**
 * The parameter-efficient fine-tuning (PEFT) family side by side, from a config alone: what each method adds
 * or unfreezes, where those values sit in a GPT-NeoX block, how many there are, what they cost at inference and
 * whether they can be folded into the base weights. Counts follow each paper's own construction:
 *
 * - adapters (Houlsby et al. 2019, https://arxiv.org/abs/1902.00751): two bottleneck MLPs per block (after
 *   attention and after the MLP), each `C → m → C` with biases: `2·(2·C·m + m + C)` per block;
 * - prefix tuning (Li & Liang 2021, https://arxiv.org/abs/2101.00190): `P` trained key and value vectors per
 *   block, prepended to every attention (the reparametrising MLP used while training is dropped after):
 *   `L·2·P·C`;
 * - prompt tuning (Lester et al. 2021, https://arxiv.org/abs/2104.08691): `P` trained input embeddings: `P·C`;
 * - (IA)³ (Liu et al. 2022, https://arxiv.org/abs/2205.05638): vectors that rescale keys, values and the MLP's
 *   hidden units: `L·(2C + M)`;
 * - BitFit (bitfit.ts) and LoRA (counts.ts).
 */
import type { GPTNeoXConfig } from "../model/config";
import { countParameters } from "../model/presets";
import { bitFitParameterCount } from "./bitfit";
import { LoraError } from "./config";
import { loraParameterCount } from "./counts";

/** The sizes each method is counted at. */
export interface PeftFamilyOptions {
  /** LoRA rank. */
  r: number;
  /** LoRA's target modules. */
  loraTargets: string[];
  /** Bottleneck width `m` of the adapters. */
  bottleneck: number;
  /** Virtual tokens `P` of prefix and prompt tuning. */
  prefixLength: number;
}

export const DEFAULT_PEFT_FAMILY: PeftFamilyOptions = {
  r: 8,
  loraTargets: ["query_key_value"], // PEFT's default for GPT-NeoX
  bottleneck: 64, // a common adapter width for models of this size
  prefixLength: 20, // the prefix/prompt length of Li & Liang's table-to-text runs
};

/** One method. */
export interface PeftFamilyRow {
  method: string;
  /** What is trained, and where in the block. */
  trains: string;
  /** Trainable values for this config. */
  trainable: number;
  /** trainable / the base model's parameters, in %. */
  percent: number;
  /** What it costs at inference, against the base model. */
  inference: string;
  /** Can the trained values be folded into the base weights (nothing extra at inference)? */
  mergeable: string;
}

function positiveInt(v: unknown, field: string): number {
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new LoraError(`peftFamilyTable: ${field} must be a positive integer, found ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * One row per PEFT method (and full fine-tuning) for a config.
 *
 * @example
 * show(table(peftFamilyTable(getPreset("pythia-70m"))));   // BitFit 34,304 · LoRA r=8 98,304 · adapters 793,344 …
 */
export function peftFamilyTable(cfg: GPTNeoXConfig, opts: Partial<PeftFamilyOptions> = {}): PeftFamilyRow[] {
  const o = { ...DEFAULT_PEFT_FAMILY, ...opts };
  const r = positiveInt(o.r, "r");
  const m = positiveInt(o.bottleneck, "bottleneck");
  const P = positiveInt(o.prefixLength, "prefixLength");
  if (!Array.isArray(o.loraTargets) || o.loraTargets.length === 0)
    throw new LoraError("peftFamilyTable: loraTargets must be a non-empty list of module names");
  const C = cfg.hiddenSize;
  const M = cfg.intermediateSize;
  const L = cfg.numHiddenLayers;
  const base = countParameters(cfg).total;
  const row = (method: string, trains: string, n: number, inference: string, mergeable: string): PeftFamilyRow => ({
    method,
    trains,
    trainable: n,
    percent: (100 * n) / base,
    inference,
    mergeable,
  });
  return [
    row(
      "full fine-tuning",
      "every weight and bias",
      base,
      "same as the base",
      "it is a new model (a full copy per task)",
    ),
    row(
      `adapters (Houlsby, m=${m})`,
      "2 new bottleneck MLPs per block, in series after attention and after the MLP",
      L * 2 * (2 * C * m + m + C),
      "2 extra small layers per block, in series: slower",
      "no (a non-linearity sits between down and up)",
    ),
    row(
      `prefix tuning (P=${P})`,
      `${P} trained key/value vectors per block, prepended in every attention`,
      L * 2 * P * C,
      `${P} more positions to attend to in every block`,
      "no",
    ),
    row(
      `prompt tuning (P=${P})`,
      `${P} trained input embeddings ("soft prompt")`,
      P * C,
      `${P} more tokens in every prompt`,
      "no",
    ),
    row(
      "(IA)³",
      "vectors rescaling keys, values and the MLP's hidden units",
      L * (2 * C + M),
      "elementwise products (or nothing, once folded)",
      "yes (into the key/value and MLP weights)",
    ),
    row(
      "BitFit",
      "the existing biases of dense layers and LayerNorms; no new values",
      bitFitParameterCount(cfg).trainable,
      "same as the base",
      "nothing to merge: they are the model's own biases",
    ),
    row(
      `LoRA (r=${r}, ${o.loraTargets.join("+")})`,
      "low-rank B·A beside the chosen dense weights",
      loraParameterCount(cfg, { r, targetModules: o.loraTargets }).trainable,
      "2 thin matmuls per adapted layer, or nothing once merged",
      "yes: W + (alpha/r)·B·A",
    ),
  ];
}
