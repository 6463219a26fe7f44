/**
 * The exact GELU `x·Φ(x)`, `Φ(x) = (1 + erf(x/√2))/2`, as one custom op that saves only x (its gradient is
 * `Φ(x) + x·φ(x)`, φ the normal density).
 *
 * Why a kernel: on the wasm backend the formula is ≈ 5 element-wise ops forward and ≈ 12 backward over the MLP's
 * widest tensors (`[B·T, 4C]`), each its own pass, Erf and Exp scalar and single-threaded (≈ 0.2 s of a pythia-70m
 * step at 8 × 128). Here forward and backward are each ONE pass over the wasm heap: a small WebAssembly module
 * (wasm-module.ts) that imports the backend's shared memory, run on slices by the heap workers (heap-workers.ts),
 * and registered as the wasm kernels `GeluExact` / `GeluExactGrad` so that `tf.profile` names them. The same loop
 * written in JavaScript ran ≈ 3× slower than this module (no faster than tfjs's own ops). Used when the heap is a
 * SharedArrayBuffer (the threaded build); otherwise, and off wasm, the tfjs formula runs.
 *
 * The arithmetic is float64 with one float32 rounding at the store: erf from Abramowitz & Stegun 7.1.26
 * (`erfc(z) ≈ t·(a1 + a2 t + … + a5 t⁴)·e^{−z²}`, t = 1/(1 + p z), |error| ≤ 1.5e-7 for z ≥ 0), and `e^{−z²}`
 * (shared with φ in the backward pass) as `2^−k · e^r`, |r| ≤ ln2/2, by a degree-7 Taylor polynomial (relative
 * error < 1e-8). tests/kernels/gelu.test.ts checks both against float64 references over a dense range.
 */
import * as tf from "@tensorflow/tfjs";
import { customOp } from "./custom-op";
import { type HeapKernelExports, registerHeapKernel, runOnHeap } from "./heap-workers";
import { backendInternals } from "./tfjs-internals";
import { heapView, wasmMemory } from "./wasm-heap";
import { op, type ValType, type WasmFunction, wasmModuleBytes } from "./wasm-module";

/** Computes z = |v|/√2, e = e^{−z²}, t and q = erfc(z)/2 = Φ(−|v|) into locals from the local holding v. */
function phiParts(L: {
  v: number;
  z: number;
  zz: number;
  kf: number;
  r: number;
  e: number;
  t: number;
  q: number;
}): number[] {
  const horner = (local: number, coeffs: number[]) => [
    ...op.f64Const(coeffs[0]),
    ...coeffs.slice(1).flatMap((c) => [...op.localGet(local), ...op.f64Mul, ...op.f64Const(c), ...op.f64Add]),
  ];
  return [
    ...op.localGet(L.v),
    ...op.f64Abs,
    ...op.f64Const(Math.SQRT1_2),
    ...op.f64Mul,
    ...op.localTee(L.z), // z = |v|/√2
    ...op.localGet(L.z),
    ...op.f64Mul,
    ...op.f64Const(708),
    ...op.f64Min,
    ...op.localSet(L.zz), // z², kept where 2^−k is normal
    ...op.localGet(L.zz),
    ...op.f64Const(Math.LOG2E),
    ...op.f64Mul,
    ...op.f64Nearest,
    ...op.localSet(L.kf), // k = round(z²/ln2)
    ...op.localGet(L.kf),
    ...op.f64Const(Math.LN2),
    ...op.f64Mul,
    ...op.localGet(L.zz),
    ...op.f64Sub,
    ...op.localSet(L.r), // r = k·ln2 − z²
    // e = 2^−k · (1 + r + r²/2 + … + r⁷/5040), 2^−k built from its exponent bits
    ...op.i64Const(1023),
    ...op.localGet(L.kf),
    ...op.i64TruncSatF64S,
    ...op.i64Sub,
    ...op.i64Const(52),
    ...op.i64Shl,
    ...op.f64ReinterpretI64,
    ...horner(L.r, [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1]),
    ...op.f64Mul,
    ...op.localSet(L.e),
    // t = 1 / (1 + p·z)
    ...op.f64Const(1),
    ...op.f64Const(1),
    ...op.f64Const(0.3275911),
    ...op.localGet(L.z),
    ...op.f64Mul,
    ...op.f64Add,
    ...op.f64Div,
    ...op.localSet(L.t),
    // q = e·t·(a1 + a2 t + a3 t² + a4 t³ + a5 t⁴) / 2
    ...horner(L.t, [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592]),
    ...op.localGet(L.t),
    ...op.f64Mul,
    ...op.localGet(L.e),
    ...op.f64Mul,
    ...op.f64Const(0.5),
    ...op.f64Mul,
    ...op.localSet(L.q),
  ];
}

/** Φ(v) = v ≥ 0 ? 1 − q : q (NaN stays NaN through q). */
function phiOf(v: number, q: number): number[] {
  return [
    ...op.f64Const(1),
    ...op.localGet(q),
    ...op.f64Sub,
    ...op.localGet(q),
    ...op.localGet(v),
    ...op.f64Const(0),
    ...op.f64Ge,
    ...op.select,
  ];
}

/** A loop over element byte offsets i = 0, 4, …, 4n − 4 (local `i`, bound in local `end`; n in local `n`). */
function loop(n: number, i: number, end: number, body: number[]): number[] {
  return [
    ...op.localGet(n),
    ...op.i32Const(4),
    ...op.i32Mul,
    ...op.localSet(end),
    ...op.block,
    ...op.loop,
    ...op.localGet(i),
    ...op.localGet(end),
    ...op.i32GeU,
    ...op.brIf(1),
    ...body,
    ...op.localGet(i),
    ...op.i32Const(4),
    ...op.i32Add,
    ...op.localSet(i),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

const F64_LOCALS: ValType[] = ["f64", "f64", "f64", "f64", "f64", "f64", "f64", "f64"];

/** `geluForward(x, y, n)`: y[j] = x[j]·Φ(x[j]) for n floats at byte addresses x, y. */
function forwardFunction(): WasmFunction {
  const [x, y, n, i, end] = [0, 1, 2, 3, 4];
  const L = { v: 5, z: 6, zz: 7, kf: 8, r: 9, e: 10, t: 11, q: 12 };
  return {
    name: "geluForward",
    params: ["i32", "i32", "i32"],
    locals: ["i32", "i32", ...F64_LOCALS],
    body: loop(n, i, end, [
      ...op.localGet(x),
      ...op.localGet(i),
      ...op.i32Add,
      ...op.f32Load,
      ...op.f64PromoteF32,
      ...op.localSet(L.v),
      ...phiParts(L),
      ...op.localGet(y),
      ...op.localGet(i),
      ...op.i32Add, // the store's address
      ...op.localGet(L.v),
      ...phiOf(L.v, L.q),
      ...op.f64Mul,
      ...op.f32DemoteF64,
      ...op.f32Store, // y = v·Φ(v)
    ]),
  };
}

/** `geluBackward(x, dy, dx, n)`: dx[j] = dy[j]·(Φ(x[j]) + x[j]·φ(x[j])). */
function backwardFunction(): WasmFunction {
  const [x, dy, dx, n, i, end] = [0, 1, 2, 3, 4, 5];
  const L = { v: 6, z: 7, zz: 8, kf: 9, r: 10, e: 11, t: 12, q: 13 };
  return {
    name: "geluBackward",
    params: ["i32", "i32", "i32", "i32"],
    locals: ["i32", "i32", ...F64_LOCALS],
    body: loop(n, i, end, [
      ...op.localGet(x),
      ...op.localGet(i),
      ...op.i32Add,
      ...op.f32Load,
      ...op.f64PromoteF32,
      ...op.localSet(L.v),
      ...phiParts(L),
      ...op.localGet(dx),
      ...op.localGet(i),
      ...op.i32Add, // the store's address
      ...op.localGet(dy),
      ...op.localGet(i),
      ...op.i32Add,
      ...op.f32Load,
      ...op.f64PromoteF32, // dy
      ...phiOf(L.v, L.q),
      ...op.localGet(L.v),
      ...op.localGet(L.e),
      ...op.f64Mul,
      ...op.f64Const(1 / Math.sqrt(2 * Math.PI)),
      ...op.f64Mul, // x·φ(x)
      ...op.f64Add,
      ...op.f64Mul,
      ...op.f32DemoteF64,
      ...op.f32Store,
    ]),
  };
}

/** The compiled module (undefined if this engine cannot compile it: then the tfjs formula runs). */
const geluModule: WebAssembly.Module | undefined = (() => {
  try {
    return new WebAssembly.Module(wasmModuleBytes([forwardFunction(), backwardFunction()]));
  } catch {
    return undefined;
  }
})();

/** Loop body for the heap workers: the module's forward over [start, end) of x at `o[0]`, y at `o[1]`. */
export function geluForwardSlice(
  _heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  _a: readonly number[],
  wasm?: HeapKernelExports,
): void {
  wasm!.geluForward(o[0] + 4 * start, o[1] + 4 * start, end - start);
}
registerHeapKernel(geluForwardSlice, geluModule);

/** Loop body: the module's backward over [start, end) of x at `o[0]`, dy at `o[1]`, dx at `o[2]`. */
export function geluBackwardSlice(
  _heap: ArrayBufferLike,
  o: readonly number[],
  start: number,
  end: number,
  _a: readonly number[],
  wasm?: HeapKernelExports,
): void {
  wasm!.geluBackward(o[0] + 4 * start, o[1] + 4 * start, o[2] + 4 * start, end - start);
}
registerHeapKernel(geluBackwardSlice, geluModule);

const FORWARD = "GeluExact";
const BACKWARD = "GeluExactGrad";

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown };

/** The wasm kernel `GeluExact`: `{x}` → y. */
function forwardKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs;
  const out = backendInternals(backend).makeOutput!(x.shape, "float32"); // before the views: allocation may grow the heap
  const xv = heapView(x)!,
    yv = heapView(out)!;
  runOnHeap(geluForwardSlice, [xv.byteOffset, yv.byteOffset], xv.length, []);
  return out;
}

/** The wasm kernel `GeluExactGrad`: `{x, dy}` → dx. */
function backwardKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x, dy } = inputs;
  const out = backendInternals(backend).makeOutput!(x.shape, "float32");
  const xv = heapView(x)!,
    dyv = heapView(dy)!,
    dxv = heapView(out)!;
  runOnHeap(geluBackwardSlice, [xv.byteOffset, dyv.byteOffset, dxv.byteOffset], xv.length, []);
  return out;
}

for (const [kernelName, kernelFunc] of [
  [FORWARD, forwardKernel],
  [BACKWARD, backwardKernel],
] as const) {
  if (!tf.getKernel(kernelName, "wasm"))
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/** Whether the fused kernels run for these tensors: wasm with a shared heap, float32, data on the heap. */
function fusedFor(...ts: tf.Tensor[]): boolean {
  const memory = wasmMemory();
  if (!geluModule || !memory || !(memory.buffer instanceof SharedArrayBuffer) || !backendInternals().makeOutput)
    return false;
  return ts.every((t) => t.dtype === "float32" && t.size > 0 && heapView(t) !== null);
}

/** The tfjs formula: the same op on every backend (the fallback, and the reference in tests). */
export const geluPlain = customOp<tf.Tensor>(([x], save) => {
  save([x]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)), // x/2·(1 + erf(x/√2))
    gradFunc: (dy, [sx]) => [plainGrad(dy, sx)],
  };
});

/** dy·(Φ(x) + x·φ(x)) by tfjs ops. */
function plainGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5); // Φ(x)
  const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI)); // φ(x)
  return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
}

const geluFused = customOp<tf.Tensor>(([x], save) => {
  save([x]);
  return {
    value: tf.engine().runKernel(FORWARD, { x }) as tf.Tensor,
    gradFunc: (dy, [sx]) => [
      fusedFor(sx, dy) ? (tf.engine().runKernel(BACKWARD, { x: sx, dy }) as tf.Tensor) : plainGrad(dy, sx),
    ],
  };
});

/**
 * The exact GELU `x·Φ(x)` (Hugging Face's `gelu`), differentiable, saving only x for the backward pass: one fused
 * pass each way on the wasm heap where it can, the tfjs formula elsewhere.
 *
 * @example
 * gelu(tf.tensor1d([-1, 0, 1])).print(); // [-0.1587, 0, 0.8413]
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return fusedFor(x) ? geluFused(x) : geluPlain(x);
}
