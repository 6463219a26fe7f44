/**
 * The shapes shared by every way of making more data: a question/answer pair with the record of how it was
 * made (provenance), the `Generator` interface that both the local model and an OpenAI-compatible endpoint
 * implement, and the error type generation raises.
 */

/** How a pair came from a template (template expansion, expand.ts). */
export interface TemplateProvenance {
  method: "template";
  /** Id of the paraphrase template or question type, e.g. "para.could-you" or "section.define". */
  template: string;
  /** Seed of the expansion run (the same seed gives the same pairs). */
  seed: number;
  /** Id of the seed pair or document section it came from. */
  sourceId: string;
}

/** How a pair came from a model (generate-pairs.ts). */
export interface ModelProvenance {
  method: "model";
  /** "local:<model>" or "openai:<baseUrl>/<model>". */
  generator: string;
  /** The exact prompt the model saw. */
  prompt: string;
  temperature: number;
  seed: number;
  /** Id of the seed pair or section the prompt was built from, when there was one. */
  sourceId?: string;
  /**
   * How the answer was chosen when the model did not write it freely: "sentence-likelihood" = the model scored
   * each sentence of the pair's context as the answer and the likeliest was kept. Absent for free generation.
   */
  selection?: string;
}

/** A pair written by a person or taken from a corpus as it is. */
export interface SeedProvenance {
  method: "seed";
  sourceId: string;
}

export type Provenance = TemplateProvenance | ModelProvenance | SeedProvenance;

/** One question/answer pair. `context` is the passage it is about, when there is one. */
export interface QAPair {
  id: string;
  question: string;
  answer: string;
  context?: string;
  provenance: Provenance;
}

/** A piece of a document: the unit that section question types turn into pairs. */
export interface Section {
  id: string;
  /** The heading (e.g. "Installation"); may be empty. */
  title: string;
  text: string;
}

/** Options every generator understands (each merges them over its own defaults). */
export interface GenerationOptions {
  /** 0 = greedy (the local model) / the endpoint's most likely text. */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP. */
  topP?: number;
  /** New tokens per answer at most. */
  maxNewTokens?: number;
  /** Seed of prompt i is `seed + i`, so each prompt's text is reproducible alone. */
  seed?: number;
  /** Cut the text at the first of these (the stop string itself is removed). */
  stop?: string[];
  /** System message (chat endpoints only; the local model ignores it). */
  system?: string;
}

/** One generated text. */
export interface Generation {
  prompt: string;
  text: string;
  /** "stop" (a stop string or EOS), "length" (maxNewTokens reached), or the endpoint's own reason. */
  finishReason: string;
  /** Who made it: "local:<model>" or "openai:<baseUrl>/<model>". */
  generator: string;
  temperature: number;
  seed: number;
  /** Requests made for this prompt (1 = no retry; the local model: always 1). */
  attempts: number;
}

/**
 * Anything that turns prompts into texts. Results come back in the order of `prompts`.
 *
 * @example
 * const gens = await generator.generate(["Question: What is a tensor?\nAnswer:"], { maxNewTokens: 40, seed: 1 });
 * console.log(gens[0].text, gens[0].generator);
 */
export interface Generator {
  /** "local:<model>" or "openai:<baseUrl>/<model>" — what provenance records. */
  readonly name: string;
  generate(prompts: string[], opts?: GenerationOptions): Promise<Generation[]>;
}

/** What went wrong when generating, as a code a program can branch on. */
export type GeneratorErrorCode = "config" | "auth" | "timeout" | "http" | "malformed" | "network" | "rate_limit";

/** A generation failure; the message names the endpoint, the field or the option (never the API key). */
export class GeneratorError extends Error {
  override name = "GeneratorError";
  constructor(
    message: string,
    readonly code: GeneratorErrorCode,
    /** HTTP status, when there was a reply. */
    readonly status?: number,
    /** Requests made before giving up. */
    readonly attempts?: number,
  ) {
    super(message);
  }
}

/** Checks shared by the generators: finite temperature ≥ 0, topP in (0, 1], integer tokens ≥ 1, integer seed. */
export function validateGenerationOptions(o: GenerationOptions, who: string): void {
  const bad = (field: string, want: string, got: unknown) =>
    new GeneratorError(`${who}: option ${field} must be ${want}, got ${JSON.stringify(got)}`, "config");
  if (o.temperature !== undefined && !(Number.isFinite(o.temperature) && o.temperature >= 0))
    throw bad("temperature", "a finite number >= 0", o.temperature);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw bad("topP", "in (0, 1]", o.topP);
  if (o.maxNewTokens !== undefined && !(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 1))
    throw bad("maxNewTokens", "an integer >= 1", o.maxNewTokens);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw bad("seed", "an integer", o.seed);
  if (o.stop !== undefined && !(Array.isArray(o.stop) && o.stop.every((s) => typeof s === "string" && s !== "")))
    throw bad("stop", "an array of non-empty strings", o.stop);
}

/** Cut `text` at the first stop string (removed); returns whether one was found. */
export function cutAtStop(text: string, stops: string[] | undefined): { text: string; stopped: boolean } {
  let cut = -1;
  for (const s of stops ?? []) {
    const i = text.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut < 0 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}
