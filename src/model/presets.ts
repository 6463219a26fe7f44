/**
 * The Pythia family as named presets (the shapes of the real `EleutherAI/pythia-*` config.json files), and a
 * parameter count computed from any config, part by part.
 *
 * Reference: Biderman et al. 2023, "Pythia: A Suite for Analyzing Large Language Models" (Table 1), and the
 * config.json files on the Hugging Face Hub.
 */
import { ConfigError, DEFAULT_GPTNEOX_CONFIG, type GPTNeoXConfig, validateConfig } from "./config";

type Shape = Pick<
  GPTNeoXConfig,
  "hiddenSize" | "numHiddenLayers" | "numAttentionHeads" | "intermediateSize" | "vocabSize"
>;

function pythia(
  hiddenSize: number,
  numHiddenLayers: number,
  numAttentionHeads: number,
  vocabSize = 50304,
): GPTNeoXConfig {
  const shape: Shape = { hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize: 4 * hiddenSize, vocabSize };
  return { ...DEFAULT_GPTNEOX_CONFIG, ...shape };
}

/**
 * Pythia presets by short name (parameter totals from `countParameters`, which match the Hub):
 * 14m 14,067,712 · 31m 30,494,720 · 70m 70,426,624 · 160m 162,322,944 · 410m 405,334,016 ·
 * 1b 1,011,781,632 · 1.4b 1,414,647,808 · 2.8b 2,775,208,960 · 6.9b 6,857,302,016 · 12b 11,846,072,320.
 *
 * @example
 * Object.keys(PYTHIA_PRESETS);                              // ["pythia-14m", "pythia-31m", "pythia-70m", ...]
 * countParameters(PYTHIA_PRESETS["pythia-70m"]).total;      // 70426624
 */
export const PYTHIA_PRESETS: Readonly<Record<string, GPTNeoXConfig>> = Object.freeze({
  "pythia-14m": pythia(128, 6, 4),
  "pythia-31m": pythia(256, 6, 8),
  "pythia-70m": pythia(512, 6, 8),
  "pythia-160m": pythia(768, 12, 12),
  "pythia-410m": pythia(1024, 24, 16),
  "pythia-1b": pythia(2048, 16, 8),
  "pythia-1.4b": pythia(2048, 24, 16),
  "pythia-2.8b": pythia(2560, 32, 32),
  "pythia-6.9b": pythia(4096, 32, 32, 50432),
  "pythia-12b": pythia(5120, 36, 40, 50688),
});

/** Names accepted by `getPreset` (without the `EleutherAI/` prefix). */
export const PRESET_NAMES: readonly string[] = Object.keys(PYTHIA_PRESETS);

/**
 * The config of a Pythia preset, by short name or Hub id (`"pythia-70m"`, `"EleutherAI/pythia-70m"`,
 * `"EleutherAI/pythia-70m-deduped"` — deduped models share the shape). Returns a fresh copy.
 *
 * @example
 * const cfg = getPreset("EleutherAI/pythia-70m");
 * countParameters(cfg).total; // 70426624
 */
export function getPreset(name: string): GPTNeoXConfig {
  const found = findPreset(name);
  if (!found) throw new ConfigError(`unknown model preset ${JSON.stringify(name)}; known: ${PRESET_NAMES.join(", ")}`);
  return found;
}

/** Like `getPreset`, but undefined for an unknown name. */
export function findPreset(name: string): GPTNeoXConfig | undefined {
  let key = name.trim().toLowerCase();
  if (key.startsWith("eleutherai/")) key = key.slice("eleutherai/".length);
  key = key.replace(/-deduped$/, "").replace(/-v0$/, "");
  if (!key.startsWith("pythia-")) key = `pythia-${key}`;
  const cfg = PYTHIA_PRESETS[key];
  return cfg ? { ...cfg } : undefined;
}

/** Parameter count by part. `layers` = attention + mlp + norms over all blocks. */
export interface ParameterCount {
  total: number;
  /** Token embedding `gpt_neox.embed_in.weight`. */
  embedIn: number;
  /** All blocks together (attention + mlp + norms). */
  layers: number;
  /** `query_key_value` + `dense` (weights and biases) over all blocks. */
  attention: number;
  /** `dense_h_to_4h` + `dense_4h_to_h` over all blocks. */
  mlp: number;
  /** `input_layernorm` + `post_attention_layernorm` over all blocks. */
  norms: number;
  /** One block's parameters. */
  perLayer: number;
  /** `gpt_neox.final_layer_norm`. */
  finalLayerNorm: number;
  /** `embed_out.weight` (0 when tied to the input embedding). */
  embedOut: number;
}

/**
 * Count a GPT-NeoX model's parameters from its config alone (no weights needed).
 *
 * @example
 * countParameters(getPreset("pythia-160m")).total; // 162322944
 */
export function countParameters(cfg: GPTNeoXConfig): ParameterCount {
  validateConfig(cfg);
  const h = cfg.hiddenSize;
  const m = cfg.intermediateSize;
  const bias = cfg.attentionBias ? 1 : 0;
  const attention1 = 3 * h * h + bias * 3 * h + h * h + bias * h; // query_key_value + dense
  const mlp1 = h * m + m + m * h + h; // dense_h_to_4h + dense_4h_to_h
  const norms1 = 2 * 2 * h; // two LayerNorms, weight + bias
  const n = cfg.numHiddenLayers;
  const embedIn = cfg.vocabSize * h;
  const embedOut = cfg.tieWordEmbeddings ? 0 : cfg.vocabSize * h;
  const finalLayerNorm = 2 * h;
  const perLayer = attention1 + mlp1 + norms1;
  const layers = n * perLayer;
  return {
    total: embedIn + layers + finalLayerNorm + embedOut,
    embedIn,
    layers,
    attention: n * attention1,
    mlp: n * mlp1,
    norms: n * norms1,
    perLayer,
    finalLayerNorm,
    embedOut,
  };
}
