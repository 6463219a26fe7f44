/**
 * The exact GELU's loops as a WebAssembly module (see gelu.ts for the op and wasm-module.ts for the emitter):
 * `geluForward(x, y, n)` / `geluBackward(x, dy, dx, n)` one value at a time, `geluForward4` / `geluBackward4` four
 * float32 lanes per step (SIMD) for n a multiple of 4; both run the same float32 operations in the same order, so
 * their results are the same bits (tests/kernels/gelu.test.ts).
 *
 * Per value: z = |x|/√2; `e^{−z²}` as `2^−k·e^r` (k = round(z²/ln2), |r| ≤ ln2/2, `e^r` by its degree-7 Taylor
 * polynomial, `2^−k` from its exponent bits); `erfc(z)/2 = Φ(−|x|)` by Abramowitz & Stegun 7.1.26; Φ(x) by the sign.
 */
import { forBytes, op, type ValType, type WasmFunction, wasmModuleBytes } from "./wasm-module";

/** The arithmetic of one lane width: scalar f32, or SIMD f32x4 (four elements per step, the same operations). */
interface Arith {
  c: (v: number) => number[];
  abs: number[];
  add: number[];
  sub: number[];
  mul: number[];
  div: number[];
  min: number[];
  nearest: number[];
  /** 2^−k from the local `kf` (a float holding an integer in [0, 126]): the bit pattern (127 − k) << 23. */
  pow2neg: (kf: number) => number[];
  /** (a, b) on the stack → v ≥ 0 ? a : b, v a local (NaN: b). */
  selectNonNegative: (v: number) => number[];
  /** a on the stack → v ≤ limit ? a : 0, v a local (NaN: 0). */
  zeroAbove: (v: number, limit: number) => number[];
  /** The address on the stack → x[j] (or x[j..j+3]). */
  load: number[];
  /** (address, value) on the stack → stored. */
  store: number[];
  /** The loop's bound in bytes from the element count on the stack (whole steps only). */
  endBytes: number[];
  step: number;
  type: ValType;
}

/**
 * z² is capped here, where 2^−k is still a normal float32 (k ≤ 126; e^{−87} ≈ 1.6e-38); beyond it (|x| > 13.2, and
 * NaN) `e^{−z²}` is set to 0, as the float32 result rounds to anyway.
 */
const MAX_ZZ = 87;

const SCALAR: Arith = {
  c: (v) => op.f32Const(v),
  abs: op.f32Abs,
  add: op.f32Add,
  sub: op.f32Sub,
  mul: op.f32Mul,
  div: op.f32Div,
  min: op.f32Min,
  nearest: op.f32Nearest,
  pow2neg: (kf) => [
    ...op.i32Const(127),
    ...op.localGet(kf),
    ...op.i32TruncSatF32S,
    ...op.i32Sub,
    ...op.i32Const(23),
    ...op.i32Shl,
    ...op.f32ReinterpretI32,
  ],
  selectNonNegative: (v) => [...op.localGet(v), ...op.f32Const(0), ...op.f32Ge, ...op.select],
  zeroAbove: (v, limit) => [...op.f32Const(0), ...op.localGet(v), ...op.f32Const(limit), ...op.f32Le, ...op.select],
  load: op.f32Load,
  store: op.f32Store,
  endBytes: [...op.i32Const(4), ...op.i32Mul],
  step: 4,
  type: "f32",
};

const SIMD: Arith = {
  c: (v) => op.v128ConstF32x4(v),
  abs: op.f32x4Abs,
  add: op.f32x4Add,
  sub: op.f32x4Sub,
  mul: op.f32x4Mul,
  div: op.f32x4Div,
  min: op.f32x4Min,
  nearest: op.f32x4Nearest,
  pow2neg: (kf) => [
    ...op.v128ConstI32x4(127),
    ...op.localGet(kf),
    ...op.i32x4TruncSatF32x4S,
    ...op.i32x4Sub,
    ...op.i32Const(23),
    ...op.i32x4Shl,
  ],
  selectNonNegative: (v) => [...op.localGet(v), ...op.v128ConstF32x4(0), ...op.f32x4Ge, ...op.v128Bitselect],
  zeroAbove: (v, limit) => [
    ...op.v128ConstF32x4(0),
    ...op.localGet(v),
    ...op.v128ConstF32x4(limit),
    ...op.f32x4Le,
    ...op.v128Bitselect,
  ],
  load: op.v128Load,
  store: op.v128Store,
  endBytes: [...op.i32Const(4), ...op.i32Mul, ...op.i32Const(-16), ...op.i32And], // quads only: the caller does the last 1–3
  step: 16,
  type: "v128",
};

/** Locals of the shared part (after the parameters and the two i32 loop locals). */
interface PhiLocals {
  v: number;
  z: number;
  zz: number;
  kf: number;
  r: number;
  e: number;
  t: number;
  q: number;
}

/** Computes z = |v|/√2, e = e^{−z²}, t and q = erfc(z)/2 = Φ(−|v|) into locals from the local holding v. */
function phiParts(A: Arith, L: PhiLocals): number[] {
  const horner = (local: number, coeffs: number[]) => [
    ...A.c(coeffs[0]),
    ...coeffs.slice(1).flatMap((c) => [...op.localGet(local), ...A.mul, ...A.c(c), ...A.add]),
  ];
  return [
    // z = |v|/√2
    ...op.localGet(L.v),
    ...A.abs,
    ...A.c(Math.SQRT1_2),
    ...A.mul,
    ...op.localTee(L.z),
    // z², capped where 2^−k is still a normal float32
    ...op.localGet(L.z),
    ...A.mul,
    ...A.c(MAX_ZZ),
    ...A.min,
    ...op.localSet(L.zz),
    // k = round(z²/ln2), r = k·ln2 − z² (so −z² = −k·ln2 + r, |r| ≤ ln2/2)
    ...op.localGet(L.zz),
    ...A.c(Math.LOG2E),
    ...A.mul,
    ...A.nearest,
    ...op.localTee(L.kf),
    ...A.c(Math.LN2),
    ...A.mul,
    ...op.localGet(L.zz),
    ...A.sub,
    ...op.localSet(L.r),
    // e = 2^−k · (1 + r + r²/2 + … + r⁷/5040), 0 past the cap
    ...A.pow2neg(L.kf),
    ...horner(L.r, [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1]),
    ...A.mul,
    ...A.zeroAbove(L.z, Math.sqrt(MAX_ZZ)),
    ...op.localSet(L.e),
    // t = 1 / (1 + p·z)
    ...A.c(1),
    ...A.c(1),
    ...A.c(0.3275911),
    ...op.localGet(L.z),
    ...A.mul,
    ...A.add,
    ...A.div,
    ...op.localSet(L.t),
    // q = e·t·(a1 + a2 t + a3 t² + a4 t³ + a5 t⁴) / 2
    ...horner(L.t, [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592]),
    ...op.localGet(L.t),
    ...A.mul,
    ...op.localGet(L.e),
    ...A.mul,
    ...A.c(0.5),
    ...A.mul,
    ...op.localSet(L.q),
  ];
}

/** Φ(v) = v ≥ 0 ? 1 − q : q (NaN stays NaN through q). */
function phiOf(A: Arith, v: number, q: number): number[] {
  return [...A.c(1), ...op.localGet(q), ...A.sub, ...op.localGet(q), ...A.selectNonNegative(v)];
}

/** A loop over byte offsets i = 0, step, … below the bound (local `end`) from the count in local `n`. */
function loop(A: Arith, n: number, i: number, end: number, body: number[]): number[] {
  return [...op.localGet(n), ...A.endBytes, ...op.localSet(end), ...forBytes(i, op.i32Const(0), end, A.step, body)];
}

/** `geluForward(x, y, n)` (scalar) / `geluForward4` (quads; n a multiple of 4): y[j] = x[j]·Φ(x[j]) at byte addresses x, y. */
function forwardFunction(A: Arith, name: string): WasmFunction {
  const [x, y, n, i, end] = [0, 1, 2, 3, 4];
  const L = { v: 5, z: 6, zz: 7, kf: 8, r: 9, e: 10, t: 11, q: 12 };
  return {
    name,
    params: ["i32", "i32", "i32"],
    locals: ["i32", "i32", ...Array<ValType>(8).fill(A.type)],
    body: loop(A, n, i, end, [
      ...op.localGet(x),
      ...op.localGet(i),
      ...op.i32Add,
      ...A.load,
      ...op.localSet(L.v),
      ...phiParts(A, L),
      ...op.localGet(y), // the store's address
      ...op.localGet(i),
      ...op.i32Add,
      ...op.localGet(L.v), // y = v·Φ(v)
      ...phiOf(A, L.v, L.q),
      ...A.mul,
      ...A.store,
    ]),
  };
}

/** `geluBackward(x, dy, dx, n)` / `geluBackward4` (quads): dx[j] = dy[j]·(Φ(x[j]) + x[j]·φ(x[j])). */
function backwardFunction(A: Arith, name: string): WasmFunction {
  const [x, dy, dx, n, i, end] = [0, 1, 2, 3, 4, 5];
  const L = { v: 6, z: 7, zz: 8, kf: 9, r: 10, e: 11, t: 12, q: 13 };
  return {
    name,
    params: ["i32", "i32", "i32", "i32"],
    locals: ["i32", "i32", ...Array<ValType>(8).fill(A.type)],
    body: loop(A, n, i, end, [
      ...op.localGet(x),
      ...op.localGet(i),
      ...op.i32Add,
      ...A.load,
      ...op.localSet(L.v),
      ...phiParts(A, L),
      ...op.localGet(dx), // the store's address
      ...op.localGet(i),
      ...op.i32Add,
      ...op.localGet(dy), // dy
      ...op.localGet(i),
      ...op.i32Add,
      ...A.load,
      ...phiOf(A, L.v, L.q), // Φ(x) + x·φ(x), φ = e^{−x²/2}/√(2π) = e/√(2π)
      ...op.localGet(L.v),
      ...op.localGet(L.e),
      ...A.mul,
      ...A.c(1 / Math.sqrt(2 * Math.PI)),
      ...A.mul,
      ...A.add,
      ...A.mul,
      ...A.store,
    ]),
  };
}

/** The compiled module (undefined if this engine cannot compile it: then the tfjs formula runs). */
export const geluModule: WebAssembly.Module | undefined = (() => {
  try {
    return new WebAssembly.Module(
      wasmModuleBytes([
        forwardFunction(SCALAR, "geluForward"),
        forwardFunction(SIMD, "geluForward4"),
        backwardFunction(SCALAR, "geluBackward"),
        backwardFunction(SIMD, "geluBackward4"),
      ]),
    );
  } catch {
    return undefined;
  }
})();
