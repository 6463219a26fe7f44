// Exact resume in every training mode: 3 updates with checkpoints, then a fresh model (other initial weights)
// and trainer resumed from the checkpoint for 3 more give the losses and weights of 6 straight updates, bit for
// bit — full fine-tune, LoRA with dropout, gradient accumulation, Adafactor. LoRA's dropout generators are in
// the checkpoint: without them the resumed run draws other masks (shown), and a checkpoint lacking them is
// refused. One run is killed with SIGKILL between checkpoints and resumed from another process.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { Trainer, train } from "../../src/train/trainer";
import { TrainCheckpointError } from "../../src/train/checkpoint";
import type { TrainConfig } from "../../src/train/config";
import { DATA, MODES, loraDropout, modeNamed, sameBits, type Built, type Mode } from "./helpers/resume-modes";
import { tmpDirs } from "./helpers/tmp-dirs";

const tmpDir = tmpDirs("tunebook-resume-");

/** Six updates in one go: the losses and the final weights. */
async function straight(m: Mode) {
  const b = m.build(1);
  const s = await train(b.trainable, DATA, m.config);
  const weights = b.weights();
  b.dispose();
  return { losses: s.losses, weights };
}

/** Three updates with a checkpoint at 3 (then the run is stopped); returns the checkpoint folder. */
async function firstHalf(m: Mode): Promise<string> {
  const dir = tmpDir();
  const b = m.build(1);
  const t: Trainer = new Trainer(
    b.trainable,
    DATA,
    { ...m.config, checkpointDir: dir, checkpointEvery: 3 },
    {
      onStep: (s) => {
        if (s.step === 3) t.stop();
      },
    },
  );
  const s = await t.train();
  assert.equal(s.step, 3);
  t.dispose();
  b.dispose();
  return dir;
}

/** A fresh model from other initial weights, resumed from `dir` to step 6. */
async function resumed(m: Mode, dir: string, wrap: (b: Built) => Built = (b) => b, extra: Partial<TrainConfig> = {}) {
  const b = wrap(m.build(2));
  try {
    const s = await train(b.trainable, DATA, { ...m.config, ...extra, checkpointDir: dir, resume: true });
    return { summary: s, weights: b.weights() };
  } finally {
    b.dispose();
  }
}

function assertSameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string) {
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(sameBits(v, b.get(k)!), `${what}: ${k} differs`);
}

for (const mode of MODES) {
  test(`resume is bit-exact: ${mode.name} (3 + 3 updates = 6 straight, losses and weights)`, async () => {
    await useTestBackend();
    const ref = await straight(mode);
    assert.equal(ref.losses.length, 6);
    const dir = await firstHalf(mode);
    const n0 = tf.memory().numTensors;
    const r = await resumed(mode, dir);
    assert.equal(r.summary.resumedFrom, path.join(dir, "step-000003"));
    assert.equal(r.summary.stepsRun, 3);
    assert.deepEqual(r.summary.losses, ref.losses, mode.name);
    assertSameWeights(ref.weights, r.weights, mode.name);
    assert.equal(tf.memory().numTensors, n0, "resuming and training leak nothing");
  });
}

test("LoRA dropout: its generators are in trainer_state.json; ignoring them changes the resumed losses", async () => {
  await useTestBackend();
  const mode = modeNamed("LoRA with dropout");
  const ref = await straight(mode);
  const dir = await firstHalf(mode);
  const state = JSON.parse(fs.readFileSync(path.join(dir, "step-000003", "trainer_state.json"), "utf8"));
  assert.equal(state.version, 2);
  const keys = Object.keys(state.rng.model);
  assert.equal(keys.length, 4, "one generator per wrapped module (2 layers × query_key_value, dense_h_to_4h)");
  assert.ok(
    keys.every((k) => /^gpt_neox\.layers\.\d\.(attention\.query_key_value|mlp\.dense_h_to_4h)\.lora_dropout$/.test(k)),
    keys.join(),
  );
  assert.ok(
    Object.values(state.rng.model).every((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32),
  );
  assert.equal(new Set(Object.values(state.rng.model)).size, 4, "layers do not share a dropout stream");

  // the same resume with the saved states ignored (the generators keep their fresh states): what an incomplete
  // checkpoint would have given, so the bit-exact test above can fail
  const ignoring = await resumed(mode, dir, (b) => ({ ...b, trainable: { ...b.trainable, setRngState: () => {} } }));
  assert.deepEqual(ignoring.summary.losses.slice(0, 3), ref.losses.slice(0, 3));
  assert.notDeepEqual(ignoring.summary.losses.slice(3), ref.losses.slice(3), "other dropout masks give other losses");
});

test("LoRA dropout: a checkpoint without the dropout generators is refused, naming the file and field", async () => {
  await useTestBackend();
  const mode = modeNamed("LoRA with dropout");
  const dir = await firstHalf(mode);
  const file = path.join(dir, "step-000003", "trainer_state.json");
  const state = JSON.parse(fs.readFileSync(file, "utf8"));
  const saved = state.rng.model;
  delete state.rng.model;
  state.version = 1; // what tunebook wrote before the generators were saved
  fs.writeFileSync(file, JSON.stringify(state));
  await assert.rejects(
    resumed(mode, dir),
    (e: any) =>
      e instanceof TrainCheckpointError &&
      e.message.includes(file) &&
      /no rng\.model/.test(e.message) &&
      /lora_dropout/.test(e.message),
  );
  state.rng.model = { ...saved, "gpt_neox.layers.9.mlp.dense_h_to_4h.lora_dropout": 1 };
  state.version = 2;
  fs.writeFileSync(file, JSON.stringify(state));
  await assert.rejects(
    resumed(mode, dir),
    /rng\.model: dropout generator "gpt_neox\.layers\.9\.mlp\.dense_h_to_4h\.lora_dropout" is not one of adapter "default"'s/,
  );
  // the same adapter without dropout draws nothing, so it cannot take a checkpoint with generator states
  state.rng.model = saved;
  fs.writeFileSync(file, JSON.stringify(state));
  await assert.rejects(
    resumed({ ...mode, build: (s) => loraDropout(s, 0) }, dir),
    /rng\.model: dropout generator ".*" is not one of adapter "default"'s \(it has no dropout\)/,
  );
});

test("LoRA dropout: a run killed (SIGKILL) after update 3 resumes from step 2 in another process and equals 6 straight", async () => {
  await useTestBackend();
  const mode = modeNamed("LoRA with dropout");
  const dir = tmpDir();
  const script = path.join(__dirname, "helpers", "kill-mid-run.ts");
  const child = spawnSync(process.execPath, ["--import", "tsx", script, dir, mode.name], {
    encoding: "utf8",
    timeout: 600_000, // a hang guard only
    env: { ...process.env },
  });
  assert.equal(child.signal, "SIGKILL", `the child should kill itself; stderr: ${child.stderr}`);
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.startsWith("step-")),
    ["step-000002"],
  );
  const ref = await straight(mode);
  const r = await resumed(mode, dir);
  assert.equal(r.summary.resumedFrom, path.join(dir, "step-000002"));
  assert.equal(r.summary.stepsRun, 4);
  assert.deepEqual(r.summary.losses, ref.losses);
  assertSameWeights(ref.weights, r.weights, "killed and resumed");
});
