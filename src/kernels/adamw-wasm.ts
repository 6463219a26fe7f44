/**
 * AdamW's update loop as a WebAssembly module (see adamw.ts for the op and wasm-module.ts for the emitter):
 * `adamw(p, m, v, g, next, n, β1, β2, ε, stepSize, 1/√(1 − β2^t), decay, gradScale)` one value at a time and
 * `adamw2` two float64 lanes per step (SIMD, n even). Both run the float64 operations of adamw.ts's JavaScript loop
 * (`adamwSlice`) in the same order, with m and v rounded to float32 where the loop stores them before using them,
 * so every variant gives the same bits (tests/train/adamw.test.ts).
 *
 * Why: the JavaScript loop (a square root and a division per value in float64) ran ≈ 150 ms per [50304, 512]
 * matrix on two threads, several times what its memory traffic (7 float32 per value) costs.
 */
import { op, type ValType, type WasmFunction, wasmModuleBytes } from "./wasm-module";

/** One lane width's loads, stores and arithmetic (scalar f64, or f64x2 over two floats). */
interface Lanes {
  load: number[];
  store: number[];
  /** A value stored as float32 and read back: float64 → float32 → float64. */
  round: number[];
  /** The f64 on the stack in every lane. */
  splat: number[];
  add: number[];
  sub: number[];
  mul: number[];
  div: number[];
  sqrt: number[];
  /** Bytes per step, and the loop bound in bytes from the element count on the stack (whole steps only). */
  step: number;
  endBytes: number[];
  type: ValType;
}

const SCALAR: Lanes = {
  load: [...op.f32Load, ...op.f64PromoteF32],
  store: [...op.f32DemoteF64, ...op.f32Store],
  round: [...op.f32DemoteF64, ...op.f64PromoteF32],
  splat: [],
  add: op.f64Add,
  sub: op.f64Sub,
  mul: op.f64Mul,
  div: op.f64Div,
  sqrt: op.f64Sqrt,
  step: 4,
  endBytes: [...op.i32Const(4), ...op.i32Mul],
  type: "f64",
};

const PAIRS: Lanes = {
  load: [...op.v128Load64Zero, ...op.f64x2PromoteLowF32x4],
  store: [...op.f32x4DemoteF64x2Zero, ...op.v128Store64Lane0],
  round: [...op.f32x4DemoteF64x2Zero, ...op.f64x2PromoteLowF32x4],
  splat: op.f64x2Splat,
  add: op.f64x2Add,
  sub: op.f64x2Sub,
  mul: op.f64x2Mul,
  div: op.f64x2Div,
  sqrt: op.f64x2Sqrt,
  step: 8,
  endBytes: [...op.i32Const(4), ...op.i32Mul, ...op.i32Const(-8), ...op.i32And], // pairs only: the caller does an odd last one
  type: "v128",
};

function updateFunction(L: Lanes, name: string): WasmFunction {
  const [p, m, v, g, nx, n] = [0, 1, 2, 3, 4, 5];
  const [beta1, beta2, eps, stepSize, invSqrtBc2, decay, gradScale] = [6, 7, 8, 9, 10, 11, 12];
  const [i, end] = [13, 14];
  // lanes of the constants, then per-step values
  const [B1, B2, EPS, STEP, INV, DEC, SCALE, C1, C2, gi, mi, vi] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26];
  const at = (base: number) => [...op.localGet(base), ...op.localGet(i), ...op.i32Add];
  const get = (l: number) => op.localGet(l);
  const splatInto = (from: number[], to: number) => [...from, ...L.splat, ...op.localSet(to)];
  return {
    name,
    params: ["i32", "i32", "i32", "i32", "i32", "i32", "f64", "f64", "f64", "f64", "f64", "f64", "f64"],
    locals: ["i32", "i32", ...Array<ValType>(12).fill(L.type)],
    body: [
      ...splatInto(get(beta1), B1),
      ...splatInto(get(beta2), B2),
      ...splatInto(get(eps), EPS),
      ...splatInto(get(stepSize), STEP),
      ...splatInto(get(invSqrtBc2), INV),
      ...splatInto(get(decay), DEC),
      ...splatInto(get(gradScale), SCALE),
      ...splatInto([...op.f64Const(1), ...get(beta1), ...op.f64Sub], C1), // 1 − β1
      ...splatInto([...op.f64Const(1), ...get(beta2), ...op.f64Sub], C2), // 1 − β2
      ...get(n),
      ...L.endBytes,
      ...op.localSet(end),
      ...op.block,
      ...op.loop,
      ...get(i),
      ...get(end),
      ...op.i32GeU,
      ...op.brIf(1),
      // gi = g·gradScale
      ...at(g),
      ...L.load,
      ...get(SCALE),
      ...L.mul,
      ...op.localSet(gi),
      // m ← β1·m + (1 − β1)·gi, stored as float32; mi is what was stored
      ...at(m),
      ...get(B1),
      ...at(m),
      ...L.load,
      ...L.mul,
      ...get(C1),
      ...get(gi),
      ...L.mul,
      ...L.add,
      ...L.round,
      ...op.localTee(mi),
      ...L.store,
      // v ← β2·v + ((1 − β2)·gi)·gi, stored as float32; vi is what was stored
      ...at(v),
      ...get(B2),
      ...at(v),
      ...L.load,
      ...L.mul,
      ...get(C2),
      ...get(gi),
      ...L.mul,
      ...get(gi),
      ...L.mul,
      ...L.add,
      ...L.round,
      ...op.localTee(vi),
      ...L.store,
      // next = p·decay − (stepSize·mi)/(√vi·invSqrtBc2 + ε)
      ...at(nx),
      ...at(p),
      ...L.load,
      ...get(DEC),
      ...L.mul,
      ...get(STEP),
      ...get(mi),
      ...L.mul,
      ...get(vi),
      ...L.sqrt,
      ...get(INV),
      ...L.mul,
      ...get(EPS),
      ...L.add,
      ...L.div,
      ...L.sub,
      ...L.store,
      ...get(i),
      ...op.i32Const(L.step),
      ...op.i32Add,
      ...op.localSet(i),
      ...op.br(0),
      ...op.end,
      ...op.end,
    ],
  };
}

/** The compiled module (undefined if this engine cannot compile it: then the JavaScript loop runs). */
export const adamwModule: WebAssembly.Module | undefined = (() => {
  try {
    return new WebAssembly.Module(wasmModuleBytes([updateFunction(SCALAR, "adamw"), updateFunction(PAIRS, "adamw2")]));
  } catch {
    return undefined;
  }
})();
