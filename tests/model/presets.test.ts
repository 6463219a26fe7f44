import { test } from "node:test";
import * as assert from "node:assert/strict";
import { countParameters, findPreset, getPreset, PRESET_NAMES, PYTHIA_PRESETS } from "../../src/model/presets";
import { ConfigError } from "../../src/model/config";
import { parameterShapes } from "../../src/model/gptneox";

// Published totals (DESIGN.md "Facts"; the Pythia model cards).
const PUBLISHED: Record<string, number> = {
  "pythia-70m": 70_426_624,
  "pythia-160m": 162_322_944,
  "pythia-410m": 405_334_016,
  "pythia-1b": 1_011_781_632,
  "pythia-1.4b": 1_414_647_808,
};

test("countParameters equals the published totals", () => {
  for (const [name, total] of Object.entries(PUBLISHED))
    assert.equal(countParameters(getPreset(name)).total, total, name);
});

test("the breakdown adds up and agrees with the tensor shapes", () => {
  for (const name of PRESET_NAMES) {
    const cfg = getPreset(name);
    const c = countParameters(cfg);
    assert.equal(c.embedIn + c.layers + c.finalLayerNorm + c.embedOut, c.total, name);
    assert.equal(c.attention + c.mlp + c.norms, c.layers, name);
    assert.equal(c.perLayer * cfg.numHiddenLayers, c.layers, name);
    let fromShapes = 0;
    for (const s of parameterShapes(cfg).values()) fromShapes += s.reduce((a, b) => a * b, 1);
    assert.equal(fromShapes, c.total, name);
  }
});

test("the family has the real shapes", () => {
  assert.deepEqual(PRESET_NAMES, [
    "pythia-14m",
    "pythia-31m",
    "pythia-70m",
    "pythia-160m",
    "pythia-410m",
    "pythia-1b",
    "pythia-1.4b",
    "pythia-2.8b",
    "pythia-6.9b",
    "pythia-12b",
  ]);
  const p14 = getPreset("pythia-14m");
  assert.deepEqual(
    [p14.hiddenSize, p14.numHiddenLayers, p14.numAttentionHeads, p14.intermediateSize, p14.vocabSize],
    [128, 6, 4, 512, 50304],
  );
  const p31 = getPreset("pythia-31m");
  assert.deepEqual(
    [p31.hiddenSize, p31.numHiddenLayers, p31.numAttentionHeads, p31.intermediateSize, p31.vocabSize],
    [256, 6, 8, 1024, 50304],
  );
  assert.equal(getPreset("pythia-6.9b").vocabSize, 50432);
  assert.equal(getPreset("pythia-12b").vocabSize, 50688);
  assert.equal(countParameters(getPreset("pythia-6.9b")).total, 6_857_302_016);
  assert.equal(countParameters(getPreset("pythia-12b")).total, 11_846_072_320);
});

test("getPreset accepts Hub ids and returns copies; unknown names list the known ones", () => {
  assert.deepEqual(getPreset("EleutherAI/pythia-70m"), PYTHIA_PRESETS["pythia-70m"]);
  assert.deepEqual(getPreset("EleutherAI/pythia-70m-deduped"), PYTHIA_PRESETS["pythia-70m"]);
  assert.deepEqual(getPreset("70m"), PYTHIA_PRESETS["pythia-70m"]);
  const c = getPreset("pythia-70m");
  c.hiddenSize = 1;
  assert.equal(getPreset("pythia-70m").hiddenSize, 512);
  assert.equal(findPreset("gpt2"), undefined);
  assert.throws(
    () => getPreset("pythia-99m"),
    (e: any) =>
      e instanceof ConfigError && /unknown model preset "pythia-99m"; known: pythia-14m, .*pythia-12b/.test(e.message),
  );
});

test("tied embeddings and bias-free attention change the count", () => {
  const base = getPreset("pythia-70m");
  const tied = countParameters({ ...base, tieWordEmbeddings: true });
  assert.equal(tied.embedOut, 0);
  assert.equal(tied.total, PUBLISHED["pythia-70m"] - 50304 * 512);
  const noBias = countParameters({ ...base, attentionBias: false });
  assert.equal(noBias.total, PUBLISHED["pythia-70m"] - 6 * (3 * 512 + 512));
});
