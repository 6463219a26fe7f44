/**
 * Compute sizing: memory and time of inference, full training, LoRA and QLoRA for any model shape, on
 * any GPU of the catalog; "which model fits which GPU"; checks against published numbers.
 *
 * @example
 * import { estimateMemory, formatEstimate, gpuReport } from "./sizing";
 * console.log(formatEstimate(estimateMemory("llama-2-7b", { job: "lora" }, "a10g-24gb")));
 * gpuReport("v100-16gb").maxParams; // { inference: ≈7e9, train: ≈1e9, ... }
 */
export {
  SizingError,
  DTYPES,
  BYTES_PER_PARAM,
  GIB,
  MAX_PARAMS,
  parseDtype,
  parseParamCount,
  formatGiB,
  formatParams,
} from "./units";
export type { Dtype } from "./units";
export {
  makeShape,
  shapeFromGPTNeoX,
  shapeFromHFConfig,
  shapeFromParams,
  targetLinears,
  DEFAULT_ASSUMED_SHAPE,
} from "./shape";
export type { ModelShape, ShapeDims, LinearShape } from "./shape";
export { modelShape, loadModelShape, knownModelNames, REFERENCE_MODELS } from "./models";
export {
  weightBytes,
  kvCacheBytes,
  activationBytesFor,
  trainingBytesPerParam,
  qloraBaseBytes,
  loraParams,
  flopsPerToken,
  NF4_BITS_PER_PARAM,
  OPTIMIZERS as SIZING_OPTIMIZERS,
  CONVENTIONS,
  RECOMPUTE,
} from "./formulas";
export type { Term, SizingOptimizer, Convention, Precision, Recompute, PerParamBytes } from "./formulas";
export { GPU_CATALOG, THIS_MACHINE, thisMachine, gpuIds, getGpu, usableBytes, peakTflops } from "./gpus";
export type { Gpu } from "./gpus";
export { estimateMemory, resolveJob, defaultLoraTargets, DEFAULT_JOB, JOBS, BREAKDOWN_PARTS } from "./estimate";
export type { Job, JobOptions, Breakdown, SizingResult, ComputeEstimate } from "./estimate";
export { maxParamsFor, gpuReport, gpuReportRows, fitMatrix, sizingPlan, DEFAULT_FIT_JOBS } from "./fit";
export type { GpuReport, FitCell, PlanRow } from "./fit";
export {
  LORA_PAPER_GPT3,
  loraPaperCheck,
  loraPaperRows,
  kvBytesPerToken,
  kvCacheRows,
  compareToMeasured,
} from "./references";
export type { LoraPaperCheck, Measurement, MeasurementError } from "./references";
export {
  formatEstimate,
  breakdownRows,
  estimateJson,
  breakdownChart,
  fitHeatmap,
  maxParamsChart,
  gpuCatalogRows,
  comparisonRows,
} from "./report";
export type { FigureSpec } from "./report";
