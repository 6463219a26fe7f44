/**
 * Model-based generation of pairs, over any `Generator` (the local model or an OpenAI-compatible endpoint):
 *
 * - `answerWithModel`: the model writes the answer to a given question (from a template, a seed, a user):
 *   every generation becomes a pair, whatever its quality (filters.ts judges it later).
 * - `pairsWithModel`: few-shot — the prompt shows a few seed pairs in the Q&A format and opens a new
 *   `### Question:`; the model writes a new question AND its answer, which are parsed back. A text that does not
 *   parse is returned in `rejected` with the reason: nothing is dropped silently.
 *
 * Every pair records `{method: "model", generator, prompt, temperature, seed, sourceId}`.
 */
import { Rng } from "../../runtime/seed";
import { QA_TEMPLATE } from "../templates";
import type { PromptTemplate } from "../templates";
import { hashString } from "./text";
import type { Generation, GenerationOptions, Generator, QAPair } from "./types";

export interface AnswerWithModelOptions extends GenerationOptions {
  /** Renders the prompt from `{question, context?}` (default: the course's `### Question:` … `### Answer:`). */
  template?: PromptTemplate;
}

/**
 * Let the model answer each question; one pair per question.
 *
 * @example
 * const pairs = await answerWithModel(new LocalGenerator(model, tokenizer, { modelName: "default" }),
 *   [{ id: "q1", question: "What is a tensor?" }], { maxNewTokens: 32, seed: 0 });
 */
export async function answerWithModel(
  generator: Generator,
  questions: readonly { id?: string | number; question: string; context?: string }[],
  options: AnswerWithModelOptions = {},
): Promise<QAPair[]> {
  const { template = QA_TEMPLATE, ...gen } = options;
  const prompts = questions.map((q, i) => {
    if (!q || typeof q.question !== "string" || q.question.trim() === "")
      throw new Error(`answerWithModel: item ${i} needs a non-empty string field question`);
    return template.renderPrompt({ ...q });
  });
  const outs = prompts.length ? await generator.generate(prompts, gen) : [];
  checkCount(generator, prompts.length, outs);
  return outs.map((g, i) => {
    const sourceId = String(questions[i].id ?? i);
    return {
      id: `${sourceId}~${generator.name}~${g.seed}`,
      question: questions[i].question,
      answer: g.text,
      ...(questions[i].context !== undefined ? { context: questions[i].context } : {}),
      provenance: {
        method: "model",
        generator: generator.name,
        prompt: g.prompt,
        temperature: g.temperature,
        seed: g.seed,
        sourceId,
      },
    };
  });
}

export interface PairsWithModelOptions extends GenerationOptions {
  /** New pairs to ask for (one prompt each). */
  count?: number;
  /** Seed pairs shown in each prompt. */
  shots?: number;
  /** The line before the examples: what the pairs are about. */
  instruction?: string;
}

export const DEFAULT_PAIRS_WITH_MODEL: Required<Omit<PairsWithModelOptions, keyof GenerationOptions>> = {
  count: 8, // a handful per call; scale up once the output looks right
  shots: 3, // enough to show the format and the topic, short enough for a small context
  instruction: "Questions and answers from the documentation.",
};

/** A generation that could not be read as a pair. */
export interface RejectedGeneration {
  index: number;
  prompt: string;
  text: string;
  reason: string;
}

/** Split "question ### Answer: answer" (the text after the prompt's last `### Question:`). */
export function parseGeneratedPair(text: string): { question: string; answer: string } | { reason: string } {
  const m = /^([\s\S]*?)\n*#{2,3}\s*Answer:\s*([\s\S]*)$/.exec(text);
  if (!m) return { reason: "no '### Answer:' marker" };
  const question = m[1].trim();
  const answer = m[2].replace(/\n*#{2,3}\s*(Question|Answer):[\s\S]*$/, "").trim();
  if (!question) return { reason: "empty question" };
  if (!answer) return { reason: "empty answer" };
  return { question, answer };
}

/**
 * Ask the model for `count` new pairs, each from a few-shot prompt of `shots` seed pairs (drawn with a seeded
 * RNG). Returns the parsed pairs and the generations that did not parse.
 *
 * @example
 * const { pairs, rejected } = await pairsWithModel(gen, seedPairs, { count: 10, shots: 3, temperature: 0.9, seed: 1 });
 */
export async function pairsWithModel(
  generator: Generator,
  seeds: readonly { id?: string | number; question: string; answer: string }[],
  options: PairsWithModelOptions = {},
): Promise<{ pairs: QAPair[]; rejected: RejectedGeneration[] }> {
  const { count, shots, instruction, ...gen } = { ...DEFAULT_PAIRS_WITH_MODEL, ...options };
  if (!Number.isInteger(count) || count < 0)
    throw new Error(`pairsWithModel: count must be an integer >= 0, got ${count}`);
  if (!Number.isInteger(shots) || shots < 1)
    throw new Error(`pairsWithModel: shots must be an integer >= 1, got ${shots}`);
  if (seeds.length === 0) throw new Error("pairsWithModel: needs at least one seed pair to show the model");
  const seed = gen.seed ?? 0;
  const rng = new Rng(hashString(`pairs:${seed}`));
  const used: string[][] = [];
  const prompts: string[] = [];
  for (let i = 0; i < count; i++) {
    const idx = rng.shuffle(seeds.map((_, j) => j)).slice(0, Math.min(shots, seeds.length));
    used.push(idx.map((j) => String(seeds[j].id ?? j)));
    const examples = idx.map(
      (j) => `### Question:\n${seeds[j].question.trim()}\n\n### Answer:\n${seeds[j].answer.trim()}`,
    );
    prompts.push(`${instruction}\n\n${examples.join("\n\n")}\n\n### Question:\n`);
  }
  // The model writes "question\n\n### Answer:\nanswer"; stop at the next question, not at the blank line.
  const outs = prompts.length
    ? await generator.generate(prompts, { ...gen, stop: gen.stop ?? ["### Question:", "<|endoftext|>"] })
    : [];
  checkCount(generator, prompts.length, outs);
  const pairs: QAPair[] = [];
  const rejected: RejectedGeneration[] = [];
  outs.forEach((g, i) => {
    const p = parseGeneratedPair(g.text);
    if ("reason" in p) {
      rejected.push({ index: i, prompt: g.prompt, text: g.text, reason: p.reason });
      return;
    }
    pairs.push({
      id: `gen~${generator.name}~${g.seed}`,
      ...p,
      provenance: {
        method: "model",
        generator: generator.name,
        prompt: g.prompt,
        temperature: g.temperature,
        seed: g.seed,
        sourceId: used[i].join(","),
      },
    });
  });
  return { pairs, rejected };
}

function checkCount(generator: Generator, want: number, outs: Generation[]): void {
  if (!Array.isArray(outs) || outs.length !== want)
    throw new Error(
      `${generator.name}: returned ${Array.isArray(outs) ? outs.length : typeof outs} generations for ${want} prompts`,
    );
}
