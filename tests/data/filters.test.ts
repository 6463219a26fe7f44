// Quality filters: each reason triggers on its own case and not on a good pair; counts per reason add up;
// nothing is dropped without a reason; custom checks and field accessors.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  filterPairs,
  checkPair,
  checkPairAll,
  proseWords,
  groundedShare,
  unmatchedBrackets,
  repeatedNgramShare,
  FILTER_REASONS,
} from "../../src/data/filters";

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

// Issue 18: the language check dropped real documentation answers made mostly of code, the repetition check
// dropped a number with a repeating decimal, and gibberish written in English function words passed.
test("documentation answers made of code are judged by their prose, not dropped as not English", () => {
  const docs = [
    ["What does `math.abs(3.5)` return?", "`math.abs(3.5)` returns number 3.5."],
    [
      "What parameters does `math.equal` take?",
      "`math.equal` takes 2 parameters: `x` (number | BigNumber | boolean | Complex | Unit | string | Array | Matrix): First value to compare; `y` (number | BigNumber | boolean | Complex | Unit | string | Array | Matrix): Second value to compare.",
    ],
    ["In mathjs, what does `math.divide(2, 3)` return?", "`math.divide(2, 3)` returns number 0.6666666666666666."],
    [
      "What parameters does `math.lsolveAll` take?",
      "`math.lsolveAll` takes 2 parameters: `L` (Matrix, Array): A N x N matrix or array (L); `b` (Matrix, Array): A column vector with the b values.",
    ],
  ];
  for (const [q, a] of docs) assert.equal(checkPair(q, a, { language: "en" }), null, a);
  assert.deepEqual(proseWords("`math.abs(3.5)` returns number 3.5."), ["returns", "number"]);
  assert.deepEqual(proseWords("Types: number | BigNumber | Complex, see f(x) and x_1."), ["Types", "see", "and"]);
});

test("prose in another language or with unspellable words is still dropped", () => {
  const de = "Die Funktion berechnet den Betrag einer Zahl und gibt ihn zurück, auch für Matrizen elementweise.";
  assert.equal(checkPair("Q?", de, { language: "en" })?.reason, "not-english");
  const garbled = "The bxq of vrt tsk the nmp of grl is the psst of cv.";
  assert.equal(checkPair("Q?", garbled, { language: "en" })?.reason, "garbled");
  assert.equal(checkPair("Q?", garbled), null, "the garbled check is opt-in with the language check");
});

test("ungrounded: an answer made from a passage must take its content words from it", () => {
  const context = "Math.js supports units. Units can be used to do calculations and to perform conversions.";
  const item = (answer: string) => ({ question: "What does the documentation say about units?", answer, context });
  const off = item("The bureau of the United States has been the last year of the present bureau.");
  const on = item("Units can be used to do calculations and to perform conversions.");
  const r = filterPairs([off, on], { grounding: true });
  assert.deepEqual(
    r.dropped.map((d) => d.reason),
    ["ungrounded"],
  );
  assert.match(r.dropped[0].detail, /content words occur in the context/);
  assert.equal(filterPairs([off]).dropped.length, 0, "grounding is opt-in");
  assert.equal(
    filterPairs([{ question: "Q?", answer: off.answer }], { grounding: true }).dropped.length,
    0,
    "no context: not judged",
  );
  assert.deepEqual(groundedShare("Units can be converted.", context), { share: 0.5, words: 2 });
});

test("checkPairAll lists every failing check; checkPair is its first; bad options are named", () => {
  const all = checkPairAll("Q?", "bureau bureau bureau bureau bureau bureau bureau bureau bureau bureau bureau", {
    language: "en",
  });
  assert.deepEqual(
    all.map((f) => f.reason),
    ["repetitive", "not-english"],
  );
  assert.equal(
    checkPair("Q?", "bureau bureau bureau bureau bureau bureau bureau bureau bureau", { language: "en" })?.reason,
    "repetitive",
  );
  assert.throws(() => filterPairs([good], { minGroundedShare: 2 }), /option minGroundedShare must be in \[0, 1\]/);
  assert.throws(() => filterPairs([good], { language: "fr" as any }), /option language must be "en" or null/);
});

test("truncated answers and unpaired brackets outside code", () => {
  assert.equal(
    checkPair("What is chaining?", "Math.js supports chaining operations by wrapping a value into a")?.reason,
    "truncated",
  );
  assert.equal(checkPair("What does cot do?", "Calculate the")?.reason, "truncated");
  assert.equal(checkPair("Which section?", "Unit reference"), null, "a title without a full stop is not truncated");
  assert.equal(
    checkPair("Q?", "s)]-O]-)]-O]. This is ax spiran])]), and the bin.", { language: "en" })?.reason,
    "garbled",
  );
  const code = "`math.diag([1, 2, 3], -1)` returns [[0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 3]].";
  assert.equal(checkPair("What does it return?", code, { language: "en" }), null, "paired brackets are fine");
  assert.equal(checkPair("Q?", "`f(x]` is what the docs print, unpaired inside code.", { language: "en" }), null);
  const cut =
    "alphabet, cyrillic alphabet, any Unicode symbols, etc.) by overriding the Unit.isValidAlpha static method.";
  assert.equal(checkPair("How does it continue?", cut, { language: "en" }), null, "one stray bracket is fine");
  assert.equal(unmatchedBrackets(cut), 1);
  assert.equal(unmatchedBrackets("]. We were via, 1892]- -r]-[ bo"), 4);
});
