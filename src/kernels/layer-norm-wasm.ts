/**
 * LayerNorm's loops as a WebAssembly module (see layer-norm.ts for the op and wasm-module.ts for the emitter):
 * `layerNormForward` and `layerNormBackward` over whole rows, the same float64 operations in the same order as
 * layer-norm.ts's JavaScript loops (`layerNormForwardJs`, `layerNormBackwardJs`), so the same bits
 * (tests/kernels/layer-norm.test.ts).
 */
import { forBytes, op, type WasmFunction, wasmModuleBytes } from "./wasm-module";

const f32At = (...addends: number[]) => [
  ...op.localGet(addends[0]),
  ...addends.slice(1).flatMap((l) => [...op.localGet(l), ...op.i32Add]),
  ...op.f32Load,
  ...op.f64PromoteF32,
];
const addrOf = (...addends: number[]) => [
  ...op.localGet(addends[0]),
  ...addends.slice(1).flatMap((l) => [...op.localGet(l), ...op.i32Add]),
];
/** `for (j = 0; j < bound; j += 4) body` over byte offsets: one float at a time along a row. */
const eachFloat = (j: number, bound: number, body: number[]) => forBytes(j, op.i32Const(0), bound, 4, body);
/** `for (r = 0, o = 0; r < rows; r++, o += rowBytes) body`: one row at a time, `o` the row's byte offset. */
const eachRow = (r: number, rows: number, o: number, rowBytes: number, body: number[]) => [
  ...op.i32Const(0),
  ...op.localSet(o),
  ...forBytes(r, op.i32Const(0), rows, 1, [
    ...body,
    ...op.localGet(o),
    ...op.localGet(rowBytes),
    ...op.i32Add,
    ...op.localSet(o),
  ]),
];

/** `layerNormForward(x, w, b, y, xh, rs, rows, C, eps)`: `layerNormForwardJs` over rows [0, rows) at those addresses. */
function forwardFunction(): WasmFunction {
  const [x, w, b, y, xh, rs, rows, C, eps] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, j, rowBytes, o, s, mean, v, rstd, d, h] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const Cf = [...op.localGet(C), ...op.f64ConvertI32S];
  return {
    name: "layerNormForward",
    params: ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "f64"],
    locals: ["i32", "i32", "i32", "i32", "f64", "f64", "f64", "f64", "f64", "f64"],
    body: [
      ...op.localGet(C),
      ...op.i32Const(4),
      ...op.i32Mul,
      ...op.localSet(rowBytes),
      ...eachRow(r, rows, o, rowBytes, [
        // mean
        ...op.f64Const(0),
        ...op.localSet(s),
        ...eachFloat(j, rowBytes, [...op.localGet(s), ...f32At(x, o, j), ...op.f64Add, ...op.localSet(s)]),
        ...op.localGet(s),
        ...Cf,
        ...op.f64Div,
        ...op.localSet(mean),
        // biased variance, 1/σ
        ...op.f64Const(0),
        ...op.localSet(v),
        ...eachFloat(j, rowBytes, [
          ...f32At(x, o, j),
          ...op.localGet(mean),
          ...op.f64Sub,
          ...op.localTee(d),
          ...op.localGet(d),
          ...op.f64Mul,
          ...op.localGet(v),
          ...op.f64Add, // v + d² as d² + v: float addition commutes exactly
          ...op.localSet(v),
        ]),
        ...op.f64Const(1),
        ...op.localGet(v),
        ...Cf,
        ...op.f64Div,
        ...op.localGet(eps),
        ...op.f64Add,
        ...op.f64Sqrt,
        ...op.f64Div,
        ...op.localSet(rstd),
        ...op.localGet(rs), // rs[r] = 1/σ
        ...op.localGet(r),
        ...op.i32Const(4),
        ...op.i32Mul,
        ...op.i32Add,
        ...op.localGet(rstd),
        ...op.f32DemoteF64,
        ...op.f32Store,
        // x̂ and y
        ...eachFloat(j, rowBytes, [
          ...f32At(x, o, j),
          ...op.localGet(mean),
          ...op.f64Sub,
          ...op.localGet(rstd),
          ...op.f64Mul,
          ...op.localSet(h),
          ...addrOf(xh, o, j),
          ...op.localGet(h),
          ...op.f32DemoteF64,
          ...op.f32Store,
          ...addrOf(y, o, j),
          ...op.localGet(h),
          ...f32At(w, j),
          ...op.f64Mul,
          ...f32At(b, j),
          ...op.f64Add,
          ...op.f32DemoteF64,
          ...op.f32Store,
        ]),
      ]),
    ],
  };
}

/** `layerNormBackward(dy, xh, rs, w, dx, dyxh, rows, C)`: `layerNormBackwardJs` over rows [0, rows). */
function backwardFunction(): WasmFunction {
  const [dy, xh, rs, w, dx, dyxh, rows, C] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [r, j, rowBytes, o, sd, sdx, g, meanD, meanDX, rstd] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const Cf = [...op.localGet(C), ...op.f64ConvertI32S];
  const dxhat = [...f32At(dy, o, j), ...f32At(w, j), ...op.f64Mul]; // dy·w
  return {
    name: "layerNormBackward",
    params: ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"],
    locals: ["i32", "i32", "i32", "i32", "f64", "f64", "f64", "f64", "f64", "f64"],
    body: [
      ...op.localGet(C),
      ...op.i32Const(4),
      ...op.i32Mul,
      ...op.localSet(rowBytes),
      ...eachRow(r, rows, o, rowBytes, [
        ...op.f64Const(0),
        ...op.localSet(sd),
        ...op.f64Const(0),
        ...op.localSet(sdx),
        ...eachFloat(j, rowBytes, [
          ...dxhat,
          ...op.localTee(g),
          ...op.localGet(sd),
          ...op.f64Add,
          ...op.localSet(sd),
          ...op.localGet(g),
          ...f32At(xh, o, j),
          ...op.f64Mul,
          ...op.localGet(sdx),
          ...op.f64Add,
          ...op.localSet(sdx),
        ]),
        ...op.localGet(sd),
        ...Cf,
        ...op.f64Div,
        ...op.localSet(meanD),
        ...op.localGet(sdx),
        ...Cf,
        ...op.f64Div,
        ...op.localSet(meanDX),
        ...op.localGet(rs),
        ...op.localGet(r),
        ...op.i32Const(4),
        ...op.i32Mul,
        ...op.i32Add,
        ...op.f32Load,
        ...op.f64PromoteF32,
        ...op.localSet(rstd),
        ...eachFloat(j, rowBytes, [
          ...addrOf(dx, o, j), // dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))·(1/σ)
          ...dxhat,
          ...op.localGet(meanD),
          ...op.f64Sub,
          ...f32At(xh, o, j),
          ...op.localGet(meanDX),
          ...op.f64Mul,
          ...op.f64Sub,
          ...op.localGet(rstd),
          ...op.f64Mul,
          ...op.f32DemoteF64,
          ...op.f32Store,
          ...addrOf(dyxh, o, j), // dy·x̂
          ...f32At(dy, o, j),
          ...f32At(xh, o, j),
          ...op.f64Mul,
          ...op.f32DemoteF64,
          ...op.f32Store,
        ]),
      ]),
    ],
  };
}

/** The compiled module (undefined if this engine cannot compile it: then the tfjs ops run). */
export const layerNormModule: WebAssembly.Module | undefined = (() => {
  try {
    return new WebAssembly.Module(wasmModuleBytes([forwardFunction(), backwardFunction()]));
  } catch {
    return undefined;
  }
})();
