/**
 * LoRA for the course's GPT-NeoX: layers, named adapters, training, merge/unmerge, PEFT files, counts,
 * memory and latency measurements.
 *
 * @example
 * import { LoraModel, loraTrainable, saveAdapter, loadAdapter } from "./lora";
 * LoraModel.of(model).addAdapter("customerA", { r: 8, alpha: 16 });
 * await train(loraTrainable(model, "customerA"), examples, { lr: 1e-3, numSteps: 50 });
 * await saveAdapter(model, "out/customerA", "customerA");   // adapter_config.json + adapter_model.safetensors
 */
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import type { TrainableModel } from "../train/types";
import type { LoraConfig } from "./config";
import { LoraModel } from "./model";
import { saveAdapter } from "./peft";
import { loraTrainable } from "./trainable";

export {
  DEFAULT_LORA_CONFIG,
  LoraError,
  resolveLoraConfig,
  loraScaling,
  matchesTarget,
  selectTargets,
  linearShapes,
  layerIndexOf,
} from "./config";
export type { LoraConfig } from "./config";
export { LoraLinear, kaimingUniformA } from "./layer";
export type { LoraAdapter } from "./layer";
export { LoraModel } from "./model";
export type { AdapterInfo, AddAdapterOptions, AdapterSelection } from "./model";
export { loraTrainable, FrozenLinear, withFrozenBase } from "./trainable";
export {
  saveAdapter,
  loadAdapter,
  toPeftConfig,
  fromPeftConfig,
  peftConfigText,
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
} from "./peft";
export type { LoadAdapterOptions } from "./peft";
export { loraParameterCount, loraCountTable } from "./counts";
export type { LoraParameterCount, LoraCountRow } from "./counts";
export { parseLoraSpec } from "./spec";
export { generateWithAdapter } from "./serve";

/** The CLI hook's spec (src/eval/adapters.ts `LoraSpec`): `targets` stands for `targetModules`. */
export interface ApplyLoraSpec extends Partial<LoraConfig> {
  targets?: string[];
}

/**
 * Add a fresh adapter and return what the trainer trains and how to save it (the hook behind
 * `tunebook train --lora r=8,alpha=16`).
 *
 * @example
 * const { trainable, save } = applyLora(model, { r: 8, alpha: 16 });
 * await train(trainable, examples, { numSteps: 50 });
 * await save("out/adapter");
 */
export function applyLora(
  model: GPTNeoXForCausalLM,
  spec: ApplyLoraSpec = {},
  opts: { name?: string; seed?: number; baseModelNameOrPath?: string } = {},
): { name: string; trainable: TrainableModel; save(dir: string): Promise<void> } {
  const { targets, ...rest } = spec;
  const name = opts.name ?? "default";
  const cfg: Partial<LoraConfig> = { ...rest, ...(targets ? { targetModules: targets } : {}) };
  if (opts.baseModelNameOrPath !== undefined) cfg.baseModelNameOrPath = opts.baseModelNameOrPath;
  LoraModel.of(model).addAdapter(name, cfg, { seed: opts.seed ?? 0 });
  return { name, trainable: loraTrainable(model, name), save: (dir: string) => saveAdapter(model, dir, name) };
}
export { measureStepMemory, measureStepMemoryInChild, compareWithSizing, DEFAULT_STEP_MEMORY } from "./memory";
export type { StepMemory, StepMemoryOptions, ChildSpec, MemoryComparisonRow } from "./memory";
export { benchLoraLatency, DEFAULT_LORA_LATENCY } from "./bench";
export type { LoraLatency, LoraLatencyOptions } from "./bench";
export { loraDiagram, loraCountsChart, lossCurvesChart, memoryChart, memoryTable } from "./figures";
export type { LoraFigure } from "./figures";
export { CUSTOMER_DEMO, qaPrompt, qaExamples, askEachAdapter, fullVsLora, verifyMerge, isPlainModel } from "./demo";
export type { RunResult, MergeCheck } from "./demo";
