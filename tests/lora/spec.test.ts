// `--lora r=8,alpha=16[,targets=...]` parsing and config validation.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { parseLoraSpec } from "../../src/lora/spec";
import { resolveLoraConfig, loraScaling, matchesTarget } from "../../src/lora/config";

test("parseLoraSpec reads r, alpha, dropout, targets, layers, rslora", () => {
  const c = parseLoraSpec("r=8,alpha=16");
  assert.equal(c.r, 8);
  assert.equal(c.alpha, 16);
  assert.deepEqual(c.targetModules, ["query_key_value"]);
  assert.equal(loraScaling(c), 2);
  const d = parseLoraSpec("r=16, alpha=8, dropout=0.05, targets=query_key_value+dense, layers=0+2, rslora");
  assert.deepEqual(d.targetModules, ["query_key_value", "dense"]);
  assert.deepEqual(d.layersToTransform, [0, 2]);
  assert.equal(d.dropout, 0.05);
  assert.equal(loraScaling(d), 8 / 4);
  assert.equal(parseLoraSpec("targets=/.*mlp.*/").targetModules, ".*mlp.*");
  assert.equal(parseLoraSpec("").r, 8);
});

test("bad --lora values name the key", () => {
  assert.throws(() => parseLoraSpec("r=eight"), /--lora: r must be a number/);
  assert.throws(() => parseLoraSpec("r=0"), /r must be a positive integer/);
  assert.throws(() => parseLoraSpec("r=2.5"), /r must be a positive integer/);
  assert.throws(() => parseLoraSpec("alpha=-1"), /alpha must be a positive number/);
  assert.throws(() => parseLoraSpec("dropout=1"), /dropout must be in \[0, 1\)/);
  assert.throws(() => parseLoraSpec("rank=4,foo=1"), /unknown key "foo"/);
  assert.throws(() => parseLoraSpec("targets=/(/"), /not a valid regular expression/);
  assert.throws(() => resolveLoraConfig({ bogus: 1 } as any), /unknown field "bogus"/);
});

test("target matching follows PEFT: list = name or suffix after a dot; string = full regex match", () => {
  const m = "gpt_neox.layers.3.attention.dense";
  assert.equal(matchesTarget(m, ["dense"]), true);
  assert.equal(matchesTarget(m, ["ense"]), false, "a suffix must start at a dot");
  assert.equal(matchesTarget("gpt_neox.layers.3.mlp.dense_h_to_4h", ["dense"]), false);
  assert.equal(matchesTarget(m, "attention\\.dense"), false, "a regex must match the whole name");
  assert.equal(matchesTarget(m, ".*attention\\.dense"), true);
  assert.equal(matchesTarget(m, ["dense"], [0, 1]), false, "layersToTransform");
  assert.equal(matchesTarget(m, ["dense"], [3]), true);
});
