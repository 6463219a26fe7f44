import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { captureIO, useTinyTask } from "../eval/helpers/tiny-task";
import { formatProgress, recipeLine, resolveTrainJob, run } from "../../src/cli/train";
import { loadModel } from "../../src/pipeline/pretrained";
import { listCheckpoints } from "../../src/train/checkpoint";

const t = useTinyTask();

const common = () => ["--model", t.modelDir, "--data", t.trainFile, "--batch-size", "4", "--lr", "0.01", "--seed", "3"];

async function trainJSON(args: string[]): Promise<{ summary: any; stderr: string }> {
  const io = captureIO();
  assert.equal(await run(args, io), 0);
  return { summary: JSON.parse(io.stdout()), stderr: io.stderr() };
}

test("tunebook train: N steps, progress on stderr, checkpoints, final model folder, JSON summary", async () => {
  const out = path.join(t.dir, "run-a");
  const { summary, stderr } = await trainJSON([
    ...common(),
    "--out",
    out,
    "--steps",
    "3",
    "--checkpoint-every",
    "2",
    "--eval-data",
    t.testFile,
  ]);
  assert.equal(summary.step, 3);
  assert.equal(summary.stepsRun, 3);
  assert.equal(summary.losses.length, 3);
  assert.ok(Number.isFinite(summary.finalLoss) && Number.isFinite(summary.evalLoss));
  assert.ok(summary.tokensPerSec > 0);
  assert.equal(summary.trainExamples, 24);
  assert.equal(summary.resumedFrom, null);
  assert.deepEqual(
    listCheckpoints(path.join(out, "checkpoints")).map((c) => c.step),
    [2, 3],
  );
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "train_summary.json"])
    assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, "train_summary.json"), "utf8")), summary);
  assert.match(stderr, /step 1\/3 \[.*\] .*loss \d+\.\d{4} lr .* tok\/s ETA /);
  assert.match(stderr, /step 3\/3 \[#{20}\] 100%/);
  assert.match(stderr, /eval loss after step 3: \d+\.\d{4}/);
  assert.match(stderr, /checkpoint: .*step-000002/);
  // the saved folder loads, with its tokenizer, and holds trained (changed) weights
  const before = tf.memory().numTensors;
  const saved = await loadModel(out);
  const w = saved.model.parameters().get("embed_out.weight")!.dataSync();
  const w0 = t.model.parameters().get("embed_out.weight")!.dataSync();
  assert.ok(w.some((x, i) => x !== w0[i]));
  assert.equal(saved.tokenizer.encode("What color").length > 0, true);
  saved.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("tunebook train --resume continues from the checkpoint: the step counts add up, the losses match an uninterrupted run", async () => {
  // a constant learning rate: with a decaying schedule, a 3-step run's lr differs from a 5-step run's
  const args = [...common(), "--schedule", "constant", "--quiet"];
  const straight = await trainJSON([...args, "--out", path.join(t.dir, "straight"), "--steps", "5"]);
  const out = path.join(t.dir, "resumed");
  const first = await trainJSON([...args, "--out", out, "--steps", "3"]);
  assert.equal(first.stderr, "");
  const second = await trainJSON([...args, "--out", out, "--steps", "5", "--resume"]);
  assert.equal(second.summary.step, 5);
  assert.equal(second.summary.stepsRun, 2);
  assert.match(second.summary.resumedFrom, /step-000003$/);
  assert.deepEqual(second.summary.losses.slice(0, 3), first.summary.losses);
  assert.deepEqual(second.summary.losses, straight.summary.losses);
  await assert.rejects(
    run([...common(), "--out", path.join(t.dir, "never"), "--resume"], captureIO()),
    /--resume but .*never.*checkpoints does not exist/,
  );
  assert.ok(!fs.existsSync(path.join(t.dir, "never")), "refused before the folder is made");
});

test("tunebook train --config FILE.json; flags override it; unknown or bad fields are named", async () => {
  const cfg = path.join(t.dir, "train.json");
  const out = path.join(t.dir, "run-cfg");
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      model: t.modelDir,
      data: t.trainFile,
      out,
      numSteps: 2,
      batchSize: 2,
      lr: 0.005,
      limit: 6,
      schedule: "cosine",
      warmupSteps: 1,
    }),
  );
  const { summary } = await trainJSON(["--config", cfg, "--quiet"]);
  assert.equal(summary.step, 2);
  assert.equal(summary.trainExamples, 6);
  const job = resolveTrainJob(["--config", cfg, "--steps", "7", "--out", path.join(t.dir, "other")]);
  assert.ok(job !== "help");
  assert.equal(job.train.numSteps, 7);
  assert.equal(job.train.lr, 0.005);
  assert.equal(job.train.checkpointDir, path.join(t.dir, "other", "checkpoints"));

  fs.writeFileSync(cfg, JSON.stringify({ model: t.modelDir, data: t.trainFile, out, numStep: 2 }));
  await assert.rejects(run(["--config", cfg], captureIO()), /train\.json: unknown field "numStep"/);
  fs.writeFileSync(cfg, JSON.stringify({ model: t.modelDir, data: t.trainFile, out, lr: "fast" }));
  await assert.rejects(run(["--config", cfg], captureIO()), /train\.json: train config lr: expected a finite number/);
  fs.writeFileSync(
    cfg,
    `{"model": ${JSON.stringify(t.modelDir)}, "data": ${JSON.stringify(t.trainFile)}, "out": ${JSON.stringify(out)}, "lr": 0.1, "lr": 0.2}`,
  );
  await assert.rejects(run(["--config", cfg], captureIO()), /train\.json: duplicate key "lr"/);
  fs.writeFileSync(cfg, "{ not json");
  await assert.rejects(run(["--config", cfg], captureIO()), /train\.json: not valid JSON/);
  await assert.rejects(
    run(["--config", path.join(t.dir, "missing.json")], captureIO()),
    /missing\.json: the config file does not exist/,
  );
  await assert.rejects(run(["--model", t.modelDir, "--data", t.trainFile], captureIO()), /--out required/);
  await assert.rejects(
    run([...common(), "--out", out, "--steps", "0"], captureIO()),
    /--steps must be an integer >= 1/,
  );
  await assert.rejects(run([...common(), "--out", out, "--lora", "alpha"], captureIO()), /--lora/);
  const bad = path.join(t.dir, "bad-train.jsonl");
  fs.writeFileSync(bad, '{"question":"Q?","answer":"A"}\n{"question":"Q?","answer":""}\n');
  await assert.rejects(
    run(["--model", t.modelDir, "--data", bad, "--out", out], captureIO()),
    /bad-train\.jsonl:2: field "answer"/,
  );
});

test("tunebook train --lora trains an adapter through the LoRA hook", async () => {
  const out = path.join(t.dir, "run-lora");
  const args = [...common(), "--out", out, "--steps", "2", "--quiet", "--lora", "r=2,alpha=4"];
  const before = tf.memory().numTensors;
  const { summary } = await trainJSON(args);
  assert.equal(tf.memory().numTensors, before, "the adapters are disposed with the model");
  assert.equal(summary.step, 2);
  assert.ok(fs.existsSync(path.join(out, "adapter", "adapter_config.json")));
  assert.ok(!fs.existsSync(path.join(out, "model.safetensors")));
});

test("formatProgress draws a bar with loss, tokens/s and ETA", () => {
  const line = formatProgress({
    step: 5,
    numSteps: 10,
    loss: 2.5,
    lr: 1e-3,
    gradNorm: 1,
    tokensPerSec: 812.4,
    elapsed: 3,
    eta: 75,
    epoch: 0.5,
  });
  assert.equal(line, "step 5/10 [##########----------]  50% loss 2.5000 lr 1.00e-3 812 tok/s ETA 1:15");
});

test("tunebook train --divergence-*: flags reach the trainer, bad values are named, lr 1e3 stops with one line and exit non-zero", async () => {
  const job = resolveTrainJob([
    ...common(),
    "--out",
    path.join(t.dir, "div-a"),
    "--divergence-factor",
    "8",
    "--divergence-patience",
    "2",
  ]);
  assert.ok(job !== "help");
  assert.deepEqual(job.train.divergence, { factor: 8, patience: 2 });
  await assert.rejects(
    run([...common(), "--out", path.join(t.dir, "div-b"), "--divergence-factor", "-1"], captureIO()),
    /divergence\.factor/,
  );
  await assert.rejects(
    run([...common(), "--out", path.join(t.dir, "div-b"), "--divergence-patience", "0"], captureIO()),
    /--divergence-patience/,
  );
  const io = captureIO();
  const args = [
    "--model",
    t.modelDir,
    "--data",
    t.trainFile,
    "--batch-size",
    "4",
    "--seed",
    "3",
    "--lr",
    "1e3",
    "--steps",
    "12",
    "--divergence-patience",
    "2",
    "--quiet",
  ];
  let message = "";
  try {
    const code = await run([...args, "--out", path.join(t.dir, "div-c")], io);
    assert.notEqual(code, 0, "a diverging run must not exit 0");
    message = io.stderr();
  } catch (e: any) {
    message = e.message;
  }
  assert.match(message, /training stopped at step \d+: the loss/);
  assert.equal(message.trim().split("\n").length, 1, message);
});

/** A copy of the tiny model with a card whose `docs-qa` recipe is `recipe`. */
function modelWithCard(name: string, recipe: Record<string, unknown> | string): string {
  const dir = path.join(t.dir, name);
  fs.cpSync(t.modelDir, dir, { recursive: true });
  const card =
    typeof recipe === "string"
      ? recipe
      : JSON.stringify({ format: "tunebook-model-card", version: 1, name, recipes: { "docs-qa": recipe } });
  fs.writeFileSync(path.join(dir, "model-card.json"), card);
  return dir;
}

const RECIPE = { lr: 0.003, numSteps: 2, batchSize: 2, warmupSteps: 1, maxLength: 48, source: "a test" };

test("tunebook train takes the model card's recipe for the flags not given, and names each field's origin in its first line", async () => {
  const model = modelWithCard("carded", RECIPE);
  const out = path.join(t.dir, "run-card");
  const { summary, stderr } = await trainJSON([
    "--model",
    model,
    "--data",
    "docs-qa",
    "--limit",
    "4",
    "--batch-size",
    "1",
    "--seed",
    "0",
    "--out",
    out,
  ]);
  const first = stderr.split("\n")[0]; // the card is outside the working directory: named by its absolute path
  assert.equal(
    first,
    `recipe for docs-qa: lr 0.003 (model card), numSteps 2 (model card), batchSize 1 (--batch-size), warmupSteps 1 (model card), maxLength 48 (model card); model card: ${path.join(model, "model-card.json")}, measured in a test`,
  );
  assert.equal(summary.step, 2, "numSteps from the card");
  const settings = JSON.parse(fs.readFileSync(path.join(out, "tunebook_run.json"), "utf8")).settings;
  assert.deepEqual(
    [settings.lr, settings.numSteps, settings.batchSize, settings.warmupSteps, settings.maxLength],
    [0.003, 2, 1, 1, 48],
  );
  // A config file's field counts as given; --epochs leaves numSteps to the epochs.
  const cfg = path.join(t.dir, "card-cfg.json");
  fs.writeFileSync(cfg, JSON.stringify({ lr: 0.01 }));
  const job = resolveTrainJob([
    "--config",
    cfg,
    "--model",
    model,
    "--data",
    "docs-qa",
    "--epochs",
    "1",
    "--out",
    path.join(t.dir, "x"),
  ]) as any;
  assert.equal(job.train.lr, 0.01);
  assert.equal(job.train.numSteps, undefined);
  assert.deepEqual(job.recipe.fields.lr, { value: 0.01, from: "config" });
  assert.deepEqual(job.recipe.fields.numSteps, { value: 100, from: "tunebook default" });
  // Data that is not the recipe's dataset, or every field given: no recipe, no line.
  assert.equal(
    (resolveTrainJob(["--model", model, "--data", t.trainFile, "--out", path.join(t.dir, "x")]) as any).recipe,
    undefined,
  );
  const all = ["--lr", "1e-3", "--steps", "3", "--batch-size", "2", "--warmup", "0", "--max-length", "64"];
  assert.equal(
    (resolveTrainJob(["--model", model, "--data", "docs-qa", ...all, "--out", path.join(t.dir, "x")]) as any).recipe,
    undefined,
  );
});

test("tunebook train: a malformed model card is one line naming the file and the field", () => {
  const bad = modelWithCard("bad-card", { ...RECIPE, lr: 5 });
  assert.throws(
    () => resolveTrainJob(["--model", bad, "--data", "docs-qa", "--out", path.join(t.dir, "y")]),
    (e: Error) => {
      assert.equal(
        e.message,
        `tunebook train: ${path.join(bad, "model-card.json")}: recipes.docs-qa.lr: expected a learning rate in (0, 1), found 5`,
      );
      return true;
    },
  );
  const broken = modelWithCard("broken-card", "{ nope");
  assert.throws(
    () => resolveTrainJob(["--model", broken, "--data", "docs-qa", "--out", path.join(t.dir, "y")]),
    /broken-card\/model-card\.json: not valid JSON/,
  );
});

test("the embedded default model's card: notebook 03/04's recipes, applied to `train --model default --data email-subject`", () => {
  const job = resolveTrainJob(["--model", "default", "--data", "email-subject", "--out", path.join(t.dir, "z")]) as any;
  assert.deepEqual(
    [job.train.lr, job.train.numSteps, job.train.batchSize, job.train.warmupSteps, job.train.maxLength],
    [5e-3, 240, 8, 24, 160],
  );
  assert.match(
    recipeLine(job.recipe),
    /^recipe for email-subject: lr 0\.005 \(model card\), numSteps 240 \(model card\), batchSize 8 \(model card\), .*measured in notebooks 03 and 04/,
  );
  const spam = (resolveTrainJob(["--model", "default", "--data", "spam", "--out", path.join(t.dir, "z")]) as any).train;
  assert.deepEqual([spam.lr, spam.numSteps, spam.batchSize, spam.maxLength], [2e-3, 120, 8, 128]);
});
