/**
 * "One customer, one adapter": generation with the adapter a request names, on one shared base model
 * (adapters switched per request, never reloading the base; requests queued so they never mix).
 */
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { generate, type GenerateOptions } from "../model/generate";
import { LoraError } from "./config";
import { type AdapterSelection, LoraModel } from "./model";

/**
 * Generate with `options.adapter` active (null or omitted: the base model alone; `{a: 0.5, b: 0.5}`: a
 * weighted combination), then restore the
 * previously active adapters.
 *
 * @example
 * const a = await generateWithAdapter(model, ids, { adapter: "customerA", maxNewTokens: 20, doSample: false });
 * const b = await generateWithAdapter(model, ids, { adapter: "customerB", maxNewTokens: 20, doSample: false });
 */
export async function generateWithAdapter(
  model: GPTNeoXForCausalLM,
  promptIds: number[],
  options: Partial<GenerateOptions> & { adapter?: AdapterSelection } = {},
): Promise<number[]> {
  const { adapter = null, ...gen } = options;
  const lora = LoraModel.find(model);
  if (!lora) {
    if (adapter !== null)
      throw new LoraError(`generateWithAdapter: the model has no adapters (asked for ${JSON.stringify(adapter)})`);
    return generate(model, promptIds, gen);
  }
  return lora.withAdapter(adapter, () => generate(model, promptIds, gen));
}
