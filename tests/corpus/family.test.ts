// The model family: three Pythia-shaped members spanning ≥ 10× in parameters, the default within 25 MB in F16,
// the larger one within the 64 MB a shipped member may take.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { FAMILY, FAMILY_VOCAB_SIZE, familyParameterCounts, getFamilyMember } from "../../src/model/family";
import { countParameters } from "../../src/model/presets";
import { parameterShapes } from "../../src/model/gptneox";
import { validateConfig } from "../../src/model/config";

test("counts from the config agree with the tensor shapes, and with the documented totals", () => {
  for (const m of FAMILY) {
    validateConfig(m.config);
    let fromShapes = 0;
    for (const s of parameterShapes(m.config).values()) fromShapes += s.reduce((a, b) => a * b, 1);
    assert.equal(countParameters(m.config).total, fromShapes, m.name);
  }
  assert.deepEqual(familyParameterCounts(), {
    "tunebook-2m": 1_908_576,
    "tunebook-9m": 8_933_376,
    "tunebook-20m": 20_487_936,
  });
});

test("at least three sizes, ≥ 10× apart, smallest first; Pythia's architecture and the family vocabulary", () => {
  const n = FAMILY.map((m) => countParameters(m.config).total);
  assert.ok(n.length >= 3);
  assert.deepEqual(
    [...n].sort((a, b) => a - b),
    n,
  );
  assert.ok(n[n.length - 1] / n[0] >= 10, `span ${n[n.length - 1] / n[0]}`);
  for (const m of FAMILY) {
    assert.equal(m.config.vocabSize, FAMILY_VOCAB_SIZE);
    assert.equal(m.config.intermediateSize, 4 * m.config.hiddenSize);
    assert.equal(m.config.rotaryPct, 0.25);
    assert.equal(m.config.useParallelResidual, true);
    assert.equal(m.config.tieWordEmbeddings, false);
    assert.ok(m.why.length > 20 && m.lr > 0 && m.batch > 0, m.name);
  }
});

test("the largest member under 25 MB in F16 is the default candidate; the largest fits 64 MB", () => {
  const bytes = (name: string) => 2 * countParameters(getFamilyMember(name).config).total;
  assert.ok(bytes("tunebook-9m") <= 25e6);
  assert.ok(bytes("tunebook-20m") > 25e6 && bytes("tunebook-20m") <= 64e6);
  assert.throws(() => getFamilyMember("tunebook-1b"), /unknown family member "tunebook-1b"; known: tunebook-2m/);
});
