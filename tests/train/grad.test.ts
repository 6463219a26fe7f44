import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { TinyLM, toyExamples } from "./helpers/tiny-lm";
import { leanVariableGrads } from "../../src/kernels";
import {
  accumulateGradients,
  clipByGlobalNorm,
  clipCoefficient,
  scaleGradients,
  stepNumbers,
} from "../../src/train/grad";
import { collate, prepareExamples } from "../../src/train/data";

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0,
    scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
};

test("accumulation: 2 micro-batches of 2 give the gradient and loss of one batch of 4 (token-weighted mean)", async () => {
  await useTestBackend();
  const model = new TinyLM();
  const vars = model.trainableVariables();
  // different lengths and masks, so micro-batches hold different token counts (plain averaging would differ)
  const { examples } = prepareExamples(toyExamples(4, 12, 5), 16);
  const before = tf.memory().numTensors;
  const [full, accum, naive] = tf.tidy(() => {
    const one = accumulateGradients(model, vars, [() => collate(examples, 0)]);
    const n1 = stepNumbers(one, 0);
    const g1 = scaleGradients(one.gradSums, n1.scale);
    const two = accumulateGradients(model, vars, [
      () => collate(examples.slice(0, 2), 0),
      () => collate(examples.slice(2), 0),
    ]);
    const n2 = stepNumbers(two, 0);
    const g2 = scaleGradients(two.gradSums, n2.scale);
    // what averaging the two micro-batch means would give (HF Trainer style), to show the test can tell
    const la = tf.variableGrads(() => model.loss(collate(examples.slice(0, 2), 0)), [...vars.values()]);
    const lb = tf.variableGrads(() => model.loss(collate(examples.slice(2), 0)), [...vars.values()]);
    const v = vars.get("out.weight")!.name;
    return [
      { loss: n1.loss, norm: n1.gradNorm, g: g1.get("out.weight")!.dataSync(), tokens: one.numTokens },
      { loss: n2.loss, norm: n2.gradNorm, g: g2.get("out.weight")!.dataSync(), tokens: two.numTokens },
      { g: la.grads[v].add(lb.grads[v]).div(2).dataSync() },
    ];
  });
  assert.equal(tf.memory().numTensors, before, "everything inside the tidy is freed");
  assert.equal(accum.tokens, full.tokens);
  assert.ok(Math.abs(accum.loss - full.loss) < 1e-6, `${accum.loss} vs ${full.loss}`);
  assert.ok(Math.abs(accum.norm - full.norm) < 1e-5 * full.norm);
  assert.ok(maxRelDiff(accum.g, full.g) < 1e-5, `accumulated vs full: ${maxRelDiff(accum.g, full.g)}`);
  assert.ok(maxRelDiff(naive.g, full.g) > 1e-3, "unequal token counts: the plain mean of means must differ");
  model.dispose();
});

test("clipping follows clip_grad_norm_: scaled to maxNorm when above, untouched when below", async () => {
  await useTestBackend();
  assert.equal(clipCoefficient(0.5, 1), 1);
  assert.equal(clipCoefficient(10, 0), 1);
  assert.ok(Math.abs(clipCoefficient(4, 1) - 1 / (4 + 1e-6)) < 1e-15);
  const grads = new Map<string, tf.Tensor>([
    ["a", tf.tensor1d([3, 0])],
    ["b", tf.tensor2d([[0, 4]])],
  ]); // global norm 5
  const { grads: clipped, norm } = tf.tidy(() => {
    const r = clipByGlobalNorm(grads, 1);
    return { grads: new Map([...r.grads].map(([k, v]) => [k, [...v.dataSync()]])), norm: r.norm };
  });
  assert.ok(Math.abs(norm - 5) < 1e-6);
  assert.ok(Math.abs(clipped.get("a")![0] - 0.6) < 1e-6 && Math.abs(clipped.get("b")![1] - 0.8) < 1e-6);
  const small = tf.tidy(() => clipByGlobalNorm(grads, 10).grads.get("a")!.dataSync());
  assert.deepEqual([...small], [3, 0]);
  tf.dispose([...grads.values()]);
});

test("stepNumbers reports the pre-clip norm and folds clipping into one scale", async () => {
  await useTestBackend();
  const model = new TinyLM();
  const { examples } = prepareExamples(toyExamples(4), 16);
  const r = tf.tidy(() => {
    const acc = accumulateGradients(model, model.trainableVariables(), [() => collate(examples, 0)]);
    const free = stepNumbers(acc, 0);
    const clipped = stepNumbers(acc, free.gradNorm / 4);
    const g = scaleGradients(acc.gradSums, clipped.scale);
    const after = Math.sqrt([...g.values()].reduce((s, t) => s + t.square().sum().dataSync()[0], 0));
    return { free, clipped, after };
  });
  assert.equal(r.free.scale, 1, "one micro-batch, no clipping: no multiply at all");
  assert.equal(r.clipped.gradNorm, r.free.gradNorm);
  assert.ok(Math.abs(r.after - r.free.gradNorm / 4) < 1e-4 * r.free.gradNorm);
  model.dispose();
});

test("leanVariableGrads: the same loss and gradients as tf.variableGrads, nothing left behind, errors cleaned up", async () => {
  await useTestBackend();
  const model = new TinyLM();
  const vars = [...model.trainableVariables().values()];
  const { examples } = prepareExamples(toyExamples(3, 10, 7), 16);
  const batch = collate(examples, 0);
  const before = tf.memory().numTensors;
  const lean = leanVariableGrads(() => model.loss(batch), vars);
  const ref = tf.variableGrads(() => model.loss(batch), vars);
  assert.equal(lean.value.dataSync()[0], ref.value.dataSync()[0]);
  assert.deepEqual(Object.keys(lean.grads).sort(), Object.keys(ref.grads).sort());
  for (const k of Object.keys(ref.grads))
    assert.deepEqual([...lean.grads[k].dataSync()], [...ref.grads[k].dataSync()], k);
  tf.dispose([lean.value, ref.value, ...Object.values(lean.grads), ...Object.values(ref.grads)]);
  assert.equal(tf.memory().numTensors, before, "only the value and the gradients were returned");
  assert.throws(
    () =>
      leanVariableGrads(() => {
        model.loss(batch);
        throw new Error("boom");
      }, vars),
    /boom/,
  );
  assert.equal(tf.memory().numTensors, before, "a failing loss leaves nothing behind");
  assert.equal((tf.engine() as any).state.activeTape, null, "the tape is dropped");
  tf.dispose([batch.inputIds, batch.labels, ...(batch.attentionMask ? [batch.attentionMask] : [])]);
});
