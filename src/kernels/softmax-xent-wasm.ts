/**
 * The softmax cross-entropy of a chunk of logit rows as a WebAssembly module (see softmax-xent.ts for the kernel and
 * wasm-module.ts for the emitter). `xentLoss(z, labels, stats, rows, V)`, per row of z `[rows, V]` (float32 at byte
 * address z, labels int32): m = max z, s = Σ exp(z − m) (exp in four float32 lanes, summed in float64), and the row's (s, m − z[label]) as two float64 at `stats` (32 bytes a row: the caller adds log s, wasm has
 * no logarithm; the other 16 bytes hold the row's last V mod 4 values, padded with −∞, so that they run through the
 * same four-lane code). `xentGrad` does the same and writes `softmax − onehot(label)` over z: exp(z − m) stored in the
 * sum's pass, then scaled by 1/s, then 1 subtracted at the label. `expF32x4(x, y, n)` (n a multiple of 4) runs the
 * exp alone over float32 arrays, y = e^x for x ≤ 0: what the tests measure.
 *
 * e^x, x = z − m ≤ 0 (the subtraction in float32, as XNNPACK's softmax does): `2^k·e^r`, k = round(x/ln2) by adding
 * 1.5·2^23 + 127 (whose low bits are then k + 127: shifted into the exponent field they are 2^k), r = x − k·ln2 in
 * two steps (ln2's leading 16 bits, exact in the product, then the rest: Cody and Waite), e^r = 1 + r·P(r) with P the
 * degree-6 Taylor polynomial's, and e^x = 2^k + (r·2^k)·P(r). Relative error below 3e-7 (about 2.5 float32 ulps)
 * where e^x is a normal float32; x < −126·ln2 ≈ −87.34 (e^x < 1.2e-38, −∞ included) gives 0, NaN stays NaN. The
 * maximum is `f32x4.pmax` (one instruction; it passes over a NaN, but the NaN then goes through its exp into s, so
 * a NaN logit still makes its row's loss and gradient NaN).
 *
 * Why four float32 lanes and pmax (one [256, 50304] chunk on one thread, loaded 2-core machine): with two float64
 * lanes (as gelu-wasm.ts; a degree-7 polynomial, relative error 7e-9) the loss pass took ≈ 47 ms, more than the
 * tfjs ops it replaces (≈ 25–40 ms); four float32 lanes ≈ 28 ms, the maximum alone ≈ 15 ms of it: V8 makes the
 * NaN-propagating `f32x4.max` a chain of several instructions that each step waits on; with pmax ≈ 16.5 ms in all.
 */
import { forBytes, op, type ValType, type WasmFunction, wasmModuleBytes } from "./wasm-module";

const f32 = Math.fround;
/** 1.5·2^23 + 127: x/ln2 + MAGIC rounds x/ln2 to an integer k (to nearest) and holds k + 127 in its low bits. */
const MAGIC = 12583039;
const LOG2E = f32(Math.LOG2E);
/** ln2's float32 value with its last 8 bits cleared (so k·LN2_HI is exact for |k| < 2^8), and the remainder. */
const LN2_HI = 0.693145751953125;
const LN2_LO = f32(Math.LN2 - LN2_HI);
/** Below this x, e^x is under the smallest normal float32 (2^−126): the result is 0. */
const CUTOFF = f32(-126 * Math.LN2);
/** P(r) = 1 + r/2 + r²/6 + r³/24 + r⁴/120 + r⁵/720, highest first: e^r = 1 + r·P(r). */
const POLY = [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1].map(f32);

/** Locals after the parameters, by type, numbered in order of declaration. */
function localsAfter(nParams: number) {
  const types: ValType[] = [];
  return {
    types,
    add: (t: ValType) => {
      types.push(t);
      return nParams + types.length - 1;
    },
  };
}
type Locals = ReturnType<typeof localsAfter>;

/** float32 constants splatted into v128 locals once, at the function's entry (`init`), each declared on first use. */
function constPool(l: Locals) {
  const at = new Map<number, number>();
  return {
    get: (v: number) => {
      let i = at.get(v);
      if (i === undefined) at.set(v, (i = l.add("v128")));
      return op.localGet(i);
    },
    init: () =>
      [...at].flatMap(([v, i]) => [...op.f64Const(v), ...op.f32DemoteF64, ...op.f32x4Splat, ...op.localSet(i)]),
  };
}
type ConstPool = ReturnType<typeof constPool>;

/** The v128 locals the exp uses. */
interface ExpLocals {
  x: number;
  n: number;
  s: number;
  r: number;
}

function expLocals(l: Locals): ExpLocals {
  return { x: l.add("v128"), n: l.add("v128"), s: l.add("v128"), r: l.add("v128") };
}

/** e^x in four float32 lanes, on the stack, from the local x ≤ 0 (see the header). */
function exp4(e: ExpLocals, K: ConstPool): number[] {
  const get = op.localGet;
  return [
    ...get(e.x), // n = x/ln2 + MAGIC; 2^k = its bits << 23; k = n − MAGIC
    ...K.get(LOG2E),
    ...op.f32x4Mul,
    ...K.get(MAGIC),
    ...op.f32x4Add,
    ...op.localTee(e.n),
    ...op.i32Const(23),
    ...op.i32x4Shl,
    ...op.localSet(e.s),
    ...get(e.n),
    ...K.get(MAGIC),
    ...op.f32x4Sub,
    ...op.localSet(e.n),
    ...get(e.x), // r = x − k·ln2_hi − k·ln2_lo
    ...get(e.n),
    ...K.get(LN2_HI),
    ...op.f32x4Mul,
    ...op.f32x4Sub,
    ...get(e.n),
    ...K.get(LN2_LO),
    ...op.f32x4Mul,
    ...op.f32x4Sub,
    ...op.localTee(e.r),
    ...get(e.s), // 2^k + (r·2^k)·P(r)
    ...op.f32x4Mul,
    ...K.get(POLY[0]),
    ...POLY.slice(1).flatMap((c) => [...get(e.r), ...op.f32x4Mul, ...K.get(c), ...op.f32x4Add]),
    ...op.f32x4Mul,
    ...get(e.s),
    ...op.f32x4Add,
    ...get(e.x), // 0 where x < CUTOFF (a NaN stays NaN)
    ...K.get(CUTOFF),
    ...op.f32x4Lt,
    ...op.v128AndNot,
  ];
}

/** The high two float32 lanes moved to the low two (for `f64x2.promote_low`). */
const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

/** `xentLoss` / `xentGrad` (with `grads`): the rows of the header. */
function rowsFunction(name: string, grads: boolean): WasmFunction {
  const [z, labels, stats, rows, V] = [0, 1, 2, 3, 4];
  const l = localsAfter(5);
  const [r, row, j, rowBytes, quadEnd, lab, tail] = Array.from({ length: 7 }, () => l.add("i32"));
  const [m, zl, s] = Array.from({ length: 3 }, () => l.add("f64"));
  const [M4, S0, S1, INV4, E] = Array.from({ length: 5 }, () => l.add("v128"));
  const e = expLocals(l);
  const K = constPool(l);
  const get = op.localGet;
  const at = (a: number, b: number) => [...get(a), ...get(b), ...op.i32Add];
  const lane = (i: number) => [...get(M4), ...op.f32x4ExtractLane(i), ...op.f64PromoteF32];
  /** j over the row's last V mod 4 values: `body(rowAddress, tailAddress)` each. */
  const overTail = (body: (rowAt: number[], tailAt: number[]) => number[]) =>
    forBytes(
      j,
      get(quadEnd),
      rowBytes,
      4,
      body(at(row, j), [...get(tail), ...get(j), ...get(quadEnd), ...op.i32Sub, ...op.i32Add]),
    );
  /** The sum's step over the four values at `addr` (grads: e^x stored back there). */
  const expStep = (addr: number[]) => [
    ...addr,
    ...op.v128Load,
    ...get(M4),
    ...op.f32x4Sub,
    ...op.localSet(e.x),
    ...exp4(e, K),
    ...op.localTee(E),
    ...op.f64x2PromoteLowF32x4,
    ...get(S0),
    ...op.f64x2Add,
    ...op.localSet(S0),
    ...get(E),
    ...get(E),
    ...op.i8x16Shuffle(HIGH_TO_LOW),
    ...op.f64x2PromoteLowF32x4,
    ...get(S1),
    ...op.f64x2Add,
    ...op.localSet(S1),
    ...(grads ? [...addr, ...get(E), ...op.v128Store] : []),
  ];
  const scaleStep = (addr: number[]) => [
    ...addr,
    ...addr,
    ...op.v128Load,
    ...get(INV4),
    ...op.f32x4Mul,
    ...op.v128Store,
  ];
  const body = [
    ...get(V),
    ...op.i32Const(4),
    ...op.i32Mul,
    ...op.localTee(rowBytes),
    ...op.i32Const(-16),
    ...op.i32And,
    ...op.localSet(quadEnd),
    ...get(z),
    ...op.localSet(row),
    ...op.block,
    ...op.loop,
    ...get(r),
    ...get(rows),
    ...op.i32GeU,
    ...op.brIf(1),
    // the tail quad: −∞, then the row's last V mod 4 values
    ...get(stats),
    ...op.i32Const(16),
    ...op.i32Add,
    ...op.localTee(tail),
    ...K.get(Number.NEGATIVE_INFINITY),
    ...op.v128Store,
    ...overTail((rowAt, tailAt) => [...tailAt, ...rowAt, ...op.f32Load, ...op.f32Store]),
    // the label's byte offset in the row, and its logit (read before the row is overwritten)
    ...get(labels),
    ...op.i32Load,
    ...op.i32Const(4),
    ...op.i32Mul,
    ...op.localTee(lab),
    ...get(row),
    ...op.i32Add,
    ...op.f32Load,
    ...op.f64PromoteF32,
    ...op.localSet(zl),
    // m = max of the row (four lanes, then across them)
    ...get(tail),
    ...op.v128Load,
    ...op.localSet(M4),
    ...forBytes(j, op.i32Const(0), quadEnd, 16, [
      ...get(M4),
      ...at(row, j),
      ...op.v128Load,
      ...op.f32x4Pmax,
      ...op.localSet(M4),
    ]),
    ...lane(0),
    ...lane(1),
    ...op.f64Max,
    ...lane(2),
    ...lane(3),
    ...op.f64Max,
    ...op.f64Max,
    ...op.localTee(m),
    ...op.f32DemoteF64,
    ...op.f32x4Splat,
    ...op.localSet(M4), // from here: m in every lane
    // s = Σ e^{z − m} in two float64 pairs
    ...op.v128Const(0, 0),
    ...op.localTee(S0),
    ...op.localSet(S1),
    ...forBytes(j, op.i32Const(0), quadEnd, 16, expStep(at(row, j))),
    ...expStep(get(tail)),
    ...get(S0),
    ...get(S1),
    ...op.f64x2Add,
    ...op.localTee(S0),
    ...op.f64x2ExtractLane(0),
    ...get(S0),
    ...op.f64x2ExtractLane(1),
    ...op.f64Add,
    ...op.localSet(s),
    ...(grads
      ? [
          // p = e^{z − m}·(1/s) (the tail scaled in its quad, then copied back), then p[label] −= 1
          ...op.f64Const(1),
          ...get(s),
          ...op.f64Div,
          ...op.f32DemoteF64,
          ...op.f32x4Splat,
          ...op.localSet(INV4),
          ...forBytes(j, op.i32Const(0), quadEnd, 16, scaleStep(at(row, j))),
          ...scaleStep(get(tail)),
          ...overTail((rowAt, tailAt) => [...rowAt, ...tailAt, ...op.f32Load, ...op.f32Store]),
          ...at(row, lab),
          ...at(row, lab),
          ...op.f32Load,
          ...op.f64PromoteF32,
          ...op.f64Const(1),
          ...op.f64Sub,
          ...op.f32DemoteF64,
          ...op.f32Store,
        ]
      : []),
    // stats: s, m − z[label]
    ...get(stats),
    ...get(s),
    ...op.f64Store,
    ...get(stats),
    ...op.i32Const(8),
    ...op.i32Add,
    ...get(m),
    ...get(zl),
    ...op.f64Sub,
    ...op.f64Store,
    // next row
    ...at(row, rowBytes),
    ...op.localSet(row),
    ...get(labels),
    ...op.i32Const(4),
    ...op.i32Add,
    ...op.localSet(labels),
    ...get(stats),
    ...op.i32Const(32),
    ...op.i32Add,
    ...op.localSet(stats),
    ...get(r),
    ...op.i32Const(1),
    ...op.i32Add,
    ...op.localSet(r),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  return { name, params: ["i32", "i32", "i32", "i32", "i32"], locals: l.types, body: [...K.init(), ...body] };
}

/** `expF32x4(x, y, n)`: y[i] = e^{x[i]} (x ≤ 0) over float32 arrays at byte addresses x, y; n a multiple of 4. */
function expFunction(): WasmFunction {
  const [x, y, n] = [0, 1, 2];
  const l = localsAfter(3);
  const [j, end] = [l.add("i32"), l.add("i32")];
  const e = expLocals(l);
  const K = constPool(l);
  const body = [
    ...op.localGet(n),
    ...op.i32Const(4),
    ...op.i32Mul,
    ...op.localSet(end),
    ...forBytes(j, op.i32Const(0), end, 16, [
      ...op.localGet(y),
      ...op.localGet(j),
      ...op.i32Add,
      ...op.localGet(x),
      ...op.localGet(j),
      ...op.i32Add,
      ...op.v128Load,
      ...op.localSet(e.x),
      ...exp4(e, K),
      ...op.v128Store,
    ]),
  ];
  return { name: "expF32x4", params: ["i32", "i32", "i32"], locals: l.types, body: [...K.init(), ...body] };
}

/** The compiled module (undefined if this engine cannot compile it: then the tfjs ops run). */
export const softmaxXentModule: WebAssembly.Module | undefined = (() => {
  try {
    return new WebAssembly.Module(
      wasmModuleBytes([rowsFunction("xentLoss", false), rowsFunction("xentGrad", true), expFunction()]),
    );
  } catch {
    return undefined;
  }
})();
