import { test } from "node:test";
import * as assert from "node:assert/strict";
import { splitTrainTest, nestedSubsets, sampleItems } from "../../src/data/split";

const items = Array.from({ length: 200 }, (_, i) => ({ i, label: i % 4 === 0 ? "a" : "b" }));

test("splitTrainTest: a partition, the right size, input order kept, same seed same split", () => {
  const s = splitTrainTest(items, { testFraction: 0.1, seed: 7 });
  assert.equal(s.test.length, 20);
  assert.equal(s.train.length, 180);
  const all = [...s.train, ...s.test].map((x) => x.i).sort((a, b) => a - b);
  assert.deepEqual(
    all,
    items.map((x) => x.i),
  );
  for (const part of [s.train, s.test]) for (let k = 1; k < part.length; k++) assert.ok(part[k - 1].i < part[k].i);
  assert.deepEqual(splitTrainTest(items, { testFraction: 0.1, seed: 7 }), s);
  assert.notDeepEqual(splitTrainTest(items, { testFraction: 0.1, seed: 8 }).test, s.test);
});

test("splitTrainTest: stratified keeps each class's share", () => {
  const s = splitTrainTest(items, { testFraction: 0.2, seed: 1, stratify: (x) => x.label });
  assert.equal(s.test.filter((x) => x.label === "a").length, 10); // 50 a's × 0.2
  assert.equal(s.test.filter((x) => x.label === "b").length, 30); // 150 b's × 0.2
  assert.throws(() => splitTrainTest(items, { testFraction: 1 }), /testFraction must be in \(0, 1\)/);
});

test("nestedSubsets: sizes, nesting, determinism", () => {
  const subs = nestedSubsets(items, [0.5, 0.1, 0.25, 1], 3);
  assert.deepEqual(
    subs.map((s) => s.fraction),
    [0.1, 0.25, 0.5, 1],
  );
  assert.deepEqual(
    subs.map((s) => s.size),
    [20, 50, 100, 200],
  );
  for (let k = 1; k < subs.length; k++) {
    const big = new Set(subs[k].items);
    assert.ok(
      subs[k - 1].items.every((x) => big.has(x)),
      `subset ${k - 1} ⊂ subset ${k}`,
    );
  }
  assert.equal(new Set(subs[3].items).size, 200);
  assert.deepEqual(
    nestedSubsets(items, undefined, 3).map((s) => s.items),
    subs.map((s) => s.items),
  );
  assert.notDeepEqual(nestedSubsets(items, [0.1], 4)[0].items, subs[0].items);
  assert.throws(() => nestedSubsets(items, [0]), /each fraction must be in \(0, 1\]/);
  assert.throws(() => nestedSubsets([]), /non-empty/);
});

test("sampleItems: n distinct items, seeded", () => {
  const s = sampleItems(items, 5, 2);
  assert.equal(s.length, 5);
  assert.equal(new Set(s).size, 5);
  assert.deepEqual(sampleItems(items, 5, 2), s);
  assert.notDeepEqual(sampleItems(items, 5, 3), s);
  assert.equal(sampleItems(items, 500).length, 200);
  assert.throws(() => sampleItems(items, -1), /non-negative integer/);
});
