/**
 * GPT-NeoX (Pythia) configuration: the Hugging Face `config.json` fields in camelCase, each default with
 * the reason it has that value, plus the mapping to and from a parsed `config.json`.
 *
 * Reference: `transformers/models/gpt_neox/configuration_gpt_neox.py` (field names and defaults).
 */

/** Activation functions GPT-NeoX configs use (`hidden_act`); see `activation()` in layers.ts. */
export const HIDDEN_ACTS = [
  "gelu",
  "gelu_new",
  "gelu_pytorch_tanh",
  "gelu_fast",
  "quick_gelu",
  "relu",
  "silu",
  "swish",
  "tanh",
  "sigmoid",
  "linear",
] as const;
export type HiddenAct = (typeof HIDDEN_ACTS)[number];

/** A GPT-NeoX model's shape and numerics, named like Hugging Face's `config.json` (camelCase). */
export interface GPTNeoXConfig {
  /** Rows of the token embedding and of `embed_out`. */
  vocabSize: number;
  /** Width of the residual stream (`dModel`). */
  hiddenSize: number;
  /** Number of transformer blocks (`nLayer`). */
  numHiddenLayers: number;
  /** Attention heads per block (`nHead`); `hiddenSize` must divide by it. */
  numAttentionHeads: number;
  /** Width of the MLP's hidden layer. */
  intermediateSize: number;
  /** Longest context the model was trained for (rotary has no table limit, but quality drops beyond it). */
  maxPositionEmbeddings: number;
  /** Fraction of each head's dims that get rotary position embedding (`partial_rotary_factor` in newer HF). */
  rotaryPct: number;
  /** Rotary base θ (`rope_theta` in newer HF). */
  rotaryEmbBase: number;
  /** LayerNorm epsilon. */
  layerNormEps: number;
  /** `x + attn(ln1(x)) + mlp(ln2(x))` when true; sequential `h = x + attn(ln1(x)); h + mlp(ln2(h))` when false. */
  useParallelResidual: boolean;
  /** MLP activation (HF `hidden_act`). */
  hiddenAct: HiddenAct;
  /** `embed_out` shares `embed_in`'s weight when true. */
  tieWordEmbeddings: boolean;
  /** Id that starts a document. */
  bosTokenId: number | null;
  /** Id (or ids) that end a document; generation stops on it. */
  eosTokenId: number | number[] | null;
  /** Std of the normal used to initialise weights in `create()`. */
  initializerRange: number;
  /** Whether `query_key_value` and `attention.dense` have biases. */
  attentionBias: boolean;
  /** Dropout on attention probabilities (training only; tunebook's forward does not apply dropout). */
  attentionDropout: number;
  /** Dropout on block outputs (training only; tunebook's forward does not apply dropout). */
  hiddenDropout: number;
  /** Rotary scaling (HF `rope_scaling`); only `null` or `{type: "linear", factor}` are supported. */
  ropeScaling: { type: "linear"; factor: number } | null;
}

/** Defaults: Pythia-70m's values, each with the reason (nanoGPT style). */
export const DEFAULT_GPTNEOX_CONFIG: GPTNeoXConfig = {
  vocabSize: 50304, // GPT-NeoX-20B tokenizer's 50277 ids padded up to a multiple of 128 for fast matmuls
  hiddenSize: 512, // pythia-70m's width: small enough to train on a laptop CPU
  numHiddenLayers: 6, // pythia-70m's depth
  numAttentionHeads: 8, // 64 dims per head, the Pythia standard
  intermediateSize: 2048, // 4 × hiddenSize, the usual transformer MLP ratio
  maxPositionEmbeddings: 2048, // Pythia's training context
  rotaryPct: 0.25, // Pythia rotates a quarter of each head's dims; the rest carry no position
  rotaryEmbBase: 10000, // the RoFormer base
  layerNormEps: 1e-5, // PyTorch LayerNorm's default, used by every Pythia
  useParallelResidual: true, // GPT-J-style parallel attention + MLP: one LayerNorm read per branch, faster
  hiddenAct: "gelu", // exact (erf) GELU, as GPT-NeoX was trained
  tieWordEmbeddings: false, // Pythia keeps a separate output matrix (embed_out)
  bosTokenId: 0, // <|endoftext|> in the GPT-NeoX-20B tokenizer
  eosTokenId: 0, // the same <|endoftext|> ends documents
  initializerRange: 0.02, // HF's default std for fresh weights
  attentionBias: true, // Pythia's attention projections carry biases
  attentionDropout: 0, // Pythia was trained without dropout
  hiddenDropout: 0, // idem
  ropeScaling: null, // plain rotary
};

/** A config file that cannot be used: the message names the file and the field. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Json = Record<string, unknown>;

function field(json: Json, keys: string[]): { key: string; value: unknown } | undefined {
  for (const k of keys) if (json[k] !== undefined) return { key: k, value: json[k] };
  return undefined;
}

/**
 * Map a parsed Hugging Face `config.json` (of `model_type: "gpt_neox"`) to a `GPTNeoXConfig`.
 * Shape fields are required; numeric knobs fall back to HF's defaults. Newer field names
 * (`rope_theta`, `partial_rotary_factor`, `rope_parameters`) are accepted too.
 *
 * @example
 * const cfg = configFromHF(JSON.parse(fs.readFileSync("pythia-70m/config.json", "utf8")), "pythia-70m/config.json");
 * cfg.hiddenSize; // 512
 */
export function configFromHF(json: unknown, source = "config.json"): GPTNeoXConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError(`${source}: expected a JSON object, got ${Array.isArray(json) ? "an array" : typeof json}`);
  }
  const j = json as Json;
  const modelType = j.model_type;
  if (modelType !== "gpt_neox") {
    throw new ConfigError(
      `${source}: model_type ${JSON.stringify(modelType ?? null)} is not supported; tunebook runs GPT-NeoX (Pythia) models, model_type "gpt_neox"`,
    );
  }
  const rope = (j.rope_parameters && typeof j.rope_parameters === "object" ? j.rope_parameters : {}) as Json;
  const num = (
    keys: string[],
    def: number | undefined,
    kind: "int" | "pos" | "frac" | "nonneg",
    from: Json = j,
  ): number => {
    const f = field(from, keys);
    if (!f) {
      if (def === undefined) throw new ConfigError(`${source}: missing required field "${keys[0]}"`);
      return def;
    }
    const v = f.value;
    const ok =
      typeof v === "number" &&
      Number.isFinite(v) &&
      (kind === "int"
        ? Number.isInteger(v) && v > 0
        : kind === "pos"
          ? v > 0
          : kind === "frac"
            ? v >= 0 && v <= 1
            : v >= 0);
    if (!ok) {
      const want = {
        int: "a positive integer",
        pos: "a positive number",
        frac: "a number in [0, 1]",
        nonneg: "a number >= 0",
      }[kind];
      throw new ConfigError(`${source}: field "${f.key}" must be ${want}, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = j[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== "boolean")
      throw new ConfigError(`${source}: field "${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const tokenId = (key: string, def: number | number[] | null): number | number[] | null => {
    const v = j[key];
    if (v === undefined) return def;
    if (v === null) return null;
    const isId = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0;
    if (isId(v)) return v as number;
    if (Array.isArray(v) && v.length > 0 && v.every(isId)) return v as number[];
    throw new ConfigError(
      `${source}: field "${key}" must be a token id (integer >= 0), a list of them, or null; got ${JSON.stringify(v)}`,
    );
  };
  const D = DEFAULT_GPTNEOX_CONFIG;
  const act = j.hidden_act ?? D.hiddenAct;
  if (typeof act !== "string" || !(HIDDEN_ACTS as readonly string[]).includes(act)) {
    throw new ConfigError(
      `${source}: field "hidden_act" ${JSON.stringify(act)} is not supported; use one of: ${HIDDEN_ACTS.join(", ")}`,
    );
  }
  const cfg: GPTNeoXConfig = {
    vocabSize: num(["vocab_size"], undefined, "int"),
    hiddenSize: num(["hidden_size"], undefined, "int"),
    numHiddenLayers: num(["num_hidden_layers"], undefined, "int"),
    numAttentionHeads: num(["num_attention_heads"], undefined, "int"),
    intermediateSize: num(["intermediate_size"], undefined, "int"),
    maxPositionEmbeddings: num(["max_position_embeddings"], D.maxPositionEmbeddings, "int"),
    rotaryPct: field(rope, ["partial_rotary_factor"])
      ? num(["partial_rotary_factor"], undefined, "frac", rope)
      : num(["rotary_pct", "partial_rotary_factor"], D.rotaryPct, "frac"),
    rotaryEmbBase: field(rope, ["rope_theta"])
      ? num(["rope_theta"], undefined, "pos", rope)
      : num(["rotary_emb_base", "rope_theta"], D.rotaryEmbBase, "pos"),
    layerNormEps: num(["layer_norm_eps"], D.layerNormEps, "pos"),
    useParallelResidual: bool("use_parallel_residual", D.useParallelResidual),
    hiddenAct: act as HiddenAct,
    tieWordEmbeddings: bool("tie_word_embeddings", D.tieWordEmbeddings),
    bosTokenId: tokenId("bos_token_id", D.bosTokenId) as number | null, // a list is refused below
    eosTokenId: tokenId("eos_token_id", D.eosTokenId),
    initializerRange: num(["initializer_range"], D.initializerRange, "pos"),
    attentionBias: bool("attention_bias", D.attentionBias),
    attentionDropout: num(["attention_dropout"], D.attentionDropout, "frac"),
    hiddenDropout: num(["hidden_dropout"], D.hiddenDropout, "frac"),
    ropeScaling: parseRopeScaling(
      j.rope_scaling ?? (rope.rope_type && rope.rope_type !== "default" ? rope : null),
      source,
    ),
  };
  if (Array.isArray(cfg.bosTokenId as unknown))
    throw new ConfigError(`${source}: field "bos_token_id" must be a single id`);
  validateConfig(cfg, source);
  return cfg;
}

function parseRopeScaling(v: unknown, source: string): GPTNeoXConfig["ropeScaling"] {
  if (v === null || v === undefined) return null;
  const r = v as Json;
  const type = r.type ?? r.rope_type;
  if (type === "linear" && typeof r.factor === "number" && r.factor > 0) return { type: "linear", factor: r.factor };
  throw new ConfigError(
    `${source}: field "rope_scaling" ${JSON.stringify(v)} is not supported; only null or {"type": "linear", "factor": > 0}`,
  );
}

/**
 * Check a config's internal consistency (positive sizes, heads divide the width); throws a ConfigError
 * naming the field.
 *
 * @example
 * validateConfig({ ...DEFAULT_GPTNEOX_CONFIG, numAttentionHeads: 7 }); // throws: hiddenSize 512 is not divisible ...
 */
export function validateConfig(cfg: GPTNeoXConfig, source = "config"): void {
  for (const k of [
    "vocabSize",
    "hiddenSize",
    "numHiddenLayers",
    "numAttentionHeads",
    "intermediateSize",
    "maxPositionEmbeddings",
  ] as const) {
    const v = cfg[k];
    if (!Number.isInteger(v) || v <= 0)
      throw new ConfigError(`${source}: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ConfigError(
      `${source}: hiddenSize ${cfg.hiddenSize} is not divisible by numAttentionHeads ${cfg.numAttentionHeads}`,
    );
  }
  if (!(cfg.rotaryPct >= 0 && cfg.rotaryPct <= 1))
    throw new ConfigError(`${source}: rotaryPct must be in [0, 1], got ${cfg.rotaryPct}`);
  if (rotaryDims(cfg) % 2 !== 0) {
    throw new ConfigError(
      `${source}: rotary dims per head (headDim ${headDim(cfg)} × rotaryPct ${cfg.rotaryPct} = ${rotaryDims(cfg)}) must be even`,
    );
  }
  if (!(HIDDEN_ACTS as readonly string[]).includes(cfg.hiddenAct)) {
    throw new ConfigError(
      `${source}: hiddenAct ${JSON.stringify(cfg.hiddenAct)} is not supported; use one of: ${HIDDEN_ACTS.join(", ")}`,
    );
  }
  if (!(cfg.layerNormEps > 0)) throw new ConfigError(`${source}: layerNormEps must be > 0, got ${cfg.layerNormEps}`);
}

/** Dims per attention head. */
export function headDim(cfg: GPTNeoXConfig): number {
  return cfg.hiddenSize / cfg.numAttentionHeads;
}

/** Dims per head that get rotary embedding: `int(headDim * rotaryPct)` as in HF. */
export function rotaryDims(cfg: GPTNeoXConfig): number {
  return Math.floor(headDim(cfg) * cfg.rotaryPct);
}

/**
 * The Hugging Face `config.json` object for a config (what `save()` writes; transformers loads it).
 *
 * @example
 * fs.writeFileSync("out/config.json", JSON.stringify(configToHF(model.config), null, 2));
 */
export function configToHF(cfg: GPTNeoXConfig): Record<string, unknown> {
  return {
    architectures: ["GPTNeoXForCausalLM"],
    model_type: "gpt_neox",
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    intermediate_size: cfg.intermediateSize,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    rotary_pct: cfg.rotaryPct,
    rotary_emb_base: cfg.rotaryEmbBase,
    layer_norm_eps: cfg.layerNormEps,
    use_parallel_residual: cfg.useParallelResidual,
    hidden_act: cfg.hiddenAct,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenId,
    initializer_range: cfg.initializerRange,
    attention_bias: cfg.attentionBias,
    attention_dropout: cfg.attentionDropout,
    hidden_dropout: cfg.hiddenDropout,
    rope_scaling: cfg.ropeScaling,
    torch_dtype: "float32",
    use_cache: true,
  };
}

/**
 * A full config from a partial one, merged over the defaults and validated.
 *
 * @example
 * const tiny = makeConfig({ vocabSize: 512, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4 });
 * const model = new GPTNeoXForCausalLM(tiny);   // a randomly initialised model for experiments and tests
 */
export function makeConfig(partial: Partial<GPTNeoXConfig> = {}): GPTNeoXConfig {
  const cfg = { ...DEFAULT_GPTNEOX_CONFIG, ...partial };
  validateConfig(cfg);
  return cfg;
}
