// The model object: KV cache = full forward, lastOnly, no leaks through forward + loss + gradients,
// dense layers addressable and replaceable by HF name (for LoRA), seeded init, rotary, input errors.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { KVCache } from "../../src/model/kvcache";
import { Linear, type LinearLike } from "../../src/model/layers";
import { causalLMLoss } from "../../src/model/loss";
import { countParameters } from "../../src/model/presets";
import { makeConfig } from "../../src/model/config";
import { applyRotary, inverseFrequencies, rotaryTables } from "../../src/model/rotary";
import { maxAbsDiff, modelDir } from "./helpers/neox-fixtures";

const logitsOf = (m: GPTNeoXForCausalLM, ids: number[][], opts = {}) =>
  tf.tidy(() => m.forward(ids, opts).logits.arraySync() as number[][][]);

test("forward in chunks through a KV cache equals one full forward (with left padding)", async () => {
  await useTestBackend();
  const model = await GPTNeoXForCausalLM.fromPretrained(modelDir("B"));
  try {
    const ids = [
      [1, 1, 65, 26, 62, 80, 92, 14],
      [108, 8, 125, 9, 95, 95, 75, 108],
    ];
    const mask = [
      [0, 0, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1, 1, 1],
    ];
    const pos = [
      [1, 1, 0, 1, 2, 3, 4, 5],
      [0, 1, 2, 3, 4, 5, 6, 7],
    ];
    const full = logitsOf(model, ids, { attentionMask: mask, positionIds: pos });
    const before = tf.memory().numTensors;
    const cache = new KVCache(model.config.numHiddenLayers);
    const parts: number[][][][] = [];
    for (const [s, e] of [
      [0, 3],
      [3, 4],
      [4, 8],
    ]) {
      parts.push(
        logitsOf(
          model,
          ids.map((r) => r.slice(s, e)),
          { cache, attentionMask: mask.map((r) => r.slice(0, e)), positionIds: pos.map((r) => r.slice(s, e)) },
        ),
      );
    }
    assert.equal(cache.length, 8);
    cache.dispose();
    assert.equal(tf.memory().numTensors, before, "cache tensors freed");
    const chunked = [0, 1].map((b) => parts.flatMap((p) => p[b]));
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 8; t++) {
        if (mask[b][t] === 0) continue;
        assert.ok(maxAbsDiff(chunked[b][t], full[b][t]) < 2e-5, `row ${b} position ${t}`);
      }
    }
    // lastOnly returns the last position's logits
    const last = logitsOf(model, ids, { attentionMask: mask, positionIds: pos, lastOnly: true });
    assert.equal(last[0].length, 1);
    assert.ok(maxAbsDiff(last[1][0], full[1][7]) < 1e-5);
  } finally {
    model.dispose();
  }
});

test("forward + loss + gradients of every parameter leave no tensors behind", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(
    makeConfig({ vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32 }),
    { seed: 0 },
  );
  try {
    const ids = [
      [1, 2, 3, 4],
      [5, 6, 7, 0],
    ];
    const labels = [
      [1, 2, 3, 4],
      [5, 6, 7, -100],
    ];
    const before = tf.memory().numTensors;
    const vars = [...model.parameters().values()];
    const { value, grads } = tf.variableGrads(
      () =>
        causalLMLoss(
          model.forward(ids, {
            attentionMask: [
              [1, 1, 1, 1],
              [1, 1, 1, 0],
            ],
          }).logits,
          labels,
        ),
      vars,
    );
    assert.equal(Object.keys(grads).length, vars.length);
    for (const [name, v] of model.parameters()) {
      const g = grads[v.name];
      assert.deepEqual(g.shape, v.shape, name);
      assert.ok(
        g.dataSync().some((x) => x !== 0),
        `zero gradient for ${name}`,
      );
    }
    value.dispose();
    tf.dispose(Object.values(grads));
    assert.equal(tf.memory().numTensors, before);
    const { logits } = model.forward(ids);
    logits.dispose();
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test("dense layers are reachable and replaceable by HF name (the LoRA hook)", async () => {
  await useTestBackend();
  const model = await GPTNeoXForCausalLM.fromPretrained(modelDir("A"));
  try {
    const names = model.linearNames();
    assert.equal(names.length, 4 * 2 + 1);
    assert.equal(names[0], "gpt_neox.layers.0.attention.query_key_value");
    const qkvName = "gpt_neox.layers.0.attention.query_key_value";
    const qkv = model.getLinear(qkvName) as Linear;
    assert.ok(qkv instanceof Linear);
    assert.equal(qkv.weight, model.parameters().get(`${qkvName}.weight`));
    assert.deepEqual(qkv.weight.shape, [96, 32]);
    const ids = [[71, 41, 86, 49, 100]];
    const base = logitsOf(model, ids);
    let calls = 0;
    const passthrough: LinearLike = { apply: (x) => (calls++, qkv.apply(x)) };
    assert.equal(model.setLinear(qkvName, passthrough), qkv);
    assert.deepEqual(logitsOf(model, ids), base);
    assert.equal(calls, 1);
    const shifted: LinearLike = { apply: (x) => tf.add(qkv.apply(x), 0.5) };
    model.setLinear(qkvName, shifted);
    assert.ok(maxAbsDiff(logitsOf(model, ids).flat(2), base.flat(2)) > 1e-3, "a replaced layer changes the output");
    model.setLinear(qkvName, qkv);
    assert.deepEqual(logitsOf(model, ids), base);
    assert.throws(
      () => model.getLinear("gpt_neox.layers.7.attention.dense"),
      /no dense layer named "gpt_neox\.layers\.7\.attention\.dense"/,
    );
  } finally {
    model.dispose();
  }
  assert.throws(() => model.forward([[1]]), /used after dispose/);
});

test("create: seeded HF-style init, parameter count equals countParameters", async () => {
  await useTestBackend();
  const cfg = makeConfig({
    vocabSize: 300,
    hiddenSize: 32,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    intermediateSize: 128,
    initializerRange: 0.02,
  });
  const before = tf.memory();
  const a = GPTNeoXForCausalLM.create(cfg, { seed: 5 });
  const b = GPTNeoXForCausalLM.create(cfg, { seed: 5 });
  const c = GPTNeoXForCausalLM.create(cfg, { seed: 6 });
  try {
    assert.equal(a.numParameters(), countParameters(cfg).total);
    assert.equal(
      tf.memory().numBytes - before.numBytes,
      3 * 4 * countParameters(cfg).total,
      "one buffer per parameter",
    );
    const w = (m: GPTNeoXForCausalLM, n: string) => m.parameters().get(n)!.dataSync();
    assert.deepEqual(w(a, "embed_out.weight"), w(b, "embed_out.weight"));
    assert.notDeepEqual(w(a, "embed_out.weight"), w(c, "embed_out.weight"));
    assert.ok(w(a, "gpt_neox.layers.0.input_layernorm.weight").every((x) => x === 1));
    assert.ok(w(a, "gpt_neox.layers.0.mlp.dense_h_to_4h.bias").every((x) => x === 0));
    const e = w(a, "gpt_neox.embed_in.weight");
    const std = Math.sqrt(e.reduce((s, x) => s + x * x, 0) / e.length);
    assert.ok(Math.abs(std - 0.02) < 0.002, `init std ${std}`);
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
  assert.equal(tf.memory().numTensors, before.numTensors, "create leaves nothing behind its parameters");
  assert.equal(tf.memory().numBytes, before.numBytes);
});

test("rotary: HF's inverse frequencies and x·cos + rotate_half(x)·sin", async () => {
  await useTestBackend();
  const inv = inverseFrequencies(4, 10000);
  assert.deepEqual([...inv], [1, Math.fround(0.01)]);
  const rng = [0.3, -1.2, 0.7, 2.0, -0.4, 0.9]; // one head, D = 6, R = 4
  const positions = [0, 3, 17];
  const x = tf.tensor4d(
    positions.flatMap(() => rng),
    [1, 1, 3, 6],
  );
  const tables = rotaryTables(Int32Array.from(positions), 1, 3, 4, 10000);
  const y = tf.tidy(() => applyRotary(x, tables, 4).dataSync());
  const ref = positions.flatMap((p) => {
    const cos = [...inv, ...inv].map((f) => Math.cos(p * f));
    const sin = [...inv, ...inv].map((f) => Math.sin(p * f));
    const r = rng.slice(0, 4);
    const half = [-r[2], -r[3], r[0], r[1]]; // rotate_half = cat(-x2, x1)
    return [...r.map((v, i) => v * cos[i] + half[i] * sin[i]), ...rng.slice(4)];
  });
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  tf.dispose([x, tables.cos, tables.sin]);
  const scaled = rotaryTables([6], 1, 1, 4, 10000, 2);
  assert.ok(Math.abs(scaled.cos.dataSync()[0] - Math.cos(3)) < 1e-6, "linear rope scaling divides positions");
  tf.dispose([scaled.cos, scaled.sin]);
});

test("bad inputs are named: ids outside the vocabulary, mask and position shapes", async () => {
  await useTestBackend();
  const model = GPTNeoXForCausalLM.create(
    makeConfig({
      vocabSize: 10,
      hiddenSize: 8,
      numHiddenLayers: 1,
      numAttentionHeads: 1,
      intermediateSize: 16,
      rotaryPct: 0.25,
    }),
  );
  try {
    const before = tf.memory().numTensors;
    assert.throws(() => model.forward([[1, 10]]), /inputIds\[0\]\[1\] = 10 is outside the vocabulary \[0, 10\)/);
    assert.throws(
      () => model.forward([[1, 2]], { attentionMask: [[1, 1, 1]] }),
      /attentionMask must be 1 rows of 2 values/,
    );
    assert.throws(() => model.forward([[1, 2]], { attentionMask: [[1, 2]] }), /attentionMask values must be 0 or 1/);
    assert.throws(
      () => model.forward([[1, 2]], { positionIds: [[0]] }),
      /positionIds has shape \[1,1\], expected \[1, 2\]/,
    );
    assert.throws(() => model.forward([[1, 2], [3]]), /inputIds must be a non-empty rectangular/);
    assert.equal(tf.memory().numTensors, before, "failed calls leak nothing");
  } finally {
    model.dispose();
  }
});

test("KVCache.selectRows repeats and reorders the cached rows; bad rows are one clear error", () => {
  const cache = new KVCache(2);
  assert.throws(() => cache.selectRows([0]), /the cache is empty/);
  const k = tf.tensor4d([1, 2, 3, 4], [2, 1, 2, 1]);
  const v = tf.tensor4d([5, 6, 7, 8], [2, 1, 2, 1]);
  cache.append(0, k, v);
  cache.append(1, k, v);
  k.dispose();
  v.dispose();
  const before = tf.memory().numTensors;
  cache.selectRows([1, 0, 1]);
  assert.equal(tf.memory().numTensors, before); // the old tensors freed, the index too
  assert.equal(cache.batchSize, 3);
  assert.deepEqual(Array.from(cache.get(1)!.key.dataSync()), [3, 4, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(cache.get(0)!.value.dataSync()), [7, 8, 5, 6, 7, 8]);
  assert.throws(() => cache.selectRows([3]), /rows must be a non-empty list of integers in \[0, 3\), found \[3\]/);
  cache.dispose();
});
