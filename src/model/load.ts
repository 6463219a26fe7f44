/**
 * Loading a `GPTNeoXForCausalLM` as functions: from a local folder or file (`loadPretrained`) or from HF-named
 * tensors (`modelFromTensors`), and the weight readers and writers of weights.ts under the names callers use.
 */
import { GPTNeoXForCausalLM } from "./gptneox";
import type { GPTNeoXConfig } from "./config";
import type { SafeTensor } from "./safetensors";

export {
  CheckpointError,
  findNonFinite,
  LEGACY_BUFFER_SUFFIXES,
  type ModelWeights,
  modelStateDict,
  modelStateDictAsync,
  type NonFiniteWeight,
  paramsFromTensors,
  readConfigFile,
  readPretrained,
  rotaryInvFreq,
  type SaveOptions,
  savedTensors,
  saveModel,
} from "./weights";

/**
 * Build a model from HF-named tensors (e.g. from `loadCheckpointTensors`). Every expected tensor must be present
 * with its shape and a float dtype (F16/BF16/F64 are held as float32); any missing, unexpected or mis-shaped
 * tensor is reported, all together, in one CheckpointError naming `source`.
 *
 * @example
 * const model = modelFromTensors(cfg, (await readSafetensorsFile("A/model.safetensors")).tensors, "A/model.safetensors");
 */
export function modelFromTensors(
  config: GPTNeoXConfig,
  tensors: Map<string, SafeTensor>,
  source = "checkpoint",
): GPTNeoXForCausalLM {
  return GPTNeoXForCausalLM.fromTensors(config, tensors, source);
}

/**
 * Load a model from a local folder (`config.json` + `model.safetensors`, or a sharded
 * `model.safetensors.index.json`) or from a `.safetensors` file next to its `config.json`.
 *
 * @example
 * const model = await loadPretrained("/path/to/pythia-70m");
 */
export function loadPretrained(dirOrFile: string): Promise<GPTNeoXForCausalLM> {
  return GPTNeoXForCausalLM.fromPretrained(dirOrFile);
}
