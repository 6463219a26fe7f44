/**
 * Learning-rate schedules as pure functions of the step, with Hugging Face's semantics
 * (`transformers.optimization`: `get_constant_schedule_with_warmup`, `get_linear_schedule_with_warmup`,
 * `get_cosine_schedule_with_warmup` with `num_cycles = 0.5`).
 *
 * `step` counts optimizer updates already done (0-based), exactly like HF's `LambdaLR` after `step` calls to
 * `scheduler.step()`: update number k (1-based) uses `lrAt(k - 1)`. So with warm-up the first update runs at
 * lr 0, and the linear schedule reaches 0 at `step = numSteps`.
 *
 * - constant: `step < warmupSteps ? step / warmupSteps : 1` (× lr)
 * - linear:   warm-up as above, then `max(0, (numSteps - step) / max(1, numSteps - warmupSteps))`
 * - cosine:   warm-up as above, then `max(0, 0.5 · (1 + cos(π · progress)))`,
 *             `progress = (step - warmupSteps) / max(1, numSteps - warmupSteps)`
 */

export const SCHEDULES = ["constant", "linear", "cosine"] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface ScheduleConfig {
  /** Peak learning rate. */
  lr: number;
  /** Total optimizer updates the decay is spread over. */
  numSteps: number;
  /** Linear warm-up from 0 over this many updates. */
  warmupSteps: number;
  schedule: ScheduleName;
}

/**
 * The multiplier (0..1) applied to the peak learning rate after `step` updates.
 * @example
 * lrMultiplier(55, { numSteps: 100, warmupSteps: 10, schedule: "linear" }); // 0.5
 */
export function lrMultiplier(step: number, c: Omit<ScheduleConfig, "lr">): number {
  if (step < c.warmupSteps) return step / Math.max(1, c.warmupSteps);
  if (c.schedule === "constant") return 1;
  const span = Math.max(1, c.numSteps - c.warmupSteps);
  if (c.schedule === "linear") return Math.max(0, (c.numSteps - step) / span);
  const progress = (step - c.warmupSteps) / span;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * The learning rate for the update that follows `step` completed updates.
 * @example
 * lrAt(0, { lr: 1e-3, numSteps: 100, warmupSteps: 10, schedule: "cosine" });  // 0 (first update of the warm-up)
 * lrAt(10, { lr: 1e-3, numSteps: 100, warmupSteps: 10, schedule: "cosine" }); // 1e-3 (peak)
 */
export function lrAt(step: number, c: ScheduleConfig): number {
  return c.lr * lrMultiplier(step, c);
}

/** Check a schedule config; returns a message naming the bad field, or undefined. */
export function scheduleProblem(c: Partial<ScheduleConfig>): string | undefined {
  if (!SCHEDULES.includes(c.schedule as ScheduleName))
    return `schedule: expected one of ${SCHEDULES.join(", ")}, found ${JSON.stringify(c.schedule)}`;
  if (!(typeof c.lr === "number" && Number.isFinite(c.lr) && c.lr >= 0))
    return `lr: expected a finite number ≥ 0, found ${JSON.stringify(c.lr)}`;
  if (!(Number.isInteger(c.warmupSteps) && c.warmupSteps! >= 0))
    return `warmupSteps: expected an integer ≥ 0, found ${JSON.stringify(c.warmupSteps)}`;
  if (!(Number.isInteger(c.numSteps) && c.numSteps! >= 1))
    return `numSteps: expected an integer ≥ 1, found ${JSON.stringify(c.numSteps)}`;
  return undefined;
}
