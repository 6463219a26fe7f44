/**
 * LoRA for the course's GPT-NeoX: layers, named adapters, training, merge/unmerge, PEFT files, counts; BitFit
 * (train the biases only) and the PEFT family's parameter counts next to it.
 * Attaching an adapter for a training run is the pipeline's (src/pipeline/adapters.ts); notebook 06's
 * demos, figures and measurements are the course's (src/course/lora/).
 *
 * @example
 * import { LoraModel, loraTrainable, saveAdapter, loadAdapter } from "./lora";
 * LoraModel.of(model).addAdapter("customerA", { r: 8, alpha: 16 });
 * await train(loraTrainable(model, "customerA"), examples, { lr: 1e-3, numSteps: 50 });
 * await saveAdapter(model, "out/customerA", "customerA");   // adapter_config.json + adapter_model.safetensors
 */
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
export {
  bitFitTrainable,
  bitFitParameterCount,
  bitFitParameterNames,
  BitFitLinear,
  DEFAULT_BITFIT_OPTIONS,
} from "./bitfit";
export type { BitFitOptions, BitFitParameterCount } from "./bitfit";
export { peftFamilyTable, DEFAULT_PEFT_FAMILY } from "./family";
export type { PeftFamilyOptions, PeftFamilyRow } from "./family";
export { generateWithAdapter } from "./serve";
