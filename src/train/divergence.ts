/**
 * When a run has diverged: a non-finite loss or gradient norm at once; an exploding loss once it has stayed
 * above `factor` × its running minimum (and above `floor`) for `patience` updates in a row.
 *
 * The running minimum is that of the loss smoothed over updates (a bias-corrected exponential moving average,
 * weight 0.9, as TensorBoard smooths a curve), so one lucky batch does not set the bar; each update's own loss is
 * compared with it, so one hard batch is forgiven as soon as the next is normal. A monitor's state follows from
 * the loss history alone: a resumed run replays `lossHistory` and continues exactly where it was.
 *
 * What the trainer does with it (trainer.ts): stop with a `TrainingDivergedError`, and save no checkpoint while
 * the loss is above the bar, so the last checkpoint is always one taken while the run was healthy.
 */

/** The explosion test (non-finite losses always stop a run). */
export interface DivergenceConfig {
  /** A loss above `factor` × the running minimum counts as exploded; 0 turns the explosion test off. */
  factor: number;
  /** Updates in a row above the bar before the run stops. */
  patience: number;
  /** Losses at or below this never count as exploded (in the loss's units: nats for cross-entropy). */
  floor: number;
}

export const DEFAULT_DIVERGENCE: DivergenceConfig = {
  factor: 4, // healthy runs' losses fall and batch noise rarely quadruples one; an exploding run grows by orders of magnitude
  patience: 5, // one bad batch (or a few) is not a trend; five in a row costs little before the stop
  floor: 1, // a run that fits its data to 0.01 is not diverging when a batch scores 0.05
};

/** Weight of the previous value in the smoothed loss. */
const SMOOTHING = 0.9;

/** What one update's loss says. */
export interface DivergenceVerdict {
  /** Loss or gradient norm NaN/±Infinity. */
  nonFinite: boolean;
  /** This loss is above the bar (`exploded` or not yet). */
  above: boolean;
  /** Updates in a row above the bar, this one included. */
  streak: number;
  /** The streak has reached `patience`: stop. */
  diverged: boolean;
  /** The bar this loss was compared with: max(factor × running minimum, floor). */
  bar: number;
  /** The running minimum of the smoothed loss (before this update). */
  runningMin: number;
}

/**
 * Feed it each update's loss; it says when to stop.
 * @example
 * const m = new DivergenceMonitor({ factor: 4, patience: 2, floor: 1 });
 * m.observe(3, 1).diverged;   // false
 * m.observe(50, 1).diverged;  // false (one step above 12)
 * m.observe(80, 1).diverged;  // true
 */
export class DivergenceMonitor {
  private ema = 0;
  private n = 0;
  /** Lowest smoothed loss so far (Infinity before the first update). */
  runningMin = Infinity;
  /** Updates in a row above the bar. */
  streak = 0;

  constructor(readonly config: DivergenceConfig = DEFAULT_DIVERGENCE) {}

  /** The bar the next loss is compared with. */
  get bar(): number {
    return Math.max(this.config.factor * this.runningMin, this.config.floor);
  }

  /** Judge one update's loss (and gradient norm), then fold the loss into the running minimum. */
  observe(loss: number, gradNorm = 0): DivergenceVerdict {
    const runningMin = this.runningMin;
    const bar = this.bar;
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm))
      return { nonFinite: true, above: true, streak: this.streak, diverged: true, bar, runningMin };
    const above = this.config.factor > 0 && this.n > 0 && loss > bar;
    this.streak = above ? this.streak + 1 : 0;
    this.n++;
    this.ema = SMOOTHING * this.ema + (1 - SMOOTHING) * loss;
    const smoothed = this.ema / (1 - SMOOTHING ** this.n);
    if (Number.isFinite(smoothed)) this.runningMin = Math.min(this.runningMin, smoothed);
    return {
      nonFinite: false,
      above,
      streak: this.streak,
      diverged: above && this.streak >= this.config.patience,
      bar,
      runningMin,
    };
  }

  /** Start over and replay a loss history (what a resumed run does). */
  replay(losses: readonly number[]): void {
    this.ema = 0;
    this.n = 0;
    this.runningMin = Infinity;
    this.streak = 0;
    for (const l of losses) if (Number.isFinite(l)) this.observe(l);
  }
}

/**
 * Check a `divergence` setting merged over the defaults; returns the problem (field and what was expected) or
 * undefined.
 * @example
 * divergenceProblem({ factor: 1, patience: 5, floor: 1 }); // "divergence.factor: expected 0 (off) or a number > 1, found 1"
 */
export function divergenceProblem(d: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(d).filter((k) => !(k in DEFAULT_DIVERGENCE));
  if (unknown.length)
    return `divergence: unknown field(s) ${unknown.join(", ")} (known: ${Object.keys(DEFAULT_DIVERGENCE).join(", ")})`;
  const f = d.factor;
  if (typeof f !== "number" || !Number.isFinite(f) || !(f === 0 || f > 1))
    return `divergence.factor: expected 0 (off) or a finite number > 1, found ${JSON.stringify(f)}`;
  if (!Number.isInteger(d.patience) || (d.patience as number) < 1)
    return `divergence.patience: expected an integer ≥ 1, found ${JSON.stringify(d.patience)}`;
  if (typeof d.floor !== "number" || !Number.isFinite(d.floor) || d.floor < 0)
    return `divergence.floor: expected a finite number ≥ 0, found ${JSON.stringify(d.floor)}`;
  return undefined;
}
