/**
 * Byte-level pre-tokenization as in GPT-2 (Radford et al. 2019) and Hugging Face's `ByteLevel` pre-tokenizer:
 * text is split with the GPT-2 pattern (contractions, letters, numbers, other symbols, whitespace), each piece
 * is UTF-8 encoded, and every byte is shown as one printable character (space → `Ġ`, newline → `Ċ`), so any
 * text, in any script, becomes a string over a fixed 256-symbol alphabet and round-trips exactly.
 */
import { TokenizerError } from "./types";

/** The GPT-2 split pattern (what `ByteLevel` with `use_regex: true` applies). */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

let TABLES: { byteToChar: string[]; charToByte: Map<string, number> } | undefined;

/** The 256 byte ↔ character tables: printable Latin-1 bytes stand for themselves, the others are shifted to
 * code points 256 and up, in byte order. */
function tables(): { byteToChar: string[]; charToByte: Map<string, number> } {
  if (TABLES) return TABLES;
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const byteToChar: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) byteToChar.push(String.fromCodePoint(printable(b) ? b : 256 + shifted++));
  const charToByte = new Map(byteToChar.map((c, b) => [c, b] as [string, number]));
  return (TABLES = { byteToChar, charToByte });
}

/**
 * The byte-level alphabet: character `i` stands for byte `i`.
 * @example
 * byteLevelAlphabet()[32]; // "Ġ" (space)
 */
export function byteLevelAlphabet(): readonly string[] {
  return tables().byteToChar;
}

const ENCODER = new TextEncoder();

/**
 * Split text into GPT-2 pieces and write each in the byte-level alphabet.
 * @example
 * byteLevelPieces("Hello world\n"); // ["Hello", "Ġworld", "Ċ"]
 */
export function byteLevelPieces(text: string): string[] {
  const { byteToChar } = tables();
  const out: string[] = [];
  for (const m of text.matchAll(GPT2_SPLIT)) {
    let s = "";
    for (const b of ENCODER.encode(m[0])) s += byteToChar[b];
    out.push(s);
  }
  return out;
}

/**
 * Turn byte-level characters back into text (invalid UTF-8 becomes U+FFFD, as in Hugging Face's decoder).
 * @example
 * byteLevelToText("ĠworldĊ"); // " world\n"
 */
export function byteLevelToText(s: string): string {
  const { charToByte } = tables();
  const bytes: number[] = [];
  for (const c of s) {
    const b = charToByte.get(c);
    if (b === undefined)
      throw new TokenizerError(`byteLevelToText: ${JSON.stringify(c)} is not a byte-level character`);
    bytes.push(b);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
