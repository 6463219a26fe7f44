import * as assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { type Reads, readSync, runReads, runReadsAsync, sumTensors, syncReads } from "../../src/kernels";

test("sumTensors: in groups of at most maxInputs, the sum of tf.addN; one addN where the backend binds them all", async () => {
  await useTestBackend();
  const xs = Array.from({ length: 17 }, (_, i) => tf.tensor1d([i, 2 * i, 0.5 + i]));
  const want = tf.tidy(() => tf.addN(xs).arraySync());
  for (const max of [2, 3, 7, 16, 17]) {
    const got = tf.tidy(() => sumTensors(xs, max).arraySync());
    assert.deepEqual(got, want, `maxInputs ${max}`);
  }
  const before = tf.memory().numTensors;
  const one = tf.tidy(() => sumTensors(xs)); // wasm/cpu: a single addN
  assert.deepEqual(one.arraySync(), want);
  one.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => sumTensors([]), /nothing to add/);
  assert.throws(() => sumTensors(xs, 1), /maxInputs must be at least 2, found 1/);
  tf.dispose(xs);
});

function* doubleSum(n: number, log: string[], disposedAt = 0): Reads<number[]> {
  const got: number[] = [];
  try {
    for (let i = 1; i <= n; i++) {
      const t = tf.tensor1d([i, i]);
      if (i === disposedAt) t.dispose(); // its read fails
      const v = yield t;
      got.push(v[0] + v[1]);
    }
    return got;
  } finally {
    log.push(`closed after ${got.length}`);
  }
}

test("runReads / runReadsAsync drive one body with sync or awaited reads, freeing every tensor read", async () => {
  await useTestBackend();
  assert.equal(syncReads(), true, "wasm and cpu read synchronously");
  const before = tf.memory().numTensors;
  const log: string[] = [];
  assert.deepEqual(runReads(doubleSum(3, log), "doubleSum", "await it"), [2, 4, 6]);
  assert.deepEqual(await runReadsAsync(doubleSum(3, log)), [2, 4, 6]);
  assert.equal(tf.memory().numTensors, before);
  // a read that fails closes the body (its finally runs) and frees what it yielded
  assert.throws(() => runReads(doubleSum(3, log, 2), "doubleSum", "await it"), /disposed/);
  await assert.rejects(() => runReadsAsync(doubleSum(3, log, 2)), /disposed/);
  assert.deepEqual(log, ["closed after 3", "closed after 3", "closed after 1", "closed after 1"]);
  assert.equal(tf.memory().numTensors, before);
  const t = tf.scalar(4);
  assert.deepEqual(Array.from(readSync(t, "x", "y")), [4]);
  t.dispose();
});
