/**
 * The forgetting check of notebook 04: perplexity on general English text before and after fine-tuning.
 * Fine-tuning on a narrow task can wear away what pretraining taught; a rising perplexity on ordinary
 * prose is the cheap sign of it. The text must be held out of the base model's pretraining, or the check
 * measures memory instead: `data/heldout-text/passages.jsonl` holds the opening of each of the 9 documents
 * the embedded model's build left out (every 40th document of its corpus; see the folder's datasheet).
 */
import * as fs from "node:fs";
import { dataDir } from "../../data/datasets";
import type { GPTNeoXForCausalLM } from "../../model/gptneox";
import type { Tokenizer } from "../../tokenizer/types";
import { scoreExamples } from "../../eval/likelihood";
import { perplexity } from "../../eval/metrics";

/** One held-out passage and where it comes from. */
export interface HeldOutPassage {
  /** The document in the pretraining corpus reader's naming (`moby-dick/chapter_35.json`). */
  id: string;
  /** The npm package the text is read from. */
  source: string;
  /** The document's index in the corpus reader's order (≡ 39 mod 40: held out). */
  corpusIndex: number;
  text: string;
}

/**
 * The shipped held-out passages (Moby-Dick chapters and State of the Union addresses, public domain).
 * @example
 * heldOutText().length; // 9
 */
export function heldOutText(file = `${dataDir("heldout-text")}/passages.jsonl`): HeldOutPassage[] {
  const lines = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim());
  return lines.map((l, i) => {
    const p = JSON.parse(l) as HeldOutPassage;
    if (typeof p.text !== "string" || !p.text || typeof p.id !== "string")
      throw new Error(`${file}:${i + 1}: expected {id, source, corpusIndex, text}`);
    return p;
  });
}

export interface TextPerplexityOptions {
  /** Tokens per scored window: each passage is cut into windows of this length (the last shorter one dropped). */
  windowTokens: number;
  /** Windows scored at most (the first ones of each passage, round-robin, so every passage counts). */
  maxWindows: number;
  batchSize: number;
}

export const DEFAULT_TEXT_PERPLEXITY_OPTIONS: TextPerplexityOptions = {
  windowTokens: 128, // the embedded model's pretraining window, so both models are scored at a length they know
  maxWindows: 32, // 4k tokens: a stable mean in about a second for the embedded model on 2 cores
  batchSize: 8,
};

/** Perplexity of a model on plain text, and how much text it was measured on. */
export interface TextPerplexity {
  perplexity: number;
  /** Mean loss per token (nats). */
  loss: number;
  tokens: number;
  windows: number;
}

/**
 * Token-weighted perplexity of plain passages, in fixed windows (every token of a window but the first is scored).
 * @example
 * const before = textPerplexity(model, tokenizer, heldOutText());
 */
export function textPerplexity(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  passages: readonly { text: string }[],
  options: Partial<TextPerplexityOptions> = {},
): TextPerplexity {
  const o = { ...DEFAULT_TEXT_PERPLEXITY_OPTIONS, ...options };
  const len = Math.min(o.windowTokens, model.config.maxPositionEmbeddings);
  const perPassage = passages.map((p) => {
    const ids = tokenizer.encode(p.text, { addSpecialTokens: false });
    const w: number[][] = [];
    for (let i = 0; i + len <= ids.length; i += len) w.push(ids.slice(i, i + len));
    return w;
  });
  const windows: number[][] = [];
  for (let k = 0; windows.length < o.maxWindows && perPassage.some((w) => k < w.length); k++)
    for (const w of perPassage) if (k < w.length && windows.length < o.maxWindows) windows.push(w[k]);
  if (windows.length === 0) throw new Error(`textPerplexity: no passage has ${len} tokens`);
  const scores = scoreExamples(
    model,
    windows.map((inputIds) => ({ inputIds })),
    { batchSize: o.batchSize },
  );
  const ppl = perplexity(scores);
  return {
    perplexity: ppl,
    loss: Math.log(ppl),
    tokens: scores.reduce((a, s) => a + s.tokens, 0),
    windows: windows.length,
  };
}
