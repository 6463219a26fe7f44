/**
 * Measured scaling across backends and model sizes (notebook 05): measure the same training step on the
 * active backend, turn every source (live run, CPU records, GPU records, the calculator's estimates) into
 * tokens/s and achieved FLOP/s (6·N·tokens/s) at a stated batch shape, fit tokens/s ∝ P^k with its quality
 * (R², residuals, leave-one-out, 95% prediction intervals) and extrapolate (the course's figures and tables
 * are src/course/gpu-scaling.ts).
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
export { flopParamCount, stepSpread, throughputPoint } from "./throughput";
export type { StepSpread, PointSource, ThroughputPoint, ThroughputInput } from "./throughput";
export { fitPowerLawQuality, predictWithInterval, t95 } from "./fit";
export type { PowerLawQuality, PowerLawPrediction, FitResidual } from "./fit";
export { thisMachine, livePoints, gpuRecordPoints, estimatePoints, fitThroughput } from "./points";
export type { ThroughputStat } from "./points";
export {
  loadCpuRecords,
  validateCpuRecord,
  cpuRecordedDir,
  cpuRecordPoints,
  CpuRecordError,
  CPU_RECORD_FORMAT,
  CPU_RECORD_VERSION,
} from "./cpu-records";
export type { CpuRecord, CpuRecordRow } from "./cpu-records";
