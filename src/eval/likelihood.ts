/**
 * Scoring with the model instead of generating: the log-likelihood of an answer given its prompt.
 *
 * - `scoreExamples`: Σ log p over each example's scored tokens (labels ≠ -100, shifted as in the loss), in
 *   batches; the basis of set perplexity (`perplexity(scoreExamples(...))`, the same number as
 *   `exp(trainer eval loss)` on the same examples).
 * - `scoreCompletions` / `classifyByLikelihood`: classification without parsing text. Each candidate label is
 *   appended to the prompt (followed by EOS, as in training, so the score means "the answer is exactly this
 *   label") and the label with the highest TOTAL log-likelihood wins. Totals, not per-token means: a mean
 *   would favour long labels whose later tokens are easy once the first is chosen. Unlike reading the first
 *   label word in a generation (`labelFromGeneration`), this always gives a label, even for a base model that
 *   writes something else — which is why it is the default for accuracy.
 */
import * as tf from "@tensorflow/tfjs";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { tokenLogProbs } from "../model/loss";
import { KVCache } from "../model/kvcache";
import type { Tokenizer } from "../tokenizer/types";
import { IGNORE_INDEX, type TokenizedExample } from "../types/example";
import { type Reads, runReads, runReadsAsync } from "../kernels";
import type { TokenScore } from "./metrics";

/** Options of the scoring functions, merged over `DEFAULT_SCORE_OPTIONS`. */
export interface ScoreOptions {
  /** Sequences per forward pass. */
  batchSize: number;
}

export const DEFAULT_SCORE_OPTIONS: ScoreOptions = {
  batchSize: 8, // 8 × 256 tokens × a 70M model's activations fit easily in a laptop's memory
};

/**
 * Log-likelihood of each example's scored tokens. Examples are batched by length (less padding) and the
 * results returned in the input order. No tensors outlive the call.
 * @example
 * const scores = scoreExamples(model, tokenizeDataset(QA_TEMPLATE, tok, test).examples);
 * perplexity(scores); // the answers' perplexity
 */
export function scoreExamples(
  model: GPTNeoXForCausalLM,
  examples: readonly TokenizedExample[],
  options: Partial<ScoreOptions> = {},
): TokenScore[] {
  return runReads(scoreReads(model, examples, options), "scoreExamples", "await scoreExamplesAsync(...)");
}

/**
 * `scoreExamples` with awaited reads: the same scores on every backend (webgpu in Node included).
 * @example
 * const scores = await scoreExamplesAsync(model, examples);
 */
export function scoreExamplesAsync(
  model: GPTNeoXForCausalLM,
  examples: readonly TokenizedExample[],
  options: Partial<ScoreOptions> = {},
): Promise<TokenScore[]> {
  return runReadsAsync(scoreReads(model, examples, options));
}

/** The body of `scoreExamples`: yields each batch's `[B]` sums to be read. */
function* scoreReads(
  model: GPTNeoXForCausalLM,
  examples: readonly TokenizedExample[],
  options: Partial<ScoreOptions>,
): Reads<TokenScore[]> {
  const o = { ...DEFAULT_SCORE_OPTIONS, ...options };
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1))
    throw new Error(`scoreExamples: batchSize must be a positive integer, found ${o.batchSize}`);
  const ctx = model.config.maxPositionEmbeddings;
  const V = model.config.vocabSize;
  examples.forEach((e, i) => {
    if (!Array.isArray(e.inputIds) || e.inputIds.length === 0)
      throw new Error(`scoreExamples: example ${i} has no inputIds`);
    if (e.inputIds.length > ctx)
      throw new Error(
        `scoreExamples: example ${i} has ${e.inputIds.length} tokens, over the model's context of ${ctx} (truncate it first)`,
      );
    const bad = e.inputIds.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
    if (bad !== undefined)
      throw new Error(`scoreExamples: example ${i} has id ${bad}, outside the model's vocabulary [0, ${V})`);
    if (e.labels && e.labels.length !== e.inputIds.length)
      throw new Error(`scoreExamples: example ${i} has ${e.labels.length} labels for ${e.inputIds.length} inputIds`);
  });
  const out: TokenScore[] = new Array(examples.length);
  const parts = examples.map(splitAtFirstScored);
  // Examples that share their unscored prefix (a prompt with each of its candidate labels) go in one batch, and
  // the prefix runs once for all of them; groups are ordered by length (less padding).
  const groups = new Map<string, number[]>();
  parts.forEach((p, i) => {
    if (p.tokens === 0)
      out[i] = { logProb: 0, tokens: 0 }; // nothing to predict
    else {
      const key = p.prefix.join(",");
      const g = groups.get(key);
      if (g) g.push(i);
      else groups.set(key, [i]);
    }
  });
  const restLength = (g: number[]) => Math.max(...g.map((i) => parts[i].rest.length));
  const ordered = [...groups.values()].sort(
    (x, y) => parts[x[0]].prefix.length - parts[y[0]].prefix.length || restLength(x) - restLength(y) || x[0] - y[0],
  );
  for (let s = 0; s < ordered.length; ) {
    const idx = [...ordered[s++]];
    while (s < ordered.length && idx.length + ordered[s].length <= o.batchSize) idx.push(...ordered[s++]);
    const batch = scoreBatch(
      model,
      idx.map((i) => parts[i]),
    );
    const v = yield batch; // [B]
    idx.forEach((i, k) => {
      if (!Number.isFinite(v[k]))
        throw new Error(
          `scoreExamples: example ${i}'s log-likelihood is ${v[k]}: the model's outputs are not finite (NaN or Infinity in its weights?)`,
        );
      out[i] = { logProb: v[k], tokens: parts[i].tokens };
    });
  }
  return out;
}

/** An example cut where scoring starts: the unscored prefix, the rest (inputs and labels), tokens scored. */
interface ScoredParts {
  prefix: number[];
  rest: number[];
  restLabels: number[];
  tokens: number;
}

function splitAtFirstScored(e: TokenizedExample): ScoredParts {
  const labels = e.labels ?? e.inputIds;
  let first = 1; // first scored target; its logits come from position first − 1
  while (first < labels.length && labels[first] === IGNORE_INDEX) first++;
  const cut = Math.min(first, labels.length) - 1;
  return {
    prefix: e.inputIds.slice(0, cut),
    rest: e.inputIds.slice(cut),
    restLabels: labels.slice(cut),
    tokens: labels.slice(1).filter((l) => l !== IGNORE_INDEX).length,
  };
}

/**
 * One batch, in two passes so that the `[B, T, V]` logits are computed only where a token is scored (the
 * vocabulary projection dominates a small model's cost: a 150-token e-mail with a 1-token label would
 * otherwise pay for 150 rows of 50k logits to use one). Pass 1 runs each DISTINCT unscored prefix (left padded,
 * as in generation) into a KV cache, whose rows are then repeated for every example of that prefix; pass 2 runs
 * the rest (right padded) on top of it and reads the log-probabilities of its labels. Equal to one full forward
 * pass per example up to float rounding. Returns the `[B]` sums, to be read by the caller.
 */
function scoreBatch(model: GPTNeoXForCausalLM, rows: readonly ScoredParts[]): tf.Tensor1D {
  const keys = rows.map((r) => r.prefix.join(","));
  const distinct = [...new Set(keys)];
  const rowOf = keys.map((k) => distinct.indexOf(k)); // example → its prefix's row in pass 1
  const prefixes = distinct.map((k) => rows[keys.indexOf(k)].prefix);
  const P = Math.max(...prefixes.map((p) => p.length));
  const R = Math.max(...rows.map((r) => r.rest.length));
  const prefixMask = prefixes.map((p) => [...new Array(P - p.length).fill(0), ...p.map(() => 1)]);
  const restIds = rows.map((r) => [...r.rest, ...new Array(R - r.rest.length).fill(0)]);
  const restLabels = rows.map((r) => [...r.restLabels, ...new Array(R - r.rest.length).fill(IGNORE_INDEX)]);
  const restMask = rows.map((r) => [...r.rest.map(() => 1), ...new Array(R - r.rest.length).fill(0)]);
  const cache = P > 0 ? new KVCache(model.config.numHiddenLayers) : undefined;
  try {
    if (cache) {
      const prefixIds = prefixes.map((p) => [...new Array(P - p.length).fill(0), ...p]);
      const positions = prefixMask.map((m) => {
        let c = 0;
        return m.map((x) => ((c += x), x === 0 ? 1 : c - 1)); // pads at 1, as generate.ts
      });
      tf.dispose(
        model.forward(prefixIds, { attentionMask: prefixMask, positionIds: positions, cache, lastOnly: true }).logits,
      );
      if (distinct.length < rows.length || rowOf.some((r, b) => r !== b)) cache.selectRows(rowOf);
    }
    return tf.tidy(() => {
      const mask = rows.map((_, b) => [...(cache ? prefixMask[rowOf[b]] : []), ...restMask[b]]); // [B, P + R]
      const positions = rows.map((r) => restIds[0].map((_, k) => r.prefix.length + k)); // [B, R]
      const { logits } = model.forward(restIds, { attentionMask: mask, positionIds: positions, cache }); // [B, R, V]
      return tf.sum(tokenLogProbs(logits, restLabels), 1) as tf.Tensor1D; // [B]
    });
  } finally {
    cache?.dispose();
  }
}

/**
 * Prompt + completion as a scored example: the completion's tokens (and EOS when `addEos`) are scored, the
 * prompt's are not. Tokenized the way training does it (src/data/prepare.ts): separately, then joined; when
 * longer than `maxLength`, the prompt loses tokens from its start (the end, next to the answer, stays).
 * @example
 * completionExample(tok, "### Answer:\n", "spam"); // { inputIds: [...prompt, ...spam, eos], labels: [-100, ..., ...spam, eos] }
 */
export function completionExample(
  tokenizer: Tokenizer,
  prompt: string,
  completion: string,
  options: { addEos?: boolean; maxLength?: number } = {},
): TokenizedExample {
  let p = tokenizer.encode(prompt);
  const c = tokenizer.encode(completion, { addSpecialTokens: false });
  if ((options.addEos ?? true) && tokenizer.eosTokenId !== undefined) c.push(tokenizer.eosTokenId);
  const max = options.maxLength;
  if (max !== undefined && p.length + c.length > max) {
    if (c.length >= max)
      throw new Error(`completionExample: the completion alone has ${c.length} tokens, over maxLength ${max}`);
    p = p.slice(p.length + c.length - max);
  }
  return { inputIds: [...p, ...c], labels: [...p.map(() => IGNORE_INDEX), ...c] };
}

/**
 * Log-likelihood of each completion after the prompt.
 * @example
 * scoreCompletions(model, tok, "### Answer:\n", ["ham", "spam"]); // [{ logProb: -3.1, tokens: 2 }, ...]
 */
export function scoreCompletions(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  prompt: string,
  completions: readonly string[],
  options: Partial<ScoreOptions> = {},
): TokenScore[] {
  const maxLength = model.config.maxPositionEmbeddings;
  return scoreExamples(
    model,
    completions.map((c) => completionExample(tokenizer, prompt, c, { maxLength })),
    options,
  );
}

/**
 * `scoreCompletions` with awaited reads (every backend).
 * @example
 * await scoreCompletionsAsync(model, tok, "### Answer:\n", ["ham", "spam"]);
 */
export function scoreCompletionsAsync(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  prompt: string,
  completions: readonly string[],
  options: Partial<ScoreOptions> = {},
): Promise<TokenScore[]> {
  const maxLength = model.config.maxPositionEmbeddings;
  return scoreExamplesAsync(
    model,
    completions.map((c) => completionExample(tokenizer, prompt, c, { maxLength })),
    options,
  );
}

/** One likelihood-based classification. */
export interface LikelihoodLabel {
  label: string;
  /** Total log-likelihood of each candidate, in the order of `labels`. */
  logProbs: number[];
}

/**
 * Pick, for each prompt, the candidate completion with the highest total log-likelihood. `candidates[j]` is
 * what follows the prompt for `labels[j]` (default: the label itself).
 * @example
 * classifyByLikelihood(model, tok, prompts, ["ham", "spam"]).map((r) => r.label); // ["ham", "spam", ...]
 */
export function classifyByLikelihood(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  prompts: readonly string[],
  labels: readonly string[],
  options: Partial<ScoreOptions> & { candidates?: readonly string[] } = {},
): LikelihoodLabel[] {
  const examples = labelExamples(model, tokenizer, prompts, labels, options);
  return pickLabels(prompts, labels, scoreExamples(model, examples, options));
}

/**
 * `classifyByLikelihood` with awaited reads (every backend); what `evaluateModel` runs.
 * @example
 * (await classifyByLikelihoodAsync(model, tok, prompts, ["ham", "spam"])).map((r) => r.label);
 */
export async function classifyByLikelihoodAsync(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  prompts: readonly string[],
  labels: readonly string[],
  options: Partial<ScoreOptions> & { candidates?: readonly string[] } = {},
): Promise<LikelihoodLabel[]> {
  const examples = labelExamples(model, tokenizer, prompts, labels, options);
  return pickLabels(prompts, labels, await scoreExamplesAsync(model, examples, options));
}

/** Every prompt followed by every candidate, prompt-major. */
function labelExamples(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  prompts: readonly string[],
  labels: readonly string[],
  options: { candidates?: readonly string[] },
): TokenizedExample[] {
  const cands = options.candidates ?? labels;
  if (labels.length < 2)
    throw new Error(`classifyByLikelihood: need at least two labels, found ${JSON.stringify(labels)}`);
  if (cands.length !== labels.length)
    throw new Error(`classifyByLikelihood: ${cands.length} candidates for ${labels.length} labels`);
  const maxLength = model.config.maxPositionEmbeddings;
  return prompts.flatMap((p) => cands.map((c) => completionExample(tokenizer, p, c, { maxLength })));
}

/** The best-scoring label of each prompt (the first on a tie). */
function pickLabels(prompts: readonly string[], labels: readonly string[], scores: TokenScore[]): LikelihoodLabel[] {
  return prompts.map((_, i) => {
    const lp = labels.map((_, j) => scores[i * labels.length + j].logProb);
    let best = 0;
    for (let j = 1; j < lp.length; j++) if (lp[j] > lp[best]) best = j;
    return { label: labels[best], logProbs: lp };
  });
}
