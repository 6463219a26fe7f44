/**
 * The hook between the CLI (`tunebook eval --adapter A`, `tunebook train --lora r=8,alpha=16`) and LoRA
 * (src/lora/, written separately). Everything LoRA-specific goes through the two functions here, so wiring
 * LoRA in touches this file only:
 *
 * - `loadAdapterInto(model, dir)`: put a saved adapter (PEFT layout: `adapter_config.json` +
 *   `adapter_model.safetensors`) on a loaded model, for inference.
 * - `attachLora(model, options)`: wrap the model's target layers with fresh adapters and return what the
 *   trainer trains (the adapter variables only) and how to save the adapter.
 *
 * Until src/lora exists (or while it lacks `loadAdapter` / `applyLora`), both throw a clear
 * `AdapterSupportError` instead of silently evaluating or training the bare base model.
 */
import * as fs from "fs";
import * as path from "path";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import type { TrainableModel } from "../train/types";

export class AdapterSupportError extends Error {
  override name = "AdapterSupportError";
}

/** What `--lora r=8,alpha=16,targets=query_key_value+dense,dropout=0` asks for (src/lora's parser may add
 * fields, e.g. `targetModules`, `useRslora`; they are passed through). */
export interface LoraSpec {
  /** Rank of A·B. */
  r: number;
  /** Scaling numerator: the update is scaled by alpha / r. */
  alpha: number;
  /** Module names to adapt (HF names such as `query_key_value`); undefined = the LoRA module's default. */
  targets?: string[];
  /** Dropout on the adapter's input (0 = none). */
  dropout?: number;
}

/** What attaching LoRA gives the trainer and the CLI. */
export interface LoraAttachment {
  /** The adapter variables only, with the loss of the adapted model. */
  trainable: TrainableModel;
  /** Save the adapter (PEFT layout) into a folder. */
  save(dir: string): Promise<void>;
}

/**
 * Parse a `--lora` value. With src/lora present, its own parser is used (it knows more keys, e.g. `rslora`,
 * `layers`); without it, the basic syntax `r=8,alpha=16[,targets=a+b][,dropout=0.05]` is checked here, so a
 * typo is reported before anything is loaded. Errors name the bad part.
 * @example
 * parseLoraOption("r=8,alpha=16"); // { r: 8, alpha: 16, ... }
 */
export function parseLoraOption(spec: string): LoraSpec {
  const parse = loraModule()?.parseLoraSpec;
  return typeof parse === "function" ? (parse as (s: string) => LoraSpec)(spec) : basicLoraSpec(spec);
}

/**
 * The basic `--lora` syntax, without src/lora: `r=8,alpha=16[,targets=a+b][,dropout=0.05]`.
 * @example
 * basicLoraSpec("r=8,alpha=16,targets=query_key_value+dense"); // { r: 8, alpha: 16, targets: ["query_key_value", "dense"] }
 */
export function basicLoraSpec(spec: string): LoraSpec {
  const out: Partial<LoraSpec> = {};
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new AdapterSupportError(`--lora: expected key=value, found ${JSON.stringify(part)} (e.g. r=8,alpha=16)`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    const n = Number(value);
    switch (key) {
      case "r":
        if (!Number.isInteger(n) || n < 1) throw new AdapterSupportError(`--lora: r must be a positive integer, found ${JSON.stringify(value)}`);
        out.r = n;
        break;
      case "alpha":
        if (!Number.isFinite(n) || n <= 0) throw new AdapterSupportError(`--lora: alpha must be a positive number, found ${JSON.stringify(value)}`);
        out.alpha = n;
        break;
      case "dropout":
        if (!Number.isFinite(n) || n < 0 || n >= 1) throw new AdapterSupportError(`--lora: dropout must be in [0, 1), found ${JSON.stringify(value)}`);
        out.dropout = n;
        break;
      case "targets":
        out.targets = value.split("+").map((s) => s.trim()).filter(Boolean);
        if (!out.targets.length) throw new AdapterSupportError("--lora: targets must name at least one module (a+b+c)");
        break;
      default:
        throw new AdapterSupportError(`--lora: unknown key ${JSON.stringify(key)} (known: r, alpha, targets, dropout)`);
    }
  }
  if (out.r === undefined) throw new AdapterSupportError("--lora: r is required (e.g. r=8,alpha=16)");
  return { r: out.r, alpha: out.alpha ?? out.r, ...(out.targets ? { targets: out.targets } : {}), ...(out.dropout !== undefined ? { dropout: out.dropout } : {}) };
}

/** src/lora's module, when it exists (resolved at run time so this file compiles without it). */
function loraModule(): Record<string, unknown> | undefined {
  const dir = path.join(__dirname, "..", "lora");
  if (!fs.existsSync(dir)) return undefined;
  let entry: string;
  try {
    entry = require.resolve(dir); // src/lora/index.ts (under tsx) or dist/lora/index.js
  } catch {
    return undefined; // the folder exists but has no index yet
  }
  return require(entry); // a broken src/lora throws its own error here
}

function need(fn: string, what: string): (...args: any[]) => any {
  const mod = loraModule();
  const f = mod?.[fn];
  if (typeof f !== "function") throw new AdapterSupportError(`LoRA adapters are not supported yet (${what} needs src/lora to export ${fn}())`);
  return f as (...args: any[]) => any;
}

/**
 * Put the adapter saved in `dir` on `model` (the hook behind `tunebook eval --adapter`).
 * @example
 * await loadAdapterInto(model, "runs/spam-lora/adapter");
 */
export async function loadAdapterInto(model: GPTNeoXForCausalLM, dir: string): Promise<void> {
  await need("loadAdapter", `--adapter ${dir}`)(model, dir);
}

/**
 * Wrap the model with fresh LoRA adapters for training (the hook behind `tunebook train --lora`).
 * @example
 * const { trainable, save } = await attachLora(model, parseLoraOption("r=8,alpha=16"));
 */
export async function attachLora(model: GPTNeoXForCausalLM, spec: LoraSpec, options: { baseModelNameOrPath?: string } = {}): Promise<LoraAttachment> {
  const res = await need("applyLora", `--lora r=${spec.r},alpha=${spec.alpha}`)(model, spec, options);
  if (!res || typeof res.trainable?.trainableVariables !== "function" || typeof res.save !== "function")
    throw new AdapterSupportError("src/lora applyLora() must return { trainable: TrainableModel, save(dir) }");
  return res as LoraAttachment;
}
