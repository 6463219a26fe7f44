// Divergence: the monitor's rule (smoothed running minimum, patience, floor, off switch), the config checks, and
// the trainer's behaviour — a huge lr stops with a one-line TrainingDivergedError instead of finishing; an
// exploding loss stops after `patience` updates or at the end; no checkpoint is saved during an explosion or with
// non-finite weights; the named last good checkpoint is one whose weights then gave a healthy loss and loads
// finite; the checks leak no tensors.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { Trainer, TrainingDivergedError, train } from "../../src/train/trainer";
import { TrainConfigError, configForState, resolveTrainConfig } from "../../src/train/config";
import { DEFAULT_DIVERGENCE, DivergenceMonitor } from "../../src/train/divergence";
import { listCheckpoints, loadCheckpoint } from "../../src/train/checkpoint";
import type { TrainableModel } from "../../src/train/types";
import { TinyLM, toyExamples } from "./helpers/tiny-lm";
import { BASE_CONFIG } from "./helpers/trainer-setup";
import { tmpDirs } from "./helpers/tmp-dirs";

const tmpDir = tmpDirs("tunebook-diverge-");

const data = toyExamples(10);

/** TinyLM whose loss is multiplied by `scale` after `afterCalls` loss calls (2 per update with BASE_CONFIG). */
function exploding(model: TinyLM, afterCalls: number, scale = 1e6): TrainableModel {
  let calls = 0;
  return {
    trainableVariables: () => model.trainableVariables(),
    loss: (b) => {
      const l = model.loss(b);
      return ++calls > afterCalls ? (l.mul(scale) as tf.Scalar) : l;
    },
  };
}

/** Every checkpoint in `dir` has finite weights and optimizer state. */
async function assertAllFinite(dir: string) {
  for (const c of listCheckpoints(dir)) {
    const ck = await loadCheckpoint(c.path);
    for (const [k, t] of [...ck.model, ...ck.optimizer])
      assert.ok((t.data as Float32Array).every(Number.isFinite), `${c.path}: ${k} is not finite`);
  }
}

test("monitor: stops after `patience` updates above factor × running minimum; one spike is forgiven", () => {
  const m = new DivergenceMonitor({ factor: 4, patience: 2, floor: 1 });
  assert.equal(m.observe(3).diverged, false);
  const v1 = m.observe(50);
  assert.deepEqual([v1.above, v1.streak, v1.diverged, v1.bar], [true, 1, false, 12]);
  assert.equal(m.observe(80).diverged, true);

  const spike = new DivergenceMonitor({ factor: 4, patience: 2, floor: 1 });
  for (const l of [3, 2.5, 2, 50, 2, 1.9, 60, 1.8]) assert.equal(spike.observe(l).diverged, false, `loss ${l}`);
  assert.equal(spike.streak, 0);
});

test("monitor: the running minimum is of the smoothed loss, losses under the floor never count, factor 0 is off, NaN is non-finite", () => {
  const lucky = new DivergenceMonitor({ factor: 4, patience: 1, floor: 1 });
  for (const l of [3, 0.01, 3, 3, 3])
    assert.equal(lucky.observe(l).above, false, "one lucky batch of 0.01 does not put the bar at 1");
  const tiny = new DivergenceMonitor({ factor: 4, patience: 1, floor: 1 });
  for (const l of [0.1, 0.05, 0.02, 0.02, 0.5, 0.9, 0.9])
    assert.equal(tiny.observe(l).above, false, `loss ${l} is under the floor`);
  const off = new DivergenceMonitor({ factor: 0, patience: 1, floor: 0 });
  for (const l of [3, 1e9, 1e12]) assert.equal(off.observe(l).diverged, false);
  const v = new DivergenceMonitor().observe(NaN);
  assert.ok(v.nonFinite && v.diverged);
  assert.ok(new DivergenceMonitor().observe(2, Infinity).nonFinite, "an infinite gradient norm too");
});

test("monitor: replaying a loss history gives the state of observing it", () => {
  const losses = [4, 3.5, 3, 2.8, 40, 2.7, 30, 35];
  const a = new DivergenceMonitor();
  for (const l of losses) a.observe(l);
  const b = new DivergenceMonitor();
  b.observe(100);
  b.replay(losses);
  assert.deepEqual([b.runningMin, b.streak, b.bar], [a.runningMin, a.streak, a.bar]);
  assert.equal(a.streak, 2);
  assert.deepEqual(a.observe(33), b.observe(33));
});

test("config: divergence fields merge over the defaults and are checked by name", () => {
  assert.deepEqual(resolveTrainConfig().divergence, DEFAULT_DIVERGENCE);
  assert.deepEqual(resolveTrainConfig({ divergence: { patience: 20 } as any }).divergence, {
    ...DEFAULT_DIVERGENCE,
    patience: 20,
  });
  assert.deepEqual(resolveTrainConfig({ divergence: { factor: undefined, floor: 0 } as any }).divergence, {
    ...DEFAULT_DIVERGENCE,
    floor: 0,
  });
  assert.deepEqual(configForState(resolveTrainConfig({ divergence: { factor: 0 } as any })).divergence, {
    ...DEFAULT_DIVERGENCE,
    factor: 0,
  });
  const bad: [unknown, RegExp][] = [
    [{ patience: 0 }, /train config divergence\.patience: expected an integer ≥ 1, found 0/],
    [{ patience: 2.5 }, /divergence\.patience: expected an integer ≥ 1, found 2\.5/],
    [{ factor: 1 }, /divergence\.factor: expected 0 \(off\) or a finite number > 1, found 1/],
    [{ factor: "4" }, /divergence\.factor: .* found "4"/],
    [{ floor: -1 }, /divergence\.floor: expected a finite number ≥ 0, found -1/],
    [{ factr: 4 }, /divergence: unknown field\(s\) factr \(known: factor, patience, floor\)/],
    [null, /train config divergence: expected an object like/],
    [[4, 5], /train config divergence: expected an object like/],
  ];
  for (const [d, re] of bad)
    assert.throws(
      () => resolveTrainConfig({ divergence: d as any }),
      (e: any) => e instanceof TrainConfigError && re.test(e.message),
      JSON.stringify(d),
    );
});

test("a huge lr (1e3) on a tiny model stops with a one-line TrainingDivergedError, never finishes, saves nothing non-finite", async () => {
  await useTestBackend();
  for (const optimizer of ["adamw", "adafactor"] as const) {
    const dir = tmpDir();
    const model = new TinyLM();
    const err = await train(model, data, {
      ...BASE_CONFIG,
      optimizer,
      lr: 1e3,
      warmupSteps: 0,
      numSteps: 40,
      checkpointDir: dir,
      checkpointEvery: 1,
      keepCheckpoints: 0,
    }).then(
      (s) => assert.fail(`${optimizer}: finished with loss ${s.finalLoss}`),
      (e) => e,
    );
    assert.ok(err instanceof TrainingDivergedError, `${optimizer}: ${err}`);
    assert.ok(err.step < 40 && err.step >= 2, `${optimizer}: stopped at ${err.step}`);
    assert.doesNotMatch(err.message, /[\r\n]/, "the message is one line");
    assert.match(
      err.message,
      new RegExp(
        `^training stopped at step ${err.step}: .*(No good checkpoint was saved before it|Last good checkpoint: ).* Try a lower lr`,
      ),
    );
    assert.ok(["exploded", "non-finite-loss", "non-finite-grad-norm"].includes(err.reason), err.reason);
    await assertAllFinite(dir);
    if (err.lastCheckpoint) {
      const ck = await loadCheckpoint(err.lastCheckpoint);
      assert.ok(
        ck.state.step < err.step - 1,
        "the last good checkpoint's weights gave a healthy loss at the next update",
      );
    }
    model.dispose();
  }
});

test("an exploding loss stops after `patience` updates; no checkpoint is saved during it; the last good one is named", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const model = new TinyLM();
  // losses ×1e6 from update 5 on (2 loss calls per update)
  const t = new Trainer(exploding(model, 8), data, {
    ...BASE_CONFIG,
    numSteps: 20,
    checkpointDir: dir,
    checkpointEvery: 1,
    keepCheckpoints: 0,
    divergence: { patience: 3 } as any,
  });
  const err = await t.train().catch((e) => e);
  assert.ok(err instanceof TrainingDivergedError, String(err));
  assert.equal(err.reason, "exploded");
  assert.equal(err.step, 7);
  assert.equal(err.details.streak, 3);
  assert.doesNotMatch(err.message, /[\r\n]/);
  assert.match(
    err.message,
    /^training stopped at step 7: the loss \d\.\d+e\+6 has been above \d+(\.\d+)? \(divergence\.factor 4 × its running minimum \d+(\.\d+)?\) for 3 updates in a row \(divergence\.patience 3\)\. Last good checkpoint: .*step-000003 \(not the newer .*step-000004: its weights gave a diverging loss; `latest` now points at the good one\)\. Try a lower lr/,
  );
  // step 4's weights gave the first exploded loss, so step 3 is the last good one; nothing saved from 5 on
  assert.equal(err.lastCheckpoint, path.join(dir, "step-000003"));
  assert.deepEqual(
    listCheckpoints(dir).map((c) => c.step),
    [1, 2, 3, 4],
  );
  assert.equal(t.step, 7, "the updates of the streak were applied");
  assert.equal(t.lossHistory.length, 7);
  t.dispose();
  model.dispose();

  // keeping one checkpoint, the good one (3) is pruned by the save of 4: the message says so
  const dir1 = tmpDir();
  const m1 = new TinyLM();
  const err1 = await train(exploding(m1, 8), data, {
    ...BASE_CONFIG,
    numSteps: 20,
    checkpointDir: dir1,
    checkpointEvery: 1,
    keepCheckpoints: 1,
    divergence: { patience: 3 } as any,
  }).catch((e) => e);
  assert.ok(err1 instanceof TrainingDivergedError, String(err1));
  assert.equal(err1.lastCheckpoint, undefined);
  assert.match(
    err1.message,
    /The last good checkpoint, .*step-000003, was pruned by keepCheckpoints \(.*step-000004's weights gave a diverging loss\)\./,
  );
  m1.dispose();
});

test("a run that ends while its loss is exploding fails instead of saving; divergence.factor 0 lets it finish", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const model = new TinyLM();
  const cfg = { ...BASE_CONFIG, numSteps: 6, checkpointDir: dir, checkpointEvery: 2, keepCheckpoints: 0 };
  const err = await train(exploding(model, 8), data, cfg).catch((e) => e); // updates 5 and 6 explode; patience 5
  assert.ok(err instanceof TrainingDivergedError, String(err));
  assert.equal(err.step, 6);
  assert.equal(err.details.atEnd, true);
  assert.match(
    err.message,
    /for 2 updates in a row when the run ended \(divergence\.patience 5 not reached\); its weights were not saved\. Last good checkpoint: .*step-000002 \(not the newer .*step-000004: its weights gave a diverging loss; `latest` now points at the good one\)\./,
  );
  assert.deepEqual(
    listCheckpoints(dir).map((c) => c.step),
    [2, 4],
    "no step-6 checkpoint",
  );
  const off = await train(exploding(new TinyLM(), 8), data, {
    ...cfg,
    checkpointDir: tmpDir(),
    divergence: { factor: 0 } as any,
  });
  assert.equal(off.step, 6);
  model.dispose();
});

test("a NaN loss after checkpoints: every checkpoint is finite, and the named last good one loads with finite weights", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const model = new TinyLM();
  model.nanAfter = 2 * 5; // update 6 is NaN
  const err = await train(model, data, {
    ...BASE_CONFIG,
    numSteps: 10,
    checkpointDir: dir,
    checkpointEvery: 1,
    keepCheckpoints: 0,
  }).catch((e) => e);
  assert.ok(err instanceof TrainingDivergedError && err.reason === "non-finite-loss", String(err));
  assert.equal(err.step, 6);
  assert.equal(err.lastCheckpoint, path.join(dir, "step-000004"));
  assert.match(
    err.message,
    /Last good checkpoint: .*step-000004 \(not the newer .*step-000005: its weights gave a diverging loss; `latest` now points at the good one\)\./,
  );
  await assertAllFinite(dir);
  const ck = await loadCheckpoint(err.lastCheckpoint);
  assert.equal(ck.state.step, 4);
  model.dispose();
});

test("non-finite weights are never saved: the save is refused naming the tensor, and a run without checkpoints fails at its end", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const model = new TinyLM();
  const poison = (s: { step: number }, at: number) => {
    if (s.step === at) tf.tidy(() => model.vars.get("hidden.bias")!.assign(tf.fill([8], Infinity)));
  };
  const t = new Trainer(
    model,
    data,
    { ...BASE_CONFIG, numSteps: 6, checkpointDir: dir, checkpointEvery: 1, keepCheckpoints: 0 },
    { onStep: (s) => poison(s, 3) },
  );
  const err = await t.train().catch((e) => e);
  assert.ok(err instanceof TrainingDivergedError && err.reason === "non-finite-weights", String(err));
  assert.equal(err.step, 3);
  assert.match(
    err.message,
    /^training stopped at step 3: weight "hidden\.bias" holds NaN or Infinity after the update \(loss \d\.\d+\); no checkpoint was saved\. Last good checkpoint: .*step-000002\. Try/,
  );
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.includes("000003")),
    [],
    "nothing of step 3 was written",
  );
  await assertAllFinite(dir);
  t.dispose();
  model.dispose();

  const m2 = new TinyLM();
  const t2 = new Trainer(
    m2,
    data,
    { ...BASE_CONFIG, numSteps: 4 },
    {
      onStep: (s) => {
        if (s.step === 4) tf.tidy(() => m2.vars.get("out.weight")!.assign(tf.fill([8, 12], NaN)));
      },
    },
  );
  await assert.rejects(
    t2.train(),
    (e: any) =>
      e instanceof TrainingDivergedError &&
      e.reason === "non-finite-weights" &&
      /weight "out\.weight"/.test(e.message) &&
      /No good checkpoint was saved/.test(e.message),
  );
  t2.dispose();
  m2.dispose();
});

test("the checks leak no tensors: a step, a checked save and a run's final weight check", async () => {
  await useTestBackend();
  const model = new TinyLM();
  const t = new Trainer(model, data, { ...BASE_CONFIG, numSteps: 10, checkpointDir: tmpDir() });
  t.trainStep();
  const n1 = tf.memory().numTensors;
  t.trainStep();
  assert.equal(tf.memory().numTensors, n1, "a step with the divergence check");
  await t.saveCheckpoint();
  assert.equal(tf.memory().numTensors, n1, "a save with the finite-weights check");
  t.dispose();
  const n0 = tf.memory().numTensors;
  await train(model, data, { ...BASE_CONFIG, numSteps: 3 }); // no checkpointDir: the weights are checked at the end
  assert.equal(tf.memory().numTensors, n0, "train() with its final check");
  model.dispose();
});

test("resume replays the loss history into the monitor", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const model = new TinyLM();
  const t = new Trainer(model, data, { ...BASE_CONFIG, checkpointDir: dir });
  for (let i = 0; i < 4; i++) t.trainStep();
  await t.saveCheckpoint();
  const t2 = new Trainer(model, data, { ...BASE_CONFIG, checkpointDir: dir });
  await t2.restore(path.join(dir, "step-000004"));
  assert.deepEqual([t2.divergence.runningMin, t2.divergence.streak], [t.divergence.runningMin, t.divergence.streak]);
  assert.ok(Number.isFinite(t2.divergence.runningMin));
  t.dispose();
  t2.dispose();
  model.dispose();
});
