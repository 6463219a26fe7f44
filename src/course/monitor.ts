/**
 * The notebook's view of a training run: a loss chart that grows in place (train loss per update, eval loss
 * when the trainer evaluates) and a progress bar with the loss, tokens/s and the time left — both hung on
 * the trainer's callbacks. Outside a kernel the bar prints a text line now and then and the chart prints
 * its final state once. Pass `monitor.callbacks` to `fineTune`/`Trainer`, call `monitor.done()` after.
 */
import { liveChart, progress, type LiveChart, type Progress } from "../display/live";
import type { EvalInfo, StepInfo, TrainCallbacks } from "../train/config";

/** Options of `trainingMonitor`, merged over `DEFAULT_MONITOR_OPTIONS`. */
export interface MonitorOptions {
  /** Updates the run will do (the bar's total). */
  numSteps: number;
  /** The bar's label. */
  label: string;
  /** The chart's title. */
  title: string;
  /** Milliseconds between two in-place chart updates (a plotly re-render costs more than a bar's). */
  chartThrottleMs: number;
}

export const DEFAULT_MONITOR_OPTIONS: MonitorOptions = {
  numSteps: 1,
  label: "fine-tuning",
  title: "Loss while fine-tuning",
  chartThrottleMs: 1000, // a step takes about a second on 2 cores: one redraw per step at most
};

/** What `trainingMonitor` returns. */
export interface TrainingMonitor {
  callbacks: TrainCallbacks;
  chart: LiveChart;
  bar: Progress;
  /** Every update seen: step, loss, learning rate, tokens/s. */
  steps: Pick<StepInfo, "step" | "loss" | "lr" | "tokensPerSec" | "elapsed">[];
  evals: EvalInfo[];
  /** Final render of the chart and the bar. */
  done(): void;
}

/**
 * A live loss chart and a progress bar wired to the trainer's callbacks.
 * @example
 * const monitor = trainingMonitor({ numSteps: 60 });
 * await fineTune(model, tokenizer, ds.template, ds.train, { numSteps: 60 }, { callbacks: monitor.callbacks });
 * monitor.done();
 */
export function trainingMonitor(options: Partial<MonitorOptions> & { numSteps: number }): TrainingMonitor {
  const o: MonitorOptions = { ...DEFAULT_MONITOR_OPTIONS, ...options };
  if (!(Number.isInteger(o.numSteps) && o.numSteps >= 1))
    throw new RangeError(`trainingMonitor: numSteps must be a positive integer, found ${options.numSteps}`);
  const chart = liveChart({
    title: o.title,
    xLabel: "update (step)",
    yLabel: "loss (nats per answer token)",
    throttleMs: o.chartThrottleMs,
  });
  const bar = progress({ total: o.numSteps, label: o.label });
  const steps: TrainingMonitor["steps"] = [];
  const evals: EvalInfo[] = [];
  let finished = false;
  const callbacks: TrainCallbacks = {
    onStep(s: StepInfo) {
      steps.push({ step: s.step, loss: s.loss, lr: s.lr, tokensPerSec: s.tokensPerSec, elapsed: s.elapsed });
      chart.push("train loss", s.step, s.loss);
      bar.update(s.step, {
        loss: Number(s.loss.toFixed(3)),
        "tokens/s": Math.round(s.tokensPerSec),
        lr: Number(s.lr.toPrecision(2)),
      });
    },
    onEval(e: EvalInfo) {
      evals.push(e);
      chart.push("eval loss", e.step, e.evalLoss);
    },
  };
  return {
    callbacks,
    chart,
    bar,
    steps,
    evals,
    done() {
      if (finished) return;
      finished = true;
      const last = steps[steps.length - 1];
      bar.done(last ? { loss: Number(last.loss.toFixed(3)), "tokens/s": Math.round(last.tokensPerSec) } : undefined);
      chart.done();
    },
  };
}
