/**
 * `ModelShape`: the few numbers the sizing formulas need, whatever the model family — parameters, layers,
 * width, heads, key/value heads (grouped-query attention), head size, vocabulary, MLP width — plus the
 * block's linear layers by their Hugging Face module names (what LoRA targets).
 *
 * Adapters: a GPT-NeoX config (`shapeFromGPTNeoX`), any Hugging Face `config.json` of the GPT-NeoX or
 * LLaMA kind (`shapeFromHFConfig`: `num_key_value_heads`, `head_dim`, gated 3-matrix MLP,
 * `tie_word_embeddings`), explicit dimensions (`makeShape`), or a bare parameter count with the
 * dimensions assumed from a standard aspect ratio (`shapeFromParams`, assumptions stated).
 */
import { configFromHF, ConfigError, type GPTNeoXConfig } from "../model/config";
import { countParameters } from "../model/presets";
import { checkNumber, formatParams, parseParamCount, SizingError } from "./units";

/** One linear layer inside a block: its input and output widths (weights `[out, in]`). */
export interface LinearShape {
  in: number;
  out: number;
}

/** A model reduced to what memory and compute depend on. */
export interface ModelShape {
  /** A label for tables and plots. */
  name: string;
  /** Where the dimensions came from. */
  family: "gpt_neox" | "llama" | "gpt" | "assumed";
  /** Total parameters. */
  params: number;
  /** Transformer blocks. */
  layers: number;
  /** Residual width (`dModel`). */
  hidden: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads (= heads without grouped-query attention). */
  kvHeads: number;
  /** Dims per head. */
  headDim: number;
  /** Vocabulary rows (embedding and output). */
  vocab: number;
  /** MLP hidden width. */
  intermediate: number;
  /** 2 for a plain GELU MLP, 3 for a gated (SwiGLU) one. */
  mlpMatrices: 2 | 3;
  /** Output matrix shares the input embedding. */
  tiedEmbeddings: boolean;
  /** Longest trained context, when the config says. */
  maxContext?: number;
  /** The linear layers of ONE block by module name (LoRA targets, quantised layers). */
  linears: Record<string, LinearShape>;
  /** Parameters in the blocks' linear weights (what 4-bit quantisation compresses). */
  linearParams: number;
  /** Everything assumed rather than read from a config. */
  assumptions: string[];
}

/** Explicit dimensions for `makeShape`. */
export interface ShapeDims {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads?: number;
  headDim?: number;
  vocab: number;
  intermediate?: number;
  /** "gpt": GPT-2/3 style (q,k,v,o + 2-matrix MLP, biases); "llama": gated MLP, no biases. */
  style: "gpt" | "llama";
  tiedEmbeddings?: boolean;
  maxContext?: number;
  /** Use this total instead of the one counted from the dimensions. */
  params?: number;
  assumptions?: string[];
}

const sumLinear = (linears: Record<string, LinearShape>) =>
  Object.values(linears).reduce((a, l) => a + l.in * l.out, 0);

/**
 * A shape from explicit dimensions; parameters are counted from them (LLaMA: no biases, RMSNorm;
 * GPT: biases, LayerNorm) unless `params` is given.
 *
 * @example
 * const gpt3 = makeShape({ name: "GPT-3 175B", style: "gpt", layers: 96, hidden: 12288, heads: 96, vocab: 50257, maxContext: 2048 });
 * gpt3.params; // 174604259328 (tied embeddings and 2048 learned positions included)
 */
export function makeShape(d: ShapeDims): ModelShape {
  const src = `shape ${JSON.stringify(d.name)}`;
  for (const k of ["layers", "hidden", "heads", "vocab"] as const)
    checkNumber(d[k], `${src}: ${k}`, { min: 1, integer: true });
  const heads = d.heads;
  const kvHeads = d.kvHeads ?? heads;
  checkNumber(kvHeads, `${src}: kvHeads`, { min: 1, max: heads, integer: true });
  if (heads % kvHeads !== 0) throw new SizingError(`${src}: heads ${heads} must be a multiple of kvHeads ${kvHeads}`);
  const headDim = d.headDim ?? d.hidden / heads;
  checkNumber(headDim, `${src}: headDim (hidden / heads unless given)`, { min: 1, integer: true });
  const h = d.hidden;
  const m = d.intermediate ?? 4 * h;
  checkNumber(m, `${src}: intermediate`, { min: 1, integer: true });
  const q = heads * headDim;
  const kv = kvHeads * headDim;
  const gated = d.style === "llama";
  const linears: Record<string, LinearShape> = {
    q_proj: { in: h, out: q },
    k_proj: { in: h, out: kv },
    v_proj: { in: h, out: kv },
    o_proj: { in: q, out: h },
    ...(gated ? { gate_proj: { in: h, out: m } } : {}),
    up_proj: { in: h, out: m },
    down_proj: { in: m, out: h },
  };
  const linearParams = sumLinear(linears);
  const tied = d.tiedEmbeddings ?? d.style === "gpt";
  const perLayer = gated ? linearParams + 2 * h : linearParams + (q + 2 * kv + h + m + h) + 2 * 2 * h;
  const finalNorm = gated ? h : 2 * h;
  const positions = d.style === "gpt" && d.maxContext ? d.maxContext * h : 0;
  const counted = d.layers * perLayer + d.vocab * h * (tied ? 1 : 2) + finalNorm + positions;
  const params = d.params !== undefined ? parseParamCount(d.params, `${src}: params`) : counted;
  return {
    name: d.name,
    family: d.style,
    params,
    layers: d.layers,
    hidden: h,
    heads,
    kvHeads,
    headDim,
    vocab: d.vocab,
    intermediate: m,
    mlpMatrices: gated ? 3 : 2,
    tiedEmbeddings: tied,
    maxContext: d.maxContext,
    linears,
    linearParams: d.layers * linearParams,
    assumptions: d.assumptions ?? [],
  };
}

/**
 * The shape of a GPT-NeoX (Pythia) config; parameters from `countParameters`.
 *
 * @example
 * shapeFromGPTNeoX(getPreset("pythia-70m"), "pythia-70m").params; // 70426624
 */
export function shapeFromGPTNeoX(cfg: GPTNeoXConfig, name = "gpt_neox"): ModelShape {
  const h = cfg.hiddenSize;
  const m = cfg.intermediateSize;
  const linears: Record<string, LinearShape> = {
    query_key_value: { in: h, out: 3 * h },
    dense: { in: h, out: h },
    dense_h_to_4h: { in: h, out: m },
    dense_4h_to_h: { in: m, out: h },
  };
  return {
    name,
    family: "gpt_neox",
    params: countParameters(cfg).total,
    layers: cfg.numHiddenLayers,
    hidden: h,
    heads: cfg.numAttentionHeads,
    kvHeads: cfg.numAttentionHeads,
    headDim: h / cfg.numAttentionHeads,
    vocab: cfg.vocabSize,
    intermediate: m,
    mlpMatrices: 2,
    tiedEmbeddings: cfg.tieWordEmbeddings,
    maxContext: cfg.maxPositionEmbeddings,
    linears,
    linearParams: cfg.numHiddenLayers * sumLinear(linears),
    assumptions: [],
  };
}

/**
 * The shape of a parsed Hugging Face `config.json`: `model_type: "gpt_neox"` through `configFromHF`;
 * any other type read as LLaMA-style (`hidden_size`, `num_hidden_layers`, `num_attention_heads`,
 * `intermediate_size`, `vocab_size` required; `num_key_value_heads`, `head_dim`, `tie_word_embeddings`
 * optional). A missing field is named in the error.
 *
 * @example
 * shapeFromHFConfig({ model_type: "llama", hidden_size: 8192, num_hidden_layers: 80, num_attention_heads: 64,
 *   num_key_value_heads: 8, intermediate_size: 28672, vocab_size: 32000 }, "llama-2-70b").kvHeads; // 8
 */
export function shapeFromHFConfig(json: unknown, source = "config.json"): ModelShape {
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new SizingError(`${source}: expected a JSON object`);
  const j = json as Record<string, unknown>;
  if (j.model_type === "gpt_neox") {
    try {
      return shapeFromGPTNeoX(configFromHF(j, source), source);
    } catch (e) {
      if (e instanceof ConfigError) throw new SizingError(e.message);
      throw e;
    }
  }
  const need = (key: string): number => {
    if (j[key] === undefined || j[key] === null) {
      const hint =
        key === "hidden_size" && j.n_embd !== undefined
          ? " (GPT-2-style n_embd/n_layer configs are not supported)"
          : "";
      throw new SizingError(`${source}: missing required field "${key}"${hint}`);
    }
    return checkNumber(j[key], `${source}: field "${key}"`, { min: 1, integer: true });
  };
  const opt = (key: string): number | undefined => (j[key] === undefined || j[key] === null ? undefined : need(key));
  const tied = j.tie_word_embeddings;
  if (tied !== undefined && typeof tied !== "boolean")
    throw new SizingError(`${source}: field "tie_word_embeddings" must be true or false`);
  const hidden = need("hidden_size");
  const heads = need("num_attention_heads");
  const headDim = opt("head_dim");
  if (headDim === undefined && hidden % heads !== 0)
    throw new SizingError(
      `${source}: hidden_size ${hidden} is not divisible by num_attention_heads ${heads} (and no head_dim is given)`,
    );
  return makeShape({
    name: typeof j._name_or_path === "string" && j._name_or_path ? j._name_or_path : source,
    style: "llama",
    layers: need("num_hidden_layers"),
    hidden,
    heads,
    kvHeads: opt("num_key_value_heads"),
    headDim,
    vocab: need("vocab_size"),
    intermediate: need("intermediate_size"),
    tiedEmbeddings: tied === true,
    maxContext: opt("max_position_embeddings"),
  });
}

/** The aspect-ratio assumptions `shapeFromParams` uses. */
export const DEFAULT_ASSUMED_SHAPE = {
  /** hidden ≈ 128 × layers, as in LLaMA 7B (4096/32) and 13B (5120/40). */
  hiddenPerLayer: 128,
  /** Pythia's padded GPT-NeoX vocabulary. */
  vocab: 50304,
  /** MLP width = 4 × hidden (GPT/Pythia). */
  mlpRatio: 4,
};

/**
 * A shape for a bare parameter count: the total is taken as given, and layers/width/heads are assumed
 * (GPT-NeoX-like: MHA, 4× MLP, untied 50304-row vocabulary, hidden ≈ 128 × layers, head size 64 below
 * a width of 2048, else 128). They only matter for the KV cache, activations and LoRA sizes; the
 * assumptions are listed in `assumptions`.
 *
 * @example
 * const s = shapeFromParams("7b");
 * s.params; // 7000000000
 * s.layers; // 32 (hidden 4096, 32 heads of 128)
 */
export function shapeFromParams(count: number | string, opts: Partial<typeof DEFAULT_ASSUMED_SHAPE> = {}): ModelShape {
  const o = { ...DEFAULT_ASSUMED_SHAPE, ...opts };
  const params = parseParamCount(count);
  // params ≈ 12·L·h² + 2·V·h with L = h / hiddenPerLayer: solve for h by bisection
  const f = (h: number) => (12 * h ** 3) / o.hiddenPerLayer + 2 * o.vocab * h;
  let lo = 1;
  let hi = 1e7;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < params) lo = mid;
    else hi = mid;
  }
  const headDim = lo >= 2048 ? 128 : 64;
  const heads = Math.max(1, Math.round(lo / headDim));
  const hidden = heads * headDim;
  const layers = Math.max(1, Math.round(hidden / o.hiddenPerLayer));
  const shape = makeShape({
    name: `${formatParams(params)} (assumed shape)`,
    style: "gpt",
    layers,
    hidden,
    heads,
    vocab: o.vocab,
    intermediate: o.mlpRatio * hidden,
    tiedEmbeddings: false,
    params,
  });
  shape.family = "assumed";
  shape.assumptions = [
    `shape assumed for ${formatParams(params)} parameters: ${layers} layers × hidden ${hidden} (≈ ${o.hiddenPerLayer} × layers, as LLaMA-7B 4096/32), ${heads} heads of ${headDim}, no grouped-query attention, MLP ${o.mlpRatio} × hidden, vocab ${o.vocab}; the parameter total is taken as given`,
  ];
  return shape;
}

/**
 * The total of the linear layers of one block that match `targets` (module names, or "all-linear"),
 * as LoRA adds `r·(in + out)` per matrix. Unknown names are an error listing the model's modules.
 *
 * @example
 * targetLinears(shapeFromGPTNeoX(getPreset("pythia-70m")), ["query_key_value"]); // [{name: "query_key_value", in: 512, out: 1536}]
 */
export function targetLinears(
  shape: ModelShape,
  targets: readonly string[] | "all-linear",
): (LinearShape & { name: string })[] {
  const names = Object.keys(shape.linears);
  const list =
    targets === "all-linear" || (targets.length === 1 && targets[0] === "all-linear") ? names : [...new Set(targets)];
  if (!list.length)
    throw new SizingError(`LoRA target modules are empty; ${shape.name} has: ${names.join(", ")} (or "all-linear")`);
  return list.map((t) => {
    const l = shape.linears[t];
    if (!l)
      throw new SizingError(
        `LoRA target module ${JSON.stringify(t)} is not in ${shape.name} (${shape.family}); its linear modules are: ${names.join(", ")} (or "all-linear")`,
      );
    return { name: t, ...l };
  });
}
