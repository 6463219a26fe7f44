/**
 * Data generation: template expansion, the `Generator` interface (OpenAI-compatible endpoint here; the local model
 * in model/local-generator.ts), model-made pairs.
 */
export { GeneratorError, cutAtStop, validateGenerationOptions } from "./types";
export type {
  QAPair,
  Section,
  Provenance,
  TemplateProvenance,
  ModelProvenance,
  SeedProvenance,
  Generator,
  Generation,
  GenerationOptions,
  GeneratorErrorCode,
} from "./types";
export { OpenAIGenerator, openAIGeneratorFromEnv, DEFAULT_OPENAI_GENERATION } from "./openai";
export type { OpenAIGeneratorOptions, OpenAIStats } from "./openai";
export { RateLimiter, DEFAULT_RATE_LIMIT } from "./rate-limit";
export type { RateLimitOptions } from "./rate-limit";
export { parseRetryAfter, backoffDelay, DEFAULT_RETRY, RETRYABLE_STATUS } from "./retry";
export type { RetryOptions } from "./retry";
export { expandPairs, questionsFromSections, PARAPHRASE_TEMPLATES, QUESTION_TYPES, DEFAULT_EXPAND } from "./expand";
export type { ExpandOptions, ParaphraseTemplate, QuestionType } from "./expand";
export {
  sectionsFromMarkdown,
  splitSentences,
  stripInlineMarkdown,
  hashString,
  DEFAULT_MARKDOWN_SECTIONS,
} from "./text";
export type { MarkdownSectionOptions } from "./text";
export { answerWithModel, pairsWithModel, parseGeneratedPair, DEFAULT_PAIRS_WITH_MODEL } from "./model-pairs";
export type { AnswerWithModelOptions, PairsWithModelOptions, RejectedGeneration } from "./model-pairs";
export { splitByGroup, sourceGroup, DEFAULT_GROUP_SPLIT } from "./group-split";
export type { GroupSplitOptions } from "./group-split";
