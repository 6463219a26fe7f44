/**
 * Full fine-tuning, LoRA at several ranks and BitFit, scored on a held-out split: the comparison behind the
 * chapter's "LoRA's accuracy is slightly lower than full fine-tuning". Every run loads a fresh copy of the model
 * from the same folder, trains on the same training records with the same recipe (updates, batch, length,
 * schedule, seed); only the method and its learning rate differ. It is then scored on the same test records:
 * spam accuracy by likelihood (the label whose tokens the model finds more likely; src/eval/likelihood.ts).
 * Speed is the trainer's own tokens per second over the run.
 */
import type { Dataset } from "../../data/datasets";
import { clipText } from "../why-fine-tune/setup";
import { sampleItems } from "../../data/split";
import { SCHEMAS } from "../../data/schema";
import { classifyByLikelihood } from "../../eval/likelihood";
import type { GPTNeoXForCausalLM } from "../../model/gptneox";
import { loadPretrained } from "../../model/load";
import { bitFitTrainable } from "../../lora/bitfit";
import { LoraModel } from "../../lora/model";
import { loraTrainable } from "../../lora/trainable";
import { fineTune } from "../../pipeline/finetune";
import type { Tokenizer } from "../../tokenizer/types";
import type { ScheduleName } from "../../train/schedule";
import type { TrainableModel } from "../../train/types";

/** One method with its learning rate. */
export type PeftMethodSpec =
  | { method: "full"; lr: number }
  | { method: "bitfit"; lr: number }
  | { method: "lora"; lr: number; r: number; alpha: number; targets: string[] };

/** What every run shares. */
export interface PeftRecipe {
  /** Training updates. */
  numSteps: number;
  batchSize: number;
  /** Tokens per training example at most. */
  maxLength: number;
  warmupSteps: number;
  schedule: ScheduleName;
  /** Test records scored (a fixed sample of the test split, the same for every run). */
  testExamples: number;
  /** Cut each record's `text` to this many tokens at a word boundary, in training and test alike (0: keep it). */
  textTokens: number;
}

export const DEFAULT_PEFT_RECIPE: PeftRecipe = {
  numSteps: 80, // two thirds of notebook 04's spam run: what a busy 2-core CPU affords for ten runs
  batchSize: 8,
  maxLength: 96, // the template's ~50 tokens + the clipped e-mail + the label: nothing is truncated
  warmupSteps: 6,
  schedule: "linear",
  testExamples: 96,
  textTokens: 40, // the subject line and the start of the body (whole e-mails are ~150–270 tokens here)
};

const clipped = new Map<string, WeakMap<object, Record<string, unknown>>>();

/**
 * Records with their `text` cut to `textTokens` tokens at a word boundary (`clipText`); records without a
 * string `text` are kept as they are. Results are cached per record and tokenizer, so every run sees the same.
 *
 * @example
 * clipRecords(tokenizer, spam.train, 40); // the subject and the start of each e-mail
 */
export function clipRecords(
  tokenizer: Tokenizer,
  records: readonly Record<string, unknown>[],
  textTokens: number,
): Record<string, unknown>[] {
  if (!(Number.isInteger(textTokens) && textTokens >= 0))
    throw new Error(`clipRecords: textTokens must be an integer ≥ 0, found ${JSON.stringify(textTokens)}`);
  if (textTokens === 0) return records.slice();
  const key = `${textTokens}`;
  const cache = clipped.get(key) ?? new WeakMap();
  clipped.set(key, cache);
  return records.map((r) => {
    if (typeof r.text !== "string") return r;
    let c = cache.get(r);
    if (!c) {
      c = { ...r, text: clipText(tokenizer, r.text, textTokens) };
      cache.set(r, c);
    }
    return c;
  });
}

/** One trained and scored run. */
export interface PeftRow {
  /** e.g. "full", "LoRA r=8", "BitFit". */
  label: string;
  method: "full" | "lora" | "bitfit";
  /** LoRA only (null otherwise). */
  r: number | null;
  alpha: number | null;
  targets: string | null;
  lr: number;
  seed: number;
  /** Test accuracy, 0–1. */
  accuracy: number;
  correct: number;
  count: number;
  trainableParams: number;
  /** Training tokens per second (the trainer's count over the whole run). */
  tokensPerSec: number;
  /** Mean milliseconds per update. */
  stepMs: number;
  /** Mean training loss over the last 10 updates. */
  finalLoss: number;
}

/** A method's display name. */
export function peftLabel(spec: PeftMethodSpec): string {
  if (spec.method === "full") return "full";
  if (spec.method === "bitfit") return "BitFit";
  return `LoRA r=${spec.r}`;
}

function checkSpec(spec: PeftMethodSpec): void {
  const where = "trainAndScore";
  if (!spec || !["full", "lora", "bitfit"].includes((spec as { method: string }).method))
    throw new Error(`${where}: method must be "full", "lora" or "bitfit", found ${JSON.stringify(spec?.method)}`);
  if (!(typeof spec.lr === "number" && spec.lr > 0 && Number.isFinite(spec.lr)))
    throw new Error(`${where}: lr must be a positive number, found ${JSON.stringify(spec.lr)}`);
  if (spec.method === "lora") {
    if (!(Number.isInteger(spec.r) && spec.r > 0))
      throw new Error(`${where}: r must be a positive integer, found ${JSON.stringify(spec.r)}`);
    if (!(typeof spec.alpha === "number" && spec.alpha > 0))
      throw new Error(`${where}: alpha must be a positive number, found ${JSON.stringify(spec.alpha)}`);
    if (!Array.isArray(spec.targets) || spec.targets.length === 0)
      throw new Error(`${where}: targets must be a non-empty list of module names`);
  }
}

function trainableFor(
  model: GPTNeoXForCausalLM,
  spec: PeftMethodSpec,
  seed: number,
): [TrainableModel | undefined, number] {
  if (spec.method === "full") return [undefined, model.numParameters()];
  if (spec.method === "bitfit") {
    const t = bitFitTrainable(model);
    let n = 0;
    for (const v of t.trainableVariables().values()) n += v.size;
    return [t, n];
  }
  const info = LoraModel.of(model).addAdapter(
    "default",
    { r: spec.r, alpha: spec.alpha, targetModules: spec.targets, dropout: 0 },
    { seed },
  );
  return [loraTrainable(model, "default"), info.trainableParams];
}

/**
 * Accuracy by likelihood on classification records: each record's prompt, the label candidates rendered by the
 * template (as `evaluateModel` does), the more likely label against the record's own.
 *
 * @example
 * likelihoodAccuracy(model, tokenizer, spam, test); // { accuracy: 0.8, correct: 77, count: 96 }
 */
export function likelihoodAccuracy(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  ds: Pick<Dataset, "template" | "info">,
  records: readonly Record<string, unknown>[],
): { accuracy: number; correct: number; count: number } {
  const labels = ds.info.labels;
  if (!labels || labels.length < 2)
    throw new Error("likelihoodAccuracy: the dataset has no label set (classification only)");
  if (records.length === 0) throw new Error("likelihoodAccuracy: no records to score");
  const field = ds.template.schema ? SCHEMAS[ds.template.schema].answerField : "label";
  const prompts = records.map((r) => ds.template.render(r).prompt);
  const candidates = labels.map((l) => ds.template.render({ ...records[0], [field]: l }).completion);
  const got = classifyByLikelihood(model, tokenizer, prompts, labels, { candidates });
  const correct = got.filter((g, i) => g.label === String(records[i][field])).length;
  return { accuracy: correct / records.length, correct, count: records.length };
}

/**
 * Load the model from `modelDir`, train it with one method on `ds.train`, score it on a fixed sample of
 * `recipe.testExamples` records of `ds.test` (texts clipped to `recipe.textTokens` in both), and free it.
 *
 * @example
 * const row = await trainAndScore(dir, tokenizer, spam, { method: "lora", lr: 5e-3, r: 8, alpha: 16, targets: ["query_key_value"] });
 */
export async function trainAndScore(
  modelDir: string,
  tokenizer: Tokenizer,
  ds: Pick<Dataset, "template" | "info" | "train" | "test">,
  spec: PeftMethodSpec,
  recipe: Partial<PeftRecipe> = {},
  seed = 0,
): Promise<PeftRow> {
  checkSpec(spec);
  const rc = { ...DEFAULT_PEFT_RECIPE, ...recipe };
  const trainRecords = clipRecords(tokenizer, ds.train, rc.textTokens);
  const test = clipRecords(tokenizer, sampleItems(ds.test, rc.testExamples, 0), rc.textTokens);
  const model = await loadPretrained(modelDir);
  try {
    const [trainable, trainableParams] = trainableFor(model, spec, seed);
    const { summary } = await fineTune(
      model,
      tokenizer,
      ds.template,
      trainRecords,
      {
        lr: spec.lr,
        numSteps: rc.numSteps,
        batchSize: rc.batchSize,
        maxLength: rc.maxLength,
        warmupSteps: rc.warmupSteps,
        schedule: rc.schedule,
        seed,
      },
      { trainable },
    );
    const score = likelihoodAccuracy(model, tokenizer, ds, test);
    const last = summary.losses.slice(-10);
    return {
      label: peftLabel(spec),
      method: spec.method,
      r: spec.method === "lora" ? spec.r : null,
      alpha: spec.method === "lora" ? spec.alpha : null,
      targets: spec.method === "lora" ? spec.targets.join("+") : null,
      lr: spec.lr,
      seed,
      ...score,
      trainableParams,
      tokensPerSec: summary.tokensPerSec,
      stepMs: (1000 * summary.elapsed) / Math.max(1, summary.step),
      finalLoss: last.reduce((a, b) => a + b, 0) / Math.max(1, last.length),
    };
  } finally {
    LoraModel.find(model)?.unload();
    model.dispose();
  }
}
