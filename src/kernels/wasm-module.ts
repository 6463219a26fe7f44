/**
 * A tiny WebAssembly emitter for the element-wise kernels that run on the wasm backend's heap (gelu.ts): a module
 * that imports the heap as `env.memory` (shared, as the threaded build's) and exports functions written as
 * readable instruction lists. Why not JavaScript loops: V8 runs such a loop (float64, an exp and a division per
 * element) ≈ 3× slower than the same arithmetic compiled to wasm; why not a toolchain: tunebook ships no build
 * step, and a few dozen instructions per kernel do not need one.
 *
 * Only what the kernels use is here: i32, f32 and f64 arithmetic, loads and stores, locals, block/loop/branch, and
 * the 128-bit SIMD forms of some of them for two float64 lanes (`f64x2`) and four float32 lanes (`f32x4`).
 * The binary format: https://webassembly.github.io/spec/core/binary/.
 */

/** A function's parameters and locals are all of these types. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";
const TYPE_CODE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** One exported function: parameters, extra locals, and its body as bytes (see `op`). */
export interface WasmFunction {
  name: string;
  params: ValType[];
  locals: ValType[];
  body: number[];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  const bytes = [...Buffer.from(s, "utf8")];
  return [...uleb(bytes.length), ...bytes];
}

/** Instructions (each returns its bytes; spread them into a body). */
export const op = {
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  localTee: (i: number) => [0x22, ...uleb(i)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  f64Const: (v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return [0x44, ...b];
  },
  /** f32 load/store at the address on the stack (natural alignment, offset 0). */
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32GeU: [0x4f],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  f64Sqrt: [0x9f],
  f64ConvertI32S: [0xb7],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
  /** select: (a, b, cond) → cond ? a : b. */
  select: [0x1b],
  i32And: [0x71],
  i32Sub: [0x6b],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  end: [0x0b],
  // SIMD (0xfd prefix): float64 pairs (two float32 values widened, added) and a lane-wise select
  v128Const: (lo: number, hi: number) => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setFloat64(0, lo, true);
    dv.setFloat64(8, hi, true);
    return [...simd(0x0c), ...b];
  },
  f64x2PromoteLowF32x4: simd(0x5f),
  f64x2Add: simd(0xf0),
  /** v128.bitselect: (a, b, mask) → a where mask bits are set, else b. */
  v128Bitselect: simd(0x52),
  // softmax-xent-wasm.ts: four float32 lanes (a row's maximum, exp), float64 sums and stores, an i32 load
  f64Max: [0xa5],
  i32Load: [0x28, 2, 0],
  f64Store: [0x39, 3, 0],
  /** v128.load / v128.store of 16 bytes at the address on the stack (any alignment). */
  v128Load: simd(0x00, 0, 0),
  v128Store: simd(0x0b, 0, 0),
  f32x4Splat: simd(0x13),
  f32x4ExtractLane: (lane: number) => [...simd(0x1f), lane],
  f64x2ExtractLane: (lane: number) => [...simd(0x21), lane],
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  /** f32x4.pmax: (a, b) → a < b ? b : a, lane-wise (one maxps; a NaN in b is passed over). */
  f32x4Pmax: simd(0xeb),
  f32x4Lt: simd(0x43),
  i32x4Shl: simd(0xab),
  /** v128.andnot: (a, b) → a & ~b. */
  v128AndNot: simd(0x4f),
  /** i8x16.shuffle of two vectors by 16 byte indices (0–15 the first, 16–31 the second). */
  i8x16Shuffle: (lanes: number[]) => [...simd(0x0d), ...lanes],
  // adamw-wasm.ts: float32 arithmetic, scalar and four lanes
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Sqrt: [0x91],
  f32x4Div: simd(0xe7),
  f32x4Sqrt: simd(0xe3),
  // gelu-wasm.ts: its float32 loops, scalar and four lanes
  f32Const: (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return [0x43, ...b];
  },
  f32Abs: [0x8b],
  f32Min: [0x96],
  f32Nearest: [0x90],
  f32Ge: [0x60],
  f32Le: [0x5f],
  i32Shl: [0x74],
  f32ReinterpretI32: [0xbe],
  /** i32.trunc_sat_f32_s: saturating (no trap; NaN gives 0). */
  i32TruncSatF32S: [0xfc, 0x00],
  /** All four f32 lanes set to v. */
  v128ConstF32x4: (v: number) => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < 4; i++) dv.setFloat32(4 * i, v, true);
    return [...simd(0x0c), ...b];
  },
  /** All four i32 lanes set to v. */
  v128ConstI32x4: (v: number) => {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < 4; i++) dv.setInt32(4 * i, v, true);
    return [...simd(0x0c), ...b];
  },
  f32x4Abs: simd(0xe0),
  f32x4Min: simd(0xe8),
  f32x4Nearest: simd(0x6a),
  f32x4Ge: simd(0x46),
  f32x4Le: simd(0x45),
  i32x4TruncSatF32x4S: simd(0xf8),
  i32x4Sub: simd(0xb1),
};

/** A SIMD instruction: the 0xfd prefix, its opcode as LEB128, then immediates. */
function simd(code: number, ...imm: number[]): number[] {
  return [0xfd, ...uleb(code), ...imm.flatMap((v) => uleb(v))];
}

/**
 * `for (j = from; j < bound; j += step) body`: the kernels' loop over byte offsets, `j` and `bound` i32 locals,
 * `from` the instructions that push the start.
 *
 * @example
 * forBytes(i, op.i32Const(0), end, 16, body); // four floats per step
 */
export function forBytes(j: number, from: number[], bound: number, step: number, body: number[]): number[] {
  return [
    ...from,
    ...op.localSet(j),
    ...op.block,
    ...op.loop,
    ...op.localGet(j),
    ...op.localGet(bound),
    ...op.i32GeU,
    ...op.brIf(1),
    ...body,
    ...op.localGet(j),
    ...op.i32Const(step),
    ...op.i32Add,
    ...op.localSet(j),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/**
 * The bytes of a module importing `env.memory` (shared, up to 4 GiB) and exporting `fns`.
 *
 * @example
 * const bytes = wasmModuleBytes([{ name: "nop", params: [], locals: [], body: [] }]);
 */
export function wasmModuleBytes(fns: WasmFunction[]): ArrayBuffer {
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [TYPE_CODE[p]])), 0x00]); // (params) → ()
  const imports = vec([[...name("env"), ...name("memory"), 0x02, 0x03, ...uleb(1), ...uleb(65536)]]); // shared, min 1, max 65536
  const funcs = vec(fns.map((_, i) => uleb(i)));
  // not named `exports`: in the CommonJS build that name is the module's own exports object (tsc rewrites `op` to
  // `exports.op`, which a local `exports` would shadow)
  const exportSection = vec(fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const codes = vec(
    fns.map((f) => {
      const locals = vec(f.locals.map((t) => [...uleb(1), TYPE_CODE[t]]));
      const body = [...locals, ...f.body, ...op.end];
      return [...uleb(body.length), ...body];
    }),
  );
  // an ArrayBuffer (not a typed array): `WebAssembly.Module` takes it under every TypeScript version tslab and the
  // build use (their Uint8Array types differ)
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exportSection),
    ...section(10, codes),
  ]).buffer as ArrayBuffer;
}
