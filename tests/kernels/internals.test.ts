// One test per tfjs internal that src/kernels relies on (listed in src/kernels/tfjs-internals.ts). Each fails with a
// message naming the internal, so that a tfjs upgrade that changes one says which accessor to fix.
import { test, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { backendInternals, gradientDepth, tapeEngine, tensorFromInfo } from "../../src/kernels/tfjs-internals";
import { heapView, soleOwner, wasmMemory } from "../../src/kernels/wasm-heap";
import { fillableTensor, shareClonesOnWasm } from "../../src/kernels";
import { currentBackend } from "../../src/runtime/backend";

const VERSION = `tfjs ${tf.version.tfjs}`;

/** The wasm backend, or skip. */
async function onWasm(t: TestContext): Promise<boolean> {
  await useTestBackend();
  if (tf.getBackend() === "wasm") return true;
  t.skip(`the wasm backend's internals (active: ${tf.getBackend()})`);
  return false;
}

test("internal: engine.state.gradientDepth counts the gradient computations recording now", async () => {
  await useTestBackend();
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: unknown } }).state;
  assert.equal(typeof state?.gradientDepth, "number", `${VERSION}: tf.engine().state.gradientDepth is gone`);
  assert.equal(gradientDepth(), 0, "engine.state.gradientDepth: expected 0 outside any gradient");
  let inside = -1;
  let nested = -1;
  tf.grad((x: tf.Tensor) => {
    inside = gradientDepth();
    tf.grad((y: tf.Tensor) => {
      nested = gradientDepth();
      return tf.square(y).sum();
    })(x);
    return tf.square(x).sum();
  })(tf.scalar(2));
  assert.equal(inside, 1, "engine.state.gradientDepth: expected 1 inside tf.grad");
  assert.equal(nested, 2, "engine.state.gradientDepth: expected 2 inside a gradient of a gradient");
});

test("internal: the engine's tape (startTape, endTape, scopedRun, state.activeTape, tape nodes)", async () => {
  await useTestBackend();
  const e = tapeEngine();
  assert.ok(e, `${VERSION}: tf.engine() lacks startTape/endTape/scopedRun/state (the lean gradient walk needs them)`);
  const before = tf.memory().numTensors;
  const x = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
  const y = e.scopedRun(
    () => e.startTape(),
    () => e.endTape(),
    () => e.tidy("forward", () => tf.sum(tf.mul(x, x))),
  );
  const tape = e.state.activeTape;
  assert.ok(Array.isArray(tape) && tape.length > 0, "engine.state.activeTape: expected the recorded ops after endTape");
  const node = tape.find((n) => Object.values(n.inputs ?? {}).some((t) => t.id === x.id));
  assert.ok(node, "tape node .inputs: no node has the variable as an input");
  assert.equal(typeof node.kernelName, "string", "tape node .kernelName is not a string");
  assert.ok(Array.isArray(node.outputs) && node.outputs.length > 0, "tape node .outputs is not a tensor list");
  assert.equal(typeof node.gradient, "function", "tape node .gradient is not a function");
  assert.ok(Array.isArray(node.saved), "tape node .saved: the tensors kept for the backward pass are not listed");
  tf.tidy(() => {
    const fns = node.gradient!(node.outputs.map((o) => tf.onesLike(o)));
    for (const name of Object.keys(node.inputs))
      assert.equal(typeof fns[name], "function", `tape node .gradient(dys).${name} is not a function`);
  });
  for (const n of tape) if (n.saved) for (const t of n.saved) t.dispose();
  e.state.activeTape = null;
  tf.dispose([y, x]);
  assert.equal(tf.memory().numTensors, before);
});

test("internal: wasm backend dataIdMap.get(dataId).memoryOffset and wasm.HEAPU8 / wasm.wasmMemory", async (t) => {
  if (!(await onWasm(t))) return;
  const b = backendInternals();
  assert.equal(typeof b.dataIdMap?.get, "function", `${VERSION}: the wasm backend has no dataIdMap`);
  assert.ok(b.wasm?.HEAPU8 instanceof Uint8Array, `${VERSION}: the wasm backend's module has no HEAPU8`);
  const x = tf.tensor1d([1.5, -2, 3.25]);
  const info = b.dataIdMap!.get(x.dataId);
  assert.equal(typeof info?.memoryOffset, "number", "dataIdMap entry has no numeric memoryOffset");
  assert.deepEqual([...heapView(x)!], [1.5, -2, 3.25], "memoryOffset does not point at the tensor's float32 data");
  if (currentBackend()?.reason.includes("threads") && !currentBackend()?.reason.includes("single-threaded"))
    assert.ok(wasmMemory() instanceof WebAssembly.Memory, "threaded wasm build: wasm.wasmMemory is not exposed");
  x.dispose();
});

test("internal: backend.refCount(dataId) counts the holders of a buffer", async (t) => {
  if (!(await onWasm(t))) return;
  assert.equal(typeof backendInternals().refCount, "function", `${VERSION}: the wasm backend has no refCount`);
  const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  assert.ok(soleOwner(x), "refCount: a fresh tensor should be its buffer's only holder");
  const r = tf.reshape(x, [4]); // wasm's Reshape shares the buffer
  assert.ok(!soleOwner(x), "refCount: after a reshape that shares the buffer, the count should be 2");
  r.dispose();
  assert.ok(soleOwner(x), "refCount: back to 1 once the reshape is disposed");
  x.dispose();
});

test("internal: backend.incRef and the Identity kernel behind tf.clone (re-registered to share buffers)", async (t) => {
  if (!(await onWasm(t))) return;
  assert.equal(typeof backendInternals().incRef, "function", `${VERSION}: the wasm backend has no incRef`);
  assert.ok(tf.getKernel("Identity", "wasm"), `${VERSION}: no Identity kernel registered for wasm`);
  shareClonesOnWasm();
  const x = tf.tensor1d([4, 5, 6]);
  const c = tf.clone(x);
  assert.equal(c.dataId, x.dataId, "tf.clone no longer runs the Identity kernel (its clone got its own buffer)");
  x.dispose();
  assert.deepEqual([...c.dataSync()], [4, 5, 6], "incRef: the clone's buffer was freed with the original");
  c.dispose();
});

test("internal: the BatchMatMul kernel behind tf.matMul (re-registered for the native BLAS)", async (t) => {
  if (!(await onWasm(t))) return;
  const k = tf.getKernel("BatchMatMul", "wasm");
  assert.ok(k && typeof k.kernelFunc === "function", `${VERSION}: no BatchMatMul kernel registered for wasm`);
  let calls = 0;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      calls++;
      return k.kernelFunc(args);
    },
  });
  try {
    tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 4])).dataSync());
  } finally {
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel(k);
  }
  assert.equal(calls, 1, "tf.matMul of 2-D tensors no longer runs the BatchMatMul kernel");
});

test("internal: backend.makeOutput and engine.makeTensorFromTensorInfo (tensors written in place)", async (t) => {
  if (!(await onWasm(t))) return;
  const b = backendInternals();
  assert.equal(typeof b.makeOutput, "function", `${VERSION}: the wasm backend has no makeOutput`);
  assert.equal(typeof b.disposeData, "function", `${VERSION}: the wasm backend has no disposeData`);
  const before = tf.memory().numTensors;
  const made = tensorFromInfo(b.makeOutput!([2], "float32"));
  assert.ok(made instanceof tf.Tensor, "engine.makeTensorFromTensorInfo did not return a tensor");
  made.dispose();
  const f = fillableTensor([2, 2]);
  f.view().set([1, 2, 3, 4]);
  const x = f.finish();
  assert.deepEqual([...x.dataSync()], [1, 2, 3, 4], "a tensor from makeOutput does not read the heap written");
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("internal: the threaded wasm build's PThread worker lists and WASM_HAS_MULTITHREAD_SUPPORT", async (t) => {
  if (!(await onWasm(t))) return;
  assert.doesNotThrow(
    () => tf.env().get("WASM_HAS_MULTITHREAD_SUPPORT"),
    `${VERSION}: the WASM_HAS_MULTITHREAD_SUPPORT flag is not registered`,
  );
  const reason = currentBackend()?.reason ?? "";
  if (!/\d+ threads/.test(reason)) {
    t.skip(`the single-threaded build runs here (${reason})`);
    return;
  }
  const p = backendInternals().wasm?.PThread;
  assert.ok(p, `${VERSION}: the threaded module has no PThread`);
  assert.ok(Array.isArray(p.unusedWorkers), "PThread.unusedWorkers is not an array");
  assert.ok(Array.isArray(p.runningWorkers), "PThread.runningWorkers is not an array");
});

test("internal: ops run inside a custom op's forward are not recorded (a frozen weight gets no gradient)", async () => {
  await useTestBackend();
  const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
  const x = tf.variable(tf.tensor2d([1, 1], [1, 2]));
  const op = tf.customGrad(((a: tf.Tensor) => ({
    value: tf.matMul(a, w),
    gradFunc: (dy: tf.Tensor) => [tf.matMul(dy, w, false, true)],
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor) => tf.Tensor;
  const { grads } = tf.variableGrads(() => tf.sum(op(x)) as tf.Scalar, [w, x]);
  assert.ok(grads[x.name], "tf.customGrad: no gradient reached the custom op's input");
  assert.equal(grads[w.name], undefined, "tf.customGrad: a tensor read in the forward's closure got a gradient");
  tf.dispose([...Object.values(grads), w, x]);
});
