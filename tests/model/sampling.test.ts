// Logits processors with Hugging Face semantics, on hand-made rows.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  applyRepetitionPenalty,
  argmax,
  DEFAULT_SAMPLING,
  nextToken,
  sampleIndex,
  softmax,
  topKFilter,
  topPFilter,
  validateSampling,
} from "../../src/model/sampling";
import { Rng } from "../../src/runtime/seed";

test("repetition penalty divides positive and multiplies negative scores of seen tokens, once each", () => {
  const s = Float32Array.from([2, -2, 1, 4]);
  applyRepetitionPenalty(s, [0, 1, 1, 1, 9], 2);
  assert.deepEqual([...s], [1, -4, 1, 4]);
});

test("top-k keeps the k best (and ties with the k-th)", () => {
  const s = Float32Array.from([1, 5, 3, 3, 0]);
  topKFilter(s, 2);
  assert.deepEqual([...s], [-Infinity, 5, 3, 3, -Infinity]);
  const t = Float32Array.from([1, 2]);
  topKFilter(t, 5);
  assert.deepEqual([...t], [1, 2]);
});

test("top-p keeps the smallest set reaching p, as HF's ascending cumulative rule", () => {
  // probs ≈ [0.5, 0.3, 0.15, 0.05]
  const probs = [0.5, 0.3, 0.15, 0.05];
  const s = Float32Array.from(probs.map(Math.log));
  topPFilter(s, 0.75);
  // ascending cumsum: 0.05, 0.20, 0.50, 1.0; removed where ≤ 0.25 → the 0.05 and 0.15 tokens
  assert.deepEqual(
    [...s].map((x) => x !== -Infinity),
    [true, true, false, false],
  );
  const u = Float32Array.from(probs.map(Math.log));
  topPFilter(u, 0.01);
  assert.deepEqual(
    [...u].map((x) => x !== -Infinity),
    [true, false, false, false],
    "always keeps the best token",
  );
});

test("argmax takes the first maximum; softmax ignores −∞", () => {
  assert.equal(argmax([1, 3, 3, 2]), 1);
  const p = softmax([0, -Infinity, 0]);
  assert.deepEqual([...p], [0.5, 0, 0.5]);
});

test("sampleIndex draws in proportion to the probabilities (seeded)", () => {
  const rng = new Rng(11);
  const probs = [0.1, 0.0, 0.6, 0.3];
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 20000; i++) counts[sampleIndex(probs, rng)]++;
  assert.equal(counts[1], 0);
  probs.forEach((p, i) => assert.ok(Math.abs(counts[i] / 20000 - p) < 0.015, `index ${i}: ${counts[i]}`));
});

test("nextToken: greedy ignores temperature; temperature sharpens; input row is not modified", () => {
  const row = Float32Array.from([0, 1, 0.5]);
  const copy = Float32Array.from(row);
  assert.equal(nextToken(row, [], { ...DEFAULT_SAMPLING, temperature: 5 }, new Rng(0)), 1);
  assert.equal(nextToken(row, [1], { ...DEFAULT_SAMPLING, repetitionPenalty: 3 }, new Rng(0)), 2);
  assert.deepEqual(row, copy);
  const rng = new Rng(3);
  let ones = 0;
  for (let i = 0; i < 2000; i++)
    ones += nextToken(row, [], { ...DEFAULT_SAMPLING, doSample: true, temperature: 0.05 }, rng) === 1 ? 1 : 0;
  assert.ok(ones > 1990, `low temperature should almost always pick the argmax, got ${ones}/2000`);
});

test("validateSampling names the bad option", () => {
  assert.throws(
    () => validateSampling({ ...DEFAULT_SAMPLING, temperature: 0 }),
    /temperature must be a number > 0, got 0/,
  );
  assert.throws(() => validateSampling({ ...DEFAULT_SAMPLING, topK: 1.5 }), /topK must be an integer >= 0/);
  assert.throws(
    () => validateSampling({ ...DEFAULT_SAMPLING, repetitionPenalty: -1 }),
    /repetitionPenalty must be a number > 0/,
  );
});
