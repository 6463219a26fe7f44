/**
 * Evaluation on a test set: render each record's prompt with its template (the answer held out), generate
 * greedily in batches (left padding, KV cache: src/model/generate.ts), cut the generation at EOS or a stop
 * string such as the next `###` header, and score it against the reference with exact match and token F1.
 * With a label set, classification accuracy too; and the perplexity of the reference answers (teacher
 * forcing, the same token-weighted number as the trainer's eval loss).
 *
 * Greedy decoding is the default because evaluation must be repeatable: the same model gives the same
 * predictions, so a change in a metric is a change in the model.
 */
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { generateDetailed, type FinishReason } from "../model/generate";
import { tokenizeDataset } from "../data/prepare";
import { SCHEMAS } from "../data/schema";
import type { PromptTemplate } from "../data/templates";
import type { Tokenizer } from "../tokenizer/types";
import { categorize, errorCounts, DEFAULT_ERROR_OPTIONS, type ErrorCategory, type ErrorOptions } from "./errors";
import { classifyByLikelihoodAsync, scoreExamplesAsync } from "./likelihood";
import { accuracy, exactMatch, labelFromGeneration, majorityBaseline, mean, perplexity, tokenF1 } from "./metrics";

/** Options of `evaluateModel`, merged over `DEFAULT_EVAL_OPTIONS`. */
export interface EvalOptions {
  /** New tokens per answer at most. 0: generate nothing and only score the `labels` by likelihood (the cheapest
   * classification eval: one pass per label instead of generating too); each record's prediction is then the
   * likeliest label's answer text, and `accuracyGeneration` is absent. */
  maxNewTokens: number;
  /** Prompts per generation batch (and sequences per scoring pass). */
  batchSize: number;
  /** A generation stops once its text contains one of these; the text is cut before it. */
  stopStrings: string[];
  /** Evaluate only the first N records (0 = all). */
  limit: number;
  /** Classification label set: enables accuracy. */
  labels?: string[];
  /** How `accuracy` reads a label: "likelihood" (highest-scoring label, always an answer) or "generation"
   * (the first label named in the generated text; none = wrong). Both are reported. */
  labelMethod: "likelihood" | "generation";
  /** Compute the references' perplexity (one extra forward pass per batch). */
  perplexity: boolean;
  /** The record field holding the answer (default: from the template's schema, else "answer"). */
  answerField?: string;
  /** Thresholds of the error categories. */
  errorOptions: Partial<ErrorOptions>;
  /** Called after each generation batch (once, at the end, when nothing is generated). */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_EVAL_OPTIONS: EvalOptions = {
  maxNewTokens: 48, // the course's answers are 1–3 sentences; longer generations are already "too long"
  batchSize: 8, // batched generation amortises each step's overhead; 8 prompts stay fast on 2 CPU cores
  stopStrings: ["\n###"], // the templates' section marker: a model that goes on writes the next "### Question:"
  limit: 0,
  labelMethod: "likelihood",
  perplexity: true,
  errorOptions: DEFAULT_ERROR_OPTIONS,
};

/** One evaluated example. */
export interface EvalRecord {
  index: number;
  id?: string | number;
  prompt: string;
  reference: string;
  prediction: string;
  /** 1 when the normalised prediction equals the normalised reference. */
  em: 0 | 1;
  f1: number;
  category: ErrorCategory;
  finishReason: FinishReason;
  /** Generated tokens (EOS included). */
  newTokens: number;
  /** Classification: the gold label, the label by the chosen method, by each method, and whether right. */
  label?: string;
  predictedLabel?: string;
  generatedLabel?: string;
  likelihoodLabel?: string;
  labelCorrect?: boolean;
}

/** Aggregates over the set. */
export interface EvalMetrics {
  count: number;
  exactMatch: number;
  f1: number;
  /** Classification only: by `labelMethod`, and by each method. */
  accuracy?: number;
  accuracyLikelihood?: number;
  accuracyGeneration?: number;
  /** Classification only: the accuracy of always answering the most frequent label. */
  majorityRate?: number;
  majorityLabel?: string;
  /** Token-weighted perplexity of the reference answers (EOS included) and its log, the eval loss. */
  perplexity?: number;
  evalLoss?: number;
  /** Mean generated tokens per example. */
  meanNewTokens: number;
}

export interface EvalResult {
  records: EvalRecord[];
  metrics: EvalMetrics;
  errors: Record<ErrorCategory, number>;
  seconds: number;
}

/** A model with its tokenizer (what `loadModel` returns). */
export interface ModelUnderTest {
  model: GPTNeoXForCausalLM;
  tokenizer: Tokenizer;
  name?: string;
}

function cutAtStop(text: string, stops: readonly string[]): string {
  let end = text.length;
  for (const s of stops) {
    const i = s === "" ? -1 : text.indexOf(s);
    if (i >= 0 && i < end) end = i;
  }
  return text.slice(0, end);
}

function answerFieldOf(template: PromptTemplate, given?: string): string {
  return given ?? (template.schema ? SCHEMAS[template.schema].answerField : "answer");
}

/**
 * Generate an answer for every record and score it.
 * @example
 * const { model, tokenizer } = await loadModel("default");
 * const r = await evaluateModel(model, tokenizer, ds.template, ds.test, { limit: 50 });
 * r.metrics.exactMatch; show(table(errorTable(r.records)));
 */
export async function evaluateModel(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  template: PromptTemplate,
  records: readonly Record<string, unknown>[],
  options: Partial<EvalOptions> = {},
): Promise<EvalResult> {
  const o: EvalOptions = { ...DEFAULT_EVAL_OPTIONS, ...options };
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0))
    throw new Error(`evaluateModel: maxNewTokens must be an integer ≥ 0, found ${o.maxNewTokens}`);
  const scoreOnly = o.maxNewTokens === 0;
  if (scoreOnly && (!o.labels || o.labelMethod !== "likelihood"))
    throw new Error(
      'evaluateModel: maxNewTokens 0 (no generation) needs labels and labelMethod "likelihood": only labels can be scored without generating',
    );
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1))
    throw new Error(`evaluateModel: batchSize must be a positive integer, found ${o.batchSize}`);
  if (!(Number.isInteger(o.limit) && o.limit >= 0))
    throw new Error(`evaluateModel: limit must be an integer ≥ 0, found ${o.limit}`);
  const ctx = model.config.maxPositionEmbeddings;
  if (o.maxNewTokens >= ctx)
    throw new Error(
      `evaluateModel: maxNewTokens ${o.maxNewTokens} leaves no room for a prompt in the model's context of ${ctx}`,
    );
  const t0 = performance.now();
  const recs = o.limit > 0 ? records.slice(0, o.limit) : records.slice();
  if (recs.length === 0) throw new Error("evaluateModel: no records to evaluate");
  const field = answerFieldOf(template, o.answerField);

  // Prompts and references; a record that does not fit the template throws, naming its index.
  const rendered = recs.map((r, i) => {
    try {
      const { prompt, completion } = template.render(r);
      return { prompt, reference: completion.trim() };
    } catch (e: any) {
      throw new Error(
        `record ${i}${r && (typeof r.id === "string" || typeof r.id === "number") ? ` (id ${r.id})` : ""}: ${e?.message ?? e}`,
      );
    }
  });

  // Classification by likelihood: each label's answer text scored after the prompt.
  const gold = o.labels ? recs.map((r) => String(r[field])) : [];
  const candidates = o.labels?.map((l) => template.render({ ...recs[0], [field]: l }).completion) ?? [];
  const byLikelihood = o.labels
    ? (
        await classifyByLikelihoodAsync(
          model,
          tokenizer,
          rendered.map((x) => x.prompt),
          o.labels,
          { batchSize: o.batchSize, candidates },
        )
      ).map((x) => x.label)
    : [];

  // Greedy generation in batches; prompts keep their end when too long for the context.
  const cfgEos = model.config.eosTokenId;
  const eos = tokenizer.eosTokenId ?? cfgEos; // the tokenizer's EOS is what training appended
  const padId = tokenizer.padTokenId ?? tokenizer.eosTokenId ?? (Array.isArray(cfgEos) ? cfgEos[0] : cfgEos) ?? 0;
  const maxPrompt = ctx - o.maxNewTokens;
  const predictions: { text: string; reason: FinishReason; tokens: number }[] = scoreOnly
    ? byLikelihood.map((l) => ({ text: candidates[o.labels!.indexOf(l)].trim(), reason: "eos", tokens: 0 }))
    : [];
  if (scoreOnly) o.onProgress?.(rendered.length, rendered.length);
  for (let s = 0; !scoreOnly && s < rendered.length; s += o.batchSize) {
    const chunk = rendered.slice(s, s + o.batchSize);
    const ids = chunk.map(({ prompt }) => {
      const p = tokenizer.encode(prompt);
      return p.length > maxPrompt ? p.slice(p.length - maxPrompt) : p;
    });
    const decode = (x: number[]) => tokenizer.decode(x, { skipSpecialTokens: true });
    const out = await generateDetailed(model, ids, {
      maxNewTokens: o.maxNewTokens,
      doSample: false,
      eosTokenId: eos,
      padTokenId: padId,
      stopStrings: o.stopStrings.length ? o.stopStrings : undefined,
      decode,
    });
    out.sequences.forEach((seq, k) =>
      predictions.push({
        text: cutAtStop(decode(seq), o.stopStrings).trim(),
        reason: out.finishReasons[k],
        tokens: seq.length,
      }),
    );
    o.onProgress?.(predictions.length, rendered.length);
  }

  const records_: EvalRecord[] = rendered.map(({ prompt, reference }, i) => {
    const r = recs[i];
    const prediction = predictions[i].text;
    return {
      index: i,
      ...(typeof r.id === "string" || typeof r.id === "number" ? { id: r.id } : {}),
      prompt,
      reference,
      prediction,
      em: exactMatch(prediction, reference),
      f1: tokenF1(prediction, reference),
      category: categorize(prediction, reference, o.errorOptions),
      finishReason: predictions[i].reason,
      newTokens: predictions[i].tokens,
    };
  });

  const metrics: EvalMetrics = {
    count: records_.length,
    exactMatch: mean(records_.map((r) => r.em)),
    f1: mean(records_.map((r) => r.f1)),
    meanNewTokens: mean(records_.map((r) => r.newTokens)),
  };

  if (o.labels) {
    const labels = o.labels;
    const byGeneration = scoreOnly ? undefined : records_.map((r) => labelFromGeneration(r.prediction, labels));
    records_.forEach((r, i) => {
      r.label = gold[i];
      r.likelihoodLabel = byLikelihood[i];
      if (byGeneration) r.generatedLabel = byGeneration[i];
      r.predictedLabel = o.labelMethod === "likelihood" ? byLikelihood[i] : byGeneration![i];
      r.labelCorrect = r.predictedLabel === gold[i];
    });
    metrics.accuracyLikelihood = accuracy(byLikelihood, gold);
    if (byGeneration) metrics.accuracyGeneration = accuracy(byGeneration, gold);
    metrics.accuracy = o.labelMethod === "likelihood" ? metrics.accuracyLikelihood : metrics.accuracyGeneration;
    const maj = majorityBaseline(gold);
    metrics.majorityRate = maj.rate;
    metrics.majorityLabel = maj.label;
  }

  if (o.perplexity) {
    const { examples } = tokenizeDataset(template, tokenizer, recs, {
      maxLength: ctx,
      addEos: tokenizer.eosTokenId !== undefined,
    });
    const ppl = perplexity(await scoreExamplesAsync(model, examples, { batchSize: o.batchSize }));
    metrics.perplexity = ppl;
    metrics.evalLoss = Math.log(ppl);
  }

  return { records: records_, metrics, errors: errorCounts(records_), seconds: (performance.now() - t0) / 1000 };
}
