// Dedup: normalisation, exact and near duplicates (word and char n-grams) with the item each one duplicated,
// first occurrence kept, MinHash agreeing with exact Jaccard, and ~10k items in reasonable time.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { dedup, normalizeText, shingles, jaccard, minhash } from "../../src/data/dedup";
import { Rng } from "../../src/runtime/seed";

test("normalisation: case, white space, punctuation and Unicode NFC", () => {
  assert.equal(normalizeText("  What IS a Tensor?! "), "what is a tensor");
  assert.equal(normalizeText("caf\u0065\u0301"), normalizeText("caf\u00e9")); // decomposed é = composed é
  assert.equal(normalizeText("a\tb\n\nc"), "a b c");
  assert.notEqual(normalizeText("tensor"), normalizeText("tensors"));
});

test("exact duplicates after normalisation are removed, naming the kept item", () => {
  const items = [
    "What is a tensor?",
    "what is a TENSOR",
    "How do I train?",
    "What is a  tensor ?!",
    "caf\u0065\u0301 menu",
    "caf\u00e9 menu",
  ];
  const r = dedup(items, { near: false });
  assert.deepEqual(r.kept, ["What is a tensor?", "How do I train?", "caf\u0065\u0301 menu"]);
  assert.deepEqual(r.keptIndices, [0, 2, 4]);
  assert.deepEqual(
    r.removed.map((x) => [x.index, x.duplicateOf, x.kind]),
    [
      [1, 0, "exact"],
      [3, 0, "exact"],
      [5, 4, "exact"],
    ],
  );
  assert.deepEqual(r.counts, { input: 6, exact: 3, near: 0, kept: 3 });
});

test("near duplicates by word 3-gram Jaccard: removed above the threshold, kept below", () => {
  const base = "the learning rate controls how big a step the optimizer takes along the gradient at each update";
  const oneWord = base.replace("big", "large"); // 3 of 16 trigrams change
  const different = "a tokenizer turns text into integer ids that the model reads one position at a time";
  const items = [
    { question: base, answer: "" },
    { question: different, answer: "" },
    { question: oneWord, answer: "" },
  ];
  const sim = jaccard(shingles(base), shingles(oneWord));
  assert.ok(sim > 0.6 && sim < 0.9, `similarity ${sim}`);
  const r = dedup(items, { key: (x) => x.question, threshold: 0.6 });
  assert.deepEqual(
    r.removed.map((x) => [x.index, x.duplicateOf, x.kind]),
    [[2, 0, "near"]],
  );
  assert.equal(r.removed[0].similarity, sim);
  const strict = dedup(items, { key: (x) => x.question, threshold: 0.95 });
  assert.equal(strict.removed.length, 0, "below the threshold nothing is removed");
});

test("char 5-grams catch typo-level differences that word 3-grams miss", () => {
  const a = "How do I install the tunebook package on Windows?";
  const b = "How do I install the tunebook pakcage on Windows?"; // one typo
  assert.equal(dedup([a, b], { threshold: 0.7 }).removed.length, 0, "3 of 7 word trigrams differ");
  const r = dedup([a, b], { unit: "char", n: 5, threshold: 0.7 });
  assert.deepEqual(
    r.removed.map((x) => [x.index, x.duplicateOf]),
    [[1, 0]],
  );
});

test("default key reads question + answer; the first occurrence wins even when later ones are near-identical", () => {
  const p = (q: string, a: string) => ({ question: q, answer: a });
  const items = [
    p("What is a tensor?", "An array with a shape."),
    p("What is a tensor?", "A multi-dimensional array of numbers."),
    p("what is a tensor", "an array with a shape"),
  ];
  const r = dedup(items);
  assert.deepEqual(r.keptIndices, [0, 1]);
  assert.deepEqual(
    r.removed.map((x) => [x.index, x.duplicateOf, x.kind]),
    [[2, 0, "exact"]],
  );
  assert.throws(() => dedup([{ foo: 1 }] as any[]), /cannot read text.*pass options\.key/);
  assert.throws(() => dedup(["a"], { threshold: 0 }), /threshold must be in \(0, 1\]/);
});

test("MinHash estimates Jaccard: the share of equal signature entries is close to the true similarity", () => {
  const rng = new Rng(1);
  const vocab = Array.from({ length: 300 }, (_, i) => `w${i}`);
  const a = Array.from({ length: 200 }, () => vocab[rng.int(vocab.length)]).join(" ");
  const b = a
    .split(" ")
    .map((w) => (rng.next() < 0.1 ? vocab[rng.int(vocab.length)] : w))
    .join(" ");
  const sa = shingles(a),
    sb = shingles(b);
  const truth = jaccard(sa, sb);
  const k = 512;
  const ha = minhash(sa, k),
    hb = minhash(sb, k);
  let eq = 0;
  for (let i = 0; i < k; i++) if (ha[i] === hb[i]) eq++;
  assert.ok(Math.abs(eq / k - truth) < 0.08, `estimate ${eq / k} vs truth ${truth}`);
});

test("10k items: planted near duplicates are all found, none of the distinct ones are removed, in seconds", () => {
  const rng = new Rng(7);
  const vocab = Array.from({ length: 5000 }, (_, i) => `t${i}`);
  const items: string[] = [];
  for (let i = 0; i < 9000; i++) items.push(Array.from({ length: 20 }, () => vocab[rng.int(vocab.length)]).join(" "));
  const planted: [number, number][] = [];
  for (let i = 0; i < 1000; i++) {
    const src = rng.int(9000);
    const w = items[src].split(" ");
    w[19] = "changed"; // last word differs: 17 of 18 trigrams shared, then one new -> J = 17/19
    planted.push([items.length, src]);
    items.push(w.join(" "));
  }
  const t0 = Date.now();
  const r = dedup(items, { threshold: 0.8 });
  const ms = Date.now() - t0;
  const removed = new Map(r.removed.map((x) => [x.index, x.duplicateOf]));
  for (const [i] of planted) assert.ok(removed.has(i), `planted duplicate ${i} was not found`);
  for (const x of r.removed) assert.ok(x.index >= 9000, `distinct item ${x.index} removed`);
  for (const [i, src] of planted) {
    const d = removed.get(i)!;
    assert.ok(
      d === src || items[d].split(" ").slice(0, 19).join(" ") === items[src].split(" ").slice(0, 19).join(" "),
      `item ${i} matched ${d}, not its source ${src}`,
    );
  }
  console.log(`dedup of ${items.length} items: ${ms} ms, removed ${r.removed.length}`);
});
