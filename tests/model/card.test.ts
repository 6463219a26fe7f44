// The model card (model-card.json) and its datasheet: a complete synthetic card validates, each kind of bad field
// is one line naming the file and the field, and datasheet.md must hold the block rendered from the card.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  readModelCard,
  renderCardBlock,
  validateModelCard,
  validateModelFolder,
  ModelCardError,
} from "../../src/model/card";
import { defaultModelDir } from "../../src/pipeline/pretrained";

// Synthetic numbers: the format under test, not a model's results.
const GOOD = () => ({
  format: "tunebook-model-card",
  version: 1,
  name: "tunebook-test",
  parameters: 1234,
  training: {
    builtBy: "a test",
    recipe: "AdamW",
    steps: 10,
    tokens: 5120,
    batch: 4,
    seq: 128,
    lr: 0.003,
    device: "a CPU",
    date: "2026-12-05",
  },
  heldOut: { kjv: { loss: 4.5, tokens: 500 }, wordnet: { loss: 5.5, tokens: 1500 } },
  parity: {
    maxAbsDiff: 3e-6,
    tolerance: 1e-4,
    transformers: "4.31.0",
    torch: "1.13.1",
    tunebookBackend: "wasm",
    date: "2026-12-05",
  },
  recipes: {
    "email-subject": {
      lr: 0.005,
      numSteps: 240,
      batchSize: 8,
      warmupSteps: 24,
      maxLength: 160,
      source: "a test",
      result: "none",
    },
  },
});

test("a complete card validates as shipped; the default model's card validates (recipes only)", () => {
  assert.equal(validateModelCard(GOOD(), "c.json", { shipped: true }).name, "tunebook-test");
  const def = readModelCard(defaultModelDir());
  assert.ok(def && Object.keys(def.recipes).length === 3);
  assert.equal(readModelCard(os.tmpdir()), undefined, "no card: undefined");
});

test("each kind of bad field: one line naming the file and the field", () => {
  const cases: [string, (c: any) => void, RegExp][] = [
    ["format", (c) => (c.format = "x"), /^c\.json: format: expected "tunebook-model-card", found "x"$/],
    ["version", (c) => (c.version = 2), /^c\.json: version: expected 1, found 2$/],
    ["unknown field", (c) => (c.heldout = {}), /^c\.json: heldout: expected a known field/],
    ["parameters", (c) => (c.parameters = 1.5), /^c\.json: parameters: expected an integer > 0, found 1\.5$/],
    [
      "training.tokens",
      (c) => (c.training.tokens = -1),
      /^c\.json: training\.tokens: expected an integer > 0, found -1$/,
    ],
    ["training.date", (c) => (c.training.date = "yesterday"), /^c\.json: training\.date: expected an ISO date/],
    [
      "heldOut loss",
      (c) => (c.heldOut.kjv.loss = null),
      /^c\.json: heldOut\.kjv\.loss: expected a number > 0 \(nats per token\), found null$/,
    ],
    ["heldOut empty", (c) => (c.heldOut = {}), /^c\.json: heldOut: expected an object of corpus sources/],
    [
      "parity over tolerance",
      (c) => (c.parity.maxAbsDiff = 0.01),
      /^c\.json: parity\.maxAbsDiff: expected at most parity\.tolerance 0\.0001, found 0\.01$/,
    ],
    [
      "parity versions",
      (c) => (c.parity.transformers = ""),
      /^c\.json: parity\.transformers: expected a non-empty string/,
    ],
    [
      "recipe lr",
      (c) => (c.recipes["email-subject"].lr = 0),
      /^c\.json: recipes\.email-subject\.lr: expected a learning rate in \(0, 1\), found 0$/,
    ],
    [
      "recipe steps",
      (c) => (c.recipes["email-subject"].numSteps = "240"),
      /^c\.json: recipes\.email-subject\.numSteps: expected an integer > 0, found "240"$/,
    ],
    [
      "recipe source",
      (c) => delete c.recipes["email-subject"].source,
      /^c\.json: recipes\.email-subject\.source: expected a non-empty string saying where/,
    ],
    [
      "recipe field",
      (c) => (c.recipes["email-subject"].epochs = 3),
      /^c\.json: recipes\.email-subject\.epochs: expected a recipe field/,
    ],
    ["recipes", (c) => delete c.recipes, /^c\.json: recipes: expected an object keyed by dataset name/],
  ];
  for (const [what, edit, re] of cases) {
    const c = GOOD();
    edit(c);
    assert.throws(
      () => validateModelCard(c, "c.json", { shipped: true }),
      (e: Error) => (
        assert.ok(e instanceof ModelCardError, what),
        assert.match(e.message, re, what),
        assert.ok(!e.message.includes("\n"), what),
        true
      ),
    );
  }
  const partial: any = GOOD();
  delete partial.parity;
  assert.equal(
    validateModelCard(partial, "c.json").name,
    "tunebook-test",
    "a card without parity is fine unless shipped",
  );
  assert.throws(
    () => validateModelCard(partial, "c.json", { shipped: true }),
    /^ModelCardError: c\.json: parity: expected present/,
  );
});

test("datasheet.md must hold the block rendered from the card; a hand edit is named by line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-card-"));
  try {
    fs.writeFileSync(path.join(dir, "model-card.json"), JSON.stringify(GOOD()));
    assert.throws(() => validateModelFolder(dir), /datasheet\.md: missing/);
    const block = renderCardBlock(validateModelCard(GOOD()));
    assert.match(block, /\| `kjv` \| 4\.500 \| 90\.0 \| 500 \|/);
    assert.match(block, /\| \*\*all\*\* \| \*\*5\.250\*\* \|/, "the token-weighted mean over sources");
    fs.writeFileSync(path.join(dir, "datasheet.md"), `# tunebook-test\n\nProse.\n\n${block}\n\nMore prose.\n`);
    assert.equal(validateModelFolder(dir, { shipped: true }).name, "tunebook-test");
    fs.writeFileSync(path.join(dir, "datasheet.md"), `# x\n\n${block.replace("4.500", "4.400")}\n`);
    assert.throws(
      () => validateModelFolder(dir),
      /datasheet\.md: generated block line \d+ differs from model-card\.json \(expected "\| `kjv` \| 4\.500/,
    );
    fs.writeFileSync(path.join(dir, "datasheet.md"), "# x\n");
    assert.throws(() => validateModelFolder(dir), /datasheet\.md: no generated block/);
    fs.rmSync(path.join(dir, "model-card.json"));
    assert.throws(() => validateModelFolder(dir), /model-card\.json: missing/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("every model folder in data/ with a card validates; one with a datasheet.md is a shipped member and must be complete", () => {
  const data = path.resolve(__dirname, "..", "..", "data");
  for (const d of fs.readdirSync(data)) {
    const dir = path.join(data, d);
    if (!fs.existsSync(path.join(dir, "model-card.json"))) continue;
    if (fs.existsSync(path.join(dir, "datasheet.md")) && fs.existsSync(path.join(dir, "config.json")))
      validateModelFolder(dir, { shipped: true });
    else readModelCard(dir);
  }
});
