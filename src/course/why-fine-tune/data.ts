/**
 * Pretraining data vs fine-tuning data, side by side (notebook 00). Pretraining text is unlabelled running prose
 * and the model learns to continue all of it; fine-tuning data is input → output pairs, and the loss is taken on
 * the outputs only (src/data/prepare.ts). The rows here are read from the files and counted with the model's
 * tokenizer in the run; the size of the whole pretraining corpus comes from the model folder's build record
 * (`training.json`) when it has one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { PromptTemplate } from "../../data/templates";
import type { Tokenizer } from "../../tokenizer/types";

const count = (tok: Tokenizer, s: string) => tok.encode(s, { addSpecialTokens: false }).length;

/** `s` cut to `chars` characters at a word boundary, with an ellipsis when cut; newlines shown as ⏎. */
export function excerpt(s: string, chars: number): string {
  const flat = s.replace(/\r?\n/g, " ⏎ ").replace(/\s+/g, " ").trim();
  if (flat.length <= chars) return flat;
  const cut = flat.slice(0, chars);
  const sp = cut.lastIndexOf(" ");
  return `${(sp > chars / 2 ? cut.slice(0, sp) : cut).trimEnd()} …`;
}

/** One pretraining passage as a table row. */
export interface PassageRow {
  document: string;
  opening: string;
  tokens: number;
  characters: number;
}

/**
 * The first `n` passages as rows: where each is from, its opening, and its size in the tokenizer's tokens.
 * @example
 * show(table(passageRows(tokenizer, heldOutText(), { n: 3 })));
 */
export function passageRows(
  tokenizer: Tokenizer,
  passages: readonly { id: string; text: string }[],
  options: { n?: number; chars?: number } = {},
): PassageRow[] {
  const { n = 3, chars = 240 } = options;
  return passages.slice(0, n).map((p) => ({
    document: p.id,
    opening: excerpt(p.text, chars),
    tokens: count(tokenizer, p.text),
    characters: p.text.length,
  }));
}

/** One fine-tuning record as a table row. */
export interface PairRow {
  input: string;
  output: string;
  "prompt tokens": number;
  "answer tokens": number;
}

/**
 * The first `n` records rendered with the template: the input as the model sees it, the output it must write,
 * and their sizes (the answer's tokens include the end-of-text token training appends, when the tokenizer has one).
 * @example
 * show(table(pairRows(tokenizer, ds.template, sampleItems(ds.train, 3, 0))));
 */
export function pairRows(
  tokenizer: Tokenizer,
  template: PromptTemplate,
  records: readonly Record<string, unknown>[],
  options: { n?: number; chars?: number } = {},
): PairRow[] {
  const { n = 3, chars = 240 } = options;
  const eos = tokenizer.eosTokenId !== undefined ? 1 : 0;
  return records.slice(0, n).map((r) => {
    const x = template.render(r);
    return {
      input: excerpt(x.prompt, chars),
      output: excerpt(x.completion, chars),
      "prompt tokens": count(tokenizer, x.prompt),
      "answer tokens": count(tokenizer, x.completion) + eos,
    };
  });
}

/** Token totals of a fine-tuning set. */
export interface FineTuningSize {
  records: number;
  /** Prompt + answer tokens over all records. */
  tokens: number;
  /** Answer tokens (with EOS): the ones the loss is taken on. */
  answerTokens: number;
}

/**
 * Count a fine-tuning set's tokens with the model's tokenizer (before any truncation to `maxLength`).
 * @example
 * fineTuningSize(tokenizer, ds.template, ds.train).answerTokens;
 */
export function fineTuningSize(
  tokenizer: Tokenizer,
  template: PromptTemplate,
  records: readonly Record<string, unknown>[],
): FineTuningSize {
  const eos = tokenizer.eosTokenId !== undefined ? 1 : 0;
  let tokens = 0;
  let answerTokens = 0;
  for (const r of records) {
    const x = template.render(r);
    const a = count(tokenizer, x.completion) + eos;
    answerTokens += a;
    tokens += count(tokenizer, x.prompt) + a;
  }
  return { records: records.length, tokens, answerTokens };
}

/** What a model folder's build record says about its pretraining corpus. */
export interface PretrainingRecord {
  /** Documents in the corpus, and how many were held out of training. */
  documents: number;
  heldOutDocuments: number;
  characters: number;
  /** Tokens in the training split of the corpus. */
  trainTokens: number;
  /** Tokens the model actually read in plain pretraining (steps × batch × sequence length). */
  tokensSeen: number;
  date: string;
  file: string;
}

/**
 * The pretraining facts of a model folder's `training.json` (written by scripts/build-default-model.ts), or
 * undefined when the folder has none (a Hub model: its card and paper say how it was trained).
 * @example
 * pretrainingRecord(dir)?.tokensSeen; // 747520 for the embedded model
 */
export function pretrainingRecord(dir: string): PretrainingRecord | undefined {
  const file = path.join(dir, "training.json");
  if (!fs.existsSync(file)) return undefined;
  const j = JSON.parse(fs.readFileSync(file, "utf8"));
  const c = j?.corpus;
  if (!c || typeof c.trainTokens !== "number" || typeof j.tokensSeen !== "number")
    throw new Error(
      `${file}: expected corpus.trainTokens and tokensSeen (a build record of scripts/build-default-model.ts)`,
    );
  return {
    documents: c.documents,
    heldOutDocuments: c.heldOutDocuments,
    characters: c.characters,
    trainTokens: c.trainTokens,
    tokensSeen: j.tokensSeen,
    date: String(j.date ?? "unknown date"),
    file,
  };
}

/** One row of the size comparison. */
export interface DataSizeRow {
  data: string;
  examples: string;
  tokens: string;
  "tokens the loss is taken on": string;
  source: string;
}

const n = (x: number) => x.toLocaleString("en-US");

/**
 * Pretraining vs fine-tuning, in tokens: the corpus from the build record (or `published` when the model has
 * no record), the fine-tuning set counted now.
 * @example
 * show(table(dataSizeRows(pretrainingRecord(dir), fineTuningSize(tokenizer, ds.template, ds.train), "spam")));
 */
export function dataSizeRows(
  pretraining: PretrainingRecord | undefined,
  fineTuning: FineTuningSize,
  dataset: string,
  published?: { tokens: string; source: string },
): DataSizeRow[] {
  const pre: DataSizeRow = pretraining
    ? {
        data: "pretraining corpus (plain text)",
        examples: `${n(pretraining.documents - pretraining.heldOutDocuments)} documents`,
        tokens: `${n(pretraining.trainTokens)} in the corpus; ${n(pretraining.tokensSeen)} read in pretraining`,
        "tokens the loss is taken on": "every token",
        source: `build record ${path.basename(path.dirname(pretraining.file))}/training.json, ${pretraining.date}`,
      }
    : {
        data: "pretraining corpus (plain text)",
        examples: "n/a",
        tokens: published?.tokens ?? "not recorded in the model folder",
        "tokens the loss is taken on": "every token",
        source: published?.source ?? "the model's card",
      };
  return [
    pre,
    {
      data: `fine-tuning set: ${dataset} (input → output pairs)`,
      examples: `${n(fineTuning.records)} records`,
      tokens: n(fineTuning.tokens),
      "tokens the loss is taken on": `${n(fineTuning.answerTokens)} (the answers)`,
      source: "counted in this run",
    },
  ];
}
