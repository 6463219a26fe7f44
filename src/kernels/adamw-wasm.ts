/**
 * AdamW's update loop as a WebAssembly module (see adamw.ts for the op and wasm-module.ts for the emitter):
 * `adamw(p, m, v, g, next, n, β1, β2, ε, stepSize, 1/√(1 − β2^t), decay, gradScale)` one value at a time and
 * `adamw4` four float32 lanes per step (SIMD, n a multiple of 4). Float32 arithmetic throughout, as PyTorch's own
 * AdamW on float32 parameters: every product, sum, quotient and square root rounded to float32, in the order of
 * adamw.ts's JavaScript loop (`adamwSlice`, which rounds with `Math.fround`), so every variant gives the same bits
 * (tests/train/adamw.test.ts). The constants are rounded to float32 once.
 *
 * Why: the update is one pass over 7 float32 values per parameter (p, m, v, g read; m, v, next written). The
 * JavaScript loop in float64 ran ≈ 150 ms per [50304, 512] matrix on two threads; two float64 lanes, with their
 * square root and division, still ≈ 45 ms; four float32 lanes are limited by the memory traffic.
 */
import { forBytes, op, type ValType, type WasmFunction, wasmModuleBytes } from "./wasm-module";

/** One lane width's loads, stores and arithmetic (scalar f32, or f32x4). */
interface Lanes {
  load: number[];
  store: number[];
  /** The f32 on the stack in every lane. */
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
  load: op.f32Load,
  store: op.f32Store,
  splat: [],
  add: op.f32Add,
  sub: op.f32Sub,
  mul: op.f32Mul,
  div: op.f32Div,
  sqrt: op.f32Sqrt,
  step: 4,
  endBytes: [...op.i32Const(4), ...op.i32Mul],
  type: "f32",
};

const QUADS: Lanes = {
  load: op.v128Load,
  store: op.v128Store,
  splat: op.f32x4Splat,
  add: op.f32x4Add,
  sub: op.f32x4Sub,
  mul: op.f32x4Mul,
  div: op.f32x4Div,
  sqrt: op.f32x4Sqrt,
  step: 16,
  endBytes: [...op.i32Const(4), ...op.i32Mul, ...op.i32Const(-16), ...op.i32And], // quads only: the caller does the rest
  type: "v128",
};

function updateFunction(L: Lanes, name: string): WasmFunction {
  const [p, m, v, g, nx, n] = [0, 1, 2, 3, 4, 5];
  const [beta1, beta2, eps, stepSize, invSqrtBc2, decay, gradScale] = [6, 7, 8, 9, 10, 11, 12];
  const [i, end] = [13, 14];
  // the constants in every lane, then per-step values
  const [B1, B2, EPS, STEP, INV, DEC, SCALE, C1, C2, gi, mi, vi] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26];
  const at = (base: number) => [...op.localGet(base), ...op.localGet(i), ...op.i32Add];
  const get = (l: number) => op.localGet(l);
  /** A float64 on the stack, rounded to float32, in every lane of local `to`. */
  const constant = (from: number[], to: number) => [...from, ...op.f32DemoteF64, ...L.splat, ...op.localSet(to)];
  return {
    name,
    params: ["i32", "i32", "i32", "i32", "i32", "i32", "f64", "f64", "f64", "f64", "f64", "f64", "f64"],
    locals: ["i32", "i32", ...Array<ValType>(12).fill(L.type)],
    body: [
      ...constant(get(beta1), B1),
      ...constant(get(beta2), B2),
      ...constant(get(eps), EPS),
      ...constant(get(stepSize), STEP),
      ...constant(get(invSqrtBc2), INV),
      ...constant(get(decay), DEC),
      ...constant(get(gradScale), SCALE),
      ...constant([...op.f64Const(1), ...get(beta1), ...op.f64Sub], C1), // 1 − β1
      ...constant([...op.f64Const(1), ...get(beta2), ...op.f64Sub], C2), // 1 − β2
      ...get(n),
      ...L.endBytes,
      ...op.localSet(end),
      ...forBytes(i, op.i32Const(0), end, L.step, [
        // gi = g·gradScale
        ...at(g),
        ...L.load,
        ...get(SCALE),
        ...L.mul,
        ...op.localSet(gi),
        // m ← β1·m + (1 − β1)·gi
        ...at(m),
        ...get(B1),
        ...at(m),
        ...L.load,
        ...L.mul,
        ...get(C1),
        ...get(gi),
        ...L.mul,
        ...L.add,
        ...op.localTee(mi),
        ...L.store,
        // v ← β2·v + ((1 − β2)·gi)·gi
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
        ...op.localTee(vi),
        ...L.store,
        // next = p·decay − (stepSize·m)/(√v·invSqrtBc2 + ε)
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
      ]),
    ],
  };
}

/** The compiled module (undefined if this engine cannot compile it: then the JavaScript loop runs). */
export const adamwModule: WebAssembly.Module | undefined = (() => {
  try {
    return new WebAssembly.Module(wasmModuleBytes([updateFunction(SCALAR, "adamw"), updateFunction(QUADS, "adamw4")]));
  } catch {
    return undefined;
  }
})();
