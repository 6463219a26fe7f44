/**
 * The tokenizer interface every tokenizer in tunebook implements (a Hugging Face `tokenizer.json` loaded from
 * the hub or a folder, and the embedded default model's own byte-level BPE), plus its error type and the
 * padding/truncation options of batch encoding.
 */

/** Padding and truncation for `encodeBatch`, merged over `DEFAULT_PAD_TRUNC` and the tokenizer's own sides. */
export interface PadTruncOptions {
  /** "longest": pad to the longest sequence of the batch; "max_length": pad to `maxLength`; false: no padding
   * (every sequence must then have the same length, or the batch is refused). */
  padding?: "longest" | "max_length" | false;
  /** The length to pad to (`padding: "max_length"`) and to truncate to (`truncation: true`). */
  maxLength?: number;
  /** Cut sequences longer than `maxLength` (needs `maxLength`). */
  truncation?: boolean;
  /** Where pad tokens go: "right" for training, "left" for batched generation. */
  paddingSide?: "left" | "right";
  /** Which end loses tokens when truncating: "right" keeps the beginning, "left" keeps the end. */
  truncationSide?: "left" | "right";
  /** The pad id to use (default: the tokenizer's `padTokenId`). */
  padTokenId?: number;
  /** Passed to `encode` (default true; a no-op for Pythia, whose post-processor adds nothing). */
  addSpecialTokens?: boolean;
}

/** Defaults for `encodeBatch`: pad to the longest sequence, no truncation. Sides default to the tokenizer's
 * (`tokenizer_config.json` `padding_side` / `truncation_side`, else "right"). */
export const DEFAULT_PAD_TRUNC: Readonly<PadTruncOptions> = {
  padding: "longest",
  truncation: false,
  addSpecialTokens: true,
};

/** A padded batch: one row per text, `attentionMask` 1 on real tokens and 0 on padding. */
export interface BatchEncoding {
  inputIds: number[][];
  attentionMask: number[][];
}

/** Text ↔ token ids. */
export interface Tokenizer {
  /** Number of ids the tokenizer can produce (largest id + 1); a model's embedding may be larger (Pythia pads
   * 50277 up to 50304). */
  readonly vocabSize: number;
  readonly eosTokenId?: number;
  readonly bosTokenId?: number;
  /** The id `encodeBatch` pads with; may be set (e.g. `tok.padTokenId = tok.eosTokenId`). */
  padTokenId?: number;
  /** Default sides for `encodeBatch`. */
  paddingSide: "left" | "right";
  truncationSide: "left" | "right";
  /** Text → ids (NFC-normalised, added tokens such as `<|endoftext|>` recognised). */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** Ids → text. `skipSpecialTokens` drops special tokens such as `<|endoftext|>` and `<|padding|>`. */
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** Text → token strings, in the tokenizer's own form (byte-level: `Ġ` is a space, `Ċ` a newline). */
  tokenize?(text: string): string[];
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  /** Encode several texts with padding and truncation. */
  encodeBatch(texts: string[], opts?: PadTruncOptions): BatchEncoding;
}

/** A tokenizer that cannot be loaded, or input it cannot handle; the message names the file or the input. */
export class TokenizerError extends Error {
  constructor(
    message: string,
    readonly source?: string,
  ) {
    super(message);
    this.name = "TokenizerError";
  }
}
