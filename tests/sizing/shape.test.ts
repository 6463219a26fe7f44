import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { getPreset, PRESET_NAMES, countParameters } from "../../src/model/presets";
import { makeShape, shapeFromGPTNeoX, shapeFromHFConfig, shapeFromParams, targetLinears } from "../../src/sizing/shape";
import { modelShape } from "../../src/sizing/models";
import { SizingError } from "../../src/sizing/units";
import { FIXTURES } from "../helpers/backend";

// Published totals from the models' cards / safetensors indexes (independent of this code).
const PUBLISHED: Record<string, number> = {
  "llama-2-7b": 6_738_415_616,
  "llama-2-13b": 13_015_864_320,
  "llama-2-70b": 68_976_648_192,
  "mistral-7b": 7_241_732_096,
};

test("LLaMA-style shapes count the published parameter totals (GQA, gated MLP, untied head)", () => {
  for (const [name, total] of Object.entries(PUBLISHED)) assert.equal(modelShape(name).params, total, name);
  const l70 = modelShape("llama-2-70b");
  assert.equal(l70.kvHeads, 8);
  assert.equal(l70.headDim, 128);
  assert.equal(l70.mlpMatrices, 3);
});

test("GPT-NeoX presets: params from countParameters, linears per block add up", () => {
  for (const name of PRESET_NAMES) {
    const cfg = getPreset(name);
    const s = shapeFromGPTNeoX(cfg, name);
    assert.equal(s.params, countParameters(cfg).total);
    const c = countParameters(cfg);
    // linear weights (no biases) = attention + mlp minus their biases
    const biases = cfg.numHiddenLayers * (3 * cfg.hiddenSize + cfg.hiddenSize + cfg.intermediateSize + cfg.hiddenSize);
    assert.equal(s.linearParams, c.attention + c.mlp - biases, name);
  }
  assert.equal(modelShape("EleutherAI/pythia-70m").params, 70_426_624);
});

test("shapeFromHFConfig reads a real GPT-NeoX config.json (fixture) and a LLaMA-style one", () => {
  const json = JSON.parse(fs.readFileSync(path.join(FIXTURES, "neox-tiny", "A", "config.json"), "utf8"));
  const s = shapeFromHFConfig(json, "A/config.json");
  assert.equal(s.family, "gpt_neox");
  assert.equal(s.hidden, 32);
  assert.equal(s.layers, 2);
  const llama = shapeFromHFConfig({
    model_type: "llama",
    hidden_size: 4096,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    intermediate_size: 11008,
    vocab_size: 32000,
  });
  assert.equal(llama.params, PUBLISHED["llama-2-7b"]);
  assert.equal(llama.kvHeads, 32, "num_key_value_heads defaults to the head count");
  const tied = shapeFromHFConfig({
    model_type: "llama",
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    vocab_size: 100,
    tie_word_embeddings: true,
  });
  const untied = shapeFromHFConfig({
    model_type: "llama",
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    vocab_size: 100,
  });
  assert.equal(untied.params - tied.params, 100 * 64);
});

test("a config missing a field names it; bad values and GQA mismatches are refused", () => {
  const base = {
    model_type: "llama",
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    vocab_size: 100,
  };
  for (const k of ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size"]) {
    const c: Record<string, unknown> = { ...base };
    delete c[k];
    assert.throws(
      () => shapeFromHFConfig(c, "my/config.json"),
      (e: unknown) =>
        e instanceof SizingError && (e as Error).message.includes(`my/config.json: missing required field "${k}"`),
      k,
    );
  }
  assert.throws(() => shapeFromHFConfig({ ...base, num_key_value_heads: 3 }), /multiple of kvHeads 3/);
  assert.throws(() => shapeFromHFConfig({ ...base, hidden_size: -64 }), /hidden_size/);
  assert.throws(
    () => shapeFromHFConfig({ model_type: "gpt_neox", hidden_size: 64 }, "neox.json"),
    /neox.json: missing required field "vocab_size"/,
  );
  assert.throws(() => shapeFromHFConfig([], "x.json"), /x.json: expected a JSON object/);
  assert.throws(() => shapeFromHFConfig({ n_embd: 768, n_layer: 12 }, "gpt2.json"), /hidden_size.*GPT-2/);
});

test("shapeFromParams keeps the given total and states its assumptions", () => {
  for (const p of [7e7, 1e9, 7e9, 70e9]) {
    const s = shapeFromParams(p);
    assert.equal(s.params, p);
    assert.equal(s.family, "assumed");
    assert.match(s.assumptions[0], /assumed/);
    // the assumed dims give roughly the requested size (within 30%)
    const counted = makeShape({
      name: "x",
      style: "gpt",
      layers: s.layers,
      hidden: s.hidden,
      heads: s.heads,
      vocab: s.vocab,
      tiedEmbeddings: false,
    }).params;
    assert.ok(Math.abs(counted / p - 1) < 0.3, `${p}: counted ${counted}`);
  }
  const s7 = shapeFromParams("7b");
  assert.equal(s7.hidden, 4096);
  assert.equal(s7.layers, 32);
});

test("targetLinears: names, all-linear, and an unknown module lists the known ones", () => {
  const neox = modelShape("pythia-70m");
  assert.deepEqual(targetLinears(neox, ["query_key_value"]), [{ name: "query_key_value", in: 512, out: 1536 }]);
  assert.equal(targetLinears(neox, "all-linear").length, 4);
  assert.throws(() => targetLinears(neox, ["q_proj"]), /query_key_value, dense, dense_h_to_4h, dense_4h_to_h/);
  const l = modelShape("llama-2-70b");
  assert.deepEqual(targetLinears(l, ["k_proj"])[0], { name: "k_proj", in: 8192, out: 1024 });
});

test("modelShape: unknown names list the known ones", () => {
  assert.throws(() => modelShape("gpt-5"), /unknown model "gpt-5".*pythia-70m.*llama-2-70b/);
});
