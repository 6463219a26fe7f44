import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  accuracy,
  exactMatch,
  labelFromGeneration,
  majorityBaseline,
  normalizeAnswer,
  perplexity,
  tokenF1,
} from "../../src/eval/metrics";

test("normalizeAnswer lowercases, strips punctuation and articles, collapses whitespace", () => {
  assert.equal(normalizeAnswer("The  Eiffel\tTower!"), "eiffel tower");
  assert.equal(normalizeAnswer("  An apple, a day... "), "apple day");
  assert.equal(normalizeAnswer("“Quoted” — text…"), "quoted text");
  assert.equal(normalizeAnswer("theme another"), "theme another"); // articles only as whole words
  assert.equal(normalizeAnswer(""), "");
  assert.equal(normalizeAnswer("The."), "");
});

test("exactMatch compares normalised strings", () => {
  assert.equal(exactMatch("the cat.", "Cat"), 1);
  assert.equal(exactMatch("cat", "cats"), 0);
  assert.equal(exactMatch("", ""), 1);
  assert.equal(exactMatch("", "a"), 1); // both normalise to ""
  assert.equal(exactMatch("x", ""), 0);
});

test("tokenF1: SQuAD's bag-of-words F1 and its edge cases", () => {
  assert.equal(tokenF1("red cat", "red cat"), 1);
  // prediction "big red cat" (3 words), reference "red cat" (2): precision 2/3, recall 1
  assert.ok(Math.abs(tokenF1("the big red cat", "a red cat") - 0.8) < 1e-12);
  assert.equal(tokenF1("dog", "cat"), 0);
  assert.equal(tokenF1("", "cat"), 0); // empty prediction
  assert.equal(tokenF1("cat", ""), 0); // empty reference
  assert.equal(tokenF1("", ""), 1); // both empty
  assert.equal(tokenF1("the", "a"), 1); // both empty after normalisation
  // repeated words count only as often as in the reference: pred "cat cat" vs ref "cat": p = 1/2, r = 1 → 2/3
  assert.ok(Math.abs(tokenF1("cat cat", "cat") - 2 / 3) < 1e-12);
});

test("labelFromGeneration: the label named earliest, whole words only", () => {
  const labels = ["ham", "spam"];
  assert.equal(labelFromGeneration("Spam. Definitely not ham", labels), "spam");
  assert.equal(labelFromGeneration("ham\n### Question", labels), "ham");
  assert.equal(labelFromGeneration("hamster spammer", labels), undefined);
  assert.equal(labelFromGeneration("", labels), undefined);
  assert.equal(labelFromGeneration("very positive", ["positive", "very positive"]), "very positive");
});

test("accuracy and the majority baseline", () => {
  assert.equal(accuracy(["spam", undefined, "ham"], ["spam", "ham", "spam"]), 1 / 3);
  assert.throws(() => accuracy(["a"], ["a", "b"]), /1 predictions for 2/);
  assert.deepEqual(majorityBaseline(["ham", "ham", "spam"]), { label: "ham", rate: 2 / 3 });
});

test("perplexity is token-weighted over the set", () => {
  const p = perplexity([
    { logProb: -2, tokens: 1 },
    { logProb: -4, tokens: 3 },
  ]);
  assert.ok(Math.abs(p - Math.exp(6 / 4)) < 1e-12);
  // the unweighted mean of per-example perplexities would differ
  assert.notEqual(p, (Math.exp(2) + Math.exp(4 / 3)) / 2);
  assert.throws(() => perplexity([]), /no scored tokens/);
  assert.throws(() => perplexity([{ logProb: NaN, tokens: 1 }]), /bad score/);
});
