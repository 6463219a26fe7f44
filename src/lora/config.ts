/**
 * LoRA settings (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685) and
 * which dense layers they target, with Hugging Face PEFT's conventions:
 * - scaling `alpha / r` (rsLoRA, Kalajdzievski 2023: `alpha / sqrt(r)`);
 * - `targetModules` as a list of names matches a module whose full name equals a name or ends with `.name`;
 *   as a single string it is a regular expression the full module name must match entirely (PEFT's
 *   `re.fullmatch`); `layersToTransform` keeps only the listed block indices.
 */
import { ConfigError, type GPTNeoXConfig } from "../model/config";

/** A LoRA adapter's settings (camelCase of PEFT's `LoraConfig`). */
export interface LoraConfig {
  /** Rank of the update `B·A` (PEFT `r`). Small: 4–64. */
  r: number;
  /** Numerator of the scaling (PEFT `lora_alpha`); `alpha / r` keeps the update's size when r changes. */
  alpha: number;
  /** Dropout probability on the adapter's input, during training only (PEFT `lora_dropout`). */
  dropout: number;
  /** Module names (suffix match) or one regular expression (full match). GPT-NeoX default: `query_key_value`. */
  targetModules: string[] | string;
  /** rsLoRA: scale by `alpha / sqrt(r)` instead of `alpha / r` (PEFT `use_rslora`). */
  useRslora: boolean;
  /** Only these block indices (PEFT `layers_to_transform`); null: every block. */
  layersToTransform: number[] | null;
  /** PEFT `init_lora_weights`: true = A Kaiming-uniform, B zero; false = both random (not a no-op). */
  initLoraWeights: boolean;
  /** Written to `adapter_config.json` as `base_model_name_or_path`. */
  baseModelNameOrPath: string | null;
}

/**
 * PEFT's defaults, with GPT-NeoX's default target (PEFT's mapping for `gpt_neox` is `query_key_value`).
 *
 * @example
 * const cfg = { ...DEFAULT_LORA_CONFIG, r: 16, alpha: 32 };   // options merged over the defaults
 */
export const DEFAULT_LORA_CONFIG: LoraConfig = {
  r: 8,
  alpha: 8,
  dropout: 0,
  targetModules: ["query_key_value"],
  useRslora: false,
  layersToTransform: null,
  initLoraWeights: true,
  baseModelNameOrPath: null,
};

/** A bad LoRA setting or adapter file; the message names the field or tensor. */
export class LoraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoraError";
  }
}

/**
 * A complete, checked config from partial options (merged over `DEFAULT_LORA_CONFIG`).
 *
 * @example
 * resolveLoraConfig({ r: 16, alpha: 32 }).targetModules; // ["query_key_value"]
 */
export function resolveLoraConfig(opts: Partial<LoraConfig> = {}, source = "LoRA config"): LoraConfig {
  const unknown = Object.keys(opts).filter((k) => !(k in DEFAULT_LORA_CONFIG));
  if (unknown.length)
    throw new LoraError(
      `${source}: unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")}; known: ${Object.keys(DEFAULT_LORA_CONFIG).join(", ")}`,
    );
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const c: LoraConfig = { ...DEFAULT_LORA_CONFIG, ...defined };
  if (!Number.isInteger(c.r) || c.r < 1)
    throw new LoraError(`${source}: r must be a positive integer, got ${JSON.stringify(c.r)}`);
  if (typeof c.alpha !== "number" || !Number.isFinite(c.alpha) || c.alpha <= 0)
    throw new LoraError(`${source}: alpha must be a positive number, got ${JSON.stringify(c.alpha)}`);
  if (typeof c.dropout !== "number" || !(c.dropout >= 0 && c.dropout < 1))
    throw new LoraError(`${source}: dropout must be in [0, 1), got ${JSON.stringify(c.dropout)}`);
  const t = c.targetModules;
  if (typeof t === "string") {
    if (!t) throw new LoraError(`${source}: targetModules is an empty pattern`);
    try {
      new RegExp(t);
    } catch (e: any) {
      throw new LoraError(
        `${source}: targetModules ${JSON.stringify(t)} is not a valid regular expression (${e.message})`,
      );
    }
  } else if (!Array.isArray(t) || t.length === 0 || !t.every((x) => typeof x === "string" && x.length > 0)) {
    throw new LoraError(
      `${source}: targetModules must be a non-empty list of module names or one regular expression, got ${JSON.stringify(t)}`,
    );
  }
  if (
    c.layersToTransform !== null &&
    !(Array.isArray(c.layersToTransform) && c.layersToTransform.every((i) => Number.isInteger(i) && i >= 0))
  ) {
    throw new LoraError(
      `${source}: layersToTransform must be null or a list of block indices, got ${JSON.stringify(c.layersToTransform)}`,
    );
  }
  if (typeof c.useRslora !== "boolean") throw new LoraError(`${source}: useRslora must be true or false`);
  if (typeof c.initLoraWeights !== "boolean")
    throw new LoraError(
      `${source}: initLoraWeights must be true or false (PEFT's other init schemes are not supported)`,
    );
  return { ...c, targetModules: Array.isArray(t) ? [...t] : t };
}

/**
 * The factor in front of `B·A`: `alpha / r`, or `alpha / sqrt(r)` with rsLoRA.
 *
 * @example
 * loraScaling({ r: 4, alpha: 8, useRslora: false }); // 2
 */
export function loraScaling(c: Pick<LoraConfig, "r" | "alpha" | "useRslora">): number {
  return c.useRslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
}

/** Block index of a GPT-NeoX module name (`gpt_neox.layers.3.…` → 3), or null (e.g. `embed_out`). */
export function layerIndexOf(moduleName: string): number | null {
  const m = /(?:^|\.)layers\.(\d+)\./.exec(moduleName);
  return m ? Number(m[1]) : null;
}

/**
 * Does PEFT's rule pick `moduleName`? (list: equal or ends with `.name`; string: full regex match.)
 *
 * @example
 * matchesTarget("gpt_neox.layers.0.attention.query_key_value", ["query_key_value"]); // true
 * matchesTarget("gpt_neox.layers.0.mlp.dense_h_to_4h", ".*mlp.*");                  // true
 */
export function matchesTarget(moduleName: string, targets: string[] | string, layers: number[] | null = null): boolean {
  const hit =
    typeof targets === "string"
      ? new RegExp(`^(?:${targets})$`).test(moduleName)
      : targets.some((t) => moduleName === t || moduleName.endsWith(`.${t}`));
  if (!hit || layers === null) return hit;
  const i = layerIndexOf(moduleName);
  return i !== null && layers.includes(i);
}

/**
 * The module names a config targets among `available` (in model order). A target name that matches nothing
 * is an error listing what exists, as PEFT raises "Target modules ... not found".
 *
 * @example
 * selectTargets(model.linearNames(), resolveLoraConfig({ targetModules: ["dense"] })); // every attention.dense
 */
export function selectTargets(
  available: readonly string[],
  c: Pick<LoraConfig, "targetModules" | "layersToTransform">,
): string[] {
  const picked = available.filter((n) => matchesTarget(n, c.targetModules, c.layersToTransform));
  const kinds = [...new Set(available.map((n) => n.replace(/^.*\.layers\.\d+\./, "")))];
  if (Array.isArray(c.targetModules)) {
    const missing = c.targetModules.filter((t) => !available.some((n) => matchesTarget(n, [t], c.layersToTransform)));
    if (missing.length)
      throw new LoraError(
        `target module ${missing.map((m) => JSON.stringify(m)).join(", ")} not found in the model; its dense layers are: ${kinds.join(", ")}`,
      );
  }
  if (picked.length === 0)
    throw new LoraError(
      `targetModules ${JSON.stringify(c.targetModules)} matches none of the model's dense layers (${kinds.join(", ")})`,
    );
  return picked;
}

/**
 * Every dense layer of a GPT-NeoX config with its `[out, in]` shape (`embed_out` last), from the config alone.
 *
 * @example
 * linearShapes(getPreset("pythia-70m")).get("gpt_neox.layers.0.attention.query_key_value"); // { out: 1536, in: 512 }
 */
export function linearShapes(cfg: GPTNeoXConfig): Map<string, { out: number; in: number }> {
  const C = cfg.hiddenSize;
  const M = cfg.intermediateSize;
  if (!(C > 0 && M > 0 && cfg.numHiddenLayers > 0))
    throw new ConfigError("linearShapes: hiddenSize, intermediateSize and numHiddenLayers must be positive");
  const out = new Map<string, { out: number; in: number }>();
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const p = `gpt_neox.layers.${i}`;
    out.set(`${p}.attention.query_key_value`, { out: 3 * C, in: C });
    out.set(`${p}.attention.dense`, { out: C, in: C });
    out.set(`${p}.mlp.dense_h_to_4h`, { out: M, in: C });
    out.set(`${p}.mlp.dense_4h_to_h`, { out: C, in: M });
  }
  out.set("embed_out", { out: cfg.vocabSize, in: C });
  return out;
}
