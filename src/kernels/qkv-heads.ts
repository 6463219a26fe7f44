/**
 * q, k and v per head, `[B, H, T, D]` each, from the fused `query_key_value` output viewed as `[B, T, H, 3D]`
 * (GPT-NeoX interleaves them per head: `[q | k | v]` in each head's 3D values).
 *
 * Why a kernel: through tfjs ops this is a `SplitV` on the last axis and three `Transpose`s forward, a `Concat` and
 * three `Transpose`s backward — strided copies, one element at a time on one thread (SplitV alone was 0.4–0.7 s of
 * a pythia-70m step at 8 × 128 on a loaded machine). Each output row of D values is one contiguous run of the
 * input, so on the wasm backend the kernel `QkvHeads` (three outputs) is 3·B·T·H `copyWithin`s of D floats on the
 * heap, and its gradient `QkvHeadsGrad` the same copies back. Elsewhere the tfjs ops run.
 *
 * `QkvHeadsRotary` also applies the rotary position embedding to q and k while they are copied (and its gradient
 * the inverse rotation to dq and dk): the rotary part of a head is a few values per row, and through tfjs ops it
 * was a `[B·H·T, D]·[D, D]` product, two Multiplys and an Add per tensor each way (≈ 70 ms of a pythia-70m step
 * at 8 × 128). Each value is rounded to float32 after every product and sum, as PyTorch computes
 * `q·cos + rotate_half(q)·sin`.
 */
import * as tf from "@tensorflow/tfjs";
import { rotate } from "./rotary";
import { backendInternals } from "./tfjs-internals";
import { heapView, onWasmHeap, registerWasmKernels, wasmMemory, type WasmKernelArgs } from "./wasm-heap";

const FORWARD = "QkvHeads";
const BACKWARD = "QkvHeadsGrad";
const ROTARY_FORWARD = "QkvHeadsRotary";
const ROTARY_BACKWARD = "QkvHeadsRotaryGrad";

/**
 * Copy between `[B, T, H, 3D]` (at float index `packed`) and three `[B, H, T, D]` (at `heads[s]`), either way.
 * Indices are in floats over the whole heap.
 */
function copyHeads(
  heap: Float32Array,
  packed: number,
  heads: number[],
  [B, T, H, D]: number[],
  toHeads: boolean,
): void {
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const src = packed + ((b * T + t) * H + h) * 3 * D; // [b, t, h, 0]
        const dst = ((b * H + h) * T + t) * D; // [b, h, t, 0]
        for (let s = 0; s < 3; s++) {
          const p = src + s * D,
            q = heads[s] + dst;
          if (toHeads) heap.copyWithin(q, p, p + D);
          else heap.copyWithin(p, q, q + D);
        }
      }
}

/**
 * Rotate the first `rot` values of every row of the `[B, H, T, D]` tensors at float indices `heads` in place, by
 * `cos`/`sin` `[B, 1, T, rot/2]` (float indices `cos`, `sin`): `[x1·c − x2·s, x2·c + x1·s]` (`inverse`: by −θ,
 * `[x1·c + x2·s, x2·c − x1·s]`, the gradient), each product and sum rounded to float32.
 */
function rotateRows(
  heap: Float32Array,
  heads: number[],
  cos: number,
  sin: number,
  [B, T, H, D]: number[],
  rot: number,
  inverse: boolean,
): void {
  const half = rot / 2;
  const f = Math.fround;
  const sign = inverse ? -1 : 1;
  for (const base of heads)
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let t = 0; t < T; t++) {
          const row = base + ((b * H + h) * T + t) * D;
          const tab = (b * T + t) * half;
          for (let i = 0; i < half; i++) {
            const c = heap[cos + tab + i],
              s = sign * heap[sin + tab + i];
            const x1 = heap[row + i],
              x2 = heap[row + half + i];
            heap[row + i] = f(f(x1 * c) - f(x2 * s));
            heap[row + half + i] = f(f(x2 * c) + f(x1 * s));
          }
        }
}

/** `{x}` `[B, T, H, 3D]` → q, k, v `[B, H, T, D]`. */
function forwardKernel({ inputs, backend }: WasmKernelArgs): tf.TensorInfo[] {
  const { x } = inputs;
  const [B, T, H, D3] = x.shape;
  const D = D3 / 3;
  const be = backendInternals(backend);
  const outs = [0, 1, 2].map(() => be.makeOutput!([B, H, T, D], "float32"));
  const heap = new Float32Array(wasmMemory()!.buffer); // after the allocations (they may grow the heap)
  const at = (t: tf.TensorInfo) => heapView(t)!.byteOffset / 4;
  copyHeads(heap, at(x), outs.map(at), [B, T, H, D], true);
  return outs;
}

/** `{dq, dk, dv}` `[B, H, T, D]` → dx `[B, T, H, 3D]`. */
function backwardKernel({ inputs, backend }: WasmKernelArgs): tf.TensorInfo {
  const { dq, dk, dv } = inputs;
  const [B, H, T, D] = dq.shape;
  const out = backendInternals(backend).makeOutput!([B, T, H, 3 * D], "float32");
  const heap = new Float32Array(wasmMemory()!.buffer);
  const at = (t: tf.TensorInfo) => heapView(t)!.byteOffset / 4;
  copyHeads(heap, at(out), [dq, dk, dv].map(at), [B, T, H, D], false);
  return out;
}

/** `{x, cos, sin}` → q, k (rotated), v `[B, H, T, D]`; attribute `rotaryDims`. */
function rotaryForwardKernel({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const { x, cos, sin } = inputs;
  const [B, T, H, D3] = x.shape;
  const D = D3 / 3;
  const be = backendInternals(backend);
  const outs = [0, 1, 2].map(() => be.makeOutput!([B, H, T, D], "float32"));
  const heap = new Float32Array(wasmMemory()!.buffer);
  const at = (t: tf.TensorInfo) => heapView(t)!.byteOffset / 4;
  const heads = outs.map(at);
  copyHeads(heap, at(x), heads, [B, T, H, D], true);
  rotateRows(heap, heads.slice(0, 2), at(cos), at(sin), [B, T, H, D], attrs!.rotaryDims as number, false);
  return outs;
}

/** `{dq, dk, dv, cos, sin}` → dx `[B, T, H, 3D]`: dq and dk rotated back, then copied as `QkvHeadsGrad` does. */
function rotaryBackwardKernel({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { dq, dk, dv, cos, sin } = inputs;
  const [B, H, T, D] = dq.shape;
  const be = backendInternals(backend);
  const out = be.makeOutput!([B, T, H, 3 * D], "float32");
  const heap = new Float32Array(wasmMemory()!.buffer);
  const at = (t: tf.TensorInfo) => heapView(t)!.byteOffset / 4;
  copyHeads(heap, at(out), [dq, dk, dv].map(at), [B, T, H, D], false);
  // rotate the q and k parts of dx in place: each is a [D]-row at [b, t, h, s·D] of the packed layout
  const rot = attrs!.rotaryDims as number;
  const half = rot / 2;
  const f = Math.fround;
  const [o, c0, s0] = [at(out), at(cos), at(sin)];
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const tab = (b * T + t) * half;
      for (let h = 0; h < H; h++)
        for (let part = 0; part < 2; part++) {
          const row = o + ((b * T + t) * H + h) * 3 * D + part * D;
          for (let i = 0; i < half; i++) {
            const c = heap[c0 + tab + i],
              s = heap[s0 + tab + i];
            const y1 = heap[row + i],
              y2 = heap[row + half + i];
            heap[row + i] = f(f(y1 * c) + f(y2 * s)); // dx1 = dy1·c + dy2·s
            heap[row + half + i] = f(f(y2 * c) - f(y1 * s)); // dx2 = dy2·c − dy1·s
          }
        }
    }
  return out;
}

if (!tf.getKernel(FORWARD, "wasm")) {
  registerWasmKernels([
    [FORWARD, forwardKernel],
    [BACKWARD, backwardKernel],
    [ROTARY_FORWARD, rotaryForwardKernel],
    [ROTARY_BACKWARD, rotaryBackwardKernel],
  ]);
  tf.registerGradient({
    kernelName: FORWARD,
    // the engine passes zeros for an output that no gradient reached
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const [dq, dk, dv] = dy as tf.Tensor[];
      return { x: () => tf.engine().runKernel(BACKWARD, { dq, dk, dv }) as tf.Tensor };
    },
  });
  tf.registerGradient({
    kernelName: ROTARY_FORWARD,
    inputsToSave: ["cos", "sin"],
    // the tables are constants: no gradient reaches them in the model (zeros if one is ever asked for)
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [dq, dk, dv] = dy as tf.Tensor[];
      const [cos, sin] = saved;
      return {
        x: () => tf.engine().runKernel(ROTARY_BACKWARD, { dq, dk, dv, cos, sin }, attrs) as tf.Tensor,
        cos: () => tf.zerosLike(cos),
        sin: () => tf.zerosLike(sin),
      };
    },
  });
}

function fusedFor(x: tf.Tensor): boolean {
  return onWasmHeap(x);
}

/**
 * q, k, v `[B, H, T, D]` from `qkv` `[B, T, H, 3D]` (q, k, v interleaved per head, as GPT-NeoX stores them).
 *
 * @example
 * const [q, k, v] = splitHeads(tf.reshape(qkvOut, [B, T, H, 3 * D]) as tf.Tensor4D); // [B, H, T, D] each
 */
export function splitHeads(qkv: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  if (fusedFor(qkv)) {
    return tf.engine().runKernel(FORWARD, { x: qkv }) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  }
  // split before transposing: on wasm, splitting the transposed tensor is several times slower
  return tf.split(qkv, 3, -1).map((t) => tf.transpose(t, [0, 2, 1, 3])) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}

/**
 * `splitHeads` followed by the rotary position embedding on q and k (`rotate` in rotary.ts): the first
 * `rotaryDims` values of each head turned by `cos`/`sin` `[B, 1, T, rotaryDims/2]`. On the wasm heap one kernel
 * does both (`QkvHeadsRotary`).
 *
 * @example
 * const [q, k, v] = splitHeadsRotary(qkv, tables.cos, tables.sin, 16); // [B, H, T, D] each, q and k rotated
 */
export function splitHeadsRotary(
  qkv: tf.Tensor4D,
  cos: tf.Tensor,
  sin: tf.Tensor,
  rotaryDims: number,
): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const [B, T] = qkv.shape;
  const half = rotaryDims / 2;
  const tablesFit = cos.shape.join() === [B, 1, T, half].join() && sin.shape.join() === cos.shape.join();
  if (rotaryDims > 0 && rotaryDims % 2 === 0 && tablesFit && fusedFor(qkv) && onWasmHeap(cos, sin)) {
    return tf.engine().runKernel(ROTARY_FORWARD, { x: qkv, cos, sin }, { rotaryDims }) as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor4D,
    ];
  }
  const [q, k, v] = splitHeads(qkv);
  return [rotate(q, cos, sin, rotaryDims) as tf.Tensor4D, rotate(k, cos, sin, rotaryDims) as tf.Tensor4D, v];
}
