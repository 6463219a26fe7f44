/** The parameters of GPT-NeoX by Hugging Face name: every tensor's name and shape, and the dense layers of a block. */
import type { GPTNeoXConfig } from "./config";

/** Names of the dense layers of block `i`. */
export function blockLinearNames(i: number): string[] {
  const p = `gpt_neox.layers.${i}`;
  return [`${p}.attention.query_key_value`, `${p}.attention.dense`, `${p}.mlp.dense_h_to_4h`, `${p}.mlp.dense_4h_to_h`];
}

/**
 * Every parameter's HF name and shape for a config, in the order HF's `state_dict` lists them.
 *
 * @example
 * parameterShapes(getPreset("pythia-70m")).get("gpt_neox.layers.0.attention.query_key_value.weight"); // [1536, 512]
 */
export function parameterShapes(cfg: GPTNeoXConfig): Map<string, number[]> {
  const C = cfg.hiddenSize;
  const M = cfg.intermediateSize;
  const out = new Map<string, number[]>();
  out.set("gpt_neox.embed_in.weight", [cfg.vocabSize, C]);
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const p = `gpt_neox.layers.${i}`;
    out.set(`${p}.input_layernorm.weight`, [C]);
    out.set(`${p}.input_layernorm.bias`, [C]);
    out.set(`${p}.post_attention_layernorm.weight`, [C]);
    out.set(`${p}.post_attention_layernorm.bias`, [C]);
    out.set(`${p}.attention.query_key_value.weight`, [3 * C, C]);
    if (cfg.attentionBias) out.set(`${p}.attention.query_key_value.bias`, [3 * C]);
    out.set(`${p}.attention.dense.weight`, [C, C]);
    if (cfg.attentionBias) out.set(`${p}.attention.dense.bias`, [C]);
    out.set(`${p}.mlp.dense_h_to_4h.weight`, [M, C]);
    out.set(`${p}.mlp.dense_h_to_4h.bias`, [M]);
    out.set(`${p}.mlp.dense_4h_to_h.weight`, [C, M]);
    out.set(`${p}.mlp.dense_4h_to_h.bias`, [C]);
  }
  out.set("gpt_neox.final_layer_norm.weight", [C]);
  out.set("gpt_neox.final_layer_norm.bias", [C]);
  if (!cfg.tieWordEmbeddings) out.set("embed_out.weight", [cfg.vocabSize, C]);
  return out;
}
