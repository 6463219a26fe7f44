// LoraLinear: PEFT's init (fresh adapter is a no-op), forward and gradients against plain autodiff, frozen
// base (no gradient), seeded training-only dropout, merge/unmerge with one deltaWeight, non-finite refusal.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { Linear } from "../../src/model/layers";
import { Rng } from "../../src/runtime/seed";
import { LoraLinear, kaimingUniformA } from "../../src/lora/layer";
import { resolveLoraConfig, loraScaling } from "../../src/lora/config";
import { maxAbsDiff } from "./helpers/fixtures";

const OUT = 12;
const IN = 10;

function makeBase(withBias = true): Linear {
  const rng = new Rng(3);
  const w = Float32Array.from({ length: OUT * IN }, () => rng.normal());
  const b = Float32Array.from({ length: OUT }, () => rng.normal());
  return new Linear(
    "test.dense",
    tf.variable(tf.tensor2d(w, [OUT, IN])),
    withBias ? tf.variable(tf.tensor1d(b)) : null,
  );
}

function randomize(v: tf.Variable, seed: number): void {
  const rng = new Rng(seed);
  tf.tidy(() =>
    v.assign(
      tf.tensor(
        Float32Array.from({ length: v.size }, () => rng.normal()),
        v.shape,
      ),
    ),
  );
}

test("A is Kaiming-uniform on ±1/sqrt(in) (PEFT: kaiming_uniform_ with a=sqrt(5)) and seeded", () => {
  const a = kaimingUniformA(64, 256, new Rng(5));
  const bound = 1 / Math.sqrt(256);
  let sq = 0;
  for (const x of a) {
    assert.ok(Math.abs(x) <= bound);
    sq += x * x;
  }
  const variance = sq / a.length; // uniform on ±bound: bound²/3
  assert.ok(Math.abs(variance / ((bound * bound) / 3) - 1) < 0.05, `variance ${variance} vs ${(bound * bound) / 3}`);
  assert.deepEqual(a, kaimingUniformA(64, 256, new Rng(5)));
  assert.notDeepEqual(a, kaimingUniformA(64, 256, new Rng(6)));
});

test("a fresh adapter (B = 0) changes nothing; a trained one adds scaling·B·A·x", async () => {
  await useTestBackend();
  const base = makeBase();
  const lora = new LoraLinear(base);
  const before = tf.memory().numTensors;
  const cfg = resolveLoraConfig({ r: 4, alpha: 8 });
  const ad = lora.addAdapter("a", cfg, 1);
  lora.setActive(["a"]);
  const x = tf.randomNormal([2, 3, IN], 0, 1, "float32", 7);
  const yb = tf.tidy(() => base.apply(x));
  const y = tf.tidy(() => lora.apply(x));
  assert.deepEqual(y.shape, [2, 3, OUT]);
  assert.equal(maxAbsDiff(y.dataSync(), yb.dataSync()), 0);
  assert.ok(ad.B.dataSync().every((v) => v === 0));
  randomize(ad.B, 9);
  const y2 = tf.tidy(() => lora.apply(x));
  const ref = tf.tidy(() =>
    tf.add(
      yb,
      tf.mul(
        tf.matMul(tf.matMul(tf.reshape(x, [6, IN]), ad.A, false, true), ad.B, false, true).reshape([2, 3, OUT]),
        2,
      ),
    ),
  );
  assert.ok(maxAbsDiff(y2.dataSync(), ref.dataSync()) < 1e-5);
  tf.dispose([x, yb, y, y2, ref]);
  lora.dispose();
  assert.equal(tf.memory().numTensors, before, "apply leaks nothing and dispose frees the adapters");
});

test("gradients match plain autodiff for x, A and B; the frozen base gets none", async () => {
  await useTestBackend();
  for (const withBias of [true, false]) {
    const base = makeBase(withBias);
    const lora = new LoraLinear(base);
    const a1 = lora.addAdapter("a", resolveLoraConfig({ r: 3, alpha: 6 }), 1);
    const a2 = lora.addAdapter("b", resolveLoraConfig({ r: 2, alpha: 2, useRslora: true }), 2);
    randomize(a1.B, 11);
    randomize(a2.B, 12);
    lora.setActive(["a", "b"], [0.7, -0.4]);
    const x = tf.randomNormal([5, IN], 0, 1, "float32", 3);
    const R = tf.randomNormal([5, OUT], 0, 1, "float32", 4);
    const before = tf.memory().numTensors;
    const ours = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(lora.apply(x), R)) as tf.Scalar,
        [a1.A, a1.B, a2.A, a2.B, base.weight],
      );
      const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(lora.apply(xx), R)))(x);
      return { grads, dx, hasW: base.weight.name in grads };
    });
    assert.equal(ours.hasW, false, "the frozen base weight must get no gradient");
    const s1 = 0.7 * loraScaling({ r: 3, alpha: 6, useRslora: false });
    const s2 = -0.4 * loraScaling({ r: 2, alpha: 2, useRslora: true });
    const ref = tf.tidy(() => {
      const f = (xx: tf.Tensor, A1: tf.Tensor, B1: tf.Tensor, A2: tf.Tensor, B2: tf.Tensor) => {
        let y = tf.matMul(xx, base.weight, false, true);
        if (base.bias) y = tf.add(y, base.bias);
        y = tf.add(y, tf.mul(tf.matMul(tf.matMul(xx, A1, false, true), B1, false, true), s1));
        y = tf.add(y, tf.mul(tf.matMul(tf.matMul(xx, A2, false, true), B2, false, true), s2));
        return tf.sum(tf.mul(y, R));
      };
      return tf.grads(f)([x, a1.A, a1.B, a2.A, a2.B]);
    });
    const got = [ours.dx, ours.grads[a1.A.name], ours.grads[a1.B.name], ours.grads[a2.A.name], ours.grads[a2.B.name]];
    got.forEach((g, i) =>
      assert.ok(maxAbsDiff(g.dataSync(), ref[i].dataSync()) < 1e-4, `gradient ${i} (bias ${withBias})`),
    );
    tf.dispose([...got, ...ref]);
    assert.equal(tf.memory().numTensors, before, "no leak from gradient computation");
    tf.dispose([x, R]);
    lora.dispose();
  }
});

test("dropout: only in training mode, seeded", async () => {
  await useTestBackend();
  const run = (seed: number, training: boolean) => {
    const lora = new LoraLinear(makeBase(), seed);
    const ad = lora.addAdapter("a", resolveLoraConfig({ r: 4, alpha: 4, dropout: 0.5 }), 1);
    randomize(ad.B, 2);
    lora.setActive(["a"]);
    lora.training = training;
    const x = tf.ones([4, IN]);
    const y = tf.tidy(() => lora.apply(x).dataSync().slice());
    x.dispose();
    lora.dispose();
    return y;
  };
  const off = run(0, false);
  assert.deepEqual(run(1, false), off, "no dropout outside training");
  const t1 = run(1, true);
  assert.deepEqual(run(1, true), t1, "same seed, same masks");
  assert.ok(maxAbsDiff(t1, off) > 1e-3, "dropout changes the training output");
  assert.ok(maxAbsDiff(run(2, true), t1) > 1e-3, "another seed, other masks");
});

test("merge adds one deltaWeight, unmerge removes it; non-finite merges are refused naming the adapter", async () => {
  await useTestBackend();
  const base = makeBase();
  const lora = new LoraLinear(base);
  const ad = lora.addAdapter("customerA", resolveLoraConfig({ r: 4, alpha: 16 }), 1);
  randomize(ad.B, 5);
  lora.setActive(["customerA"]);
  const w0 = base.weight.dataSync().slice();
  const x = tf.randomNormal([3, IN], 0, 1, "float32", 1);
  const unmerged = lora.apply(x).dataSync().slice();
  const before = tf.memory().numTensors;
  lora.merge("customerA");
  assert.equal(tf.memory().numTensors, before, "merge leaks nothing");
  const delta = lora.deltaWeight("customerA");
  const expectW = tf.tidy(() => tf.add(tf.tensor2d(w0, [OUT, IN]), delta));
  assert.ok(maxAbsDiff(base.weight.dataSync(), expectW.dataSync()) === 0);
  assert.ok(maxAbsDiff(lora.apply(x).dataSync(), unmerged) < 1e-5, "merged output = unmerged output");
  assert.deepEqual(lora.mergedAdapters(), ["customerA"]);
  assert.throws(() => lora.merge("customerA"), /already merged/);
  lora.unmerge("customerA");
  assert.ok(maxAbsDiff(base.weight.dataSync(), w0) < 1e-6, "unmerge restores W within 1e-6");
  tf.tidy(() => ad.A.assign(tf.fill(ad.A.shape, NaN)));
  assert.throws(
    () => lora.merge("customerA"),
    /cannot merge adapter "customerA" into test\.dense: the merged weights are not finite/,
  );
  assert.deepEqual(Array.from(base.weight.dataSync()), Array.from(base.weight.dataSync().map((v) => v)));
  assert.ok(maxAbsDiff(base.weight.dataSync(), w0) < 1e-6, "a refused merge leaves W alone");
  tf.dispose([x, delta, expectW]);
  lora.dispose();
});
