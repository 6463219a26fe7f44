/**
 * The pipeline: what the CLI and the notebooks call to run the fine-tuning loop end to end. Load a model
 * (`loadModel`: the embedded default, a folder or a hub id) and a task (`loadTask`), attach LoRA
 * (`attachLora`/`applyLora`), fine-tune (`fineTune`, on a `cloneModel` copy to keep the base), sweep the data
 * size (`dataSizeSweep`), and save the result (`saveFineTuned`).
 *
 * @example
 * import { loadModel, loadTask, fineTune, saveFineTuned } from "./pipeline";
 * const { model, tokenizer, dir } = await loadModel("default");
 * const task = await loadTask({ data: "docs-qa" });
 * await fineTune(model, tokenizer, task.template, task.records, { numSteps: 50 });
 * await saveFineTuned(model, dir, "runs/docs-qa");
 */
export {
  DEFAULT_MODEL,
  PYTHIA_70M,
  defaultModelDir,
  resolveModel,
  loadModel,
  loadModelMaybeTokenizer,
  loadTokenizerFrom,
  loadConfig,
  courseModelId,
} from "./pretrained";
export type { LoadModelOptions, LoadedModel } from "./pretrained";
export { loadTask, TaskError, TEMPLATE_NAMES } from "./task";
export type { TaskSpec, Task } from "./task";
export { fineTune, cloneModel, fineTuneAndEvaluate } from "./finetune";
export type { FineTuneOptions, FineTuneResult, TrialResult } from "./finetune";
export {
  applyLora,
  parseLoraOption,
  loadAdapterInto,
  attachLora,
  disposeModel,
  AdapterSupportError,
} from "./adapters";
export type { ApplyLoraSpec, LoraSpec, LoraAttachment } from "./adapters";
export {
  dataSizeSweep,
  DEFAULT_SWEEP_OPTIONS,
  dataSizeCurve,
  curveSteps,
  curveSubset,
  DEFAULT_CURVE_OPTIONS,
} from "./sweep";
export type { SweepOptions, SweepRow, CurveOptions, CurveRow } from "./sweep";
export { trainVariants } from "./variants";
export type { VariantOptions, VariantResult } from "./variants";
export { saveFineTuned, saveTrained, copyTokenizerFiles, SaveWriteError, TOKENIZER_FILES } from "./save";
export type { SaveFineTunedOptions, SavedFile } from "./save";
