/**
 * From records to what the trainer eats: a template renders each record as `{prompt, completion}`, the
 * tokenizer turns both into ids, and the labels say which positions are scored.
 *
 * - The prompt and the completion are tokenized separately and concatenated, so the boundary is exact (no
 *   token straddles it). The prompt gets the tokenizer's special tokens (`addSpecialTokens`, e.g. a BOS for
 *   models that use one; none for Pythia); the completion none.
 * - `addEos` (default true) appends the tokenizer's EOS id to the completion: it is how the model learns to
 *   stop. Without it, a fine-tuned model rambles on after the answer.
 * - `maskPrompt` (default true) sets the prompt's labels to -100: the loss is taken on the answer only, as in
 *   "train on completions". With false, every token is scored (the model also learns to write questions).
 * - `maxLength` with `truncationSide: "left"` (the default) removes tokens from the START of the prompt: the
 *   answer and the end of the prompt (the `### Answer:` marker right before the answer) survive. Only when the
 *   completion alone is longer than `maxLength` is the completion itself cut at its end (the prompt is then
 *   empty and the EOS lost): `stats.completionCut` counts those. `truncationSide: "right"` cuts the end of the
 *   whole sequence, as Hugging Face's `truncation=True` does; that may remove the answer.
 */
import { padAndTruncate } from "../tokenizer/pad";
import type { Tokenizer } from "../tokenizer/types";
import { IGNORE_INDEX, type TokenizedExample } from "../types/example";
import { TemplateError, type PromptTemplate } from "./templates";

/** Options of `tokenizeExample` / `tokenizeDataset`, merged over `DEFAULT_PREPARE`. */
export interface PrepareOptions {
  /** Labels -100 over the prompt (train on the answer only). */
  maskPrompt: boolean;
  /** Append the tokenizer's EOS id after the completion. */
  addEos: boolean;
  /** Longest sequence in tokens (undefined: no limit). */
  maxLength?: number;
  /** "left": drop prompt tokens from its start (keeps the answer); "right": cut the sequence's end. */
  truncationSide: "left" | "right";
  /** Special tokens on the prompt (passed to `encode`). */
  addSpecialTokens: boolean;
}

export const DEFAULT_PREPARE: Readonly<PrepareOptions> = {
  maskPrompt: true,
  addEos: true,
  maxLength: undefined,
  truncationSide: "left",
  addSpecialTokens: true,
};

/** A tokenized record: the trainer's `TokenizedExample`, plus where the prompt ends. */
export interface PreparedRecord extends TokenizedExample {
  inputIds: number[];
  labels: number[];
  /** Prompt tokens kept (the answer starts at this index). */
  promptLength: number;
  /** Completion tokens kept, EOS included. */
  completionLength: number;
  /** Tokens removed by truncation (0 when it fit). */
  truncatedTokens: number;
  /** Whether truncation removed part of the completion. */
  completionCut: boolean;
}

/**
 * Tokenize one record with a template.
 * @example
 * const ex = tokenizeExample(QA_TEMPLATE, tok, { question: "What is 2+2?", answer: "4" });
 * ex.labels.slice(0, ex.promptLength).every((l) => l === -100); // true
 */
export function tokenizeExample(
  template: PromptTemplate,
  tokenizer: Tokenizer,
  record: Record<string, unknown>,
  options: Partial<PrepareOptions> = {},
): PreparedRecord {
  const o = { ...DEFAULT_PREPARE, ...options };
  checkOptions(o);
  const { prompt, completion } = template.render(record);
  let p = tokenizer.encode(prompt, { addSpecialTokens: o.addSpecialTokens });
  let c = tokenizer.encode(completion, { addSpecialTokens: false });
  if (o.addEos) {
    if (!(Number.isInteger(tokenizer.eosTokenId) && tokenizer.eosTokenId! >= 0))
      throw new TemplateError("addEos: the tokenizer has no eosTokenId; set one or pass addEos: false");
    c = [...c, tokenizer.eosTokenId!];
  }
  const total = p.length + c.length;
  let completionCut = false;
  let truncatedTokens = 0;
  if (o.maxLength !== undefined && total > o.maxLength) {
    truncatedTokens = total - o.maxLength;
    if (o.truncationSide === "left") {
      if (c.length <= o.maxLength) p = p.slice(p.length - (o.maxLength - c.length));
      else {
        p = [];
        c = c.slice(0, o.maxLength);
        completionCut = true;
      }
    } else {
      if (p.length >= o.maxLength) {
        p = p.slice(0, o.maxLength);
        c = [];
      } else c = c.slice(0, o.maxLength - p.length);
      completionCut = true;
    }
  }
  const inputIds = [...p, ...c];
  const labels = [...(o.maskPrompt ? p.map(() => IGNORE_INDEX) : p), ...c];
  return { inputIds, labels, promptLength: p.length, completionLength: c.length, truncatedTokens, completionCut };
}

function checkOptions(o: PrepareOptions): void {
  if (o.maxLength !== undefined && !(Number.isInteger(o.maxLength) && o.maxLength >= 1))
    throw new TemplateError(`maxLength must be a positive integer, found ${o.maxLength}`);
  if (o.truncationSide !== "left" && o.truncationSide !== "right")
    throw new TemplateError(`truncationSide must be "left" or "right", found ${JSON.stringify(o.truncationSide)}`);
}

/** Counts over a tokenized dataset. */
export interface PrepareStats {
  count: number;
  /** Records shortened by truncation. */
  truncated: number;
  /** Records whose completion lost tokens (the answer or its EOS). */
  completionCut: number;
  maxTokens: number;
  meanTokens: number;
  /** Scored tokens in all (labels ≠ -100). */
  lossTokens: number;
}

/**
 * Tokenize every record. A record that does not fit the template throws, naming its index and the field.
 * @example
 * const { examples, stats } = tokenizeDataset(QA_TEMPLATE, tok, train, { maxLength: 256 });
 */
export function tokenizeDataset(
  template: PromptTemplate,
  tokenizer: Tokenizer,
  records: readonly Record<string, unknown>[],
  options: Partial<PrepareOptions> = {},
): { examples: PreparedRecord[]; stats: PrepareStats } {
  const examples = records.map((r, i) => {
    try {
      return tokenizeExample(template, tokenizer, r, options);
    } catch (e: any) {
      if (e instanceof TemplateError)
        throw new TemplateError(
          `record ${i}${typeof r?.id === "string" || typeof r?.id === "number" ? ` (id ${r.id})` : ""}: ${e.message}`,
          e.field,
        );
      throw e;
    }
  });
  const lens = examples.map((e) => e.inputIds.length);
  const stats: PrepareStats = {
    count: examples.length,
    truncated: examples.filter((e) => e.truncatedTokens > 0).length,
    completionCut: examples.filter((e) => e.completionCut).length,
    maxTokens: lens.length ? Math.max(...lens) : 0,
    meanTokens: lens.length ? lens.reduce((a, b) => a + b, 0) / lens.length : 0,
    lossTokens: examples.reduce((s, e) => s + e.labels.filter((l) => l !== IGNORE_INDEX).length, 0),
  };
  return { examples, stats };
}

/** A padded batch of tokenized examples, as plain arrays. */
export interface PaddedBatch {
  inputIds: number[][];
  attentionMask: number[][];
  /** -100 at padded positions. */
  labels: number[][];
}

/**
 * Pad tokenized examples into a rectangle: to the longest (default) or to `maxLength`; right padding for
 * training, left for generation. Padded positions get label -100 and mask 0.
 * @example
 * padBatch([{ inputIds: [5, 6, 7], labels: [-100, 6, 7] }, { inputIds: [8] }], { padTokenId: 1 });
 * // { inputIds: [[5, 6, 7], [8, 1, 1]], attentionMask: [[1, 1, 1], [1, 0, 0]], labels: [[-100, 6, 7], [8, -100, -100]] }
 */
export function padBatch(
  examples: readonly TokenizedExample[],
  options: { padTokenId: number; side?: "left" | "right"; maxLength?: number },
): PaddedBatch {
  const side = options.side ?? "right";
  const common = { padTokenId: options.padTokenId, paddingSide: side, truncation: false } as const;
  const padTo =
    options.maxLength === undefined
      ? { padding: "longest" as const }
      : { padding: "max_length" as const, maxLength: options.maxLength };
  examples.forEach((e, i) => {
    if (e.labels && e.labels.length !== e.inputIds.length)
      throw new TemplateError(`example ${i}: labels has ${e.labels.length} entries, inputIds ${e.inputIds.length}`);
  });
  const ids = padAndTruncate(
    examples.map((e) => e.inputIds),
    { ...common, ...padTo },
  );
  // Labels follow the attention mask: real positions take the example's labels in order, pads get -100.
  const labels = ids.attentionMask.map((mask, i) => {
    const src = examples[i].labels ?? examples[i].inputIds;
    let k = 0;
    return mask.map((m) => (m ? src[k++] : IGNORE_INDEX));
  });
  return { inputIds: ids.inputIds, attentionMask: ids.attentionMask, labels };
}

/**
 * One row per token of a prepared example — position, id, the token's text, and whether the loss scores it —
 * to see where the prompt ends and the answer begins.
 * @example
 * show(table(tokenTable(tokenizeExample(QA_TEMPLATE, tok, record), tok)));
 */
export function tokenTable(
  example: TokenizedExample,
  tokenizer: Tokenizer,
): { position: number; id: number; token: string; label: number; part: string }[] {
  const labels = example.labels ?? example.inputIds;
  return example.inputIds.map((id, i) => ({
    position: i,
    id,
    token: JSON.stringify(tokenizer.decode([id])),
    label: labels[i],
    part:
      labels[i] === IGNORE_INDEX
        ? "prompt (masked, -100)"
        : id === tokenizer.eosTokenId && i === example.inputIds.length - 1
          ? "EOS (scored)"
          : "answer (scored)",
  }));
}
