/**
 * Notebook 06 (LoRA): the customer demo, the figures, and the memory and latency measurements that exist only
 * for the course. The LoRA layers themselves are src/lora/.
 */
export { measureStepMemory, measureStepMemoryInChild, compareWithSizing, DEFAULT_STEP_MEMORY } from "./memory";
export type { StepMemory, StepMemoryOptions, ChildSpec, MemoryComparisonRow } from "./memory";
export { benchLoraLatency, DEFAULT_LORA_LATENCY } from "./bench";
export type { LoraLatency, LoraLatencyOptions } from "./bench";
export { loraDiagram, loraCountsChart, lossCurvesChart, memoryChart, memoryTable } from "./figures";
export type { LoraFigure } from "./figures";
export { CUSTOMER_DEMO, qaPrompt, qaExamples, askEachAdapter, fullVsLora, verifyMerge, isPlainModel } from "./demo";
export type { RunResult, MergeCheck } from "./demo";
