/**
 * The corpus as the device reads it: token ids as little-endian uint16, gzip-compressed, one stream for training
 * (every training document, each followed by `<|endoftext|>`) and one held-out stream per source, with a
 * manifest that records token counts and SHA-256s so that the device script can refuse a damaged or stale copy.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

export const MANIFEST_FORMAT = "tunebook-pretrain-corpus";
export const MANIFEST_VERSION = 1;

export interface PackedFile {
  file: string;
  tokens: number;
  bytes: number;
  /** SHA-256 of the file as written (compressed). */
  sha256: string;
}

export interface CorpusManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  builtBy: string;
  date: string;
  dtype: "uint16-le";
  vocabSize: number;
  eosTokenId: number;
  padTokenId: number;
  tokenizer: { file: string; sha256: string };
  family: string;
  train: PackedFile;
  heldOut: Record<string, PackedFile>;
  /** Per source: training tokens (its share of `train`). */
  trainTokensBySource: Record<string, number>;
}

export const sha256 = (buf: Buffer | string) => createHash("sha256").update(buf).digest("hex");

/** Writes `ids` as gzip'd uint16 into `dir/file`; ids must be below 65,536. */
export function writeIds(dir: string, file: string, ids: Uint16Array): PackedFile {
  const gz = zlib.gzipSync(Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength), { level: 9 });
  fs.writeFileSync(path.join(dir, file), gz);
  return { file, tokens: ids.length, bytes: gz.length, sha256: sha256(gz) };
}

/** Reads a file written by `writeIds` (tests and the parity check use it). */
export function readIds(file: string): Uint16Array {
  const raw = zlib.gunzipSync(fs.readFileSync(file));
  return new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/** Concatenates documents' ids, each followed by `eos`, into one uint16 array. */
export function concatDocs(docs: number[][], eos: number): Uint16Array {
  const n = docs.reduce((a, d) => a + d.length + 1, 0);
  const out = new Uint16Array(n);
  let o = 0;
  for (const d of docs) {
    for (const id of d) {
      if (id < 0 || id > 0xffff) throw new Error(`token id ${id} does not fit uint16`);
      out[o++] = id;
    }
    out[o++] = eos;
  }
  return out;
}
