/**
 * Notebook 00's experiment: prompting vs fine-tuning, measured on one task and one test split. The same base
 * model answers the same held-out inputs three ways: **zero-shot** (the task's prompt alone), **few-shot** (k
 * solved examples from the training split in front of the prompt: in-context learning, no weight changes), and
 * after **fine-tuning** (zero-shot prompt, weights trained on the training split). Scored with the course's
 * evaluation (src/eval/run.ts): accuracy by likelihood, plus whether the generated text names a label at all.
 *
 * A context window is finite (512 positions for the embedded model), so inputs are clipped to a token budget
 * the same way in all three conditions, and each demonstration to a smaller one; `promptingSetup` checks that
 * the longest few-shot prompt fits, with room for the answer.
 */
import type { Dataset } from "../../data/datasets";
import { sampleItems } from "../../data/split";
import type { PromptTemplate, RenderedExample } from "../../data/templates";
import { readModelCard } from "../../model/card";
import type { TrainConfig } from "../../train/config";
import type { Tokenizer } from "../../tokenizer/types";

/**
 * Cut a text to at most `maxTokens` tokens, at a word boundary (the longest whitespace-ended prefix that fits).
 * @example
 * clipText(tokenizer, "one two three four", 2); // "one two"
 */
export function clipText(tokenizer: Tokenizer, text: string, maxTokens: number): string {
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1))
    throw new Error(`clipText: maxTokens must be a positive integer, found ${maxTokens}`);
  const count = (s: string) => tokenizer.encode(s, { addSpecialTokens: false }).length;
  if (count(text) <= maxTokens) return text;
  const ends = [...text.matchAll(/\s+/g)].map((m) => m.index as number).filter((i) => i > 0);
  let lo = 0; // ends[lo - 1] is the longest known fit (0: none)
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (count(text.slice(0, ends[mid - 1])) <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? text.slice(0, ends[lo - 1]) : "";
}

/**
 * `k` demonstrations from the training records, taking the labels in turn (`ham, spam, ham, …`) so that no label
 * dominates the prompt; seeded. Without `labelField`, a seeded sample.
 * @example
 * pickDemonstrations(ds.train, 4, { labelField: "label", labels: ["ham", "spam"] }).map((r) => r.label); // ["ham", "spam", "ham", "spam"]
 */
export function pickDemonstrations<T extends Record<string, unknown>>(
  records: readonly T[],
  k: number,
  options: { labelField?: string; labels?: readonly string[]; seed?: number } = {},
): T[] {
  if (!(Number.isInteger(k) && k >= 0)) throw new Error(`pickDemonstrations: k must be an integer ≥ 0, found ${k}`);
  const seed = options.seed ?? 0;
  const field = options.labelField;
  if (records.length < k) throw new Error(`pickDemonstrations: only ${records.length} records to pick ${k} from`);
  if (!field || !options.labels?.length) return sampleItems(records, k, seed);
  const pools = options.labels.map((l) =>
    sampleItems(
      records.filter((r) => r[field] === l),
      k,
      seed,
    ),
  );
  const out: T[] = [];
  const next = pools.map(() => 0);
  for (let i = 0; out.length < k && pools.some((p, j) => next[j] < p.length); i++) {
    const j = i % pools.length;
    if (next[j] < pools[j].length) out.push(pools[j][next[j]++]);
  }
  if (out.length < k) throw new Error(`pickDemonstrations: only ${out.length} records to pick ${k} from`);
  return out;
}

/**
 * A template whose prompt is the demonstrations, solved (prompt + answer, separated by a blank line), then the
 * record's own prompt. The completion is the inner template's, so evaluation scores it exactly like zero-shot.
 * @example
 * const few = fewShotTemplate(ds.template, demos);
 * few.renderPrompt(test[0]); // "### E-mail:\n…### Answer:\nham\n\n### E-mail:\n…### Answer:\n"
 */
export function fewShotTemplate(
  template: PromptTemplate,
  demonstrations: readonly Record<string, unknown>[],
  separator = "\n\n",
): PromptTemplate {
  const prefix = demonstrations
    .map((d) => {
      const r = template.render(d);
      return r.prompt + r.completion + separator;
    })
    .join("");
  return {
    name: `${demonstrations.length}-shot ${template.name}`,
    schema: template.schema,
    render: (r): RenderedExample => {
      const x = template.render(r);
      return { prompt: prefix + x.prompt, completion: x.completion };
    },
    renderPrompt: (r) => prefix + template.renderPrompt(r),
  };
}

/** Options of `promptingSetup`, merged over `DEFAULT_PROMPTING_OPTIONS`. */
export interface PromptingOptions {
  /** Demonstrations in the few-shot prompt. */
  k: number;
  /** Test inputs scored (a seeded sample of the test split, the same for every condition). */
  testSize: number;
  /** Tokens kept of each test input's text field (all conditions see the same clipped input). */
  inputTokens: number;
  /** Tokens kept of each demonstration's text field. */
  demoTokens: number;
  /** The record field that holds the input text. */
  textField: string;
  /** Room kept for the answer after the longest prompt (generated tokens, or a label + EOS). */
  answerTokens: number;
  seed: number;
}

export const DEFAULT_PROMPTING_OPTIONS: PromptingOptions = {
  k: 4, // two of each label: the format and both answers, shown twice
  testSize: 64, // 64 e-mails: each is 1.6 points of accuracy; scored three times in about a minute on 2 cores
  inputTokens: 128, // the spam recipe's maxLength; with the embedded model's template (≈ 50 tokens) a prompt stays under 180
  demoTokens: 28, // the subject line and a few words: 4 of them and a test e-mail fit the embedded model's 512 positions
  textField: "text",
  answerTokens: 4,
  seed: 0,
};

/** What `promptingSetup` returns: the clipped test set, the demonstrations and the two templates. */
export interface PromptingSetup {
  test: Record<string, unknown>[];
  demonstrations: Record<string, unknown>[];
  zeroShot: PromptTemplate;
  fewShot: PromptTemplate;
  /** Prompt length in tokens over the test set, per condition. */
  promptTokens: { zeroShot: { mean: number; max: number }; fewShot: { mean: number; max: number } };
  options: PromptingOptions;
}

function clipRecord(tok: Tokenizer, r: Record<string, unknown>, field: string, n: number): Record<string, unknown> {
  const v = r[field];
  if (typeof v !== "string") throw new Error(`promptingSetup: a record has no string field "${field}"`);
  return { ...r, [field]: clipText(tok, v, n) };
}

/**
 * The test set and the prompts of the comparison, checked to fit the model's context.
 * @example
 * const s = promptingSetup(ds, tokenizer, model.config.maxPositionEmbeddings, { k: 4 });
 * await evaluateModel(model, tokenizer, s.fewShot, s.test, { labels: ["ham", "spam"], maxNewTokens: 4 });
 */
export function promptingSetup(
  dataset: Pick<Dataset, "train" | "test" | "template"> & { info?: { labels?: readonly string[] } },
  tokenizer: Tokenizer,
  contextTokens: number,
  options: Partial<PromptingOptions> = {},
): PromptingSetup {
  const o = { ...DEFAULT_PROMPTING_OPTIONS, ...options };
  for (const key of ["testSize", "inputTokens", "demoTokens"] as const)
    if (!(Number.isInteger(o[key]) && o[key] >= 1))
      throw new Error(`promptingSetup: ${key} must be a positive integer, found ${o[key]}`);
  const labels = dataset.info?.labels;
  const test = sampleItems(dataset.test, o.testSize, o.seed).map((r) =>
    clipRecord(tokenizer, r, o.textField, o.inputTokens),
  );
  const demonstrations = pickDemonstrations(dataset.train, o.k, {
    labelField: labels ? "label" : undefined,
    labels,
    seed: o.seed,
  }).map((r) => clipRecord(tokenizer, r, o.textField, o.demoTokens));
  const zeroShot = dataset.template;
  const fewShot = fewShotTemplate(zeroShot, demonstrations);
  const lengths = (t: PromptTemplate) => test.map((r) => tokenizer.encode(t.renderPrompt(r)).length);
  const stats = (xs: number[]) => ({ mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) });
  const promptTokens = { zeroShot: stats(lengths(zeroShot)), fewShot: stats(lengths(fewShot)) };
  if (promptTokens.fewShot.max + o.answerTokens > contextTokens)
    throw new Error(
      `promptingSetup: the longest ${o.k}-shot prompt has ${promptTokens.fewShot.max} tokens; with ${o.answerTokens} for the answer ` +
        `that is over the model's context of ${contextTokens}: lower k, demoTokens (${o.demoTokens}) or inputTokens (${o.inputTokens})`,
    );
  return { test, demonstrations, zeroShot, fewShot, promptTokens, options: o };
}

/**
 * The fine-tuning recipe a model folder's card records for a dataset (`model-card.json`), else `fallback`;
 * with where it came from.
 * @example
 * cardRecipe(dir, "spam", { lr: 1e-4, numSteps: 30, batchSize: 4 }).source; // "data/default-model/model-card.json …"
 */
export function cardRecipe(
  dir: string,
  dataset: string,
  fallback: Partial<TrainConfig>,
): { config: Partial<TrainConfig>; source: string } {
  const r = readModelCard(dir)?.recipes?.[dataset];
  if (!r) return { config: { ...fallback }, source: `no recipe for ${dataset} in ${dir}: the notebook's fallback` };
  const { source, result: _result, ...fields } = r;
  return { config: { ...fallback, ...fields }, source: `the model card's recipe (${source})` };
}
