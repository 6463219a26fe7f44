import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { measureScaling, median, type ScalingProgress } from "../../src/scaling/measure";
import { makeConfig } from "../../src/model/config";
import { countParameters } from "../../src/model/presets";

const tiny = (h: number) =>
  makeConfig({
    vocabSize: 96,
    hiddenSize: h,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 4 * h,
    maxPositionEmbeddings: 64,
  });

test("measureScaling on two tiny configs: sane rows, progress, no leaked tensors (both step methods)", async () => {
  await useTestBackend();
  for (const stepMethod of ["trainer", "async"] as const) {
    const before = tf.memory().numTensors;
    const events: ScalingProgress[] = [];
    const r = await measureScaling({
      sizes: [
        { name: "tiny-16", config: tiny(16) },
        { name: "tiny-32", config: tiny(32) },
      ],
      batchSize: 2,
      seqLen: 12,
      warmupSteps: 1,
      timedSteps: 2,
      stepMethod,
      onProgress: (p) => events.push(p),
    });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(r.stepMethod, stepMethod);
    assert.equal(r.rows.length, 2);
    for (const [i, row] of r.rows.entries()) {
      assert.equal(row.params, countParameters(i ? tiny(32) : tiny(16)).total);
      assert.equal(row.stepSecondsAll.length, 2);
      assert.ok(row.stepSeconds! > 0 && row.tokensPerSecond! > 0);
      assert.ok(Math.abs(row.tokensPerSecond! - 24 / row.stepSeconds!) < 1e-9);
      assert.ok(Math.abs(row.firstLoss! - Math.log(96)) < 0.5, `random weights: loss ≈ ln(96), got ${row.firstLoss}`);
      // weights + two AdamW moments are held between steps: at least 3 × 4 bytes per parameter
      assert.ok(row.persistentBytes! >= 12 * row.params, `${row.persistentBytes} < 12 × ${row.params}`);
      assert.ok(row.peakBytes! > row.persistentBytes!);
      assert.ok(row.rssBytes! > 0 && row.estimatedBytes > 0);
    }
    assert.ok(r.rows[1].params > r.rows[0].params);
    assert.deepEqual(
      events.filter((e) => e.index === 0).map((e) => e.phase),
      ["create", "warmup", "step", "step", "done"],
    );
  }
});

test("both step methods compute the same first loss; bad options are named", async () => {
  await useTestBackend();
  const run = (m: "trainer" | "async") =>
    measureScaling({
      sizes: [{ name: "t", config: tiny(16) }],
      batchSize: 2,
      seqLen: 8,
      warmupSteps: 0,
      timedSteps: 2,
      profileMemory: false,
      stepMethod: m,
    });
  const [a, b] = [await run("trainer"), await run("async")];
  assert.ok(Math.abs(a.rows[0].firstLoss! - b.rows[0].firstLoss!) < 1e-5);
  await assert.rejects(measureScaling({ sizes: [] }), /sizes must list at least one model/);
  await assert.rejects(measureScaling({ sizes: ["14m"], batchSize: 0 }), /batchSize must be an integer ≥ 1/);
  await assert.rejects(measureScaling({ sizes: ["pythia-3m"] }), /unknown model preset "pythia-3m"/);
});

test("a size over the memory limit is skipped with the reason, not run", async () => {
  await useTestBackend();
  const r = await measureScaling({
    sizes: [{ name: "t", config: tiny(16) }],
    batchSize: 1,
    seqLen: 8,
    timedSteps: 1,
    maxEstimatedBytes: 1000,
  });
  assert.equal(r.rows[0].stepSeconds, null);
  assert.match(r.rows[0].skipped!, /calculator estimates .* GiB .* over the .* allowed on wasm/);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});

test("no measured step leaks a tensor (counted after every timed step); FLOP/s uses N = params − input embedding", async () => {
  await useTestBackend();
  for (const stepMethod of ["trainer", "async"] as const) {
    const counts: number[] = [];
    const r = await measureScaling({
      sizes: [{ name: "t", config: tiny(16) }],
      batchSize: 2,
      seqLen: 8,
      warmupSteps: 1,
      timedSteps: 3,
      profileMemory: false,
      stepMethod,
      onProgress: (p) => {
        if (p.phase === "warmup" || p.phase === "step") counts.push(tf.memory().numTensors);
      },
    });
    assert.equal(counts.length, 4);
    assert.ok(
      counts.every((c) => c === counts[0]),
      `${stepMethod}: tensors after each step ${counts.join(", ")}`,
    );
    const row = r.rows[0];
    const c = countParameters(tiny(16));
    assert.equal(row.flopParams, c.total - c.embedIn);
    assert.ok(Math.abs(row.flopsPerSecond! - (6 * row.flopParams * 16) / row.stepSeconds!) < 1e-6);
  }
});
