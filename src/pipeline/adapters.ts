/**
 * The hook between the CLI and notebooks (`tunebook eval --adapter A`, `tunebook train --lora r=8,alpha=16`)
 * and LoRA (src/lora/). Everything LoRA-specific the CLI needs goes through the functions here:
 *
 * - `parseLoraOption(spec)`: parse `--lora` (src/lora's `parseLoraSpec`: r, alpha, targets, dropout, layers,
 *   rslora), before anything is loaded, so a typo is reported first.
 * - `loadAdapterInto(model, dir)`: put a saved adapter (PEFT layout: `adapter_config.json` +
 *   `adapter_model.safetensors`) on a loaded model, for inference.
 * - `attachLora(model, options)`: wrap the model's target layers with fresh adapters and return what the
 *   trainer trains (the adapter variables only) and how to save the adapter; `applyLora` is the same without
 *   the CLI's error type.
 * - `disposeModel(model)`: free a model together with the adapters on it.
 */
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import type { TrainableModel } from "../train/types";
import { type LoraConfig, LoraError } from "../lora/config";
import { LoraModel } from "../lora/model";
import { loadAdapter, saveAdapter } from "../lora/peft";
import { parseLoraSpec } from "../lora/spec";
import { loraTrainable } from "../lora/trainable";

/** Errors of the adapter hook (bad `--lora` values, unusable adapter folders). */
export class AdapterSupportError extends Error {
  override name = "AdapterSupportError";
}

/** What `--lora r=8,alpha=16,targets=query_key_value+dense,dropout=0` asks for (src/lora's `LoraConfig`). */
export type LoraSpec = Partial<LoraConfig> & { r: number; alpha: number };

/** What attaching LoRA gives the trainer and the CLI. */
export interface LoraAttachment {
  /** The adapter variables only, with the loss of the adapted model. */
  trainable: TrainableModel;
  /** Save the adapter (PEFT layout) into a folder. */
  save(dir: string): Promise<void>;
}

/** `applyLora`'s spec (the CLI's `LoraSpec`): `targets` stands for `targetModules`. */
export interface ApplyLoraSpec extends Partial<LoraConfig> {
  targets?: string[];
}

/**
 * Add a fresh adapter and return what the trainer trains and how to save it (the hook behind
 * `tunebook train --lora r=8,alpha=16`).
 *
 * @example
 * const { trainable, save } = applyLora(model, { r: 8, alpha: 16 });
 * await train(trainable, examples, { numSteps: 50 });
 * await save("out/adapter");
 */
export function applyLora(
  model: GPTNeoXForCausalLM,
  spec: ApplyLoraSpec = {},
  opts: { name?: string; seed?: number; baseModelNameOrPath?: string } = {},
): { name: string; trainable: TrainableModel; save(dir: string): Promise<void> } {
  const { targets, ...rest } = spec;
  const name = opts.name ?? "default";
  const cfg: Partial<LoraConfig> = { ...rest, ...(targets ? { targetModules: targets } : {}) };
  if (opts.baseModelNameOrPath !== undefined) cfg.baseModelNameOrPath = opts.baseModelNameOrPath;
  LoraModel.of(model).addAdapter(name, cfg, { seed: opts.seed ?? 0 });
  return { name, trainable: loraTrainable(model, name), save: (dir: string) => saveAdapter(model, dir, name) };
}

function rethrow(e: unknown): never {
  if (e instanceof LoraError) throw new AdapterSupportError(e.message);
  throw e;
}

/**
 * Parse a `--lora` value; errors name the bad part.
 * @example
 * parseLoraOption("r=8,alpha=16,targets=query_key_value+dense"); // { r: 8, alpha: 16, targetModules: [...], ... }
 */
export function parseLoraOption(spec: string): LoraSpec {
  try {
    return parseLoraSpec(spec) as LoraSpec;
  } catch (e) {
    rethrow(e);
  }
}

/**
 * Put the adapter saved in `dir` on `model` (the hook behind `tunebook eval --adapter`).
 * @example
 * await loadAdapterInto(model, "runs/spam-lora/adapter");
 */
export async function loadAdapterInto(model: GPTNeoXForCausalLM, dir: string): Promise<void> {
  try {
    await loadAdapter(model, dir);
  } catch (e) {
    rethrow(e);
  }
}

/**
 * Wrap the model with fresh LoRA adapters for training (the hook behind `tunebook train --lora`).
 * @example
 * const { trainable, save } = await attachLora(model, parseLoraOption("r=8,alpha=16"));
 */
export async function attachLora(
  model: GPTNeoXForCausalLM,
  spec: LoraSpec,
  options: { baseModelNameOrPath?: string } = {},
): Promise<LoraAttachment> {
  try {
    const { trainable, save } = applyLora(model, spec, options);
    return { trainable, save };
  } catch (e) {
    rethrow(e);
  }
}

/**
 * Dispose a model and whatever LoRA adapters are on it (an adapter's variables are its own, not the model's).
 * @example
 * const { model } = await loadModel("default"); await loadAdapterInto(model, dir); ...; disposeModel(model);
 */
export function disposeModel(model: GPTNeoXForCausalLM): void {
  LoraModel.find(model)?.unload();
  model.dispose();
}
