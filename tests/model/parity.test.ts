// Parity with Hugging Face transformers 4.31 on the tiny reference models in FIXTURES/neox-tiny:
// logits (1e-4 abs, real positions), losses (1e-5 rel), gradients (1e-4 abs), for model A (parallel residual,
// exact GELU, rotary 2/8 dims), model B (sequential residual, gelu_new, rotary 4/8) and A's F16 checkpoint.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { causalLMLoss } from "../../src/model/loss";
import { loadCases, maxAbsDiff, modelDir, tensorOf, type FixtureCase } from "./helpers/neox-fixtures";

const LOGIT_TOL = 1e-4;
const LOSS_REL_TOL = 1e-5;
const GRAD_TOL = 1e-4;

function checkCase(model: GPTNeoXForCausalLM, c: FixtureCase, label: string): void {
  const before = tf.memory().numTensors;
  const { logits, loss } = tf.tidy(() => {
    const out = model.forward(c.input_ids, {
      attentionMask: c.attention_mask ?? undefined,
      positionIds: c.position_ids ?? undefined,
    });
    return { logits: out.logits, loss: causalLMLoss(out.logits, c.labels) };
  });
  assert.deepEqual(logits.shape, c.logits.shape, `${label}: logits shape`);
  const got = logits.dataSync();
  const V = c.logits.shape[2];
  const T = c.logits.shape[1];
  // Only real (mask = 1) positions are meaningful in the padded cases.
  const real = (i: number) => {
    if (!c.attention_mask) return true;
    const pos = Math.floor(i / V);
    return c.attention_mask[Math.floor(pos / T)][pos % T] === 1;
  };
  const d = maxAbsDiff(got, c.logits.data, real);
  assert.ok(d <= LOGIT_TOL, `${label}: max |logits − HF| = ${d} > ${LOGIT_TOL}`);
  const l = loss.dataSync()[0];
  const rel = Math.abs(l - c.loss) / Math.abs(c.loss);
  assert.ok(rel <= LOSS_REL_TOL, `${label}: loss ${l} vs HF ${c.loss} (rel ${rel})`);
  logits.dispose();
  loss.dispose();
  assert.equal(tf.memory().numTensors, before, `${label}: forward + loss leaked tensors`);
}

for (const name of ["A", "B"] as const) {
  test(`model ${name}: logits and losses match HF on every case`, async () => {
    await useTestBackend();
    const fx = loadCases(name);
    const model = await GPTNeoXForCausalLM.fromPretrained(modelDir(name));
    try {
      assert.equal(fx.cases.length, 5);
      for (const c of fx.cases) checkCase(model, c, `${name}/${c.name}`);
    } finally {
      model.dispose();
    }
  });

  test(`model ${name}: gradients of the seq1 loss match HF`, async () => {
    await useTestBackend();
    const fx = loadCases(name);
    const model = await GPTNeoXForCausalLM.fromPretrained(modelDir(name));
    try {
      const c = fx.cases.find((x) => x.name === fx.grads.case)!;
      const params = model.parameters();
      const names = [
        "gpt_neox.layers.0.attention.query_key_value.weight",
        "embed_out.weight",
        "gpt_neox.embed_in.weight",
      ];
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(
        () => causalLMLoss(model.forward(c.input_ids).logits, c.labels),
        names.map((n) => params.get(n)!),
      );
      const rel = Math.abs(value.dataSync()[0] - Math.fround(fx.grads.loss)) / fx.grads.loss;
      assert.ok(rel <= LOSS_REL_TOL, `loss rel diff ${rel}`);
      for (const n of names.slice(0, 2)) {
        const ref = tensorOf(fx.grads[n]);
        const g = grads[n] ?? grads[params.get(n)!.name];
        assert.ok(g, `no gradient for ${n}`);
        assert.deepEqual(g.shape, ref.shape, `${n}: gradient shape`);
        const d = maxAbsDiff(g.dataSync(), ref.data);
        assert.ok(d <= GRAD_TOL, `${n}: max |grad − HF| = ${d}`);
      }
      // The embedding gradient (scatterND path) is non-zero exactly on the rows of the ids that influence the
      // loss: every input but the last (the last position predicts nothing, and no earlier one attends to it).
      const ge = grads[params.get("gpt_neox.embed_in.weight")!.name].arraySync() as number[][];
      const seen = new Set(c.input_ids[0].slice(0, -1));
      ge.forEach((row, id) =>
        assert.equal(
          row.some((x) => x !== 0),
          seen.has(id),
          `embed_in grad row ${id}`,
        ),
      );
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      assert.equal(tf.memory().numTensors, before, "variableGrads leaked tensors");
    } finally {
      model.dispose();
    }
  });
}

test("model A from the F16 checkpoint matches HF's f16 case", async () => {
  await useTestBackend();
  const fx = loadCases("A");
  const f16 = fx.f16!;
  const model = await GPTNeoXForCausalLM.fromPretrained(path.join(modelDir("A"), f16.weights_file));
  try {
    checkCase(model, f16, "A/f16");
    // And the F16 weights really differ from the F32 ones (the case would be vacuous otherwise).
    const f32 = fx.cases.find((x) => x.name === "seq1")!;
    assert.ok(maxAbsDiff(f16.logits.data, f32.logits.data) > 1e-3);
  } finally {
    model.dispose();
  }
});
