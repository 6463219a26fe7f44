import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { BatchStream, TrainDataError, collate, prepareExamples, disposeBatch } from "../../src/train/data";

const ex = (n: number, start = 0) => ({ inputIds: Array.from({ length: n }, (_, i) => start + i) });

test("collate pads on the right, masks labels and attention at pads, counts shifted loss tokens", async () => {
  await useTestBackend();
  const before = tf.memory().numTensors;
  const b = collate(
    [
      { inputIds: [5, 6, 7], labels: [-100, 6, 7] },
      { inputIds: [8, 9], labels: [8, 9] },
    ],
    1,
  );
  assert.deepEqual(b.inputIds.arraySync(), [
    [5, 6, 7],
    [8, 9, 1],
  ]);
  assert.deepEqual(b.labels.arraySync(), [
    [-100, 6, 7],
    [8, 9, -100],
  ]);
  assert.deepEqual(b.attentionMask!.arraySync(), [
    [1, 1, 1],
    [1, 1, 0],
  ]);
  assert.equal(b.inputIds.dtype, "int32");
  assert.equal(b.numTokens, 3); // labels[:,1:] != -100: 6, 7 and 9
  assert.equal(b.numInputTokens, 5);
  disposeBatch(b);
  assert.equal(tf.memory().numTensors, before);
  const fixed = collate([{ inputIds: [5, 6], labels: [5, 6] }], 0, 4);
  assert.deepEqual(fixed.inputIds.shape, [1, 4]);
  disposeBatch(fixed);
});

test("examples are validated with the index and field named; truncated; useless ones dropped", () => {
  assert.throws(
    () => prepareExamples([ex(3), { inputIds: [1, 2.5] }], 8),
    (e: any) => e instanceof TrainDataError && /data\[1\]\.inputIds\[1\]: expected an integer token id/.test(e.message),
  );
  assert.throws(
    () => prepareExamples([{ inputIds: [1, 2], labels: [1] }], 8),
    /data\[0\]\.labels: length 1 differs from inputIds length 2/,
  );
  assert.throws(
    () => prepareExamples([{ inputIds: [1, 2], labels: [1, -5] }], 8),
    /data\[0\]\.labels\[1\]: expected a token id ≥ 0 or -100/,
  );
  assert.throws(() => prepareExamples([{ inputIds: [1] }], 8), /no example has a token to learn from/);
  const { examples, dropped } = prepareExamples(
    [ex(10), { inputIds: [1] }, { inputIds: [1, 2, 3, 4, 5], labels: [-100, -100, -100, -100, 5] }],
    4,
  );
  assert.equal(dropped, 2); // one token only; the only scored label cut off by truncation
  assert.deepEqual(examples[0].inputIds, [0, 1, 2, 3]);
  assert.deepEqual(examples[0].labels, [0, 1, 2, 3]);
});

test("the stream is seeded, covers every example once per epoch and keeps batches full across epochs", () => {
  const data = Array.from({ length: 10 }, (_, i) => ex(3, i * 10));
  const ids = (s: BatchStream, n: number) =>
    Array.from({ length: n }, () => s.nextExamples().map((e) => e.inputIds[0]));
  const a = ids(new BatchStream(data, { batchSize: 4, seed: 7 }), 5);
  const b = ids(new BatchStream(data, { batchSize: 4, seed: 7 }), 5);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, ids(new BatchStream(data, { batchSize: 4, seed: 8 }), 5));
  assert.ok(a.every((batch) => batch.length === 4));
  const flat = a.flat();
  assert.deepEqual(
    [...flat.slice(0, 10)].sort((x, y) => x - y),
    data.map((d) => d.inputIds[0]),
  );
  assert.deepEqual(
    [...flat.slice(10, 20)].sort((x, y) => x - y),
    data.map((d) => d.inputIds[0]),
  );
  assert.notDeepEqual(flat.slice(0, 10), flat.slice(10, 20), "each epoch gets its own permutation");
  const plain = ids(new BatchStream(data, { batchSize: 4, shuffle: false }), 1);
  assert.deepEqual(plain[0], [0, 10, 20, 30]);
});

test("a restored position continues exactly, across an epoch boundary", () => {
  const data = Array.from({ length: 7 }, (_, i) => ex(3, i * 10));
  const s1 = new BatchStream(data, { batchSize: 3, seed: 1 });
  for (let i = 0; i < 3; i++) s1.nextExamples();
  const pos = JSON.parse(JSON.stringify(s1.position()));
  const rest1 = Array.from({ length: 4 }, () => s1.nextExamples().map((e) => e.inputIds[0]));
  const s2 = new BatchStream(data, { batchSize: 3, seed: 999 }); // a different seed: the position carries the RNG state
  s2.setPosition(pos);
  const rest2 = Array.from({ length: 4 }, () => s2.nextExamples().map((e) => e.inputIds[0]));
  assert.deepEqual(rest2, rest1);
  assert.throws(() => s2.setPosition({ epoch: 0, index: 99, epochRngState: 1 }), /data position/);
});
