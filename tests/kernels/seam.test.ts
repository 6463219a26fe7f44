// The seam holds: the implementation set follows the native matmul, and the model, LoRA and training files that
// call kernels neither branch on the backend or BLAS nor read a tfjs internal themselves.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { kernelSet, selectKernels } from "../../src/kernels";
import { installNativeMatMul, nativeMatMulActive, uninstallNativeMatMul } from "../../src/kernels/native-blas";

test("the implementation set is blas exactly when the wasm matmul runs on a native BLAS", async () => {
  await useTestBackend();
  assert.equal(selectKernels(), nativeMatMulActive() ? "blas" : "plain");
  if (tf.getBackend() !== "wasm" || !nativeMatMulActive()) return;
  uninstallNativeMatMul();
  try {
    assert.equal(kernelSet(), "plain");
  } finally {
    installNativeMatMul(2);
  }
  assert.equal(kernelSet(), "blas");
});

const CALLERS = [
  "model/gptneox.ts",
  "model/layers.ts",
  "model/rotary.ts",
  "model/loss.ts",
  "model/load.ts",
  "lora/layer.ts",
  "lora/trainable.ts",
  "train/grad.ts",
  "train/adamw.ts",
];
const FORBIDDEN = [
  /nativeMatMulActive|kernels\/native-blas|kernels\/wasm-heap|heapView|soleOwner/,
  /tf\.getBackend\(\)|tf\.backend\(\)|tf\.engine\(\)/,
  /dataIdMap|incRef|registerKernel|activeTape|state\??\.gradientDepth/,
];

test("model, LoRA and training code reach fast paths and tfjs internals only through src/kernels", () => {
  const src = path.resolve(__dirname, "..", "..", "src");
  for (const file of CALLERS) {
    const text = fs.readFileSync(path.join(src, file), "utf8");
    for (const re of FORBIDDEN) {
      const m = re.exec(text);
      assert.equal(m, null, `src/${file} uses ${m?.[0]}: call a kernel from src/kernels instead`);
    }
  }
});
