/** `tunebook/model`: GPT-NeoX in TensorFlow.js, configs and presets, safetensors, loss, generation, scoring. */
export {
  parseSafetensors,
  serializeSafetensors,
  readSafetensorsFile,
  writeSafetensorsFile,
  readSafetensorsHeader,
  loadCheckpointTensors,
  SafetensorsError,
} from "./safetensors";
export type { SafeTensor, SafetensorsDType, SafetensorsContents } from "./safetensors";
export {
  configFromHF,
  configToHF,
  makeConfig,
  validateConfig,
  headDim,
  rotaryDims,
  ConfigError,
  DEFAULT_GPTNEOX_CONFIG,
  HIDDEN_ACTS,
} from "./config";
export type { GPTNeoXConfig, HiddenAct } from "./config";
export { PYTHIA_PRESETS, PRESET_NAMES, getPreset, findPreset, countParameters } from "./presets";
export type { ParameterCount } from "./presets";
export { GPTNeoXForCausalLM } from "./gptneox";
export type { ForwardOptions, ForwardOutput } from "./gptneox";
export {
  loadPretrained,
  saveModel,
  modelFromTensors,
  modelStateDict,
  modelStateDictAsync,
  readConfigFile,
  CheckpointError,
} from "./load";
export { KVCache } from "./kvcache";
export { causalLMLoss, tokenLogProbs, countLossTokens } from "./loss";
export { generate, generateDetailed, DEFAULT_GENERATE_OPTIONS } from "./generate";
export type { GenerateOptions, GenerateResult, FinishReason } from "./generate";
export { DEFAULT_SAMPLING } from "./sampling";
export type { SamplingOptions } from "./sampling";
export { scoreSequence } from "./score";
export type { SequenceScore } from "./score";
export { Linear, LayerNorm, embedding, activation } from "./layers";
export type { LinearLike } from "./layers";
export { parameterShapes, blockLinearNames } from "./gptneox";
export type { SaveOptions } from "./load";
export { nextToken } from "./sampling";
export { LocalGenerator, DEFAULT_LOCAL_GENERATION } from "./local-generator";
export type { LocalGenerationOptions } from "./local-generator";
export { withTransposedWeights } from "../kernels/linear";
export { IGNORE_INDEX } from "../types/example";
