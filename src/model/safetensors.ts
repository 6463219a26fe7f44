/**
 * safetensors: the checkpoint format of the Hugging Face hub (https://github.com/huggingface/safetensors).
 *
 * Layout: an 8-byte little-endian u64 N, a UTF-8 JSON header of N bytes
 * (`{"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}}`),
 * then the tensors' bytes, little-endian, row-major. The reader is strict, like the Rust reference: a header
 * longer than 100 MB or past the end of the file, bad JSON, an unknown dtype, offsets that are not contiguous
 * from 0, a byte size ≠ numel × dtype size or trailing bytes are each a `SafetensorsError` naming the file and
 * the tensor or field. Float tensors (F16, BF16, F32, F64) are decoded into `Float32Array`; `dtype` keeps the
 * type they had on disk. The writer pads the header with spaces to a multiple of 8 and stores tensors in name
 * order, as the Rust library and `save_pretrained` do. `loadCheckpointTensors` reads a file, a folder with
 * `model.safetensors`, or a sharded folder with `model.safetensors.index.json`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FileAccessError, openRegularFile, readRegularFile, describeFileKind } from "../runtime/files";
import { decodeFloatInto, decodeTensorBytes, encodeTensorBytes, FLOAT_DTYPES, type SafeTensorData } from "./dtype";
import {
  DTYPE_BYTES,
  SafetensorsError,
  checkHeaderLength,
  describe,
  parseHeader,
  type SafetensorsDType,
  type SafetensorsHeader,
  type SafeTensorInfo,
} from "./safetensors-header";

export { SafetensorsError, SAFETENSORS_MAX_HEADER_BYTES, DTYPE_BYTES } from "./safetensors-header";
export type { SafetensorsDType, SafeTensorInfo, SafetensorsHeader } from "./safetensors-header";
export type { SafeTensorData } from "./dtype";

/** One tensor: the on-disk dtype, its shape and its values (floats decoded into a Float32Array). */
export interface SafeTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: SafeTensorData;
}

/** What a file holds: tensors in file order, and the `__metadata__` strings. */
export interface SafetensorsContents {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Writer options: the dtype float tensors are stored as (default: each tensor's own `dtype`). */
export interface SerializeOptions {
  dtype?: "F32" | "F16" | "BF16";
}

export const DEFAULT_METADATA: Record<string, string> = { format: "pt" };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function assertLittleEndian(source: string): void {
  if (!LITTLE_ENDIAN) throw new SafetensorsError(`${source}: safetensors needs a little-endian machine`, source);
}

/**
 * Parse a whole safetensors file held in memory. The result does not share memory with `bytes`.
 * @example
 * const { tensors, metadata } = parseSafetensors(fs.readFileSync("model.safetensors"), "model.safetensors");
 * tensors.get("embed_out.weight")!.shape; // [50304, 512]
 */
export function parseSafetensors(bytes: Uint8Array, source = "<bytes>"): SafetensorsContents {
  assertLittleEndian(source);
  const n = checkHeaderLength(bytes.subarray(0, 8), bytes.byteLength, source);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, source);
  const tensors = new Map<string, SafeTensor>();
  const start = 8 + n;
  for (const [name, info] of header.tensors) {
    const raw = bytes.slice(start + info.dataOffsets[0], start + info.dataOffsets[1]);
    tensors.set(name, { dtype: info.dtype, shape: info.shape.slice(), data: decodeTensorBytes(info.dtype, raw) });
  }
  return { tensors, metadata: header.metadata };
}

async function readExactly(
  fh: fs.promises.FileHandle,
  buf: Uint8Array,
  position: number,
  source: string,
): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesRead } = await fh.read(buf, done, Math.min(buf.byteLength - done, 1 << 30), position + done);
    if (bytesRead === 0)
      throw new SafetensorsError(`${source}: file ended early (it changed while being read?)`, source);
    done += bytesRead;
  }
}

async function withFile<T>(file: string, fn: (fh: fs.promises.FileHandle, size: number) => Promise<T>): Promise<T> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await openRegularFile(file, "the safetensors file"); // a FIFO or device is refused before it can block
  } catch (e: any) {
    const notAFile = e instanceof FileAccessError && e.kind !== "missing" && e.kind !== "unreadable";
    throw new SafetensorsError(
      notAFile ? e.message : `${file}: cannot open safetensors file (${e?.code ?? e?.message ?? e})`,
      file,
    );
  }
  try {
    const st = await fh.stat();
    return await fn(fh, st.size);
  } finally {
    await fh.close();
  }
}

async function readHeaderFrom(fh: fs.promises.FileHandle, size: number, file: string): Promise<SafetensorsHeader> {
  const first = new Uint8Array(Math.min(8, size));
  await readExactly(fh, first, 0, file);
  const n = checkHeaderLength(first, size, file);
  const hb = new Uint8Array(n);
  await readExactly(fh, hb, 8, file);
  return parseHeader(hb, size - 8 - n, file);
}

/**
 * Read and validate only the header of a safetensors file (names, dtypes, shapes, offsets; no tensor data).
 * @example
 * const h = await readSafetensorsHeader("model.safetensors");
 * [...h.tensors.values()].reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0); // parameter count
 */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  assertLittleEndian(file);
  return withFile(file, (fh, size) => readHeaderFrom(fh, size, file));
}

/**
 * Read a safetensors file tensor by tensor (the file is never held in memory whole).
 * @example
 * const { tensors } = await readSafetensorsFile("model.f16.safetensors");
 * tensors.get("gpt_neox.embed_in.weight")!.dtype; // "F16" (data is a Float32Array)
 */
export async function readSafetensorsFile(file: string): Promise<SafetensorsContents> {
  assertLittleEndian(file);
  return withFile(file, async (fh, size) => {
    const header = await readHeaderFrom(fh, size, file);
    const tensors = new Map<string, SafeTensor>();
    for (const [name, info] of header.tensors) {
      const raw = new Uint8Array(info.dataOffsets[1] - info.dataOffsets[0]);
      await readExactly(fh, raw, header.dataStart + info.dataOffsets[0], file);
      tensors.set(name, { dtype: info.dtype, shape: info.shape.slice(), data: decodeTensorBytes(info.dtype, raw) });
    }
    return { tensors, metadata: header.metadata };
  });
}

/** Bytes read at a time by `readFloat32Into` (one reused buffer: its pages are touched once per call). */
export const STREAM_CHUNK_BYTES = 8 << 20;

/**
 * Stream float tensors of a file into buffers the caller provides, through one reused chunk buffer: no per-tensor
 * byte array and no float32 copy of each tensor (fresh memory is what a load pays for most on some machines:
 * every new page faults once). `target(name, info)` is called for each tensor in file order and returns null to
 * skip it, or a function giving the tensor's destination (`numel` float32 values); that function is called
 * again for every chunk, after the read, so a destination on a heap that may grow in between is taken afresh.
 * `chunkBytes` (a multiple of 8) is the read size. Float dtypes only (F16, BF16, F32, F64); another dtype asked for is a `SafetensorsError`.
 * @example
 * const h = await readSafetensorsHeader(file);
 * const out = new Map<string, Float32Array>();
 * await readFloat32Into(file, h, (name, info) => { const a = new Float32Array(info.shape.reduce((x, y) => x * y, 1)); out.set(name, a); return () => a; });
 */
export async function readFloat32Into(
  file: string,
  header: SafetensorsHeader,
  target: (name: string, info: SafeTensorInfo) => (() => Float32Array) | null,
  chunkBytes = STREAM_CHUNK_BYTES,
): Promise<void> {
  assertLittleEndian(file);
  if (!Number.isInteger(chunkBytes) || chunkBytes < 8 || chunkBytes % 8)
    throw new RangeError(`readFloat32Into: chunkBytes must be a positive multiple of 8, got ${chunkBytes}`);
  await withFile(file, async (fh) => {
    let chunk: Uint8Array | undefined;
    for (const [name, info] of header.tensors) {
      const dest = target(name, info);
      if (!dest) continue;
      if (!FLOAT_DTYPES.has(info.dtype))
        throw new SafetensorsError(
          `${file}: tensor "${name}" is ${info.dtype}, not a float tensor`,
          file,
          name,
          "dtype",
        );
      const size = DTYPE_BYTES[info.dtype];
      const bytes = info.dataOffsets[1] - info.dataOffsets[0];
      chunk ??= new Uint8Array(chunkBytes); // a multiple of every dtype's size; pages touched only as used
      for (let at = 0; at < bytes; at += chunk.byteLength) {
        const n = Math.min(chunk.byteLength, bytes - at);
        const part = chunk.subarray(0, n);
        await readExactly(fh, part, header.dataStart + info.dataOffsets[0] + at, file);
        const out = dest();
        if (out.length * size !== bytes)
          throw new SafetensorsError(
            `${file}: tensor "${name}": destination holds ${out.length} values, the file ${bytes / size}`,
            file,
            name,
          );
        decodeFloatInto(info.dtype, part, out.subarray(at / size, (at + n) / size));
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------- writing

/** The header bytes and, per tensor, a lazy encoder (so a writer never holds all tensors' bytes at once). */
interface Planned {
  header: Uint8Array;
  parts: { name: string; bytes: () => Uint8Array; size: number }[];
}

function plan(
  tensors: Map<string, SafeTensor> | Record<string, SafeTensor>,
  metadata: Record<string, string> | undefined,
  opts: SerializeOptions,
): Planned {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const meta = { ...DEFAULT_METADATA, ...(metadata ?? {}) };
  for (const [k, v] of Object.entries(meta))
    if (typeof v !== "string")
      throw new SafetensorsError(
        `__metadata__["${k}"] must be a string, found ${typeof v}`,
        undefined,
        undefined,
        "__metadata__",
      );
  const fields = [
    `"__metadata__":{${Object.entries(meta)
      .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join(",")}}`,
  ];
  const parts: Planned["parts"] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new SafetensorsError(`"__metadata__" cannot be a tensor name`, undefined, name);
    if (seen.has(name)) throw new SafetensorsError(`tensor "${name}" appears twice`, undefined, name);
    seen.add(name);
    if (!t || typeof t !== "object" || !t.data || typeof (t.data as any).length !== "number")
      throw new SafetensorsError(`tensor "${name}": expected {dtype, shape, data}`, undefined, name);
    const outType: SafetensorsDType = FLOAT_DTYPES.has(t.dtype) && opts.dtype ? opts.dtype : t.dtype;
    const size = (DTYPE_BYTES as Record<string, number>)[outType];
    if (!size)
      throw new SafetensorsError(`tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)}`, undefined, name);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new SafetensorsError(
        `tensor "${name}": shape must be a list of non-negative integers, found ${JSON.stringify(t.shape)}`,
        undefined,
        name,
      );
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length)
      throw new SafetensorsError(
        `tensor "${name}": shape [${t.shape}] has ${numel} elements but data has ${t.data.length}`,
        undefined,
        name,
      );
    const bytes = numel * size;
    fields.push(
      `${JSON.stringify(name)}:{"dtype":"${outType}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${offset + bytes}]}`,
    );
    parts.push({
      name,
      size: bytes,
      bytes: () => encodeTensorBytes(name, outType, t.data as ArrayLike<number | bigint>),
    });
    offset += bytes;
  }
  const json = `{${fields.join(",")}}`;
  const jsonBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(jsonBytes.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + jsonBytes.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(jsonBytes, 8);
  return { header, parts };
}

/**
 * Serialize tensors to safetensors bytes: names sorted, header padded to 8 bytes, `__metadata__` defaulting
 * to `{"format": "pt"}` (what transformers expects).
 * @example
 * const bytes = serializeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } }, {}, { dtype: "F16" });
 */
export function serializeSafetensors(
  tensors: Map<string, SafeTensor> | Record<string, SafeTensor>,
  metadata?: Record<string, string>,
  opts: SerializeOptions = {},
): Uint8Array {
  assertLittleEndian("serializeSafetensors");
  const p = plan(tensors, metadata, opts);
  const out = new Uint8Array(p.header.byteLength + p.parts.reduce((s, x) => s + x.size, 0));
  out.set(p.header, 0);
  let at = p.header.byteLength;
  for (const part of p.parts) {
    out.set(part.bytes(), at);
    at += part.size;
  }
  return out;
}

/**
 * Write a safetensors file atomically: a temp file in the same folder, fsync, then rename over `file`.
 * @example
 * await writeSafetensorsFile("out/model.safetensors", model.stateDict(), { step: "100" }, { dtype: "F16" });
 */
export async function writeSafetensorsFile(
  file: string,
  tensors: Map<string, SafeTensor> | Record<string, SafeTensor>,
  metadata?: Record<string, string>,
  opts: SerializeOptions = {},
): Promise<void> {
  assertLittleEndian(file);
  let p: Planned;
  try {
    p = plan(tensors, metadata, opts);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${file}: ${e.message}`, file, e.tensor, e.field);
    throw e;
  }
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`,
  );
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(tmp, "w");
  } catch (e: any) {
    throw new SafetensorsError(
      `${file}: cannot write here (${e?.code ?? e?.message ?? e}; does the folder exist?)`,
      file,
    );
  }
  try {
    await fh.write(p.header);
    for (const part of p.parts) {
      const b = part.bytes();
      let done = 0;
      while (done < b.byteLength)
        done += (await fh.write(b, done, Math.min(b.byteLength - done, 1 << 30))).bytesWritten;
    }
    await fh.sync();
    await fh.close();
    await fs.promises.rename(tmp, file);
    await fs.promises
      .open(path.dirname(file), "r")
      .then((d) => d.sync().finally(() => d.close()))
      .catch(() => undefined); // best effort
  } catch (e: any) {
    await fh.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${file}: ${e.message}`, file, e.tensor, e.field);
    throw e;
  }
}

// ------------------------------------------------------------------------------------ checkpoint folders

/** The file name of a single-file checkpoint, and of a sharded checkpoint's index. */
export const SAFETENSORS_FILE = "model.safetensors";
export const SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";

async function statOrNull(p: string): Promise<fs.Stats | null> {
  return fs.promises.stat(p).catch(() => null);
}

/** A sharded checkpoint's index: shard file name → the tensor names `weight_map` assigns to it. */
async function readShardIndex(dir: string, indexPath: string): Promise<Map<string, string[]>> {
  let index: any;
  try {
    index = JSON.parse((await readRegularFile(indexPath, "the shard index")).toString("utf8"));
  } catch (e: any) {
    throw new SafetensorsError(
      e instanceof FileAccessError ? e.message : `${indexPath}: cannot read the shard index (${e?.message ?? e})`,
      indexPath,
      undefined,
      "index",
    );
  }
  const map = index?.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map))
    throw new SafetensorsError(
      `${indexPath}: "weight_map" must be an object {tensor name: shard file}, found ${describe(map)}`,
      indexPath,
      undefined,
      "weight_map",
    );
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== "string" || shard === "" || path.isAbsolute(shard) || shard.split(/[\\/]/).includes(".."))
      throw new SafetensorsError(
        `${indexPath}: weight_map["${name}"] must be a shard file name inside ${dir}, found ${describe(shard)}`,
        indexPath,
        name,
        "weight_map",
      );
    byShard.set(shard, [...(byShard.get(shard) ?? []), name]);
  }
  return byShard;
}

/** Read a sharded checkpoint through its index: every tensor of `weight_map`, from the shard it names. */
async function loadSharded(dir: string, indexPath: string): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const [shard, names] of await readShardIndex(dir, indexPath)) {
    const file = path.join(dir, shard);
    if (!(await statOrNull(file)))
      throw new SafetensorsError(
        `${file}: shard listed in ${indexPath} (for ${names.length} tensors, e.g. "${names[0]}") is missing`,
        file,
        names[0],
      );
    const { tensors } = await readSafetensorsFile(file);
    for (const name of names) {
      const t = tensors.get(name);
      if (!t)
        throw new SafetensorsError(
          `${file}: tensor "${name}" is listed in ${indexPath} for this shard but absent from it`,
          file,
          name,
        );
      out.set(name, t);
    }
  }
  return out;
}

/** One file of a checkpoint: its validated header and the tensors to take from it (a shard's share of the index). */
export interface CheckpointPart {
  file: string;
  header: SafetensorsHeader;
  names: Set<string>;
}

/**
 * Where a checkpoint's tensors are, from the headers alone (no tensor data read): the same inputs and errors as
 * `loadCheckpointTensors`, for loaders that stream the data into buffers of their own (`readFloat32Into`).
 * @example
 * for (const part of await checkpointParts("pythia-70m")) console.log(part.file, part.names.size);
 */
export async function checkpointParts(dirOrFile: string): Promise<CheckpointPart[]> {
  const whole = async (file: string): Promise<CheckpointPart> => {
    const header = await readSafetensorsHeader(file);
    return { file, header, names: new Set(header.tensors.keys()) };
  };
  const st = await statOrNull(dirOrFile);
  if (!st) throw new SafetensorsError(`${dirOrFile}: no such file or folder`, dirOrFile);
  if (st.isFile()) return [await whole(dirOrFile)];
  if (!st.isDirectory())
    throw new SafetensorsError(
      `${dirOrFile}: is a ${describeFileKind(st)}, expected a .safetensors file or a model folder`,
      dirOrFile,
    );
  const index = path.join(dirOrFile, SAFETENSORS_INDEX_FILE);
  if (await statOrNull(index)) {
    const parts: CheckpointPart[] = [];
    for (const [shard, names] of await readShardIndex(dirOrFile, index)) {
      const file = path.join(dirOrFile, shard);
      if (!(await statOrNull(file)))
        throw new SafetensorsError(
          `${file}: shard listed in ${index} (for ${names.length} tensors, e.g. "${names[0]}") is missing`,
          file,
          names[0],
        );
      const header = await readSafetensorsHeader(file);
      for (const name of names)
        if (!header.tensors.has(name))
          throw new SafetensorsError(
            `${file}: tensor "${name}" is listed in ${index} for this shard but absent from it`,
            file,
            name,
          );
      parts.push({ file, header, names: new Set(names) });
    }
    return parts;
  }
  const single = path.join(dirOrFile, SAFETENSORS_FILE);
  if (await statOrNull(single)) return [await whole(single)];
  throw await noCheckpointError(dirOrFile);
}

async function noCheckpointError(dirOrFile: string): Promise<SafetensorsError> {
  const found = (await fs.promises.readdir(dirOrFile)).filter((f) => f.endsWith(".safetensors"));
  return new SafetensorsError(
    `${dirOrFile}: no ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE} in this folder` +
      (found.length ? ` (found ${found.join(", ")}; pass one of them as a file path)` : " (and no .safetensors files)"),
    dirOrFile,
  );
}

/**
 * Load every tensor of a checkpoint: a `.safetensors` file, a folder with `model.safetensors`, or a folder
 * with `model.safetensors.index.json` (sharded; each tensor is read from the shard its `weight_map` names).
 * @example
 * const tensors = await loadCheckpointTensors("~/.cache/huggingface/hub/models--EleutherAI--pythia-70m/snapshots/<sha>");
 * tensors.get("gpt_neox.embed_in.weight")!.shape; // [50304, 512]
 */
export async function loadCheckpointTensors(dirOrFile: string): Promise<Map<string, SafeTensor>> {
  const st = await statOrNull(dirOrFile);
  if (!st) throw new SafetensorsError(`${dirOrFile}: no such file or folder`, dirOrFile);
  if (st.isFile()) return (await readSafetensorsFile(dirOrFile)).tensors;
  if (!st.isDirectory())
    throw new SafetensorsError(
      `${dirOrFile}: is a ${describeFileKind(st)}, expected a .safetensors file or a model folder`,
      dirOrFile,
    );
  const index = path.join(dirOrFile, SAFETENSORS_INDEX_FILE);
  if (await statOrNull(index)) return loadSharded(dirOrFile, index);
  const single = path.join(dirOrFile, SAFETENSORS_FILE);
  if (await statOrNull(single)) return (await readSafetensorsFile(single)).tensors;
  throw await noCheckpointError(dirOrFile);
}
