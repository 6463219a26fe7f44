/**
 * Measured scaling across backends and model sizes (notebook 05): measure the same training step on the
 * active backend, fit step time ∝ P^k, extrapolate, estimate on catalog GPUs with the sizing calculator,
 * show recorded GPU numbers from other machines (the course's task placement is src/course/gpu-scaling.ts).
 *
 * @example
 * import { measureScaling, fitStepTime } from "./scaling";
 * const r = await measureScaling({ sizes: ["14m", "31m"], timedSteps: 1 });
 * fitStepTime(r.rows).exponent;
 */
export { measureScaling, resolveScalingModel, median, DEFAULT_SCALING_OPTIONS } from "./measure";
export type { ScalingOptions, ScalingRow, ScalingResult, ScalingProgress, ScalingModel } from "./measure";
export { asyncTrainStep, pairwiseSum } from "./async-step";
export {
  fitPowerLaw,
  predictPowerLaw,
  extrapolate,
  fitStepTime,
  gpuStepEstimates,
  measuredMfu,
  recordedVsEstimate,
  DEFAULT_GPU_ESTIMATE,
} from "./fit";
export type { PowerLawFit, Extrapolation, GpuEstimateOptions, GpuStepEstimate, RecordedVsEstimate } from "./fit";
export {
  loadRecordings,
  validateRecording,
  recordedDir,
  recordedRows,
  RecordingError,
  RECORD_FORMAT,
  RECORD_VERSION,
} from "./recorded";
export type { Recording, RecordedRow } from "./recorded";
export { backendRows, scalingTableRows, recordedTableRows, scalingChart } from "./report";
export type { ScalingChartOptions } from "./report";
