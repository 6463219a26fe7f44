/** Scoring a sequence as next-token prediction (HF `labels=input_ids`): loss, perplexity, token count. */
import * as tf from "@tensorflow/tfjs";
import type { GPTNeoXForCausalLM } from "./gptneox";
import { readSync } from "../kernels";
import { tokenLogProbs } from "./loss";

export interface SequenceScore {
  /** Mean next-token cross-entropy over tokens 2..n (nats). */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Tokens in the sequence. */
  tokens: number;
  /** Tokens that were predicted (n − 1). */
  scoredTokens: number;
}

/**
 * Loss and perplexity of one sequence of ids (at least 2; at most the model's context length).
 *
 * @example
 * scoreSequence(model, tokenizer.encode("The whale")); // { loss: 4.2, perplexity: 66.7, tokens: 3, scoredTokens: 2 }
 */
export function scoreSequence(model: GPTNeoXForCausalLM, ids: number[]): SequenceScore {
  const V = model.config.vocabSize;
  if (ids.length < 2)
    throw new Error(`score: need at least 2 tokens to score next-token prediction, got ${ids.length}`);
  if (ids.length > model.config.maxPositionEmbeddings)
    throw new Error(`score: ${ids.length} tokens exceed the model's context of ${model.config.maxPositionEmbeddings}`);
  const bad = ids.find((i) => !Number.isInteger(i) || i < 0 || i >= V);
  if (bad !== undefined) throw new Error(`score: id ${bad} is outside the vocabulary [0, ${V})`);
  const sum = tf.tidy(() => {
    const { logits } = model.forward([ids]); // [1, T, V]
    return tf.sum(tokenLogProbs(logits, [ids])); // log-likelihood of tokens 2..n
  });
  let ll: number;
  try {
    ll = readSync(sum, "scoreSequence", "scoreExamplesAsync from tunebook/eval")[0];
  } finally {
    sum.dispose();
  }
  const loss = -ll / (ids.length - 1);
  return { loss, perplexity: Math.exp(loss), tokens: ids.length, scoredTokens: ids.length - 1 };
}
