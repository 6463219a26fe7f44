import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { Trainer, TrainingDivergedError, train } from "../../src/train/trainer";
import { TrainConfigError, type StepInfo, type EvalInfo } from "../../src/train/config";
import { findLatestCheckpoint, listCheckpoints, loadCheckpoint } from "../../src/train/checkpoint";
import { TinyLM, toyExamples } from "./helpers/tiny-lm";
import { BASE_CONFIG, CRASH_CONFIG } from "./helpers/trainer-setup";
import { tmpDirs } from "./helpers/tmp-dirs";

const tmpDir = tmpDirs("tunebook-train-");

const data = toyExamples(10);

async function run(config = {}, model = new TinyLM()) {
  const summary = await train(model, data, { ...BASE_CONFIG, ...config });
  return { summary, model };
}

test("the same seed gives identical losses; another data seed does not", async () => {
  await useTestBackend();
  const a = await run();
  const b = await run();
  assert.equal(a.summary.losses.length, 6);
  assert.deepEqual(b.summary.losses, a.summary.losses);
  const c = await run({ seed: 12 });
  assert.notDeepEqual(c.summary.losses, a.summary.losses);
  for (const r of [a, b, c]) r.model.dispose();
});

test("training really learns: the loss on a repeated pattern falls a lot (AdamW and Adafactor)", async () => {
  await useTestBackend();
  for (const optimizer of ["adamw", "adafactor"] as const) {
    const model = new TinyLM();
    const s = await train(model, data, {
      ...BASE_CONFIG,
      optimizer,
      lr: optimizer === "adamw" ? 0.05 : 0.02,
      numSteps: 60,
      warmupSteps: 5,
    });
    const first = s.losses[0],
      last = s.losses.slice(-5).reduce((x, y) => x + y, 0) / 5;
    assert.ok(last < first * 0.4, `${optimizer}: loss ${first} → ${last}`);
    model.dispose();
  }
});

test("no tensors leak across training steps (after step 1 vs after step 5)", async () => {
  await useTestBackend();
  const model = new TinyLM();
  const t = new Trainer(model, data, { ...BASE_CONFIG, numSteps: 10 });
  t.trainStep();
  const after1 = tf.memory().numTensors;
  for (let i = 0; i < 4; i++) t.trainStep();
  assert.equal(tf.memory().numTensors, after1);
  t.evaluate(data.slice(0, 3));
  assert.equal(tf.memory().numTensors, after1, "evaluation leaks nothing either");
  t.dispose();
  model.dispose();
});

test("resume: 3 steps + resume for 3 gives exactly the losses and weights of 6 straight", async () => {
  await useTestBackend();
  for (const optimizer of ["adamw", "adafactor"] as const) {
    const straight = await run({ optimizer, optimizerOptions: optimizer === "adafactor" ? { beta1: 0.9 } : {} });
    const dir = tmpDir();
    const cfg = {
      ...BASE_CONFIG,
      optimizer,
      optimizerOptions: optimizer === "adafactor" ? { beta1: 0.9 } : {},
      checkpointDir: dir,
      checkpointEvery: 3,
    };
    const first = new TinyLM();
    const t1 = new Trainer(first, data, cfg);
    while (t1.step < 3) t1.trainStep();
    await t1.saveCheckpoint();
    t1.dispose();
    first.dispose();
    const second = new TinyLM(12, 8, 999); // different initial weights: everything must come from the checkpoint
    const s2 = await train(second, data, { ...cfg, resume: true });
    assert.equal(s2.resumedFrom, path.join(dir, "step-000003"));
    assert.equal(s2.stepsRun, 3);
    assert.deepEqual(s2.losses, straight.summary.losses, optimizer);
    const wa = straight.model.snapshot(),
      wb = second.snapshot();
    for (const [k, v] of wa) assert.deepEqual([...wb.get(k)!], [...v], `${optimizer}: ${k}`);
    straight.model.dispose();
    second.dispose();
  }
});

test("a NaN loss stops training with the step named, leaves the weights alone; the last good checkpoint is the one before the NaN's weights", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const model = new TinyLM();
  model.nanAfter = 2 * 4; // gradAccumSteps 2: steps 1..4 fine, step 5 NaN
  const t = new Trainer(model, data, { ...BASE_CONFIG, numSteps: 8, checkpointDir: dir, checkpointEvery: 2 });
  const err = await t.train().catch((e) => e);
  assert.ok(err instanceof TrainingDivergedError, String(err));
  assert.equal(err.step, 5);
  assert.match(err.message, /training stopped at step 5: the loss is NaN/);
  // step 4's checkpoint holds the weights whose loss was NaN, so it is not named as good
  assert.match(
    err.message,
    /Last good checkpoint: .*step-000002 \(not the newer .*step-000004: its weights gave a diverging loss; .latest. now points at the good one\)/,
  );
  assert.equal(err.lastCheckpoint, path.join(dir, "step-000002"));
  assert.doesNotMatch(err.message, /\n/);
  // `latest` points back at the good one, so a plain resume does not start from the NaN's weights
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000002"));
  assert.deepEqual(
    listCheckpoints(dir).map((c) => c.step),
    [2, 4],
  );
  const saved = await loadCheckpoint(path.join(dir, "step-000004"));
  for (const [k, v] of model.snapshot())
    assert.deepEqual([...v], [...saved.model.get(k)!.data], `${k}: the NaN step changed nothing`);
  assert.equal(t.step, 4);
  t.dispose();
  model.dispose();
});

test("a non-finite gradient norm with a finite loss is caught too", async () => {
  await useTestBackend();
  const model = new TinyLM();
  let poison = false;
  // identity in the forward pass whose gradient is infinite once `poison` is set
  const blowUp = tf.customGrad((x: any, save: any) => ({
    value: x.clone(),
    gradFunc: (dy: tf.Tensor) => dy.mul(poison ? Infinity : 1),
  }));
  const wrapped = {
    trainableVariables: () => model.trainableVariables(),
    loss: (b: any) => {
      const w = model.vars.get("out.weight")!;
      return model.loss(b).add((blowUp(w) as tf.Tensor).sum().mul(1e-3)) as tf.Scalar;
    },
  };
  const t = new Trainer(wrapped, data, { ...BASE_CONFIG, numSteps: 3 });
  t.trainStep();
  poison = true;
  const w0 = [...model.vars.get("out.weight")!.dataSync()];
  assert.throws(
    () => t.trainStep(),
    (e: any) =>
      e instanceof TrainingDivergedError &&
      e.step === 2 &&
      Number.isFinite(e.loss) &&
      !Number.isFinite(e.gradNorm) &&
      /the gradient norm is (Infinity|NaN)/.test(e.message) &&
      /No good checkpoint was saved/.test(e.message),
  );
  assert.deepEqual([...model.vars.get("out.weight")!.dataSync()], w0, "the bad step was not applied");
  t.dispose();
  model.dispose();
});

test("killed (SIGKILL) in the middle of a save: the previous checkpoint is intact and resume continues exactly", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const script = path.join(__dirname, "helpers", "crash-during-save.ts");
  const child = spawnSync(process.execPath, ["--import", "tsx", script, dir], { encoding: "utf8", timeout: 600_000 }); // a hang guard only
  assert.equal(child.signal, "SIGKILL", `child should die mid-save; stderr: ${child.stderr}`);
  const leftovers = fs.readdirSync(dir).filter((n) => n.startsWith(".tmp-step-000004"));
  assert.equal(leftovers.length, 1, "the half-written step-4 checkpoint is in a temp dir");
  assert.ok(fs.existsSync(path.join(dir, leftovers[0], "model.safetensors")));
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000002"));
  const straight = await run(CRASH_CONFIG);
  const model = new TinyLM(12, 8, 5);
  const s = await train(model, data, { ...CRASH_CONFIG, checkpointDir: dir, resume: true });
  assert.equal(s.resumedFrom, path.join(dir, "step-000002"));
  assert.deepEqual(s.losses, straight.summary.losses);
  assert.equal(fs.readdirSync(dir).filter((n) => n.startsWith(".tmp")).length, 0, "the next save cleaned the leftover");
  model.dispose();
  straight.model.dispose();
});

test("callbacks: onStep every logEvery (and the last), onEval every evalEvery, onCheckpoint, onEnd", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const steps: StepInfo[] = [],
    evals: EvalInfo[] = [],
    ckpts: number[] = [];
  let ended: any;
  const model = new TinyLM();
  const t = new Trainer(
    model,
    data,
    {
      ...BASE_CONFIG,
      numSteps: 5,
      logEvery: 2,
      evalEvery: 2,
      evalData: toyExamples(4, 12, 9),
      checkpointDir: dir,
      checkpointEvery: 4,
      keepCheckpoints: 0,
    },
    {
      onStep: (s) => {
        steps.push(s);
      },
      onEval: async (e) => {
        evals.push(e);
      },
      onCheckpoint: (c) => {
        ckpts.push(c.step);
      },
      onEnd: (s) => {
        ended = s;
      },
    },
  );
  const summary = await t.train();
  assert.deepEqual(
    steps.map((s) => s.step),
    [2, 4, 5],
  );
  for (const s of steps) {
    assert.ok(
      Number.isFinite(s.loss) && s.lr > 0 && s.gradNorm > 0 && s.tokensPerSec > 0 && s.elapsed > 0 && s.eta >= 0,
    );
    assert.equal(s.numSteps, 5);
    assert.equal(s.loss, summary.losses[s.step - 1]);
  }
  assert.equal(steps[2].eta, 0);
  assert.deepEqual(
    evals.map((e) => e.step),
    [2, 4, 5],
  );
  assert.ok(evals.every((e) => Number.isFinite(e.evalLoss) && e.numTokens > 0));
  assert.deepEqual(ckpts, [4, 5]);
  assert.equal(ended, summary);
  assert.equal(summary.finalEvalLoss, evals[2].evalLoss);
  const state = JSON.parse(fs.readFileSync(path.join(dir, "step-000005", "trainer_state.json"), "utf8"));
  assert.equal(state.step, 5);
  assert.deepEqual(state.lossHistory, summary.losses);
  assert.equal(state.evalHistory.length, 3);
  assert.equal(state.optimizer.name, "adamw");
  assert.equal(state.config.evalData, "4 examples");
  assert.ok(Number.isInteger(state.rng.epochRngState) && Number.isInteger(state.data.index));
  t.dispose();
  model.dispose();
});

test("numEpochs sets the step count; stop() ends early and saves", async () => {
  await useTestBackend();
  const model = new TinyLM();
  const t1 = new Trainer(model, data, { ...BASE_CONFIG, numEpochs: 2 }); // 2 · 10 / (2 · 2) = 5 updates
  assert.equal(t1.numSteps, 5);
  t1.dispose();
  const dir = tmpDir();
  const t2 = new Trainer(
    model,
    data,
    { ...BASE_CONFIG, checkpointDir: dir },
    {
      onStep: (s) => {
        if (s.step === 2) t2.stop();
      },
    },
  );
  const s = await t2.train();
  assert.equal(s.step, 2);
  assert.equal(s.stopped, true);
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000002"));
  t2.dispose();
  model.dispose();
});

test("bad config and mismatched checkpoints are reported by name", async () => {
  await useTestBackend();
  const model = new TinyLM();
  assert.throws(
    () => new Trainer(model, data, { lr: -1 }),
    (e: any) => e instanceof TrainConfigError && /lr: expected a finite number ≥ 0/.test(e.message),
  );
  assert.throws(() => new Trainer(model, data, { batchsize: 4 } as any), /unknown field\(s\) batchsize/);
  assert.throws(
    () => new Trainer(model, data, { optimizer: "sgd" as any }),
    /optimizer: expected one of adamw, adafactor/,
  );
  assert.throws(() => new Trainer(model, data, { evalEvery: 5 }), /evalData is empty/);
  assert.throws(
    () => new Trainer(model, data, { optimizerOptions: { betas: [0.9, 0.99] } }),
    /adamw options: unknown field\(s\) betas/,
  );
  assert.throws(() => new Trainer(model, data, { resume: true }), /checkpointDir is empty/);
  const dir = tmpDir();
  await assert.rejects(
    train(model, data, { ...BASE_CONFIG, checkpointDir: dir, resume: true }),
    /no complete checkpoint/,
  );
  const t = new Trainer(model, data, { ...BASE_CONFIG, checkpointDir: dir });
  t.trainStep();
  await t.saveCheckpoint();
  t.dispose();
  await assert.rejects(
    train(model, data, { ...BASE_CONFIG, checkpointDir: dir, resume: true, optimizer: "adafactor" }),
    /saved with optimizer "adamw" but this run uses "adafactor"/,
  );
  await assert.rejects(
    train(model, data.slice(0, 8), { ...BASE_CONFIG, checkpointDir: dir, resume: true }),
    /saved with 10 training examples but this run has 8/,
  );
  const other = new TinyLM(12, 6);
  await assert.rejects(
    train(other, data, { ...BASE_CONFIG, checkpointDir: dir, resume: true }),
    /tensor "embed.weight" has shape \[12,8\], the model expects \[12,6\]/,
  );
  other.dispose();
  model.dispose();
});
