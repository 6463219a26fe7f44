/**
 * Notebook 06 (LoRA): the customer demo, the figures, and the memory and latency measurements that exist only
 * for the course. The LoRA layers themselves are src/lora/.
 */
export { measureStepMemory, measureStepMemoryInChild, compareWithSizing, DEFAULT_STEP_MEMORY } from "./memory";
export type { StepMemory, StepMemoryMode, StepMemoryOptions, ChildSpec, MemoryComparisonRow } from "./memory";
export { benchLoraLatency, DEFAULT_LORA_LATENCY } from "./bench";
export type { LoraLatency, LoraLatencyOptions } from "./bench";
export { loraDiagram, loraCountsChart, lossCurvesChart, memoryChart, memoryTable } from "./figures";
export type { LoraFigure } from "./figures";
export {
  CUSTOMER_DEMO,
  CUSTOMER_TOPICS,
  CUSTOMER_HELD_OUT,
  qaPrompt,
  qaExamples,
  askEachAdapter,
  askHeldOut,
  heldOutVerdict,
  heldOutScore,
  heldOutSummary,
  fullVsLora,
  verifyMerge,
  isPlainModel,
} from "./demo";
export type { RunResult, MergeCheck, CustomerTopic, HeldOutRow, HeldOutVerdict } from "./demo";
export { trainAndScore, likelihoodAccuracy, peftLabel, DEFAULT_PEFT_RECIPE } from "./peft-compare";
export type { PeftMethodSpec, PeftRecipe, PeftRow } from "./peft-compare";
export {
  loadPeftRecords,
  validatePeftRecord,
  peftRecordsDir,
  peftGroups,
  peftTable,
  peftFigure,
  peftVerdict,
  peftVerdictMarkdown,
  PeftRecordError,
  PEFT_RECORD_FORMAT,
  PEFT_RECORD_VERSION,
} from "./peft-records";
export type { PeftRecord, PeftMemory, PeftGroup, PeftVerdict } from "./peft-records";
