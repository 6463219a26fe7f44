/**
 * A Hugging Face `tokenizer.json` (byte-level BPE with added tokens and NFC for Pythia; WordPiece and Unigram
 * too) behind tunebook's `Tokenizer` interface. The tokenization itself is Hugging Face's pure-JS
 * `@huggingface/tokenizers`, which matches the Rust `tokenizers` engine on the Pythia fixture cases; this file
 * adds the special-token ids, validation with clear errors, exact decoding, and batch padding/truncation.
 */
import { Tokenizer as HFTokenizerImpl } from "@huggingface/tokenizers";
import { padAndTruncate } from "./pad";
import { TokenizerError, type BatchEncoding, type PadTruncOptions, type Tokenizer } from "./types";

/** The `model.type` values of tokenizer.json that can be loaded. */
export const SUPPORTED_MODEL_TYPES = ["BPE", "WordPiece", "Unigram"] as const;

/** Fallback names when `tokenizer_config.json` does not name the special tokens. */
const EOS_NAMES = ["<|endoftext|>", "</s>", "<|end_of_text|>", "[SEP]"];
const BOS_NAMES = ["<|endoftext|>", "<s>", "<|begin_of_text|>", "[CLS]"];
const PAD_NAMES = ["<|padding|>", "<pad>", "[PAD]", "<|pad|>"];

/** Options read from `tokenizer_config.json` / `special_tokens_map.json` (Hugging Face names). */
export interface TokenizerConfig {
  eos_token?: string | { content: string } | null;
  bos_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  padding_side?: "left" | "right";
  truncation_side?: "left" | "right";
  clean_up_tokenization_spaces?: boolean;
  model_max_length?: number;
  [key: string]: unknown;
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A `tokenizer.json` behind the `Tokenizer` interface; build it with `tokenizerFromJSON` or `loadTokenizer`. */
export class HFTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly eosTokenId?: number;
  readonly bosTokenId?: number;
  padTokenId?: number;
  paddingSide: "left" | "right";
  truncationSide: "left" | "right";
  /** Largest input the model was trained for, when the config says (`model_max_length`). */
  readonly modelMaxLength?: number;
  /** Whether `decode` applies transformers' `clean_up_tokenization_spaces` (default false: exact round trips). */
  readonly cleanUpTokenizationSpaces: boolean;
  private readonly impl: HFTokenizerImpl;
  private readonly specialIds: Set<number>;

  constructor(
    json: Record<string, any>,
    config: TokenizerConfig,
    readonly source: string,
  ) {
    const cleanUp = config.clean_up_tokenization_spaces === true;
    try {
      this.impl = new HFTokenizerImpl(json, { ...config, clean_up_tokenization_spaces: cleanUp });
    } catch (e: any) {
      throw new TokenizerError(`${source}: cannot build the tokenizer (${e?.message ?? e})`, source);
    }
    this.cleanUpTokenizationSpaces = cleanUp;
    const vocab = this.impl.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const added: any[] = Array.isArray(json.added_tokens) ? json.added_tokens : [];
    this.specialIds = new Set(added.filter((t) => t?.special).map((t) => t.id as number));
    const specials = added.filter((t) => t?.special).map((t) => t.content as string);
    const resolve = (field: "eos_token" | "bos_token" | "pad_token", fallbacks: string[]): number | undefined => {
      const v = config[field];
      const name = typeof v === "string" ? v : isObject(v) && typeof v.content === "string" ? v.content : undefined;
      if (name !== undefined) {
        const id = this.impl.token_to_id(name);
        if (id === undefined)
          throw new TokenizerError(
            `${source}: tokenizer_config.json ${field} ${JSON.stringify(name)} is not in the vocabulary`,
            source,
          );
        return id;
      }
      const found = fallbacks.find((f) => specials.includes(f));
      return found === undefined ? undefined : this.impl.token_to_id(found);
    };
    this.eosTokenId = resolve("eos_token", EOS_NAMES);
    this.bosTokenId = resolve("bos_token", BOS_NAMES);
    this.padTokenId = resolve("pad_token", PAD_NAMES);
    this.paddingSide = config.padding_side === "left" ? "left" : "right";
    this.truncationSide = config.truncation_side === "left" ? "left" : "right";
    if (typeof config.model_max_length === "number" && config.model_max_length < 1e15)
      this.modelMaxLength = config.model_max_length;
  }

  /**
   * Text → ids.
   * @example
   * tok.encode("Hi, how are you?"); // [12764, 13, 849, 403, 368, 32] with the Pythia tokenizer
   */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    if (typeof text !== "string")
      throw new TokenizerError(`encode: expected a string, found ${typeof text}`, this.source);
    if (text === "") return [];
    const ids = this.impl.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
    const bad = ids.findIndex((id) => !Number.isInteger(id));
    if (bad >= 0)
      throw new TokenizerError(
        `encode: ${this.source} has no id for a piece of ${JSON.stringify(text.slice(0, 40))} and no unknown token`,
        this.source,
      );
    return ids;
  }

  /**
   * Ids → text; `decode(encode(t)) === t.normalize("NFC")` for byte-level BPE.
   * @example
   * tok.decode([12764, 13, 0], { skipSpecialTokens: true }); // "Hi,"
   */
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (!Array.isArray(ids) && !ArrayBuffer.isView(ids))
      throw new TokenizerError(`decode: expected an array of ids, found ${typeof ids}`, this.source);
    const list = Array.from(ids as ArrayLike<number>, Number);
    list.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || this.impl.id_to_token(id) === undefined)
        throw new TokenizerError(
          `decode: id ${String(ids[i])} at index ${i} is not in the vocabulary (0..${this.vocabSize - 1})`,
          this.source,
        );
    });
    const kept = opts.skipSpecialTokens ? list.filter((id) => !this.specialIds.has(id)) : list;
    if (kept.length === 0) return "";
    return this.impl.decode(kept, {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: this.cleanUpTokenizationSpaces,
    });
  }

  /** Text → token strings (byte-level form: `Ġ` is a space). */
  tokenize(text: string): string[] {
    return text === "" ? [] : this.impl.encode(text, { add_special_tokens: false }).tokens;
  }

  idToToken(id: number): string | undefined {
    return this.impl.id_to_token(id);
  }

  tokenToId(token: string): number | undefined {
    return this.impl.token_to_id(token);
  }

  /**
   * Encode a batch with padding and truncation (defaults: pad to the longest, on the tokenizer's side).
   * @example
   * tok.encodeBatch(["Hello world", "Hi"], { paddingSide: "left" });
   * // { inputIds: [[12092, 1533], [1, 12764]], attentionMask: [[1, 1], [0, 1]] }
   */
  encodeBatch(texts: string[], opts: PadTruncOptions = {}): BatchEncoding {
    if (!Array.isArray(texts))
      throw new TokenizerError(`encodeBatch: expected an array of strings, found ${typeof texts}`, this.source);
    const seqs = texts.map((t, i) => {
      if (typeof t !== "string")
        throw new TokenizerError(`encodeBatch: text ${i} is ${typeof t}, expected a string`, this.source);
      return this.encode(t, { addSpecialTokens: opts.addSpecialTokens });
    });
    return padAndTruncate(seqs, {
      paddingSide: this.paddingSide,
      truncationSide: this.truncationSide,
      padTokenId: this.padTokenId,
      ...dropUndefined(opts),
    });
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Build a tokenizer from the contents of a `tokenizer.json` (object or JSON text) and, optionally, of
 * `tokenizer_config.json` (special tokens, padding side).
 * @example
 * const tok = tokenizerFromJSON(fs.readFileSync("tokenizer.json", "utf8"));
 * tok.encode("Hello"); // [12092]
 */
export function tokenizerFromJSON(json: object | string, config: object = {}, source = "tokenizer.json"): HFTokenizer {
  let obj: unknown = json;
  if (typeof json === "string") {
    try {
      obj = JSON.parse(json);
    } catch (e: any) {
      throw new TokenizerError(`${source}: not valid JSON (${e?.message ?? e})`, source);
    }
  }
  if (!isObject(obj)) throw new TokenizerError(`${source}: a tokenizer.json must be a JSON object`, source);
  if (!isObject(obj.model))
    throw new TokenizerError(`${source}: not a Hugging Face tokenizer.json (no "model" object)`, source);
  const type = obj.model.type;
  if (!(SUPPORTED_MODEL_TYPES as readonly unknown[]).includes(type))
    throw new TokenizerError(
      `${source}: tokenizer model type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(", ")})`,
      source,
    );
  if (!isObject(config)) throw new TokenizerError(`${source}: tokenizer config must be an object`, source);
  return new HFTokenizer(obj, config as TokenizerConfig, source);
}
