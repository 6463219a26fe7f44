/**
 * Half-precision codecs: IEEE 754 binary16 (F16) and bfloat16 (BF16) to and from float32.
 *
 * Encoding rounds to nearest, ties to even (what PyTorch's `.half()` / `.bfloat16()` do), keeps the sign of
 * zero, produces subnormals where F16 has them, saturates overflow to ±Infinity and keeps NaN a NaN.
 * F16 decoding uses a 65,536-entry lookup table (256 KiB, built on first use), so a 70M-element tensor decodes
 * in a few hundred milliseconds; BF16 decoding is a 16-bit shift. The end of the file turns a tensor's bytes
 * into a typed array and back for every safetensors dtype.
 */
import { SafetensorsError, type SafetensorsDType } from "./safetensors-header";

let F16_TABLE: Float32Array | undefined;

/** The float32 value of every F16 bit pattern (built once, lazily). */
function f16Table(): Float32Array {
  if (F16_TABLE) return F16_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0)
      t[h] = sign * mant * 2 ** -24; // zero and subnormals
    else if (exp === 0x1f) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return (F16_TABLE = t);
}

/**
 * Decode F16 bit patterns into float32 values.
 * @example
 * decodeF16(new Uint16Array([0x3c00, 0xc000])); // Float32Array [1, -2]
 */
export function decodeF16(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  const t = f16Table();
  const n = bits.length;
  for (let i = 0; i < n; i++) out[i] = t[bits[i]];
  return out;
}

/**
 * Decode BF16 bit patterns (the top half of a float32) into float32 values.
 * @example
 * decodeBF16(new Uint16Array([0x3f80])); // Float32Array [1]
 */
export function decodeBF16(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  const o32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const n = bits.length;
  for (let i = 0; i < n; i++) o32[i] = bits[i] << 16;
  return out;
}

/** The F16 bit pattern nearest to a float32 given by its bits (round to nearest, ties to even). */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00; // NaN stays NaN (quiet), ±Inf
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00; // too large: ±Infinity
  if (e <= 0) {
    // F16 subnormal (or zero): value = half × 2^-24
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a carry may roll into the exponent (up to Inf): correct
  return sign | half;
}

/** The BF16 bit pattern nearest to a float32 given by its bits (round to nearest, ties to even). */
export function f32BitsToBF16(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff; // quiet NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Encode float32 values as F16 bit patterns.
 * @example
 * encodeF16(new Float32Array([1, 65520])); // Uint16Array [0x3c00, 0x7c00] (65520 rounds up to Infinity)
 */
export function encodeF16(values: Float32Array, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const n = values.length;
  for (let i = 0; i < n; i++) out[i] = f32BitsToF16(bits[i]);
  return out;
}

/**
 * Encode float32 values as BF16 bit patterns.
 * @example
 * encodeBF16(new Float32Array([1])); // Uint16Array [0x3f80]
 */
export function encodeBF16(values: Float32Array, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const n = values.length;
  for (let i = 0; i < n; i++) out[i] = f32BitsToBF16(bits[i]);
  return out;
}

// ------------------------------------------------------------------ bytes ↔ arrays per safetensors dtype

/** Tensor data as held in memory: floats as float32, integers in their own typed array. */
export type SafeTensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array
  | BigUint64Array;

/** The float dtypes; these decode into Float32Array. */
export const FLOAT_DTYPES: ReadonlySet<SafetensorsDType> = new Set<SafetensorsDType>(["F64", "F32", "F16", "BF16"]);

/**
 * Decode one tensor's little-endian bytes. The result may be a view over `raw` (so `raw` must not be shared).
 * @example
 * decodeTensorBytes("F16", new Uint8Array([0x00, 0x3c])); // Float32Array [1]
 */
export function decodeTensorBytes(dtype: SafetensorsDType, raw: Uint8Array): SafeTensorData {
  const own = (k: number) => (raw.byteOffset % k === 0 ? raw : raw.slice()); // copy once if misaligned
  const n = (k: number) => raw.byteLength / k;
  switch (dtype) {
    case "F32": {
      const b = own(4);
      return new Float32Array(b.buffer, b.byteOffset, n(4));
    }
    case "F16": {
      const b = own(2);
      return decodeF16(new Uint16Array(b.buffer, b.byteOffset, n(2)));
    }
    case "BF16": {
      const b = own(2);
      return decodeBF16(new Uint16Array(b.buffer, b.byteOffset, n(2)));
    }
    case "F64": {
      const b = own(8);
      return Float32Array.from(new Float64Array(b.buffer, b.byteOffset, n(8)));
    }
    case "I64": {
      const b = own(8);
      return new BigInt64Array(b.buffer, b.byteOffset, n(8));
    }
    case "U64": {
      const b = own(8);
      return new BigUint64Array(b.buffer, b.byteOffset, n(8));
    }
    case "I32": {
      const b = own(4);
      return new Int32Array(b.buffer, b.byteOffset, n(4));
    }
    case "U32": {
      const b = own(4);
      return new Uint32Array(b.buffer, b.byteOffset, n(4));
    }
    case "I16": {
      const b = own(2);
      return new Int16Array(b.buffer, b.byteOffset, n(2));
    }
    case "U16": {
      const b = own(2);
      return new Uint16Array(b.buffer, b.byteOffset, n(2));
    }
    case "I8":
      return new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    case "U8":
    case "BOOL":
      return raw;
  }
}

/**
 * Decode float tensor bytes (F16, BF16, F32, F64) into `out`, which must hold exactly their values; `raw` must start
 * at a multiple of the dtype's size. For streaming a tensor straight into its final buffer (e.g. the wasm heap) in
 * chunks, without a float32 copy of its own: the same values as `decodeTensorBytes`.
 * @example
 * decodeFloatInto("F16", new Uint8Array([0x00, 0x3c]), new Float32Array(1)); // Float32Array [1]
 */
export function decodeFloatInto(dtype: SafetensorsDType, raw: Uint8Array, out: Float32Array): void {
  const size = dtype === "F64" ? 8 : dtype === "F32" ? 4 : 2;
  if (raw.byteLength !== out.length * size)
    throw new RangeError(`decodeFloatInto: ${raw.byteLength} bytes of ${dtype} for ${out.length} values`);
  if (raw.byteOffset % size)
    throw new RangeError(`decodeFloatInto: ${dtype} bytes must start at a multiple of ${size}`);
  switch (dtype) {
    case "F16":
      decodeF16(new Uint16Array(raw.buffer, raw.byteOffset, out.length), out);
      return;
    case "BF16":
      decodeBF16(new Uint16Array(raw.buffer, raw.byteOffset, out.length), out);
      return;
    case "F32":
      out.set(new Float32Array(raw.buffer, raw.byteOffset, out.length));
      return;
    case "F64":
      out.set(new Float64Array(raw.buffer, raw.byteOffset, out.length));
      return;
    default:
      throw new SafetensorsError(`decodeFloatInto: ${dtype} is not a float dtype`);
  }
}

const INT_ARRAYS = {
  I64: BigInt64Array,
  U64: BigUint64Array,
  I32: Int32Array,
  U32: Uint32Array,
  I16: Int16Array,
  U16: Uint16Array,
  I8: Int8Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
} as const;
const INT_RANGE: Record<keyof typeof INT_ARRAYS, [number, number]> = {
  I32: [-(2 ** 31), 2 ** 31 - 1],
  U32: [0, 2 ** 32 - 1],
  I16: [-32768, 32767],
  U16: [0, 65535],
  I8: [-128, 127],
  U8: [0, 255],
  BOOL: [0, 1],
  I64: [-(2 ** 63), 2 ** 63],
  U64: [0, 2 ** 64], // 64-bit: upper bound exclusive
};

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Encode values as `dtype` bytes (little-endian). Floats go through float32 (F16/BF16 round to nearest even);
 * integer values that must be converted are checked to be integers in range, so nothing is silently wrapped.
 * Throws a `SafetensorsError` naming `name` otherwise.
 * @example
 * encodeTensorBytes("w", "BF16", new Float32Array([1])); // Uint8Array [0x80, 0x3f]
 */
export function encodeTensorBytes(name: string, dtype: SafetensorsDType, data: ArrayLike<number | bigint>): Uint8Array {
  const at = `tensor "${name}"`;
  if (FLOAT_DTYPES.has(dtype)) {
    if (data.length > 0 && typeof data[0] === "bigint")
      throw new SafetensorsError(`${at}: ${dtype} data must be numbers, found bigint`, undefined, name, "data");
    const nums = data as ArrayLike<number>;
    if (dtype === "F64") return bytesOf(nums instanceof Float64Array ? nums : Float64Array.from(nums));
    const f32 = nums instanceof Float32Array ? nums : Float32Array.from(nums);
    if (dtype === "F32") return bytesOf(f32);
    return bytesOf(dtype === "F16" ? encodeF16(f32) : encodeBF16(f32));
  }
  const key = dtype as keyof typeof INT_ARRAYS;
  const Ctor = INT_ARRAYS[key];
  if (!Ctor) throw new SafetensorsError(`${at}: unknown dtype ${JSON.stringify(dtype)}`, undefined, name, "dtype");
  if (data instanceof Ctor && !(dtype === "BOOL" && (data as Uint8Array).some((v) => v > 1))) return bytesOf(data);
  const [lo, hi] = INT_RANGE[key];
  const big = dtype === "I64" || dtype === "U64";
  const out = new Ctor(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const ok = typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));
    if (ok && big) {
      const b = BigInt(v);
      if (b >= BigInt(lo) && b < BigInt(hi)) {
        out[i] = b as never;
        continue;
      }
    } else if (ok && Number(v) >= lo && Number(v) <= hi) {
      out[i] = Number(v) as never;
      continue;
    }
    throw new SafetensorsError(
      `${at}: value ${String(v)} at index ${i} does not fit ${dtype}`,
      undefined,
      name,
      "data",
    );
  }
  return bytesOf(out);
}
