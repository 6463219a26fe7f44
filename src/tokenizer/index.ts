/** Tokenizers: one interface for Hugging Face `tokenizer.json` files and the embedded default model's BPE. */
export { DEFAULT_PAD_TRUNC, TokenizerError } from "./types";
export type { Tokenizer, PadTruncOptions, BatchEncoding } from "./types";
export { padAndTruncate } from "./pad";
export { HFTokenizer, tokenizerFromJSON, SUPPORTED_MODEL_TYPES } from "./hf";
export type { TokenizerConfig } from "./hf";
export { loadTokenizer, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE, TOKENIZER_FILES } from "./load";
export { trainByteLevelBPE } from "./train-bpe";
