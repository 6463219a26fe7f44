/**
 * The safetensors header: the u64 length prefix and the JSON table of tensors, validated strictly.
 *
 * Everything that can be wrong with a file's structure is caught here, before any tensor byte is read:
 * a length prefix past the end of the file or over 100 MB, invalid UTF-8 or JSON, a header that is not an
 * object, duplicate keys, `__metadata__` that is not an object of strings, unknown dtypes, bad shapes or
 * offsets, a byte span ≠ numel × dtype size, offsets that are not contiguous from 0, and trailing bytes.
 */
import { findDuplicateKey } from "../runtime/json-keys";

/** The dtypes of the safetensors format that tunebook reads and writes. */
export type SafetensorsDType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U8"
  | "BOOL"
  | "U16"
  | "U32"
  | "U64";

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  U16: 2,
  U32: 4,
  U64: 8,
};

/** The largest header the reader accepts (the Rust reference's limit). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** A malformed or unreadable safetensors file (or tensors that cannot be written). The message names the
 * file and the tensor or field, and says what was expected. */
export class SafetensorsError extends Error {
  constructor(
    message: string,
    readonly source?: string,
    readonly tensor?: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "SafetensorsError";
  }
}

/** One header entry: where a tensor's bytes are, relative to the start of the data section. */
export interface SafeTensorInfo {
  dtype: SafetensorsDType;
  shape: number[];
  dataOffsets: [number, number];
}

/** A validated header: entries in file (offset) order, metadata, and where the data section starts. */
export interface SafetensorsHeader {
  tensors: Map<string, SafeTensorInfo>;
  metadata: Record<string, string>;
  /** Bytes of JSON (N of the length prefix). */
  headerBytes: number;
  /** File offset of the first tensor byte (8 + N). */
  dataStart: number;
}

/** Short printable form of a found value, for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

/**
 * Read the u64 header length from the first 8 bytes and check it against the file size.
 * @example
 * checkHeaderLength(bytes.subarray(0, 8), bytes.byteLength, "model.safetensors"); // N
 */
export function checkHeaderLength(first8: Uint8Array, fileBytes: number, source: string): number {
  if (first8.byteLength < 8 || fileBytes < 8)
    throw new SafetensorsError(
      `${source}: file is ${fileBytes} bytes; a safetensors file starts with an 8-byte header length`,
      source,
      undefined,
      "header length",
    );
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES))
    throw new SafetensorsError(
      `${source}: header length ${n} bytes exceeds the ${SAFETENSORS_MAX_HEADER_BYTES / 1e6} MB limit (not a safetensors file, or corrupt)`,
      source,
      undefined,
      "header length",
    );
  if (n > BigInt(fileBytes - 8))
    throw new SafetensorsError(
      `${source}: header length ${n} bytes runs past the end of the file (${fileBytes} bytes, so at most ${fileBytes - 8}); the file is truncated or not safetensors`,
      source,
      undefined,
      "header length",
    );
  return Number(n);
}

/** Throw on the first key that appears twice in one JSON object (JSON.parse would keep the last silently).
 * `text` must already be valid JSON. */
function checkDuplicateKeys(text: string, source: string): void {
  const dup = findDuplicateKey(text);
  if (!dup) return;
  const where = dup.path === "" ? `key "${dup.key}"` : `key "${dup.key}" inside an entry`;
  throw new SafetensorsError(
    `${source}: header has a duplicate ${where}; each tensor and field must appear once`,
    source,
    dup.key,
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Validate header JSON bytes against a data section of `dataBytes` bytes.
 * @example
 * const h = parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, "model.safetensors");
 */
export function parseHeader(headerBytes: Uint8Array, dataBytes: number, source: string): SafetensorsHeader {
  const fail = (msg: string, tensor?: string, field?: string): never => {
    throw new SafetensorsError(`${source}: ${msg}`, source, tensor, field);
  };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    return fail("header is not valid UTF-8", undefined, "header");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: any) {
    return fail(`header is not valid JSON (${e?.message ?? e})`, undefined, "header");
  }
  if (!isObject(json))
    return fail(`header must be a JSON object of tensors, found ${describe(json)}`, undefined, "header");
  checkDuplicateKeys(text, source);

  const metadata: Record<string, string> = {};
  const entries: [string, SafeTensorInfo][] = [];
  for (const [name, v] of Object.entries(json)) {
    if (name === "__metadata__") {
      if (!isObject(v))
        fail(`"__metadata__" must be an object of strings, found ${describe(v)}`, undefined, "__metadata__");
      for (const [k, s] of Object.entries(v as object)) {
        if (typeof s !== "string")
          fail(`__metadata__["${k}"] must be a string, found ${describe(s)}`, undefined, "__metadata__");
        metadata[k] = s;
      }
      continue;
    }
    const at = `tensor "${name}"`;
    if (!isObject(v)) fail(`${at}: expected an object {dtype, shape, data_offsets}, found ${describe(v)}`, name);
    const e = v as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype))
      fail(
        `${at}: unknown dtype ${describe(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(", ")}`,
        name,
        "dtype",
      );
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`${at}: shape must be a list of non-negative integers, found ${describe(shape)}`, name, "shape");
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      off[0] > off[1]
    )
      fail(
        `${at}: data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, found ${describe(off)}`,
        name,
        "data_offsets",
      );
    const size = DTYPE_BYTES[dtype as SafetensorsDType];
    let numel = 1;
    for (const d of shape as number[]) {
      numel *= d;
      if (numel > Number.MAX_SAFE_INTEGER) fail(`${at}: shape ${describe(shape)} is too large`, name, "shape");
    }
    const [b, en] = off as number[];
    if (en - b !== numel * size)
      fail(
        `${at}: data_offsets [${b}, ${en}] span ${en - b} bytes, but shape [${shape}] of ${dtype} needs ${numel} × ${size} = ${numel * size}`,
        name,
        "data_offsets",
      );
    entries.push([name, { dtype: dtype as SafetensorsDType, shape: shape as number[], dataOffsets: [b, en] }]);
  }

  entries.sort(([, x], [, y]) => x.dataOffsets[0] - y.dataOffsets[0] || x.dataOffsets[1] - y.dataOffsets[1]);
  let end = 0;
  let prev: string | undefined;
  for (const [name, info] of entries) {
    const [b, e] = info.dataOffsets;
    if (b !== end) {
      const what =
        prev === undefined
          ? `starts at byte ${b}; the first tensor must start at 0`
          : b > end
            ? `starts at byte ${b}, but "${prev}" ends at ${end} (a gap of ${b - end} bytes)`
            : `starts at byte ${b}, inside "${prev}" which ends at ${end} (overlap)`;
      fail(`tensor "${name}": data_offsets ${what}; offsets must be contiguous from 0`, name, "data_offsets");
    }
    if (e > dataBytes)
      fail(
        `tensor "${name}": data_offsets end ${e} is past the end of the data section (${dataBytes} bytes); the file is truncated`,
        name,
        "data_offsets",
      );
    end = e;
    prev = name;
  }
  if (end !== dataBytes)
    fail(
      `${dataBytes - end} trailing bytes after the last tensor (tensors end at byte ${end} of a ${dataBytes}-byte data section)`,
      prev,
      "data_offsets",
    );
  return {
    tensors: new Map(entries),
    metadata,
    headerBytes: headerBytes.byteLength,
    dataStart: 8 + headerBytes.byteLength,
  };
}
