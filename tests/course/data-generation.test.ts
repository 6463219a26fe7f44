// Notebook 02's helpers: passages found through provenance, the retrieval-augmented template, extractive answers
// chosen by likelihood (the chosen sentence is the likeliest; provenance; no tensor leaks), and the downstream
// comparison (one row per set plus the base, same config, no leaks), on a tiny random model.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { makeConfig } from "../../src/model/config";
import { trainByteLevelBPE } from "../../src/tokenizer/train-bpe";
import { tokenizerFromJSON } from "../../src/tokenizer/hf";
import { QA_TEMPLATE } from "../../src/data/templates";
import { scoreCompletions } from "../../src/eval/likelihood";
import { passagesFor, passageTemplate, extractiveAnswers, compareTrainingSets } from "../../src/course/data-generation";

const PAGE = [
  "# Units",
  "",
  "Math.js supports units. Units can be used to do calculations and to perform conversions.",
  "",
  "```js",
  "math.unit('5 cm')",
  "```",
  "",
  "## Usage",
  "",
  "Units are created with the function unit. A unit has a value and a name. It can be converted.",
].join("\n");

function docsDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-docs-"));
  fs.mkdirSync(path.join(dir, "datatypes"));
  fs.writeFileSync(path.join(dir, "datatypes/units.md"), PAGE);
  return dir;
}

test("passagesFor: the section named in provenance, cut to its first sentences; unknown sections skipped", () => {
  const dir = docsDir();
  const rec = (id: string, section: string) => ({
    id,
    question: `What about ${section}?`,
    provenance: { file: "mathjs/docs/datatypes/units.md", section },
  });
  const { items, skipped } = passagesFor([rec("a", "Units"), rec("b", "Usage"), rec("c", "Missing")], dir, {
    maxSentences: 2,
  });
  assert.equal(skipped, 1);
  assert.deepEqual(
    items.map((i) => [i.id, i.context]),
    [
      ["a", "Math.js supports units. Units can be used to do calculations and to perform conversions."],
      ["b", "Units are created with the function unit. A unit has a value and a name."],
    ],
  );
  assert.match(items[0].sectionId, /^mathjs\/docs\/datatypes\/units\.md#0-units$/);
  assert.equal(passagesFor([rec("a", "Units")], dir, { maxChars: 30 }).items[0].context, "Math.js supports units.");
  assert.throws(() => passagesFor([{ id: "x", question: "Q?" }], dir), /record 0 needs a question and provenance/);
  assert.throws(() => passagesFor([], path.join(dir, "nope")), /docsDir .* does not exist/);
  assert.throws(() => passagesFor([], dir, { maxSentences: 0 }), /maxSentences must be an integer >= 1/);
});

test("passageTemplate: demos, then passage, question and 'Answer:'; the completion follows after a space", () => {
  const t = passageTemplate([{ context: "P1. P2.", question: "Q1?", answer: "P1." }]);
  assert.equal(
    t.renderPrompt({ context: "C.", question: "Q?" }),
    "P1. P2.\n\nQuestion: Q1?\nAnswer: P1.\n\nC.\n\nQuestion: Q?\nAnswer:",
  );
  assert.deepEqual(t.render({ context: "C.", question: "Q?", answer: "C." }).completion, " C.");
  assert.throws(() => t.renderPrompt({ question: "Q?" }), /needs a non-empty string field context/);
  assert.throws(
    () => passageTemplate([{ context: "", question: "Q", answer: "A" }]),
    /demo 0 needs a non-empty string field context/,
  );
});

const CORPUS = [
  PAGE,
  "Question: What is a unit?\nAnswer: A value with a name.",
  "Units are created with the function unit.",
];

async function tiny() {
  await useTestBackend();
  const tokenizer = tokenizerFromJSON(trainByteLevelBPE(CORPUS, { vocabSize: 300 }));
  const model = GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 320,
      hiddenSize: 32,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      intermediateSize: 64,
      maxPositionEmbeddings: 256,
      bosTokenId: 0,
      eosTokenId: 0,
    }),
    { seed: 5 },
  );
  return { model, tokenizer };
}

test("extractiveAnswers: the sentence with the best mean log-likelihood, its provenance, no tensor leaks", async () => {
  const { model, tokenizer } = await tiny();
  try {
    const template = passageTemplate([]);
    const items = [
      {
        id: "q1",
        question: "What are units?",
        context: "Math.js supports units. Units can be converted.",
        sectionId: "s1",
      },
      { id: "q2", question: "How?", context: "Only one sentence here.", sectionId: "s2" },
    ];
    const before = tf.memory().numTensors;
    const out = extractiveAnswers(model, tokenizer, items, { template, modelName: "tiny", batchSize: 3 });
    assert.equal(tf.memory().numTensors, before, "extractive answers leaked tensors");
    assert.equal(out.length, 2);
    // the chosen sentence is the one with the best mean log-likelihood, scored independently here
    const prompt = template.renderPrompt(items[0]);
    const cands = ["Math.js supports units.", "Units can be converted."];
    const mean = scoreCompletions(
      model,
      tokenizer,
      prompt,
      cands.map((c) => ` ${c}`),
    ).map((s) => s.logProb / s.tokens);
    const best = mean[0] >= mean[1] ? 0 : 1;
    assert.equal(out[0].answer, cands[best]);
    assert.equal(out[0].chosen, best);
    assert.equal(out[0].candidates, 2);
    assert.equal(out[1].answer, "Only one sentence here.");
    assert.equal(out[0].context, items[0].context);
    assert.deepEqual(out[0].provenance, {
      method: "model",
      generator: "local:tiny",
      prompt,
      temperature: 0,
      seed: 0,
      sourceId: "s1",
      selection: "sentence-likelihood",
    });
    assert.equal(out[0].id, "q1~local:tiny~extractive");
    assert.throws(
      () =>
        extractiveAnswers(model, tokenizer, [{ id: "x", question: "Q", context: "", sectionId: "s" }], { template }),
      /item 0 needs string fields question and context/,
    );
    assert.throws(
      () => extractiveAnswers(model, tokenizer, items, {} as any),
      /options.template must be a prompt template/,
    );
  } finally {
    model.dispose();
  }
});

test("compareTrainingSets: base row plus one row per set, same updates, no tensor leaks", async () => {
  const { model, tokenizer } = await tiny();
  try {
    const pairs = [
      { question: "What is a unit?", answer: "A value with a name." },
      { question: "How are units made?", answer: "With the function unit." },
      { question: "Can units be converted?", answer: "Yes, units can be converted." },
    ];
    const before = tf.memory().numTensors;
    const starts: string[] = [];
    const rows = await compareTrainingSets(
      model,
      tokenizer,
      QA_TEMPLATE,
      { one: pairs.slice(0, 1), all: pairs },
      pairs.slice(1),
      {
        train: { numSteps: 2, batchSize: 2, lr: 1e-3, seed: 0, warmupSteps: 0, maxLength: 48 },
        eval: { maxNewTokens: 4, batchSize: 2 },
        onRunStart: (s) => starts.push(s),
      },
    );
    assert.equal(tf.memory().numTensors, before, "the comparison leaked tensors");
    assert.deepEqual(starts, ["base", "one", "all"]);
    assert.deepEqual(
      rows.map((r) => [r.set, r.examples, r.updates]),
      [
        ["base", 0, 0],
        ["one", 1, 2],
        ["all", 3, 2],
      ],
    );
    for (const r of rows) {
      assert.ok(r.f1 >= 0 && r.f1 <= 1, `${r.set} f1`);
      assert.ok(r.perplexity > 1 && Number.isFinite(r.perplexity), `${r.set} perplexity`);
    }
    assert.ok(Number.isNaN(rows[0].finalTrainLoss) && Number.isFinite(rows[1].finalTrainLoss));
    await assert.rejects(
      compareTrainingSets(model, tokenizer, QA_TEMPLATE, { empty: [] }, pairs, { train: {} }),
      /set "empty" must be a non-empty array/,
    );
    await assert.rejects(
      compareTrainingSets(model, tokenizer, QA_TEMPLATE, { a: pairs }, [], { train: {} }),
      /test must be/,
    );
  } finally {
    model.dispose();
  }
});

test("usableCount and reportRows: labels by id and text, filters on all pairs", async () => {
  const { usableCount, reportRows } = await import("../../src/course/data-generation");
  const { filterReport } = await import("../../src/data/filter-report");
  const pairs = [
    { id: "a", question: "What is a unit?", answer: "A value with a name." },
    { id: "b", question: "What is a unit?", answer: "the the the the the the the the the" },
    { id: "c", question: "What is a unit?", answer: "Not labelled at all." },
  ];
  const labels = [
    { id: "a", question: "What is a unit?", answer: "A value with a name.", usable: true },
    { id: "b", question: "What is a unit?", answer: "the the the the the the the the the", usable: false },
    { id: "c", question: "What is a unit?", answer: "Another text.", usable: true },
  ];
  assert.deepEqual(usableCount("m", pairs, labels), {
    method: "m",
    pairs: 3,
    labelled: 2,
    usable: 1,
    keptByFilters: 2,
    usableAndKept: 1,
  });
  const rows = reportRows(filterReport(labels));
  assert.deepEqual(rows[rows.length - 1], {
    check: "all checks",
    dropped: 1,
    "of them unusable": 1,
    precision: "100 %",
    recall: "100 %",
  });
  assert.ok(rows.every((r) => r.check === "all checks" || (r.dropped as number) > 0));
});
