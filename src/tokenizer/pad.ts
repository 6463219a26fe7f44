/**
 * Padding and truncation of encoded sequences, on either side — shared by every `Tokenizer`.
 * Left padding is what batched generation needs (the last position of every row is a real token); right
 * padding is the usual choice for training (labels line up with positions from 0).
 */
import { DEFAULT_PAD_TRUNC, TokenizerError, type BatchEncoding, type PadTruncOptions } from "./types";

/**
 * Truncate and pad id sequences into a rectangular batch with its attention mask.
 * Throws a `TokenizerError` when the options contradict each other or a sequence would silently stay longer
 * than `maxLength`.
 * @example
 * padAndTruncate([[5, 6, 7], [8]], { paddingSide: "left", padTokenId: 1 });
 * // { inputIds: [[5, 6, 7], [1, 1, 8]], attentionMask: [[1, 1, 1], [0, 0, 1]] }
 */
export function padAndTruncate(seqs: number[][], options: PadTruncOptions = {}): BatchEncoding {
  const o = { ...DEFAULT_PAD_TRUNC, paddingSide: "right", truncationSide: "right", ...options } as PadTruncOptions;
  const { maxLength, padding } = o;
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 0))
    throw new TokenizerError(`maxLength must be a non-negative integer, found ${maxLength}`);
  if (o.truncation && maxLength === undefined) throw new TokenizerError("truncation: true needs maxLength");
  if (padding === "max_length" && maxLength === undefined)
    throw new TokenizerError(`padding: "max_length" needs maxLength`);
  if (padding !== "longest" && padding !== "max_length" && padding !== false)
    throw new TokenizerError(`padding must be "longest", "max_length" or false, found ${JSON.stringify(padding)}`);
  for (const side of ["paddingSide", "truncationSide"] as const)
    if (o[side] !== "left" && o[side] !== "right")
      throw new TokenizerError(`${side} must be "left" or "right", found ${JSON.stringify(o[side])}`);

  const cut = seqs.map((s) => {
    if (!o.truncation || s.length <= maxLength!) return s.slice();
    return o.truncationSide === "left" ? s.slice(s.length - maxLength!) : s.slice(0, maxLength);
  });
  if (padding === "max_length") {
    const i = cut.findIndex((s) => s.length > maxLength!);
    if (i >= 0)
      throw new TokenizerError(
        `text ${i} has ${cut[i].length} tokens, more than maxLength ${maxLength}; pass truncation: true to cut it`,
      );
  }
  const target = padding === "max_length" ? maxLength! : Math.max(0, ...cut.map((s) => s.length));
  if (padding === false) {
    const i = cut.findIndex((s) => s.length !== target);
    if (i >= 0)
      throw new TokenizerError(
        `padding: false, but text ${i} has ${cut[i].length} tokens and the longest has ${target}; pad or truncate to make a rectangular batch`,
      );
    return { inputIds: cut, attentionMask: cut.map((s) => s.map(() => 1)) };
  }
  const needsPad = cut.some((s) => s.length < target);
  const pad = o.padTokenId;
  if (needsPad && !(Number.isInteger(pad) && pad! >= 0))
    throw new TokenizerError(
      "padding needs a pad token, and this tokenizer has none: pass padTokenId (for example the eos id) or set tokenizer.padTokenId",
    );
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  for (const s of cut) {
    const n = target - s.length;
    const padIds = new Array<number>(n).fill(pad ?? 0);
    const zeros = new Array<number>(n).fill(0);
    const ones = new Array<number>(s.length).fill(1);
    inputIds.push(o.paddingSide === "left" ? [...padIds, ...s] : [...s, ...padIds]);
    attentionMask.push(o.paddingSide === "left" ? [...zeros, ...ones] : [...ones, ...zeros]);
  }
  return { inputIds, attentionMask };
}
