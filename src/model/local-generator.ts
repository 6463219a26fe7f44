/**
 * The local model as a `Generator`: a GPT-NeoX model and its tokenizer (e.g. `loadModel("default")`), driven by
 * `generateDetailed` from src/model/generate.ts. Each prompt is generated alone with its own seed (`seed + i`),
 * so a pair's recorded seed reproduces it whatever else was in the run. Offline, CPU-friendly.
 *
 * It lives with the model, not in data/generate/, because data/ sits below model/: data/ defines the
 * `Generator` contract and the model implements it.
 */
import type { Tokenizer } from "../tokenizer/types";
import { generateDetailed } from "./generate";
import type { GPTNeoXForCausalLM } from "./gptneox";
import {
  cutAtStop,
  type Generation,
  type GenerationOptions,
  type Generator,
  GeneratorError,
  validateGenerationOptions,
} from "../data/generate/types";

/** Options of the local generator: the common ones plus two the local sampler has. */
export interface LocalGenerationOptions extends GenerationOptions {
  /** Keep only the k most likely tokens when sampling (0 = off). */
  topK?: number;
  /** > 1 discourages repeating tokens already present (1 = off). */
  repetitionPenalty?: number;
}

export const DEFAULT_LOCAL_GENERATION: Required<Omit<LocalGenerationOptions, "system">> = {
  temperature: 0.8, // some variety between samples, still mostly on-topic
  topP: 0.95, // drop the long tail of unlikely tokens
  topK: 0, // off: topP already trims the tail
  maxNewTokens: 48, // one or two sentences: enough for an answer, quick on a CPU
  seed: 0, // reproducible by default
  stop: ["\n\n", "<|endoftext|>"], // one answer, not the start of the next example
  repetitionPenalty: 1.1, // small models loop easily; a light penalty keeps answers readable
};

/**
 * A `Generator` over a local model.
 *
 * @example
 * const { model, tokenizer } = await loadModel("default");
 * const gen = new LocalGenerator(model, tokenizer, { modelName: "default" });
 * const [g] = await gen.generate(["### Question: What is a tensor?\n### Answer:"], { maxNewTokens: 32, seed: 3 });
 */
export class LocalGenerator implements Generator {
  readonly name: string;
  private readonly defaults: LocalGenerationOptions;

  constructor(
    private readonly model: GPTNeoXForCausalLM,
    private readonly tokenizer: Tokenizer,
    opts: { modelName?: string; defaults?: LocalGenerationOptions } = {},
  ) {
    this.name = `local:${opts.modelName ?? "model"}`;
    this.defaults = { ...DEFAULT_LOCAL_GENERATION, ...(opts.defaults ?? {}) };
    validateGenerationOptions(this.defaults, this.name);
  }

  async generate(prompts: string[], opts: LocalGenerationOptions = {}): Promise<Generation[]> {
    const o = { ...DEFAULT_LOCAL_GENERATION, ...this.defaults, ...opts };
    validateGenerationOptions(o, this.name);
    if (!Array.isArray(prompts))
      throw new GeneratorError(`${this.name}: prompts must be an array of strings`, "config");
    const maxPos = this.model.config.maxPositionEmbeddings;
    // A model's embedding may be larger than the tokenizer's vocabulary (Pythia: 50304 rows, 50277 tokens); ids
    // past the vocabulary are padding rows that a sampler can still pick: they have no text, so they decode to "".
    const V = this.tokenizer.vocabSize;
    const decode = (ids: number[]) =>
      this.tokenizer.decode(
        ids.filter((id) => id < V),
        { skipSpecialTokens: true },
      );
    const out: Generation[] = [];
    for (let i = 0; i < prompts.length; i++) {
      const prompt = prompts[i];
      if (typeof prompt !== "string")
        throw new GeneratorError(`${this.name}: prompt ${i} must be a string, got ${typeof prompt}`, "config");
      const ids = this.tokenizer.encode(prompt);
      if (ids.length + o.maxNewTokens > maxPos) {
        throw new GeneratorError(
          `${this.name}: prompt ${i} has ${ids.length} tokens; with maxNewTokens ${o.maxNewTokens} that exceeds the model's ${maxPos} positions — shorten the prompt or lower maxNewTokens`,
          "config",
        );
      }
      const seed = o.seed + i;
      const res = await generateDetailed(this.model, [ids], {
        doSample: o.temperature > 0,
        temperature: o.temperature > 0 ? o.temperature : 1,
        topP: o.topP,
        topK: o.topK,
        repetitionPenalty: o.repetitionPenalty,
        maxNewTokens: o.maxNewTokens,
        stopStrings: o.stop.length ? o.stop : undefined,
        decode,
        seed,
      });
      const cut = cutAtStop(decode(res.sequences[0]), o.stop);
      const reason = res.finishReasons[0];
      out.push({
        prompt,
        text: cut.text.trim(),
        finishReason: reason === "length" && !cut.stopped ? "length" : "stop",
        generator: this.name,
        temperature: o.temperature,
        seed,
        attempts: 1,
      });
    }
    return out;
  }
}
