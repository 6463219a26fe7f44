/**
 * The sizing formulas, one function per quantity, each returning its value together with the formula
 * (as text, with the numbers filled in) and its source. `estimate.ts` assembles them into a job.
 *
 * Sources (see docs/sizing.md):
 * - [TM101] Anthony, Biderman, Schoelkopf, "Transformer Math 101", EleutherAI blog 2023
 *   (https://blog.eleuther.ai/transformer-math/): bytes per parameter by dtype, inference ≈ 1.2 × weights,
 *   optimizer states (AdamW 12 B/param incl. the fp32 master copy, 8-bit 6, SGD+momentum 8), gradients
 *   2 or 4 B/param, C ≈ 6·P·D.
 * - [HF] Hugging Face Transformers docs, "Model training anatomy" / "GPU memory usage"
 *   (https://huggingface.co/docs/transformers/model_memory_anatomy): mixed-precision AdamW 18 B/param
 *   = 6 weights (fp32 + fp16 copy) + 8 AdamW states + 4 fp32 gradients; 8-bit Adam states 2 B/param.
 * - [K22] Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models"
 *   (arXiv:2205.05198): activations per layer s·b·h·(34 + 5·a·s/h) bytes (eq. 1, 16-bit, no
 *   parallelism), 34·s·b·h with selective recomputation, 2·s·b·h with full recomputation; the output
 *   layer's logits 4·s·b·v bytes (fp32 cross-entropy).
 * - [ZeRO] Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion Parameter
 *   Models" (arXiv:1910.02054): mixed-precision Adam = 2Ψ + 2Ψ + 12Ψ; stage 1 shards optimizer states,
 *   stage 2 also gradients, stage 3 also parameters, each over N_d GPUs.
 * - [LoRA] Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models" (arXiv:2106.09685):
 *   r·(d_in + d_out) trainable parameters per adapted matrix.
 * - [QLoRA] Dettmers et al. 2023, "QLoRA: Efficient Finetuning of Quantized LLMs" (arXiv:2305.14314):
 *   NF4 with block size 64 and double quantisation (8-bit constants, second-level block 256) costs
 *   4 + 8/64 + 32/(64·256) ≈ 4.127 bits per parameter.
 * - [Kaplan] Kaplan et al. 2020, "Scaling Laws for Neural Language Models": forward ≈ 2·P FLOPs per token,
 *   training ≈ 6·P.
 */
import type { ModelShape } from "./shape";
import { BYTES_PER_PARAM, type Dtype, SizingError } from "./units";

/** A computed quantity with the formula behind it. */
export interface Term {
  value: number;
  /** The formula with its numbers, e.g. "2 · 80 · 8 · 128 · 4096 · 1 · 2 B". */
  formula: string;
  /** Short citation key (see the file header and docs/sizing.md). */
  source: string;
}

const n = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4))));

/**
 * Bytes of the weights in a dtype: params × bytes/param.
 *
 * @example
 * weightBytes(7e9, "fp16").value; // 14e9
 */
export function weightBytes(params: number, dtype: Dtype): Term {
  const b = BYTES_PER_PARAM[dtype];
  return { value: params * b, formula: `${n(params)} params × ${b} B (${dtype})`, source: "TM101" };
}

/**
 * KV cache bytes: 2 (K and V) · layers · kvHeads · headDim · seq · batch · bytes per value.
 *
 * @example
 * // Llama-2-70B in fp16: 327,680 bytes per token
 * kvCacheBytes({ layers: 80, kvHeads: 8, headDim: 128 }, 1, 1, 2).value; // 327680
 */
export function kvCacheBytes(
  shape: Pick<ModelShape, "layers" | "kvHeads" | "headDim">,
  seq: number,
  batch: number,
  bytesPerValue: number,
): Term {
  const value = 2 * shape.layers * shape.kvHeads * shape.headDim * seq * batch * bytesPerValue;
  return {
    value,
    formula: `2 · ${shape.layers} layers · ${shape.kvHeads} kv heads · ${shape.headDim} head dim · ${seq} seq · ${batch} batch · ${bytesPerValue} B`,
    source: "KV cache (K and V per layer and token)",
  };
}

/** Activation recomputation strategies of [K22]. */
export const RECOMPUTE = ["none", "selective", "full"] as const;
export type Recompute = (typeof RECOMPUTE)[number];

/**
 * Activation memory for one micro-batch (no tensor/sequence parallelism), after [K22]:
 * per layer s·b·h·(34 + 5·a·s/h) bytes without recomputation, 34·s·b·h with selective recomputation,
 * 2·s·b·h with full recomputation (only each layer's input kept); plus 4·s·b·v bytes of fp32 logits.
 * The per-layer constants assume 16-bit activations; `activationBytes` 4 (fp32 training) doubles them.
 *
 * @example
 * activationBytesFor({ layers: 16, hidden: 2048, heads: 8, vocab: 50304 }, 512, 1, "none", 2).value;
 */
export function activationBytesFor(
  shape: Pick<ModelShape, "layers" | "hidden" | "heads" | "vocab">,
  seq: number,
  batch: number,
  recompute: Recompute,
  activationBytes = 2,
): Term {
  const { layers: L, hidden: h, heads: a, vocab: v } = shape;
  const s = seq;
  const b = batch;
  const scale = activationBytes / 2;
  let perLayer: number;
  let text: string;
  if (recompute === "none") {
    perLayer = s * b * h * (34 + (5 * a * s) / h);
    text = `${L} layers · s·b·h·(34 + 5·a·s/h) = ${L} · ${s}·${b}·${h}·(34 + 5·${a}·${s}/${h})`;
  } else if (recompute === "selective") {
    perLayer = 34 * s * b * h;
    text = `${L} layers · 34·s·b·h = ${L} · 34·${s}·${b}·${h}`;
  } else if (recompute === "full") {
    perLayer = 2 * s * b * h;
    text = `${L} layers · 2·s·b·h = ${L} · 2·${s}·${b}·${h}`;
  } else
    throw new SizingError(`recompute ${JSON.stringify(recompute)} is not known; use one of: ${RECOMPUTE.join(", ")}`);
  const logits = 4 * s * b * v;
  const value = scale * L * perLayer + logits;
  return {
    value,
    formula: `${scale !== 1 ? `${scale} × ` : ""}${text} B + logits 4·s·b·v = 4·${s}·${b}·${v} B`,
    source: "K22",
  };
}

/** Optimizers the training formulas know. */
export const OPTIMIZERS = ["adamw", "adamw-8bit", "sgd", "sgd-momentum"] as const;
export type SizingOptimizer = (typeof OPTIMIZERS)[number];

/**
 * Named conventions for 16-bit training bytes: EleutherAI's mixed precision (16 B/param for AdamW),
 * Hugging Face's mixed precision (18 B/param), and pure 16-bit training without an fp32 master copy
 * (weights, gradients and AdamW moments all 16-bit: 8 B/param).
 */
export const CONVENTIONS = ["eleutherai-16", "hf-18", "pure-16bit"] as const;
export type Convention = (typeof CONVENTIONS)[number];

/** Training precision: fp32 everywhere, or 16-bit compute with an fp32 master copy. */
export type Precision = "fp32" | "mixed";

/**
 * Bytes per trainable parameter, split the way ZeRO shards them: 16-bit (or fp32) working weights,
 * an fp32 master copy (mixed precision only), gradients, and optimizer states.
 */
export interface PerParamBytes {
  weights: number;
  master: number;
  gradients: number;
  states: number;
  /** Whether the breakdown reports the master copy under "weights" (HF) or "optimizer" (EleutherAI/ZeRO). */
  masterIn: "weights" | "optimizer";
  formula: string;
  source: string;
}

const STATE_BYTES: Record<SizingOptimizer, { bytes32: number; bytes16: number; what: string; what16: string }> = {
  adamw: { bytes32: 8, bytes16: 4, what: "momentum 4 + variance 4", what16: "16-bit momentum 2 + variance 2" },
  "adamw-8bit": {
    bytes32: 2,
    bytes16: 2,
    what: "8-bit momentum 1 + variance 1 (bitsandbytes)",
    what16: "8-bit momentum 1 + variance 1 (bitsandbytes)",
  },
  sgd: { bytes32: 0, bytes16: 0, what: "no state", what16: "no state" },
  "sgd-momentum": { bytes32: 4, bytes16: 2, what: "momentum 4", what16: "16-bit momentum 2" },
};

/**
 * Bytes per trainable parameter for an optimizer, precision and convention:
 * - fp32: weights 4 + gradients 4 + states (AdamW 8, 8-bit AdamW 2, SGD 0, SGD+momentum 4);
 * - mixed, "eleutherai-16" [TM101, ZeRO]: fp16 weights 2 + fp16 gradients 2 + fp32 master 4 + states
 *   (AdamW: 2 + 2 + 12 = 16);
 * - mixed, "hf-18" [HF]: weights 6 (fp32 4 + fp16 copy 2) + fp32 gradients 4 + states (AdamW: 6 + 4 + 8 = 18);
 * - "pure-16bit": 16-bit weights 2 + gradients 2 + 16-bit states (AdamW 4), no master copy (AdamW: 8).
 *
 * @example
 * const b = trainingBytesPerParam("adamw", "mixed", "eleutherai-16");
 * b.weights + b.master + b.gradients + b.states; // 16
 */
export function trainingBytesPerParam(
  optimizer: SizingOptimizer,
  precision: Precision,
  convention: Convention,
): PerParamBytes {
  const st = STATE_BYTES[optimizer];
  if (!st)
    throw new SizingError(`optimizer ${JSON.stringify(optimizer)} is not known; use one of: ${OPTIMIZERS.join(", ")}`);
  if (!(CONVENTIONS as readonly string[]).includes(convention))
    throw new SizingError(
      `convention ${JSON.stringify(convention)} is not known; use one of: ${CONVENTIONS.join(", ")}`,
    );
  const states = st.bytes32;
  if (precision === "fp32") {
    return {
      weights: 4,
      master: 0,
      gradients: 4,
      states,
      masterIn: "weights",
      formula: `fp32: weights 4 + gradients 4 + ${optimizer} states ${states} (${st.what}) = ${8 + states} B/param`,
      source: "TM101",
    };
  }
  if (convention === "pure-16bit") {
    const s16 = st.bytes16;
    return {
      weights: 2,
      master: 0,
      gradients: 2,
      states: s16,
      masterIn: "optimizer",
      formula: `pure 16-bit (no fp32 master copy): weights 2 + gradients 2 + optimizer ${s16} (${st.what16}) = ${4 + s16} B/param`,
      source: "TM101",
    };
  }
  if (convention === "eleutherai-16") {
    return {
      weights: 2,
      master: 4,
      gradients: 2,
      states,
      masterIn: "optimizer",
      formula: `mixed precision (EleutherAI, 16 B/param for AdamW): fp16 weights 2 + fp16 gradients 2 + optimizer (fp32 master 4 + ${st.what}) = ${8 + states} B/param`,
      source: "TM101",
    };
  }
  return {
    weights: 2,
    master: 4,
    gradients: 4,
    states,
    masterIn: "weights",
    formula: `mixed precision (Hugging Face, 18 B/param for AdamW): weights 6 (fp32 4 + fp16 2) + fp32 gradients 4 + optimizer ${states} (${st.what}) = ${10 + states} B/param`,
    source: "HF",
  };
}

/** NF4 + double quantisation [QLoRA]: 4 bits + 8/64 + 32/(64·256) bits per parameter. */
export const NF4_BITS_PER_PARAM = 4 + 8 / 64 + 32 / (64 * 256);

/**
 * Bytes of QLoRA's base weights: the blocks' linear weights in NF4 with double quantisation
 * (≈ 4.127 bits/param), everything else (embeddings, norms, biases, output layer) in 16-bit.
 *
 * @example
 * qloraBaseBytes({ params: 7e9, linearParams: 6.5e9 }).value; // 6.5e9·4.127/8 + 0.5e9·2
 */
export function qloraBaseBytes(shape: Pick<ModelShape, "params" | "linearParams">): Term {
  const q = shape.linearParams;
  const rest = Math.max(0, shape.params - q);
  return {
    value: (q * NF4_BITS_PER_PARAM) / 8 + rest * 2,
    formula: `${n(q)} linear params × 4.127 bits (NF4 4 + double-quantised constants 8/64 + 32/(64·256)) / 8 + ${n(rest)} other params × 2 B (bf16)`,
    source: "QLoRA",
  };
}

/**
 * Trainable LoRA parameters: Σ over targeted matrices of r·(in + out), times the number of layers [LoRA].
 *
 * @example
 * // GPT-3 175B, r = 4 on Wq and Wv: 96 · 2 · 4 · (12288 + 12288) = 18,874,368
 * loraParams(96, [{ in: 12288, out: 12288 }, { in: 12288, out: 12288 }], 4).value; // 18874368
 */
export function loraParams(
  layers: number,
  targets: readonly { in: number; out: number; name?: string }[],
  r: number,
): Term {
  const per = targets.reduce((a, t) => a + r * (t.in + t.out), 0);
  const parts = targets.map((t) => `${t.name ?? "W"} ${r}·(${t.in}+${t.out})`).join(" + ");
  return { value: layers * per, formula: `${layers} layers · (${parts})`, source: "LoRA" };
}

/**
 * FLOPs per token: 2·P for a forward pass, 6·P for training (forward 2 + backward 4) [Kaplan, TM101];
 * full recomputation adds one forward (8·P); LoRA skips the frozen weights' gradients (≈ 4·P).
 *
 * @example
 * flopsPerToken(1e9, "train", "none").value; // 6e9
 */
export function flopsPerToken(
  params: number,
  job: "inference" | "train" | "lora" | "qlora",
  recompute: Recompute = "none",
): Term {
  if (job === "inference") return { value: 2 * params, formula: `2 · P = 2 · ${n(params)}`, source: "Kaplan" };
  const base = job === "train" ? 6 : 4;
  const extra = recompute === "full" ? 2 : 0;
  const what =
    job === "train"
      ? "6·P (forward 2P + backward 4P)"
      : "4·P (forward 2P + activation gradients 2P; frozen weights get no gradient)";
  return {
    value: (base + extra) * params,
    formula: `${what}${extra ? " + 2·P recomputed forward" : ""} = ${base + extra} · ${n(params)}`,
    source: "Kaplan",
  };
}
