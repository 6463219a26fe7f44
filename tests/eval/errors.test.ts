import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  categorize,
  errorCounts,
  errorExamples,
  errorTable,
  ERROR_CATEGORIES,
  repetitionRatio,
} from "../../src/eval/errors";

test("repetitionRatio measures repeated word n-grams", () => {
  assert.equal(repetitionRatio("to be or not to be or not to be", 3), 0.5);
  assert.equal(repetitionRatio("one two three four five", 3), 0);
  assert.equal(repetitionRatio("a b", 3), 0); // too short to have a trigram
  assert.ok(repetitionRatio("go go go go go go go go", 3) > 0.8);
});

test("categorize: each category, in priority order", () => {
  assert.equal(categorize("", "Paris"), "empty");
  assert.equal(categorize("  ...  ", "Paris"), "empty");
  assert.equal(categorize("The Paris.", "paris"), "correct");
  assert.equal(categorize("paris paris paris paris paris paris paris", "Paris"), "repetitive");
  assert.equal(categorize("Paris is the capital of France and a big city", "Paris"), "too_long");
  assert.equal(categorize("the red house", "red house on the hill"), "partial");
  assert.equal(categorize("London", "Paris"), "wrong");
  // thresholds are options
  assert.equal(categorize("Paris is big", "Paris", { tooLongRatio: 5 }), "partial");
  assert.equal(categorize("Paris is big", "Paris", { tooLongRatio: 5, partialF1: 2 }), "wrong");
});

test("errorTable and errorCounts count every record once, with examples", () => {
  const recs = [
    { prediction: "", reference: "a cat" },
    { prediction: "cat", reference: "a cat" },
    { prediction: "dog", reference: "cat" },
    { prediction: "fish", reference: "cat" },
  ];
  const tab = errorTable(recs);
  assert.deepEqual(
    tab.map((r) => r.category),
    [...ERROR_CATEGORIES],
  );
  assert.equal(
    tab.reduce((s, r) => s + r.count, 0),
    recs.length,
  );
  const wrong = tab.find((r) => r.category === "wrong")!;
  assert.equal(wrong.count, 2);
  assert.equal(wrong.share, 0.5);
  assert.equal(wrong.example, "dog");
  assert.equal(tab.find((r) => r.category === "too_long")!.example, "");
  assert.deepEqual(errorCounts(recs), { empty: 1, correct: 1, repetitive: 0, too_long: 0, partial: 0, wrong: 2 });
  // a precomputed category is respected
  assert.equal(errorCounts([{ prediction: "dog", reference: "cat", category: "partial" as const }]).partial, 1);
  const ex = errorExamples(
    recs.map((r) => ({ ...r, prompt: "Q: what? ".repeat(20) })),
    "wrong",
    1,
  );
  assert.equal(ex.length, 1);
  assert.equal(ex[0].prediction, "dog");
  assert.ok(ex[0].prompt.length <= 100);
  assert.throws(() => errorExamples(recs, "nope" as any), /unknown category/);
});
