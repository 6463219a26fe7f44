/**
 * Extractive answers chosen by the model: for a question and its passage, every sentence of the passage is a
 * candidate answer, the model scores each one as the continuation of the retrieval-augmented prompt (mean
 * log-likelihood per token, EOS included), and the likeliest becomes the answer. The model never writes a word,
 * so the answer is always a real sentence of the documentation; whether it is the sentence that answers the
 * question is up to the model, and is what a person labels.
 *
 * Why not let the model write: the embedded ~5M-parameter model, prompted the same way, does not start copying the
 * passage on its own (notebook 02 measures it). Ranking candidates is the same likelihood reading as notebook 04's
 * classification, applied to sentences.
 */
import { splitSentences } from "../../data/generate/text";
import type { QAPair } from "../../data/generate/types";
import type { PromptTemplate } from "../../data/templates";
import { completionExample, scoreExamples } from "../../eval/likelihood";
import type { GPTNeoXForCausalLM } from "../../model/gptneox";
import type { Tokenizer } from "../../tokenizer/types";
import type { PassageQuestion } from "./passages";

export interface ExtractiveOptions {
  /** Renders the prompt from `{question, context}` (e.g. `passageTemplate(demos)`). */
  template: PromptTemplate;
  /** Name recorded in provenance as `local:<modelName>`. */
  modelName?: string;
  /** Sequences per forward pass when scoring. */
  batchSize?: number;
}

/** A pair with how the model ranked the candidates. */
export interface ExtractiveAnswer extends QAPair {
  /** Index of the chosen sentence among the passage's sentences, and how many there were. */
  chosen: number;
  candidates: number;
}

/**
 * One pair per question: the passage sentence the model finds likeliest as the answer. Provenance records the
 * model, the exact prompt, `temperature: 0`, `seed: 0` (nothing is sampled), the section and
 * `selection: "sentence-likelihood"`.
 *
 * @example
 * const pairs = extractiveAnswers(model, tokenizer, items, { template: passageTemplate(demos), modelName: "default" });
 */
export function extractiveAnswers(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  items: readonly PassageQuestion[],
  options: ExtractiveOptions,
): ExtractiveAnswer[] {
  const { template, modelName = "model", batchSize = 8 } = options ?? ({} as ExtractiveOptions);
  if (!template || typeof template.renderPrompt !== "function")
    throw new Error("extractiveAnswers: options.template must be a prompt template (e.g. passageTemplate(demos))");
  const maxLength = model.config.maxPositionEmbeddings;
  const prompts: string[] = [];
  const cands: string[][] = [];
  items.forEach((it, i) => {
    if (typeof it?.question !== "string" || typeof it.context !== "string" || !it.context.trim())
      throw new Error(`extractiveAnswers: item ${i} needs string fields question and context (non-empty)`);
    prompts.push(template.renderPrompt({ question: it.question, context: it.context }));
    cands.push(splitSentences(it.context));
  });
  const examples = prompts.flatMap((p, i) =>
    cands[i].map((c) => completionExample(tokenizer, p, ` ${c}`, { maxLength })),
  );
  const scores = scoreExamples(model, examples, { batchSize });
  let k = 0;
  return items.map((it, i) => {
    const mean = cands[i].map(() => {
      const s = scores[k++];
      return s.logProb / Math.max(1, s.tokens);
    });
    let best = 0;
    for (let j = 1; j < mean.length; j++) if (mean[j] > mean[best]) best = j;
    return {
      id: `${it.id}~local:${modelName}~extractive`,
      question: it.question,
      answer: cands[i][best],
      context: it.context,
      provenance: {
        method: "model",
        generator: `local:${modelName}`,
        prompt: prompts[i],
        temperature: 0,
        seed: 0,
        sourceId: it.sectionId,
        selection: "sentence-likelihood",
      },
      chosen: best,
      candidates: cands[i].length,
    };
  });
}
