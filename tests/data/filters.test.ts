// Quality filters: each reason triggers on its own case and not on a good pair; counts per reason add up;
// nothing is dropped without a reason; custom checks and field accessors.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { filterPairs, checkPair, repeatedNgramShare, FILTER_REASONS } from "../../src/data/filters";

const good = {
  question: "What does the learning rate control?",
  answer: "How big a step the optimizer takes along the gradient at each update.",
};

test("a good pair passes every check", () => {
  assert.equal(checkPair(good.question, good.answer, { language: "en" }), null);
  assert.equal(checkPair("How many layers?", "42"), null, "short numeric answers are fine");
});

test("each reason triggers on its own case, with a detail", () => {
  const cases: [string, string, string, object?][] = [
    ["empty-question", "  ", "An answer."],
    ["empty-answer", "A question?", " \n "],
    ["question-too-long", "x".repeat(1001), "An answer."],
    ["answer-too-short", "A question?", "a"],
    ["answer-too-long", "A question?", "word ".repeat(500)],
    ["non-printable", "A question?", "bad \u0007 bell"],
    ["non-printable", "A question?", "decode failure \uFFFD here"],
    ["non-printable", "A question?", "lone \uD800 surrogate"],
    ["answer-copies-question", "What is a tensor?", "what is a tensor"],
    ["answer-copies-question", "What is a tensor?", "What is a tensor? What is a tensor? It is"],
    ["answer-copies-question", "How do I install the package quickly?", "install the package quickly how do I"],
    ["repetitive", "Q?", "the model the model the model the model the model the model says"],
    ["repetitive", "Q?", "Yes!!!!!!!!!!!!!!!!"],
    ["not-english", "Q?", "qwx zzv plorf grint vasp kelm trob yuzz wenk", { language: "en" }],
  ];
  for (const [reason, q, a, opts] of cases) {
    const r = checkPair(q, a, opts ?? {});
    assert.ok(r, `expected ${reason} for ${JSON.stringify(a.slice(0, 40))}`);
    assert.equal(r.reason, reason, `${JSON.stringify(a.slice(0, 40))}: ${r.detail}`);
    assert.ok(r.detail.length > 0);
  }
  assert.equal(checkPair("Q?", "qwx zzv plorf grint vasp kelm trob yuzz wenk"), null, "the language check is opt-in");
  assert.match(checkPair("A question?", "bad \u0007 bell")!.detail, /U\+0007 in the answer/);
});

test("repeated n-gram share", () => {
  assert.equal(repeatedNgramShare("a b c d e f g"), 0);
  assert.equal(repeatedNgramShare("a b c a b c a b c"), 4 / 7);
  assert.equal(repeatedNgramShare("too short"), 0);
});

test("filterPairs: kept in order, every drop has a reason, counts add up", () => {
  const items = [
    good,
    { question: "What is a tensor?", answer: "" },
    { question: "Why?", answer: "because because because because because because" },
    { question: "What is a tensor?", answer: "An array of numbers with a shape." },
    { question: "What is a tensor?", answer: "What is a tensor?" },
  ];
  const r = filterPairs(items);
  assert.deepEqual(r.kept, [items[0], items[3]]);
  assert.deepEqual(
    r.dropped.map((d) => [d.index, d.reason]),
    [
      [1, "empty-answer"],
      [2, "repetitive"],
      [4, "answer-copies-question"],
    ],
  );
  assert.equal(r.counts.kept, 2);
  for (const reason of FILTER_REASONS) assert.equal(typeof r.counts[reason], "number", `count for ${reason}`);
  const sum = Object.entries(r.counts)
    .filter(([k]) => k !== "kept")
    .reduce((s, [, v]) => s + v, 0);
  assert.equal(sum + r.counts.kept, items.length, "every item is either kept or counted under one reason");
});

test("instruction records, custom accessors and custom checks", () => {
  const recs = [
    { instruction: "Summarise.", output: "A summary of the text." },
    { instruction: "Summarise.", output: "TODO" },
  ];
  const r = filterPairs(recs, {
    custom: [{ reason: "placeholder", test: (_q, a) => (/\bTODO\b/.test(a) ? "answer is a TODO placeholder" : null) }],
  });
  assert.deepEqual(
    r.dropped.map((d) => [d.index, d.reason, d.detail]),
    [[1, "placeholder", "answer is a TODO placeholder"]],
  );
  assert.equal(r.counts.placeholder, 1);
  const t = filterPairs([{ q: "Q?", a: "" }], { question: (x) => x.q, answer: (x) => x.a });
  assert.equal(t.dropped[0].reason, "empty-answer");
  assert.throws(() => filterPairs([{ foo: "x" }] as any[]), /item 0 has no string question/);
});
