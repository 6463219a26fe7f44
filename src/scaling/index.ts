/**
 * Measured scaling across backends and model sizes (notebook 05): measure the same training step on the
 * active backend, fit step time ∝ P^k, extrapolate, estimate on catalog GPUs with the sizing calculator,
 * show recorded GPU numbers from other machines, and place tasks against model size.
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
export { TASK_PLACEMENT, TASK_SOURCE, taskPlacementChart } from "./tasks";
export type { TaskPlacement, TaskKind } from "./tasks";
export { backendRows, scalingTableRows, recordedTableRows, scalingChart } from "./report";
export type { ScalingChartOptions } from "./report";
