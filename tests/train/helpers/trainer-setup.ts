// Shared small training configs for the trainer tests (the child crash script uses the same one).
import type { TrainConfig } from "../../../src/train/config";

export const BASE_CONFIG: Partial<TrainConfig> = {
  lr: 0.05,
  numSteps: 6,
  batchSize: 2,
  gradAccumSteps: 2,
  maxLength: 8,
  warmupSteps: 2,
  schedule: "cosine",
  weightDecay: 0.01,
  maxGradNorm: 1.0,
  seed: 11,
};

export const CRASH_CONFIG: Partial<TrainConfig> = { ...BASE_CONFIG, numSteps: 6, checkpointEvery: 2 };
