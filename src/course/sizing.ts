/**
 * Notebook 07 (compute sizing): the course's "model sizes × compute" slide (AWS instances: one V100 16 GB runs
 * 7B for inference and 1B for training; the multi-GPU rows) recomputed with the calculator (src/sizing/).
 */
import type { JobOptions } from "../sizing/estimate";
import { DEFAULT_FIT_JOBS, maxParamsFor } from "../sizing/fit";
import { getGpu } from "../sizing/gpus";
import { formatParams } from "../sizing/units";

/** One row of the course slide. */
export interface CourseRow {
  instance: string;
  gpus: number;
  gpuId: string;
  gpuMemory: string;
  inferenceParams: number;
  trainParams: number;
}

/**
 * The course slide "Model sizes × compute" as transcribed. Only the first row (one V100 16 GB: 7B
 * inference, 1B training) is spelled out in the course's text; the other rows are read off the slide.
 */
export const COURSE_TABLE: readonly CourseRow[] = Object.freeze([
  { instance: "p3.2xlarge", gpus: 1, gpuId: "v100-16gb", gpuMemory: "16GB", inferenceParams: 7e9, trainParams: 1e9 },
  { instance: "p3.8xlarge", gpus: 4, gpuId: "v100-16gb", gpuMemory: "64GB", inferenceParams: 7e9, trainParams: 1e9 },
  { instance: "p3.16xlarge", gpus: 8, gpuId: "v100-16gb", gpuMemory: "128GB", inferenceParams: 7e9, trainParams: 1e9 },
  {
    instance: "p3dn.24xlarge",
    gpus: 8,
    gpuId: "v100-32gb",
    gpuMemory: "256GB",
    inferenceParams: 14e9,
    trainParams: 2e9,
  },
  {
    instance: "p4d.24xlarge",
    gpus: 8,
    gpuId: "a100-40gb",
    gpuMemory: "320GB HBM2",
    inferenceParams: 18e9,
    trainParams: 2.5e9,
  },
  {
    instance: "p4de.24xlarge",
    gpus: 8,
    gpuId: "a100-80gb",
    gpuMemory: "640GB HBM2e",
    inferenceParams: 32e9,
    trainParams: 5e9,
  },
]);

/** A course row next to the calculator's numbers. */
export interface CourseCheckRow extends CourseRow {
  /** Largest model on ONE of the instance's GPUs (what data parallelism allows). */
  calcInferencePerGpu: number;
  calcTrainPerGpu: number;
  /** Largest model with the weights split over all GPUs (tensor parallel) / ZeRO-3 over all GPUs. */
  calcInferenceSharded: number;
  calcTrainZero3: number;
}

/**
 * The course table recomputed: per GPU (every GPU holds the whole model, as in plain data-parallel
 * training and replicated serving) and sharded over all the instance's GPUs. The slide matches the
 * per-GPU column; no single formula of the instance's total memory gives its rows.
 *
 * @example
 * courseTableCheck()[0].calcInferencePerGpu; // ≈ 7e9
 */
export function courseTableCheck(job: Partial<JobOptions> = {}): CourseCheckRow[] {
  return COURSE_TABLE.map((row) => {
    const g = getGpu(row.gpuId);
    return {
      ...row,
      calcInferencePerGpu: maxParamsFor(g, { ...DEFAULT_FIT_JOBS.inference, ...job }),
      calcTrainPerGpu: maxParamsFor(g, { ...DEFAULT_FIT_JOBS.train, ...job }),
      calcInferenceSharded: maxParamsFor(g, { ...DEFAULT_FIT_JOBS.inference, ...job, gpus: row.gpus }),
      calcTrainZero3: maxParamsFor(g, {
        ...DEFAULT_FIT_JOBS.train,
        ...job,
        gpus: row.gpus,
        zero: row.gpus > 1 ? 3 : 0,
      }),
    };
  });
}

/**
 * The course table next to the calculator, formatted for `show(table(...))`.
 *
 * @example
 * show(table(courseTableRows()));
 */
export function courseTableRows(rows: CourseCheckRow[] = courseTableCheck()): Record<string, string>[] {
  return rows.map((r) => ({
    instance: r.instance,
    GPUs: `${r.gpus} × ${r.gpuId}`,
    "slide: inference": formatParams(r.inferenceParams),
    "slide: training": formatParams(r.trainParams),
    "calc, one GPU: inference": formatParams(r.calcInferencePerGpu),
    "calc, one GPU: training": formatParams(r.calcTrainPerGpu),
    "calc, split over all: inference": formatParams(r.calcInferenceSharded),
    "calc, ZeRO-3 over all: training": formatParams(r.calcTrainZero3),
  }));
}
