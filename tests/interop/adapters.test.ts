// LoRA adapters both ways against the real PEFT 0.5 (transformers 4.31): tunebook's saved adapters (plain,
// several targets, a regex target, rsLoRA) load in PEFT with tunebook's logits, and an adapter PEFT saves loads
// in tunebook with PEFT's logits (≤ 1e-4), with no key warning from the loaders.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { FIXTURES, useTestBackend } from "../helpers/backend";
import { loadPretrained } from "../../src/model/load";
import type { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { applyLora } from "../../src/pipeline/adapters";
import type { LoraConfig } from "../../src/lora";
import { LoraModel } from "../../src/lora/model";
import { loadAdapter } from "../../src/lora/peft";
import { assertNoLoadWarnings, hfStack, hfTool, maxAbsDiff, type HfStack } from "./helpers";

const MODEL = (n: "A" | "B") => path.join(FIXTURES, "neox-tiny", n);
const IDS = [
  [71, 41, 86, 49, 100, 3, 17],
  [5, 9, 120, 33, 64, 2, 88],
];
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-interop-"));
const logits = (m: GPTNeoXForCausalLM) => tf.tidy(() => m.forward(IDS).logits.dataSync() as Float32Array);

/** Save a tunebook adapter (random non-zero B) on model A; returns its folder, tunebook's logits and targets. */
async function savedAdapter(
  spec: Partial<LoraConfig> & { targets?: string[] | string },
  seed: number,
): Promise<{ dir: string; ours: Float32Array; targets: string[] }> {
  const dir = tmp();
  const model = await loadPretrained(MODEL("A"));
  try {
    const a = applyLora(model, spec, { seed, baseModelNameOrPath: MODEL("A") });
    let s = seed;
    for (const [k, v] of LoraModel.of(model).adapterVariables(a.name))
      if (/lora_B/.test(k)) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, "float32", s++)));
    await a.save(dir);
    return { dir, ours: logits(model), targets: LoraModel.of(model).targetModules(a.name) };
  } finally {
    model.dispose();
  }
}

function peftLoads(
  t: { diagnostic(s: string): void },
  hf: HfStack,
  what: string,
  a: { dir: string; ours: Float32Array; targets: string[] },
  flags: string[] = [],
): any {
  const { json, stderr } = hfTool(hf, ["adapter", MODEL("A"), a.dir, JSON.stringify(IDS), ...flags]);
  assertNoLoadWarnings(stderr, `PEFT ${json.versions.peft} loading ${what}`);
  assert.deepEqual(json.targets, [...a.targets].sort(), `${what}: PEFT wrapped other modules than tunebook`);
  const d = maxAbsDiff(json.logits.data, a.ours);
  t.diagnostic(`${what}: max |logits tunebook − PEFT ${json.versions.peft}| = ${d.toExponential(2)}`);
  assert.ok(d <= 1e-4, `${what}: max |Δlogits| = ${d}`);
  return json;
}

test("tunebook adapters load in PEFT: one target, several targets on one layer with dropout, the docs' regex /.+mlp.+/", async (t) => {
  const hf = hfStack(t);
  if (!hf) return;
  await useTestBackend();
  const plain = await savedAdapter({ r: 4, alpha: 8 }, 1);
  peftLoads(t, hf, "query_key_value, r=4", plain);
  const several = await savedAdapter(
    {
      r: 2,
      alpha: 6,
      dropout: 0.1,
      targets: ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
      layersToTransform: [1],
    },
    2,
  );
  assert.equal(several.targets.length, 4);
  peftLoads(t, hf, "4 targets on layer 1, dropout 0.1", several);
  const regex = await savedAdapter({ r: 3, alpha: 3, targets: ".+mlp.+" }, 3);
  const saved = JSON.parse(fs.readFileSync(path.join(regex.dir, "adapter_config.json"), "utf8"));
  assert.deepEqual(saved.target_modules, regex.targets, "the regex is saved as the full names it matched");
  assert.equal(regex.targets.length, 4);
  peftLoads(t, hf, "regex /.+mlp.+/", regex);
  for (const a of [plain, several, regex]) fs.rmSync(a.dir, { recursive: true, force: true });
});

test("an rsLoRA adapter: its README says PEFT >= 0.8; PEFT 0.5 loads it with the wrong scaling (why), and with alpha/sqrt(r) the logits match", async (t) => {
  const hf = hfStack(t);
  if (!hf) return;
  await useTestBackend();
  const rs = await savedAdapter({ r: 4, alpha: 8, useRslora: true, targets: ["query_key_value", "dense"] }, 4);
  try {
    assert.match(fs.readFileSync(path.join(rs.dir, "README.md"), "utf8"), /Requires PEFT >= 0\.8/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(rs.dir, "adapter_config.json"), "utf8")).use_rslora, true);
    const json = peftLoads(t, hf, "rsLoRA r=4 alpha=8 (scaling set to alpha/sqrt(r) by hand)", rs, ["--rslora"]);
    assert.equal(json.rslora_modules, 4);
    const [major, minor] = String(json.versions.peft).split(".").map(Number);
    if (major === 0 && minor < 8) {
      // PEFT < 0.8 knows no use_rslora: it scales by alpha/r = 2 instead of alpha/sqrt(r) = 4, without a word.
      const silent = maxAbsDiff(json.peft_logits.data, rs.ours);
      t.diagnostic(
        `PEFT ${json.versions.peft} as it loads rsLoRA by itself: max |Δlogits| = ${silent.toExponential(2)} (the reason for the floor)`,
      );
      assert.ok(silent > 1e-2, "PEFT < 0.8 was expected to get rsLoRA wrong");
    }
  } finally {
    fs.rmSync(rs.dir, { recursive: true, force: true });
  }
});

test("an adapter PEFT makes and saves (two targets, r=2, alpha=6, on model B) loads in tunebook with PEFT's logits", async (t) => {
  const hf = hfStack(t);
  if (!hf) return;
  await useTestBackend();
  const dir = tmp();
  const model = await loadPretrained(MODEL("B"));
  try {
    const spec = {
      seed: 7,
      config: { r: 2, lora_alpha: 6, lora_dropout: 0.0, target_modules: ["query_key_value", "dense_4h_to_h"] },
    };
    const { json, stderr } = hfTool(hf, ["make-adapter", MODEL("B"), dir, JSON.stringify(spec), JSON.stringify(IDS)]);
    assertNoLoadWarnings(stderr, "PEFT making an adapter");
    assert.ok(fs.existsSync(path.join(dir, "adapter_model.safetensors")), "PEFT saved safetensors");
    const before = logits(model);
    await loadAdapter(model, dir);
    assert.equal(LoraModel.of(model).targetModules("default").length, 4);
    const ours = logits(model);
    const d = maxAbsDiff(ours, json.logits.data);
    t.diagnostic(
      `PEFT ${json.versions.peft} adapter in tunebook: max |logits tunebook − PEFT| = ${d.toExponential(2)}`,
    );
    assert.ok(d <= 1e-4, `max |Δlogits| = ${d}`);
    assert.ok(maxAbsDiff(ours, before) > 1e-2, "the adapter changed nothing: it was not applied");
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
