/**
 * How many parameters LoRA trains, from a config alone (no weights): `r·(in + out)` per targeted dense layer
 * (A `[r, in]` + B `[out, r]`), against the base's total — what PEFT's `print_trainable_parameters` prints.
 */
import type { GPTNeoXConfig } from "../model/config";
import { countParameters } from "../model/presets";
import { type LoraConfig, linearShapes, resolveLoraConfig, selectTargets } from "./config";

/** Trainable vs total parameters of a LoRA setup. */
export interface LoraParameterCount {
  /** A and B values over every targeted layer. */
  trainable: number;
  /** The frozen base model's parameters. */
  base: number;
  /** base + trainable (PEFT's "all params"). */
  total: number;
  /** trainable / total. */
  ratio: number;
  /** base / trainable: how many times fewer parameters are trained. */
  reduction: number;
  /** Targeted module names. */
  modules: string[];
}

/**
 * Count LoRA's trainable parameters for a config and LoRA settings.
 *
 * @example
 * loraParameterCount(getPreset("pythia-70m"), { r: 8 }).trainable; // 98304 = 6 · 8 · (512 + 1536)
 */
export function loraParameterCount(cfg: GPTNeoXConfig, lora: Partial<LoraConfig> = {}): LoraParameterCount {
  const c = resolveLoraConfig(lora);
  const shapes = linearShapes(cfg);
  const modules = selectTargets([...shapes.keys()], c);
  let trainable = 0;
  for (const m of modules) {
    const s = shapes.get(m)!;
    trainable += c.r * (s.in + s.out);
  }
  const base = countParameters(cfg).total;
  const total = base + trainable;
  return { trainable, base, total, ratio: trainable / total, reduction: base / trainable, modules };
}

/** One row of `loraCountTable`. */
export interface LoraCountRow {
  model: string;
  r: number;
  targets: string;
  base: number;
  trainable: number;
  percent: number;
}

/**
 * Trainable parameters across models and ranks (for a log-scale chart or a table).
 *
 * @example
 * loraCountTable({ "pythia-70m": getPreset("pythia-70m") }, [4, 8], ["query_key_value"]).length; // 2
 */
export function loraCountTable(
  models: Record<string, GPTNeoXConfig>,
  ranks: readonly number[],
  targetModules: string[] | string = ["query_key_value"],
): LoraCountRow[] {
  const rows: LoraCountRow[] = [];
  for (const [model, cfg] of Object.entries(models)) {
    for (const r of ranks) {
      const n = loraParameterCount(cfg, { r, targetModules });
      rows.push({
        model,
        r,
        targets: Array.isArray(targetModules) ? targetModules.join("+") : targetModules,
        base: n.base,
        trainable: n.trainable,
        percent: 100 * n.ratio,
      });
    }
  }
  return rows;
}
