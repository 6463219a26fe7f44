/**
 * GPT-NeoX (the Pythia architecture) in TensorFlow.js, numerically equal to Hugging Face transformers.
 *
 * Reference: `transformers/models/gpt_neox/modeling_gpt_neox.py` (v4.31: GPTNeoXAttention, GPTNeoXMLP,
 * GPTNeoXLayer, GPTNeoXModel, GPTNeoXForCausalLM); Black et al. 2022, "GPT-NeoX-20B".
 * Built bottom-up like nanoGPT's model.py: attention → MLP → block → model. The norms, dense layers and
 * embedding live in layers.ts, rotary in rotary.ts, input checks and the attention mask in inputs.ts, the
 * KV cache in kvcache.ts, the parameter names in parameters.ts, reading and saving weights in weights.ts.
 *
 * Every parameter is a `tf.Variable` keyed by its HF tensor name (`gpt_neox.embed_in.weight`, ...,
 * `embed_out.weight`). Dense layers are reached by HF module name through `getLinear`/`setLinear`, so LoRA can
 * put a wrapper with the same `apply(x)` in place of any of them.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../runtime/seed";
import {
  addMask,
  attentionScores,
  attentionValues,
  fillableTensor,
  gradientDepth,
  leanAdd,
  leanReshape,
  leanScale,
  shareClonesOnWasm,
  splitHeadsRotary,
} from "../kernels";
import { type GPTNeoXConfig, headDim, rotaryDims, validateConfig } from "./config";
import type { KVCache } from "./kvcache";
import { activation, embedding, LayerNorm, Linear, type LinearLike } from "./layers";
import { causalLMLoss, causalLMLossFromHidden, type FusedLossOptions } from "./loss";
import { blockLinearNames, parameterShapes } from "./parameters";
import { modelStateDict, paramsFromTensors, readPretrained, type SaveOptions, saveModel } from "./weights";
import { attentionBias, maskValues, positionValues, toIdTensor } from "./inputs";
import { rotaryTables, type RotaryTables } from "./rotary";
import type { SafeTensor } from "./safetensors";

export { blockLinearNames, parameterShapes } from "./parameters";

/** What the attention of every block shares in one forward pass. */
interface AttentionContext {
  rotary: RotaryTables;
  /** Additive mask `[B or 1, 1, Tq, Tk]` (0, MASK_VALUE or −∞; see inputs.ts), or null when every key is visible. */
  bias: tf.Tensor | null;
  cache?: KVCache;
}

/** Self-attention with the fused `query_key_value` projection (q, k, v interleaved per head). */
export class GPTNeoXAttention {
  private readonly nHead: number;
  private readonly headDim: number;
  private readonly rotDims: number;
  private readonly scale: number;
  constructor(
    readonly layerIndex: number,
    cfg: GPTNeoXConfig,
    /** `query_key_value`: `[3·C] ← [C]`. */
    public qkv: LinearLike,
    /** `dense`: `[C] ← [C]`. */
    public dense: LinearLike,
  ) {
    this.nHead = cfg.numAttentionHeads;
    this.headDim = headDim(cfg);
    this.rotDims = rotaryDims(cfg);
    this.scale = Math.fround(1 / Math.fround(Math.sqrt(this.headDim))); // HF: 1 / norm_factor in float32
  }

  apply(x: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    const [B, T, C] = x.shape;
    const H = this.nHead;
    const D = this.headDim;
    const qkv = leanReshape(this.qkv.apply(x), [B, T, H, 3 * D]); // [B, T, H, 3D]: q, k, v interleaved per head
    // [B, H, T, D] each; q and k rotated (rotary position embedding on their first rotDims values)
    const [q, k0, v0] = splitHeadsRotary(qkv as tf.Tensor4D, ctx.rotary.cos, ctx.rotary.sin, this.rotDims);
    let k = k0;
    let v = v0;
    if (ctx.cache) ({ key: k, value: v } = ctx.cache.append(this.layerIndex, k, v)); // [B, H, past+T, D]
    let scores: tf.Tensor = attentionScores(leanScale(q, this.scale), k); // [B, H, T, Tk]
    if (ctx.bias) scores = addMask(scores, ctx.bias);
    const out = attentionValues(tf.softmax(scores, -1), v); // [B, H, T, D]
    const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B, T, C]); // [B, T, C]
    return this.dense.apply(merged); // [B, T, C]
  }
}

/** The MLP: `dense_4h_to_h(act(dense_h_to_4h(x)))`. */
export class GPTNeoXMLP {
  private readonly act: (x: tf.Tensor) => tf.Tensor;
  constructor(
    cfg: GPTNeoXConfig,
    public denseHTo4h: LinearLike,
    public dense4hToH: LinearLike,
  ) {
    this.act = activation(cfg.hiddenAct);
  }
  apply(x: tf.Tensor): tf.Tensor {
    return this.dense4hToH.apply(this.act(this.denseHTo4h.apply(x))); // [B, T, C]
  }
}

/** One transformer block, with parallel or sequential residual. */
export class GPTNeoXBlock {
  constructor(
    private readonly parallel: boolean,
    readonly inputLayerNorm: LayerNorm,
    readonly postAttentionLayerNorm: LayerNorm,
    readonly attention: GPTNeoXAttention,
    readonly mlp: GPTNeoXMLP,
  ) {}
  apply(x: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    const attn = this.attention.apply(this.inputLayerNorm.apply(x), ctx); // [B, T, C]
    if (this.parallel) {
      const mlp = this.mlp.apply(this.postAttentionLayerNorm.apply(x)); // [B, T, C]
      return leanAdd(leanAdd(mlp, attn), x); // x + attn(ln1(x)) + mlp(ln2(x))
    }
    const h = leanAdd(attn, x); // h = x + attn(ln1(x))
    return leanAdd(this.mlp.apply(this.postAttentionLayerNorm.apply(h)), h); // h + mlp(ln2(h))
  }
}

/** Options of `forward`. */
export { MASK_VALUE } from "./inputs";

export interface ForwardOptions {
  /** `[B, past + T]`, 1 for real tokens and 0 for padding (left or right). Default: all ones. */
  attentionMask?: tf.Tensor | number[][];
  /** `[B, T]` positions for rotary. Default: `past … past+T−1` for every row (HF's default). */
  positionIds?: tf.Tensor | number[][];
  /** A KV cache to read and extend (inference only: no gradient flows through it). */
  cache?: KVCache;
  /** Return logits for the last position only (`[B, 1, V]`), as generation needs. */
  lastOnly?: boolean;
}

/** Options of `causalLMLoss` (the model method). */
export interface CausalLMLossOptions {
  /** `[B, T]`, 1 for real tokens and 0 for padding. Default: all ones. */
  attentionMask?: tf.Tensor | number[][];
  /** `[B, T]` positions for rotary. Default: `0 … T−1` for every row. */
  positionIds?: tf.Tensor | number[][];
  /** Logit rows computed at a time by the fused output layer + loss (see `causalLMLossFromHidden`). */
  chunkRows?: number;
  /** false: always `embed_out` → `[B, T, V]` logits → `causalLMLoss` (the unfused reference path). Default true. */
  fused?: boolean;
  /**
   * Whether the caller wants a gradient for the output layer's weight (default true). false (e.g. a trainable
   * filter that leaves `embed_out` out) skips the `[V, C]` weight gradient in the fused path: one of its three
   * large matmuls and its memory. A weight whose variable is not trainable is treated as frozen either way.
   */
  trainOutput?: boolean;
}

/** What `hiddenStates` returns. */
export interface HiddenStatesOutput {
  /** `[B, T, C]` after the final LayerNorm (or `[B, 1, C]` with `lastOnly`): what `embed_out` maps to logits. */
  hiddenStates: tf.Tensor3D;
  /** The cache passed in, now extended by T positions. */
  cache?: KVCache;
}

export interface ForwardOutput {
  /** `[B, T, V]` (or `[B, 1, V]` with `lastOnly`). */
  logits: tf.Tensor3D;
  /** The cache passed in, now extended by T positions. */
  cache?: KVCache;
}

/**
 * GPT-NeoX with its language-model head. Create with `create` (fresh weights), `fromTensors`/`fromPretrained`
 * (weights.ts), run with `forward`, score with `causalLMLoss` (loss.ts), sample with `generate` (generate.ts).
 *
 * @example
 * const model = GPTNeoXForCausalLM.create(getPreset("pythia-14m"), { seed: 0 });
 * const { logits } = model.forward([[12764, 13, 849]]); // [1, 3, 50304]
 * logits.dispose(); model.dispose();
 */
export class GPTNeoXForCausalLM {
  readonly config: GPTNeoXConfig;
  readonly blocks: GPTNeoXBlock[];
  readonly finalLayerNorm: LayerNorm;
  private readonly params: Map<string, tf.Variable>;
  private embedOut: LinearLike;
  private disposed = false;

  /** Build from variables keyed by HF name (shapes as `parameterShapes(config)`); the model owns them. */
  constructor(config: GPTNeoXConfig, params: Map<string, tf.Variable>) {
    validateConfig(config);
    this.config = { ...config };
    const expected = parameterShapes(config);
    for (const [name, shape] of expected) {
      const v = params.get(name);
      if (!v) throw new Error(`GPTNeoXForCausalLM: missing parameter ${name} [${shape}]`);
      if (v.shape.join(",") !== shape.join(","))
        throw new Error(`GPTNeoXForCausalLM: ${name} has shape [${v.shape}], expected [${shape}]`);
    }
    this.params = new Map([...expected.keys()].map((k) => [k, params.get(k)!]));
    const P = (n: string) => this.params.get(n)!;
    const opt = (n: string) => this.params.get(n) ?? null;
    const ln = (n: string) => new LayerNorm(n, P(`${n}.weight`), P(`${n}.bias`), config.layerNormEps);
    const lin = (n: string) => new Linear(n, P(`${n}.weight`), opt(`${n}.bias`));
    this.blocks = [];
    for (let i = 0; i < config.numHiddenLayers; i++) {
      const [qkv, dense, up, down] = blockLinearNames(i);
      const p = `gpt_neox.layers.${i}`;
      this.blocks.push(
        new GPTNeoXBlock(
          config.useParallelResidual,
          ln(`${p}.input_layernorm`),
          ln(`${p}.post_attention_layernorm`),
          new GPTNeoXAttention(i, config, lin(qkv), lin(dense)),
          new GPTNeoXMLP(config, lin(up), lin(down)),
        ),
      );
    }
    this.finalLayerNorm = ln("gpt_neox.final_layer_norm");
    this.embedOut = new Linear(
      "embed_out",
      config.tieWordEmbeddings ? P("gpt_neox.embed_in.weight") : P("embed_out.weight"),
      null,
    );
  }

  /**
   * A model with fresh weights as HF initialises them: normal(0, initializerRange) for dense and embedding
   * weights, LayerNorm weight 1 and bias 0, biases 0. Seeded (same seed → same weights on every backend).
   *
   * @example
   * const model = GPTNeoXForCausalLM.create(getPreset("pythia-70m"), { seed: 42 });
   */
  static create(config: GPTNeoXConfig, opts: { seed?: number } = {}): GPTNeoXForCausalLM {
    validateConfig(config);
    const rng = new Rng(opts.seed ?? 0);
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of parameterShapes(config)) {
      const n = shape.reduce((a, b) => a * b, 1);
      // written where the backend keeps it (the wasm heap): no JavaScript copy of the embeddings (≈ 100 MiB for
      // pythia-70m) left for the garbage collector, which can add it to the peak RSS of the training that follows
      const t = fillableTensor(shape);
      const data = t.view();
      if (name.endsWith("layernorm.weight") || name.endsWith("final_layer_norm.weight")) data.fill(1);
      else if (name.endsWith(".weight")) for (let i = 0; i < n; i++) data[i] = rng.normal() * config.initializerRange;
      else data.fill(0);
      const init = t.finish();
      params.set(name, tf.variable(init, true)); // shares init's buffer...
      init.dispose(); // ...so drop this handle, or the buffer would outlive the first assign
    }
    return new GPTNeoXForCausalLM(config, params);
  }

  /**
   * A model from HF-named tensors; missing, unexpected or mis-shaped tensors give one CheckpointError listing
   * each (legacy buffers such as `attention.rotary_emb.inv_freq` are ignored). See `paramsFromTensors`.
   *
   * @example
   * const { tensors } = await readSafetensorsFile("A/model.safetensors");
   * const model = GPTNeoXForCausalLM.fromTensors(readConfigFile("A/config.json"), tensors, "A/model.safetensors");
   */
  static fromTensors(config: GPTNeoXConfig, tensors: Map<string, SafeTensor>, source?: string): GPTNeoXForCausalLM {
    return new GPTNeoXForCausalLM(config, paramsFromTensors(config, tensors, source));
  }

  /**
   * Load a local folder (`config.json` + `model.safetensors` or a sharded index) or a `.safetensors` file next
   * to its `config.json`. (Hub ids are resolved to such a folder by src/hub.)
   *
   * @example
   * const model = await GPTNeoXForCausalLM.fromPretrained("/path/to/pythia-70m");
   */
  static async fromPretrained(dirOrFile: string): Promise<GPTNeoXForCausalLM> {
    const { config, params } = await readPretrained(dirOrFile);
    return new GPTNeoXForCausalLM(config, params);
  }

  /** The weights as F32 safetensors entries keyed by HF name (copies), ready for `writeSafetensorsFile`. */
  stateDict(): Map<string, SafeTensor> {
    this.check();
    return modelStateDict(this);
  }

  /**
   * Save `config.json` + `model.safetensors` into `dir` (atomic writes); transformers can load the folder.
   *
   * @example
   * await model.save("out/finetuned", { dtype: "F16" });
   */
  save(dir: string, opts: SaveOptions = {}): Promise<void> {
    this.check();
    return saveModel(this, dir, opts);
  }

  /**
   * Logits for `inputIds` `[B, T]` (int ids). With a `cache`, the ids are the positions after the cached ones
   * and `attentionMask` (if given) covers past + new positions. The returned tensors belong to the caller.
   *
   * @example
   * const { logits } = model.forward([[1, 2, 3], [4, 5, 1]], { attentionMask: [[1, 1, 1], [1, 1, 0]] }); // [2, 3, V]
   */
  forward(inputIds: tf.Tensor | number[][], opts: ForwardOptions = {}): ForwardOutput {
    const { hiddenStates, cache } = this.hiddenStates(inputIds, opts);
    try {
      const logits = tf.tidy(() => this.embedOut.apply(hiddenStates) as tf.Tensor3D); // [B, T, V]
      return cache ? { logits, cache } : { logits };
    } finally {
      hiddenStates.dispose();
    }
  }

  /**
   * The final hidden states `[B, T, C]` (after the final LayerNorm, before `embed_out`) for `inputIds`; options
   * as `forward`. The returned tensors belong to the caller.
   *
   * @example
   * const { hiddenStates } = model.hiddenStates([[1, 2, 3]]); // [1, 3, hiddenSize]
   */
  hiddenStates(inputIds: tf.Tensor | number[][], opts: ForwardOptions = {}): HiddenStatesOutput {
    this.check();
    const cfg = this.config;
    const ids = toIdTensor(inputIds, "inputIds", cfg.vocabSize);
    try {
      const [B, T] = ids.t.shape;
      const cache = opts.cache;
      const past = cache?.length ?? 0;
      if (cache && cache.numLayers !== cfg.numHiddenLayers)
        throw new Error(`forward: cache has ${cache.numLayers} layers, model has ${cfg.numHiddenLayers}`);
      if (cache && past > 0 && cache.batchSize !== B)
        throw new Error(`forward: cache holds batch ${cache.batchSize}, inputIds has batch ${B}`);
      const positions = positionValues(opts.positionIds, B, T, past);
      const mask = maskValues(opts.attentionMask, B, past + T);
      const hiddenStates = tf.tidy(() => {
        const rotary = rotaryTables(positions, B, T, rotaryDims(cfg), cfg.rotaryEmbBase, cfg.ropeScaling?.factor ?? 1);
        const bias = attentionBias(mask, B, T, past);
        const ctx: AttentionContext = { rotary, bias, cache };
        let x = embedding(this.params.get("gpt_neox.embed_in.weight")!, ids.t); // [B, T, C]
        // one tidy per block: what a block's backward pass needs is saved by its ops; the rest is freed here
        // instead of living until the whole forward pass ends
        for (const block of this.blocks) x = tf.tidy(() => block.apply(x, ctx)); // [B, T, C]
        if (opts.lastOnly && T > 1) x = tf.slice(x, [0, T - 1, 0], [B, 1, cfg.hiddenSize]); // [B, 1, C]
        return this.finalLayerNorm.apply(x) as tf.Tensor3D; // [B, T, C]
      });
      return cache ? { hiddenStates, cache } : { hiddenStates };
    } finally {
      if (ids.owned) ids.t.dispose();
    }
  }

  /**
   * Mean next-token loss (HF `labels=` semantics, as `causalLMLoss` in loss.ts) without materialising the
   * `[B, T, V]` logits: when `embed_out` is a plain bias-free dense layer (a `Linear`, or a frozen stand-in that
   * reports its weights), the output layer and the loss run fused and chunked over the scored rows only
   * (`causalLMLossFromHidden`); otherwise (e.g. a LoRA wrapper on `embed_out`) it falls back to logits +
   * `causalLMLoss`. Same value and gradients either way; this is what the trainer calls.
   *
   * @example
   * const { value, grads } = tf.variableGrads(() => model.causalLMLoss(ids, ids)); // ids: [B, T]
   */
  causalLMLoss(
    inputIds: tf.Tensor | number[][],
    labels: tf.Tensor | number[][],
    opts: CausalLMLossOptions = {},
  ): tf.Scalar {
    shareClonesOnWasm(); // the tensors saved for the backward pass are not copied (layers.ts)
    const { hiddenStates } = this.hiddenStates(inputIds, {
      attentionMask: opts.attentionMask,
      positionIds: opts.positionIds,
    });
    try {
      // the fused op gives first-order gradients only: inside a gradient of a gradient, use plain autodiff
      const higherOrder = gradientDepth() > 1;
      const dense = opts.fused === false || higherOrder ? null : (this.embedOut.denseWeights?.() ?? null);
      if (dense && !dense.bias) {
        const weightIsTrainable = !(dense.weight instanceof tf.Variable) || dense.weight.trainable;
        const trainWeight = dense.trainable && weightIsTrainable && opts.trainOutput !== false;
        const fusedOpts: FusedLossOptions = { trainWeight, chunkRows: opts.chunkRows };
        return causalLMLossFromHidden(hiddenStates, dense.weight, labels, fusedOpts);
      }
      return tf.tidy(() => causalLMLoss(this.embedOut.apply(hiddenStates), labels));
    } finally {
      hiddenStates.dispose();
    }
  }

  /** All parameters keyed by HF tensor name (the model's own variables; do not dispose them). */
  parameters(): Map<string, tf.Variable> {
    this.check();
    return new Map(this.params);
  }

  /** Number of parameter values (tied embeddings counted once). */
  numParameters(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** HF module names of every dense layer, in model order (`embed_out` last). */
  linearNames(): string[] {
    const names: string[] = [];
    for (let i = 0; i < this.blocks.length; i++) names.push(...blockLinearNames(i));
    names.push("embed_out");
    return names;
  }

  /**
   * The dense layer (or its wrapper) at an HF module name, e.g. `gpt_neox.layers.0.attention.query_key_value`.
   *
   * @example
   * const qkv = model.getLinear("gpt_neox.layers.0.attention.query_key_value") as Linear; // qkv.weight: [3C, C]
   */
  getLinear(name: string): LinearLike {
    const slot = this.slot(name);
    return slot.get();
  }

  /** Put `layer` (e.g. a LoRA wrapper of the current one) at an HF module name; returns the previous one. */
  setLinear(name: string, layer: LinearLike): LinearLike {
    const slot = this.slot(name);
    const prev = slot.get();
    slot.set(layer);
    return prev;
  }

  private slot(name: string): { get(): LinearLike; set(l: LinearLike): void } {
    if (name === "embed_out") return { get: () => this.embedOut, set: (l) => (this.embedOut = l) };
    const m =
      /^gpt_neox\.layers\.(\d+)\.(attention\.query_key_value|attention\.dense|mlp\.dense_h_to_4h|mlp\.dense_4h_to_h)$/.exec(
        name,
      );
    const block = m ? this.blocks[Number(m[1])] : undefined;
    if (!m || !block)
      throw new Error(
        `no dense layer named ${JSON.stringify(name)}; known: ${this.linearNames().slice(0, 4).join(", ")}, ... , embed_out`,
      );
    const a = block.attention;
    const p = block.mlp;
    switch (m[2]) {
      case "attention.query_key_value":
        return { get: () => a.qkv, set: (l) => (a.qkv = l) };
      case "attention.dense":
        return { get: () => a.dense, set: (l) => (a.dense = l) };
      case "mlp.dense_h_to_4h":
        return { get: () => p.denseHTo4h, set: (l) => (p.denseHTo4h = l) };
      default:
        return { get: () => p.dense4hToH, set: (l) => (p.dense4hToH = l) };
    }
  }

  /** Free every variable. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const v of this.params.values()) v.dispose();
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private check(): void {
    if (this.disposed) throw new Error("GPTNeoXForCausalLM: used after dispose()");
  }
}
