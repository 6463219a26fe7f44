import { test, before } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { FIXTURES } from "../helpers/backend";
import { loadTokenizer } from "../../src/tokenizer";
import type { Tokenizer } from "../../src/tokenizer/types";
import { QA_TEMPLATE, classificationTemplate } from "../../src/data/templates";
import { tokenizeExample, tokenizeDataset, padBatch } from "../../src/data/prepare";
import { prepareExamples } from "../../src/train/data";

let tok: Tokenizer;
before(async () => {
  tok = await loadTokenizer(path.join(FIXTURES, "pythia", "20B_tokenizer.json"));
});

const rec = { question: "What does the mathjs function `sqrt` do?", answer: "Calculate the square root of a value." };

test("labels are -100 exactly over the prompt; the answer and EOS are scored", () => {
  const { prompt, completion } = QA_TEMPLATE.render(rec);
  const p = tok.encode(prompt);
  const c = tok.encode(completion);
  const ex = tokenizeExample(QA_TEMPLATE, tok, rec);
  assert.equal(ex.promptLength, p.length);
  assert.equal(ex.completionLength, c.length + 1);
  assert.deepEqual(ex.inputIds, [...p, ...c, tok.eosTokenId]);
  assert.deepEqual(ex.labels, [...p.map(() => -100), ...c, tok.eosTokenId]);
  assert.equal(tok.decode(ex.inputIds.slice(ex.promptLength), { skipSpecialTokens: true }), rec.answer);
  // tokenizing prompt and answer apart matches tokenizing the whole text here (the boundary is a newline)
  assert.deepEqual(tok.encode(prompt + completion), [...p, ...c]);
});

test("maskPrompt: false scores every token; addEos: false leaves EOS off", () => {
  const ex = tokenizeExample(QA_TEMPLATE, tok, rec, { maskPrompt: false, addEos: false });
  assert.deepEqual(ex.labels, ex.inputIds);
  assert.notEqual(ex.inputIds[ex.inputIds.length - 1], tok.eosTokenId);
});

test("truncation from the left keeps the answer and the end of the prompt", () => {
  const full = tokenizeExample(QA_TEMPLATE, tok, rec);
  const maxLength = full.completionLength + 4;
  const ex = tokenizeExample(QA_TEMPLATE, tok, rec, { maxLength });
  assert.equal(ex.inputIds.length, maxLength);
  assert.equal(ex.truncatedTokens, full.inputIds.length - maxLength);
  assert.equal(ex.completionCut, false);
  assert.deepEqual(ex.inputIds, full.inputIds.slice(full.inputIds.length - maxLength));
  assert.deepEqual(ex.labels.slice(0, 4), [-100, -100, -100, -100]);
  assert.match(tok.decode(ex.inputIds.slice(0, 4)), /Answer:\n$/);
  // an answer longer than maxLength: the prompt goes, the answer is cut at its end, and it is reported
  const cut = tokenizeExample(QA_TEMPLATE, tok, rec, { maxLength: 3 });
  assert.equal(cut.promptLength, 0);
  assert.equal(cut.completionCut, true);
  assert.deepEqual(cut.inputIds, full.inputIds.slice(full.promptLength, full.promptLength + 3));
});

test("truncation from the right cuts the end (the answer may go) and says so", () => {
  const full = tokenizeExample(QA_TEMPLATE, tok, rec);
  const ex = tokenizeExample(QA_TEMPLATE, tok, rec, { maxLength: full.promptLength + 2, truncationSide: "right" });
  assert.deepEqual(ex.inputIds, full.inputIds.slice(0, full.promptLength + 2));
  assert.equal(ex.completionLength, 2);
  assert.equal(ex.completionCut, true);
  assert.throws(
    () => tokenizeExample(QA_TEMPLATE, tok, rec, { truncationSide: "middle" as any }),
    /truncationSide must be "left" or "right"/,
  );
});

test("tokenizeDataset: stats, and a bad record is named by index and id", () => {
  const t = classificationTemplate(["ham", "spam"]);
  const recs = [
    { text: "Buy now", label: "spam" },
    { text: "Meeting at 3", label: "ham" },
  ];
  const { examples, stats } = tokenizeDataset(t, tok, recs);
  assert.equal(stats.count, 2);
  assert.equal(stats.truncated, 0);
  assert.equal(
    stats.lossTokens,
    examples.reduce((s, e) => s + e.completionLength, 0),
  );
  assert.throws(
    () => tokenizeDataset(t, tok, [...recs, { id: "x7", text: "?", label: "eggs" }]),
    /record 2 \(id x7\): .*label "eggs"/,
  );
  // the trainer accepts the result as is
  const { examples: ok, dropped } = prepareExamples(examples, 256);
  assert.equal(ok.length, 2);
  assert.equal(dropped, 0);
});

test("padBatch: right or left, labels -100 and mask 0 on pads", () => {
  const a = { inputIds: [5, 6, 7], labels: [-100, 6, 7] };
  const b = { inputIds: [8] };
  const right = padBatch([a, b], { padTokenId: 1 });
  assert.deepEqual(right, {
    inputIds: [
      [5, 6, 7],
      [8, 1, 1],
    ],
    attentionMask: [
      [1, 1, 1],
      [1, 0, 0],
    ],
    labels: [
      [-100, 6, 7],
      [8, -100, -100],
    ],
  });
  const left = padBatch([a, b], { padTokenId: 1, side: "left", maxLength: 4 });
  assert.deepEqual(left, {
    inputIds: [
      [1, 5, 6, 7],
      [1, 1, 1, 8],
    ],
    attentionMask: [
      [0, 1, 1, 1],
      [0, 0, 0, 1],
    ],
    labels: [
      [-100, -100, 6, 7],
      [-100, -100, -100, 8],
    ],
  });
  assert.throws(
    () => padBatch([{ inputIds: [1, 2], labels: [1] }], { padTokenId: 0 }),
    /labels has 1 entries, inputIds 2/,
  );
});
