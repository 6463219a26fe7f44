// Child process of the WebGPU tests (tests/helpers/webgpu.ts starts it with the software Vulkan driver's
// environment, which Dawn reads at load). Prints one line "WEBGPU-RESULT <json>":
//   choice: what initBackend() picks by itself (wasm: WebGPU is opt-in), then the forced webgpu choice;
//   syncError: what a synchronous API says on webgpu; scenario: webgpu-scenario.ts on webgpu.
// Usage: node --import tsx tests/helpers/webgpu-child.ts MODEL_DIR WORK_DIR
import * as tf from "@tensorflow/tfjs";
import { backendReport, initBackend } from "../../src/runtime/backend";
import { loadModel } from "../../src/pipeline/pretrained";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Trainer } from "../../src/train/trainer";
import { toyExamples } from "../train/helpers/tiny-lm";
import { runScenario } from "./webgpu-scenario";

async function main(): Promise<void> {
  const [modelDir, workDir] = process.argv.slice(2);
  delete process.env.TUNEBOOK_BACKEND;
  const auto = await initBackend({ verbose: false });
  const autoLine = backendReport();
  const forced = await initBackend({ backend: "webgpu", verbose: false });
  const forcedLine = backendReport();
  // a synchronous API on webgpu: a clear error naming the asynchronous one
  let syncError = "";
  const { model } = await loadModel(modelDir);
  const before = tf.memory().numTensors;
  const t = new Trainer(causalLMTrainable(model), toyExamples(4), { batchSize: 2, numSteps: 1, maxLength: 16 });
  try {
    t.trainStep();
  } catch (e: any) {
    syncError = `${e?.name}: ${e?.message}`;
  }
  t.dispose();
  const leakedBySyncError = tf.memory().numTensors - before;
  model.dispose();
  const scenario = await runScenario(modelDir, workDir);
  const out = { auto: { name: auto.name, line: autoLine }, forced: { name: forced.name, line: forcedLine } };
  console.log(`WEBGPU-RESULT ${JSON.stringify({ ...out, syncError, leakedBySyncError, scenario })}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e?.stack ?? e);
    process.exit(1);
  },
);
