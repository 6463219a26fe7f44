import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { parseBackendName, initBackend, backendReport, BackendError, nativeVerdict } from "../../src/runtime/backend";
import { Rng } from "../../src/runtime/seed";

test("parseBackendName accepts known names case-insensitively", () => {
  assert.equal(parseBackendName("WASM"), "wasm");
  assert.equal(parseBackendName(" cpu "), "cpu");
});

test("an unknown TUNEBOOK_BACKEND lists the valid ones", () => {
  assert.throws(
    () => parseBackendName("cuda"),
    (e: any) =>
      e instanceof BackendError &&
      /TUNEBOOK_BACKEND="cuda"/.test(e.message) &&
      /tensorflow, webgpu, wasm, cpu/.test(e.message),
  );
});

test("initBackend honours a forced backend and reports why", async () => {
  const c = await initBackend({ backend: "wasm", verbose: false });
  assert.equal(c.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.match(backendReport(), /^tunebook backend: wasm \(forced by option; WebAssembly/);
  await assert.rejects(() => initBackend({ backend: "bogus" }), BackendError);
});

test("Rng is deterministic for a seed and restores from its state", () => {
  const a = new Rng(42),
    b = new Rng(42);
  const xs = [a.next(), a.next(), a.next()];
  assert.deepEqual(xs, [b.next(), b.next(), b.next()]);
  const c = new Rng(0);
  c.state = a.state;
  assert.equal(c.next(), a.next());
  assert.notDeepEqual(new Rng(1).next(), new Rng(2).next());
});

test("the native backend is taken by itself only on a GPU; forced, it runs on the CPU too; the line says why", () => {
  const onGpu = nativeVerdict("@tensorflow/tfjs-node-gpu", { isGPUPackage: true, isUsingGpuDevice: true }, false);
  assert.deepEqual([onGpu.ok, onGpu.gpu], [true, true]);
  assert.match(onGpu.why, /on the GPU/);
  const noGpu = nativeVerdict("@tensorflow/tfjs-node-gpu", { isGPUPackage: true, isUsingGpuDevice: false }, false);
  assert.equal(noGpu.ok, false);
  assert.match(noGpu.why, /found no GPU.*only on a GPU \(TUNEBOOK_BACKEND=tensorflow forces it\)/);
  const cpuBuild = nativeVerdict("@tensorflow/tfjs-node", { isGPUPackage: false, isUsingGpuDevice: false }, false);
  assert.equal(cpuBuild.ok, false);
  assert.match(cpuBuild.why, /it is the CPU build/);
  assert.equal(
    nativeVerdict("@tensorflow/tfjs-node", {}, false).ok,
    false,
    "a backend that reports nothing is not a GPU",
  );
  const forced = nativeVerdict("@tensorflow/tfjs-node", { isGPUPackage: false }, true);
  assert.deepEqual([forced.ok, forced.gpu], [true, false]);
  assert.match(forced.why, /on the CPU/);
});
