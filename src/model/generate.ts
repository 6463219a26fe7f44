/**
 * Text generation with a GPT-NeoX model, as Hugging Face's `generate` does it: prompts of different lengths
 * are LEFT-padded, with `attention_mask` and `position_ids = cumsum(mask) − 1` (pads at 1); one forward pass
 * over the prompts fills the KV cache, then one token per step. Greedy or seeded sampling (sampling.ts);
 * stops per sequence on EOS, on a stop string, or after `maxNewTokens`, which the model's context caps
 * (`maxPositionEmbeddings` minus the prompt length: a `GenerateLimitError` above it); streams each token to `onToken`.
 * No tensors outlive a call.
 */
import { Rng } from "../runtime/seed";
import type { GPTNeoXForCausalLM } from "./gptneox";
import { KVCache } from "./kvcache";
import { withTransposedWeights } from "../kernels";
import { DEFAULT_SAMPLING, nextToken, type SamplingOptions, validateSampling } from "./sampling";

/** `maxNewTokens` does not fit in the model's context after the prompt; `limit` is what would. */
export class GenerateLimitError extends Error {
  override name = "GenerateLimitError";
  constructor(
    message: string,
    readonly maxNewTokens: number,
    readonly limit: number,
  ) {
    super(message);
  }
}

/** Why a sequence stopped. */
export type FinishReason = "eos" | "stop" | "length";

export interface GenerateOptions extends SamplingOptions {
  /** New tokens per sequence at most; with the prompt, at most the model's `maxPositionEmbeddings`. */
  maxNewTokens: number;
  /** Stop a sequence when it produces one of these ids (kept in the output, as HF). Default: the config's
   * `eosTokenId`; `null` disables EOS stopping. */
  eosTokenId?: number | number[] | null;
  /** Stop a sequence once its decoded new text contains one of these (needs `decode`). */
  stopStrings?: string[];
  /** Ids → text, used for `stopStrings`. */
  decode?: (ids: number[]) => string;
  /** Id used to left-pad shorter prompts (never attended to). Default: the first EOS id, else 0. */
  padTokenId?: number;
  /** Seed of the sampling RNG (ignored when `rng` is given). Default: a random seed. */
  seed?: number;
  /** The RNG to draw from (its state advances). */
  rng?: Rng;
  /** Called with each new token as soon as it is chosen: id, step (0-based), index of the sequence. */
  onToken?: (id: number, step: number, sequence: number) => void;
  /** Reuse keys/values of past positions (default true); false recomputes the whole sequence every step. */
  useCache?: boolean;
}

export const DEFAULT_GENERATE_OPTIONS: GenerateOptions = {
  ...DEFAULT_SAMPLING,
  maxNewTokens: 32, // a sentence or two: enough to see what the model does, quick on a CPU
  useCache: true, // O(T) work per step instead of O(T²)
};

export interface GenerateResult {
  /** New ids per sequence (EOS included when it stopped on EOS). */
  sequences: number[][];
  finishReasons: FinishReason[];
}

function eosIds(opts: Partial<GenerateOptions>, model: GPTNeoXForCausalLM): number[] {
  const e = opts.eosTokenId === undefined ? model.config.eosTokenId : opts.eosTokenId;
  return e === null ? [] : Array.isArray(e) ? e : [e];
}

function checkPrompts(prompts: number[][], vocab: number, bos: number | null): number[][] {
  if (prompts.length === 0) throw new Error("generate: no prompts given");
  return prompts.map((p, i) => {
    if (!Array.isArray(p)) throw new Error(`generate: prompt ${i} must be an array of token ids`);
    for (const id of p) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab)
        throw new Error(`generate: prompt ${i} has id ${id}, outside the vocabulary [0, ${vocab})`);
    }
    if (p.length > 0) return p;
    if (bos === null) throw new Error(`generate: prompt ${i} is empty and the model has no bosTokenId to start from`);
    return [bos];
  });
}

/**
 * Generate for one prompt or a batch, with the finish reason of each sequence.
 *
 * @example
 * const { sequences, finishReasons } = await generateDetailed(model, [[12764, 13], [510]], { maxNewTokens: 20, doSample: true, topP: 0.9, seed: 1 });
 */
export async function generateDetailed(
  model: GPTNeoXForCausalLM,
  promptIds: number[][],
  options: Partial<GenerateOptions> = {},
): Promise<GenerateResult> {
  const o: GenerateOptions = { ...DEFAULT_GENERATE_OPTIONS, ...options };
  validateSampling(o);
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0)
    throw new Error(`generate: maxNewTokens must be an integer >= 0, got ${o.maxNewTokens}`);
  if (o.stopStrings?.length && !o.decode)
    throw new Error("generate: stopStrings need a decode(ids) function to read the text");
  const cfg = model.config;
  const prompts = checkPrompts(promptIds, cfg.vocabSize, cfg.bosTokenId);
  const eos = eosIds(o, model);
  const pad = o.padTokenId ?? eos[0] ?? 0;
  const rng = o.rng ?? new Rng(o.seed ?? Math.floor(Math.random() * 2 ** 32));
  const B = prompts.length;
  const L = Math.max(...prompts.map((p) => p.length));
  // Positions past the context have no meaning for the model (and the loop would run as long as asked).
  const room = cfg.maxPositionEmbeddings - L;
  if (o.maxNewTokens > room)
    throw new GenerateLimitError(
      room > 0
        ? `generate: maxNewTokens ${o.maxNewTokens} is over the limit of ${room}: the model's context is ${cfg.maxPositionEmbeddings} tokens (maxPositionEmbeddings) and the prompt${B > 1 ? " (longest)" : ""} has ${L}`
        : `generate: the prompt${B > 1 ? " (longest)" : ""} has ${L} tokens, which fills the model's context of ${cfg.maxPositionEmbeddings} (maxPositionEmbeddings): no room for new tokens`,
      o.maxNewTokens,
      Math.max(0, room),
    );

  // Left padding, mask and positions as HF's generate builds them.
  const ids = prompts.map((p) => [...new Array(L - p.length).fill(pad), ...p]);
  const mask = prompts.map((p) => [...new Array(L - p.length).fill(0), ...new Array(p.length).fill(1)]);
  const positions = (m: number[][]) =>
    m.map((row) => {
      let c = 0;
      return row.map((x) => ((c += x), x === 0 ? 1 : c - 1));
    });

  const out: number[][] = prompts.map(() => []);
  const reasons: (FinishReason | null)[] = prompts.map(() => null);
  const cache = o.useCache ? new KVCache(cfg.numHiddenLayers) : undefined;
  // dense weights kept transposed for the loop's few-row matmuls (x·Wt is ~4× faster on wasm); freed after
  return withTransposedWeights(async () => {
    try {
      for (let step = 0; step < o.maxNewTokens; step++) {
        const first = step === 0 || !cache;
        const pos = positions(mask);
        const logits = first
          ? model.forward(ids, { attentionMask: mask, positionIds: pos, cache, lastOnly: true }).logits
          : model.forward(
              ids.map((r) => [r[r.length - 1]]),
              { attentionMask: mask, positionIds: pos.map((r) => [r[r.length - 1]]), cache, lastOnly: true },
            ).logits;
        let rows: Float32Array;
        try {
          rows = (await logits.data()) as Float32Array; // [B, 1, V]
        } finally {
          logits.dispose();
        }
        const V = cfg.vocabSize;
        for (let b = 0; b < B; b++) {
          let id = pad;
          if (reasons[b] === null) {
            id = nextToken(rows.subarray(b * V, (b + 1) * V), [...prompts[b], ...out[b]], o, rng);
            out[b].push(id);
            o.onToken?.(id, step, b);
            if (eos.includes(id)) reasons[b] = "eos";
            else if (o.stopStrings?.length && hasStop(o.decode!(out[b]), o.stopStrings)) reasons[b] = "stop";
            else if (out[b].length >= o.maxNewTokens) reasons[b] = "length";
          }
          ids[b].push(id); // finished rows get padding, as HF (their output is already fixed)
          mask[b].push(1);
        }
        if (reasons.every((r) => r !== null)) break;
      }
    } finally {
      cache?.dispose();
    }
    return { sequences: out, finishReasons: reasons.map((r) => r ?? "length") };
  });
}

function hasStop(text: string, stops: string[]): boolean {
  return stops.some((s) => s !== "" && text.includes(s));
}

/**
 * Generate new token ids: for one prompt (`number[]`) the new ids, for a batch (`number[][]`) the new ids of
 * each. Options are merged over `DEFAULT_GENERATE_OPTIONS` (greedy, 32 tokens, KV cache, stop on the
 * config's EOS).
 *
 * @example
 * const ids = await generate(model, tokenizer.encode("The capital of France is"), { maxNewTokens: 10 });
 * const batch = await generate(model, [[1, 2, 3], [4]], { doSample: true, temperature: 0.8, topK: 40, seed: 0,
 *   onToken: (id, step, seq) => process.stdout.write(tokenizer.decode([id])) });
 */
export function generate(
  model: GPTNeoXForCausalLM,
  promptIds: number[],
  options?: Partial<GenerateOptions>,
): Promise<number[]>;
export function generate(
  model: GPTNeoXForCausalLM,
  promptIds: number[][],
  options?: Partial<GenerateOptions>,
): Promise<number[][]>;
export async function generate(
  model: GPTNeoXForCausalLM,
  promptIds: number[] | number[][],
  options: Partial<GenerateOptions> = {},
): Promise<number[] | number[][]> {
  const batch = promptIds.length > 0 && Array.isArray(promptIds[0]);
  const prompts = batch ? (promptIds as number[][]) : [promptIds as number[]];
  const { sequences } = await generateDetailed(model, prompts, options);
  return batch ? sequences : sequences[0];
}
