import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  ConfigError,
  configFromHF,
  configToHF,
  DEFAULT_GPTNEOX_CONFIG,
  headDim,
  makeConfig,
  rotaryDims,
  validateConfig,
} from "../../src/model/config";
import { modelDir } from "./helpers/neox-fixtures";

const readJson = (f: string) => JSON.parse(fs.readFileSync(f, "utf8"));

test("configFromHF maps the fixtures' config.json files", () => {
  const a = configFromHF(readJson(path.join(modelDir("A"), "config.json")), "A/config.json");
  assert.deepEqual(
    { ...a },
    {
      vocabSize: 128,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      intermediateSize: 64,
      maxPositionEmbeddings: 64,
      rotaryPct: 0.25,
      rotaryEmbBase: 10000,
      layerNormEps: 1e-5,
      useParallelResidual: true,
      hiddenAct: "gelu",
      tieWordEmbeddings: false,
      bosTokenId: 0,
      eosTokenId: 0,
      initializerRange: 0.02,
      attentionBias: true,
      attentionDropout: 0,
      hiddenDropout: 0,
      ropeScaling: null,
    },
  );
  assert.equal(headDim(a), 8);
  assert.equal(rotaryDims(a), 2);
  const b = configFromHF(readJson(path.join(modelDir("B"), "config.json")), "B/config.json");
  assert.equal(b.useParallelResidual, false);
  assert.equal(b.hiddenAct, "gelu_new");
  assert.equal(rotaryDims(b), 4);
});

test("newer HF field names (rope_theta, partial_rotary_factor, rope_parameters) are read", () => {
  const base = {
    model_type: "gpt_neox",
    vocab_size: 10,
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 16,
  };
  const c1 = configFromHF({ ...base, rope_theta: 500, partial_rotary_factor: 0.5 });
  assert.equal(c1.rotaryEmbBase, 500);
  assert.equal(c1.rotaryPct, 0.5);
  const c2 = configFromHF({
    ...base,
    rope_parameters: { rope_theta: 123, partial_rotary_factor: 1, rope_type: "default" },
  });
  assert.equal(c2.rotaryEmbBase, 123);
  assert.equal(c2.rotaryPct, 1);
  const c3 = configFromHF({
    ...base,
    rope_scaling: { type: "linear", factor: 2 },
    eos_token_id: [0, 2],
    attention_bias: false,
  });
  assert.deepEqual(c3.ropeScaling, { type: "linear", factor: 2 });
  assert.deepEqual(c3.eosTokenId, [0, 2]);
  assert.equal(c3.attentionBias, false);
});

test("configToHF → configFromHF round-trips", () => {
  for (const cfg of [
    DEFAULT_GPTNEOX_CONFIG,
    makeConfig({ hiddenAct: "gelu_new", useParallelResidual: false, tieWordEmbeddings: true, eosTokenId: [1, 2] }),
  ]) {
    assert.deepEqual(configFromHF(JSON.parse(JSON.stringify(configToHF(cfg)))), cfg);
  }
});

test("errors name the file and the field", () => {
  const good = readJson(path.join(modelDir("A"), "config.json"));
  const bad = (patch: Record<string, unknown>, re: RegExp) => {
    const j = { ...good, ...patch };
    for (const k of Object.keys(patch)) if (patch[k] === undefined) delete j[k];
    assert.throws(
      () => configFromHF(j, "my/config.json"),
      (e: any) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(patch),
    );
  };
  bad({ hidden_size: undefined }, /^my\/config\.json: missing required field "hidden_size"$/);
  bad(
    { num_attention_heads: "4" },
    /my\/config\.json: field "num_attention_heads" must be a positive integer, got "4"/,
  );
  bad({ rotary_pct: 1.5 }, /field "rotary_pct" must be a number in \[0, 1\], got 1\.5/);
  bad({ use_parallel_residual: "yes" }, /field "use_parallel_residual" must be true or false/);
  bad({ hidden_act: "gelu_10" }, /"hidden_act" "gelu_10" is not supported; use one of: gelu, gelu_new/);
  bad({ num_attention_heads: 5 }, /hiddenSize 32 is not divisible by numAttentionHeads 5/);
  bad({ rope_scaling: { type: "dynamic", factor: 2 } }, /"rope_scaling" .* is not supported/);
  bad({ eos_token_id: -1 }, /field "eos_token_id" must be a token id/);
  assert.throws(() => configFromHF([], "x.json"), /x\.json: expected a JSON object, got an array/);
});

test("other model types are refused clearly", () => {
  for (const t of ["llama", "gpt2", undefined]) {
    assert.throws(
      () => configFromHF({ model_type: t, vocab_size: 10 }, "cfg.json"),
      (e: any) =>
        e instanceof ConfigError &&
        /cfg\.json: model_type .* is not supported; tunebook runs GPT-NeoX \(Pythia\) models, model_type "gpt_neox"/.test(
          e.message,
        ),
    );
  }
});

test("validateConfig rejects odd rotary dims and bad sizes", () => {
  assert.throws(
    () => validateConfig(makeConfig({ hiddenSize: 12, numAttentionHeads: 2, rotaryPct: 0.5 })),
    /rotary dims per head .* = 3\) must be even/,
  );
  assert.throws(() => makeConfig({ numHiddenLayers: 0 }), /numHiddenLayers must be a positive integer/);
});
