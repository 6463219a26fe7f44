/**
 * Data: JSONL I/O with validation, record schemas, prompt templates (plain and chat), preparing examples for
 * training, seeded splits and subsets, dataset statistics, and the course's shipped datasets.
 * (Generation, dedup and filters live in generate/, dedup.ts and filters.ts; filter-report.ts scores the filters
 * against labelled pairs.)
 *
 * @example
 * import { loadDataset, tokenizeDataset } from "tunebook";
 * const ds = await loadDataset("docs-qa");
 * const { examples } = tokenizeDataset(ds.template, tokenizer, ds.train, { maxLength: 256 });
 */
export {
  SCHEMA_NAMES,
  SCHEMAS,
  METADATA_FIELDS,
  validateRecord,
  inferSchema,
  isSchemaName,
  answerField,
} from "./schema";
export type {
  SchemaName,
  DataRecord,
  QARecord,
  InstructionRecord,
  ClassificationRecord,
  ExtractionRecord,
  RecordIssue,
  ValidateOptions,
} from "./schema";
export {
  parseJsonl,
  readJsonl,
  readJsonlSync,
  writeJsonl,
  toJsonl,
  formatIssue,
  JsonlError,
  DEFAULT_JSONL_OPTIONS,
} from "./jsonl";
export type { JsonlOptions, JsonlIssue, JsonlResult } from "./jsonl";
export {
  QA_TEMPLATE,
  INSTRUCTION_TEMPLATE,
  classificationTemplate,
  extractionTemplate,
  stringTemplate,
  templateFor,
  placeholders,
  renderExamples,
  TemplateError,
} from "./templates";
export type {
  PromptTemplate,
  RenderedExample,
  StringTemplateOptions,
  ClassificationTemplateOptions,
} from "./templates";
export { chatTemplate, DEFAULT_CHAT_TEMPLATE_OPTIONS } from "./chat-template";
export type { ChatMessage, ChatTemplateConfig, ChatTemplateOptions } from "./chat-template";
export { tokenizeExample, tokenizeDataset, padBatch, tokenTable, DEFAULT_PREPARE } from "./prepare";
export type { PrepareOptions, PreparedRecord, PrepareStats, PaddedBatch } from "./prepare";
export { splitTrainTest, nestedSubsets, sampleItems, DEFAULT_SPLIT, DEFAULT_SUBSET_FRACTIONS } from "./split";
export type { SplitOptions, Subset } from "./split";
export { lengthStats, labelCounts, datasetStats, fieldLengths } from "./stats";
export type { LengthStats, DatasetStats } from "./stats";
export {
  loadDataset,
  loadDatasetSync,
  datasetTemplate,
  datasetOverview,
  dataDir,
  DATASETS,
  DATASET_NAMES,
} from "./datasets";
export type { Dataset, DatasetInfo } from "./datasets";
export { parseEmail, header as emailHeader, decodeEncodedWords, htmlToText, truncateWords } from "./email";
export type { ParsedEmail } from "./email";
export {
  expandPairs,
  questionsFromSections,
  PARAPHRASE_TEMPLATES,
  QUESTION_TYPES,
  DEFAULT_EXPAND,
  sectionsFromMarkdown,
  splitSentences,
  OpenAIGenerator,
  openAIGeneratorFromEnv,
  DEFAULT_OPENAI_GENERATION,
  RateLimiter,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RETRY,
  parseRetryAfter,
  answerWithModel,
  pairsWithModel,
  parseGeneratedPair,
  DEFAULT_PAIRS_WITH_MODEL,
  splitByGroup,
  sourceGroup,
  GeneratorError,
} from "./generate";
export type {
  QAPair,
  Section,
  Provenance,
  Generator,
  Generation,
  GenerationOptions,
  GeneratorErrorCode,
  OpenAIGeneratorOptions,
  OpenAIStats,
  RateLimitOptions,
  RetryOptions,
  ExpandOptions,
  ParaphraseTemplate,
  QuestionType,
  MarkdownSectionOptions,
  AnswerWithModelOptions,
  PairsWithModelOptions,
  RejectedGeneration,
  GroupSplitOptions,
} from "./generate";
export { dedup, normalizeText, shingles, jaccard, DEFAULT_DEDUP } from "./dedup";
export type { DedupOptions, DedupResult, DuplicateRecord } from "./dedup";
export {
  filterPairs,
  checkPair,
  checkPairAll,
  readPair,
  proseWords,
  groundedShare,
  unmatchedBrackets,
  repeatedNgramShare,
  FILTER_REASONS,
  DEFAULT_FILTERS,
} from "./filters";
export { filterReport, matchLabels } from "./filter-report";
export type { LabelledPair, FilterReport, FilterReportRow } from "./filter-report";
export type { FilterOptions, FilterResult, DroppedItem, FilterReason, CustomFilter } from "./filters";
export type { TokenizedExample } from "../types/example";
