// Merged and fully fine-tuned models saved by tunebook load in the real transformers 4.31 with no key warning,
// and give tunebook's logits (≤ 1e-4).
import { test, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { FIXTURES, useTestBackend } from "../helpers/backend";
import { loadPretrained, modelStateDict, saveModel } from "../../src/model/load";
import { writeSafetensorsFile } from "../../src/model/safetensors";
import type { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { applyLora } from "../../src/pipeline/adapters";
import { LoraModel } from "../../src/lora/model";
import { assertNoLoadWarnings, hfStack, hfTool, maxAbsDiff, type HfStack } from "./helpers";

const MODEL = (n: "A" | "B") => path.join(FIXTURES, "neox-tiny", n);
const IDS = [
  [71, 41, 86, 49, 100, 3, 17],
  [5, 9, 120, 33, 64, 2, 88],
];
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-interop-"));
const logits = (m: GPTNeoXForCausalLM) => tf.tidy(() => m.forward(IDS).logits.dataSync() as Float32Array);

/** The saved folder loads in transformers with no key warning and gives `ours` (≤ 1e-4); the difference goes to the test's diagnostics. */
function assertTransformersMatches(t: TestContext, hf: HfStack, dir: string, ours: Float32Array, label: string): void {
  const { json, stderr } = hfTool(hf, ["model", dir, JSON.stringify(IDS)]);
  assertNoLoadWarnings(stderr, `transformers ${json.versions.transformers} loading ${dir}`);
  const d = maxAbsDiff(json.logits.data, ours);
  t.diagnostic(`${label}: max |logits tunebook − transformers ${json.versions.transformers}| = ${d.toExponential(2)}`);
  assert.ok(d <= 1e-4, `${label}: max |Δlogits| = ${d}`);
}

function randomize(vars: Iterable<tf.Variable>, seed: number, std: number): void {
  let s = seed;
  for (const v of vars) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, std, "float32", s++))));
}

test("a merged model (tunebook merge → saveModel) loads in transformers 4.31 with no key warning and the same logits", async (t) => {
  const hf = hfStack(t);
  if (!hf) return;
  await useTestBackend();
  const dir = tmp();
  const model = await loadPretrained(MODEL("A"));
  try {
    applyLora(model, { r: 4, alpha: 8, targets: ["query_key_value", "dense_4h_to_h"] }, { seed: 3 });
    randomize(
      [...LoraModel.of(model).adapterVariables("default")].filter(([k]) => /lora_B/.test(k)).map(([, v]) => v),
      5,
      0.2,
    );
    const adapted = logits(model);
    const plain = LoraModel.of(model).mergeAndUnload();
    await saveModel(plain, dir);
    const ours = logits(plain);
    assert.ok(maxAbsDiff(ours, adapted) <= 1e-5, "merging changed the outputs");
    assertTransformersMatches(t, hf, dir, ours, "merged model A");
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a fully fine-tuned model (F32 and F16 files, sequential residual, half rotary) loads with no key warning and the same logits", async (t) => {
  const hf = hfStack(t);
  if (!hf) return;
  await useTestBackend();
  const root = tmp();
  const model = await loadPretrained(MODEL("B"));
  try {
    // Every weight moved, as after full fine-tuning (the model's own update code is tested elsewhere).
    randomize(model.parameters().values(), 11, 0.05);
    for (const dtype of ["F32", "F16"] as const) {
      const dir = path.join(root, dtype);
      await saveModel(model, dir, { dtype });
      const back = await loadPretrained(dir); // F16: the logits of the rounded weights
      const ours = logits(back);
      back.dispose();
      assertTransformersMatches(t, hf, dir, ours, `fine-tuned model B (${dtype})`);
    }
  } finally {
    model.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("the warning check can fail: a file without rotary_emb.inv_freq makes transformers 4.31 warn 'newly initialized'", async (t) => {
  const hf = hfStack(t);
  if (!hf) return;
  await useTestBackend();
  const dir = tmp();
  const model = await loadPretrained(MODEL("A"));
  try {
    await saveModel(model, dir);
    await writeSafetensorsFile(path.join(dir, "model.safetensors"), modelStateDict(model)); // the weights alone
    const { json, stderr } = hfTool(hf, ["model", dir, JSON.stringify(IDS)]);
    if (json.versions.transformers !== "4.31.0")
      return t.skip(`this control is for transformers 4.31 (found ${json.versions.transformers})`);
    assert.throws(() => assertNoLoadWarnings(stderr, "control"), /newly initialized/);
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
