/**
 * Build the optimizer a `TrainConfig` names, checking its extra options against that optimizer's defaults.
 */
import type * as tf from "@tensorflow/tfjs";
import { AdamW, DEFAULT_ADAMW, type AdamWOptions } from "./adamw";
import { Adafactor, DEFAULT_ADAFACTOR, type AdafactorOptions } from "./adafactor";
import type { Optimizer, OptimizerName } from "./optimizer";

/**
 * @example
 * const opt = createOptimizer("adafactor", model.trainableVariables(), { weightDecay: 0, beta1: 0.9 });
 */
export function createOptimizer(
  name: OptimizerName,
  params: Map<string, tf.Variable>,
  options: Partial<AdamWOptions> | Partial<AdafactorOptions> | Record<string, unknown> = {},
): Optimizer {
  const defaults = (name === "adamw"
    ? DEFAULT_ADAMW
    : name === "adafactor"
      ? DEFAULT_ADAFACTOR
      : {}) as unknown as Record<string, unknown>;
  if (name !== "adamw" && name !== "adafactor")
    throw new RangeError(`optimizer: expected "adamw" or "adafactor", found ${JSON.stringify(name)}`);
  const unknown = Object.keys(options).filter((k) => !(k in defaults));
  if (unknown.length)
    throw new RangeError(
      `${name} options: unknown field(s) ${unknown.join(", ")} (known: ${Object.keys(defaults).join(", ")})`,
    );
  return name === "adamw"
    ? new AdamW(params, options as Partial<AdamWOptions>)
    : new Adafactor(params, options as Partial<AdafactorOptions>);
}
