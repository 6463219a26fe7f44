// `tunebook train`'s run-folder safety: what it refuses to write over, the lock, --resume's settings check,
// crash leftovers, signals and full disks.
import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureIO, useTinyTask, writeJsonlFile, qaRecords } from "../eval/helpers/tiny-task";
import { run } from "../../src/cli/train";
import { LATEST_FILE, listCheckpoints } from "../../src/train/checkpoint";
import { LOCK_FILE, acquireRunLock } from "../../src/train/run-lock";
import { RUN_FILE, readRunRecord } from "../../src/train/run-folder";

const t = useTinyTask();
const common = () => [
  "--model",
  t.modelDir,
  "--data",
  t.trainFile,
  "--batch-size",
  "4",
  "--lr",
  "0.01",
  "--seed",
  "3",
  "--quiet",
];
const out = (name: string) => path.join(t.dir, name);

async function train(args: string[]): Promise<{ summary: any; stderr: string }> {
  const io = captureIO();
  assert.equal(await run(args, io), 0);
  return { summary: JSON.parse(io.stdout()), stderr: io.stderr() };
}

/** The error `run` fails with (and a check that it is one line). */
async function refusal(args: string[]): Promise<string> {
  const e = await run(args, captureIO()).then(
    () => undefined,
    (err) => err,
  );
  assert.ok(e instanceof Error, `expected ${args.join(" ")} to fail`);
  assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
  return e.message;
}

/** The pid of a process that has exited. */
const deadPid = () =>
  Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));

test("--out that is a file, or below one, fails in one line before the data or the model is read", async () => {
  const file = out("notes.txt");
  fs.writeFileSync(file, "mine");
  const noData = ["--model", t.modelDir, "--data", out("no-such.jsonl")];
  assert.match(await refusal([...noData, "--out", file]), /^--out .*notes\.txt: is a file, expected a folder$/);
  assert.match(
    await refusal([...noData, "--out", path.join(file, "run")]),
    /notes\.txt is a file, so no folder can be made below it/,
  );
  assert.equal(fs.readFileSync(file, "utf8"), "mine");
});

test("the --model folder is refused as --out, even with --force (the error says why); so is a folder inside or around it", async () => {
  const weights = fs.readFileSync(path.join(t.modelDir, "model.safetensors"));
  for (const force of [[], ["--force"]])
    assert.match(
      await refusal([...common(), "--out", t.modelDir, ...force]),
      /--out .*model is the --model folder \(.*\): training writes model\.safetensors, config\.json and checkpoints there, over the weights it starts from; choose another --out \(--force does not change this\)/,
    );
  assert.match(await refusal([...common(), "--out", path.join(t.modelDir, "ft")]), /is inside the --model folder/);
  assert.match(await refusal([...common(), "--out", t.dir, "--force"]), /contains the --model folder/);
  assert.deepEqual(fs.readFileSync(path.join(t.modelDir, "model.safetensors")), weights);
  assert.ok(!fs.existsSync(path.join(t.modelDir, "ft")) && !fs.existsSync(path.join(t.modelDir, LOCK_FILE)));
});

test('--lora "" and other empty values of flags that take a name or spec are errors naming the flag', async () => {
  const o = ["--out", out("never")];
  assert.match(
    await refusal([...common(), ...o, "--lora", ""]),
    /^tunebook train: --lora is empty; expected a LoRA spec such as r=8,alpha=16 \(leave the flag out for a full fine-tune\)$/,
  );
  assert.match(await refusal([...common(), ...o, "--lora= "]), /--lora is empty/);
  assert.match(
    await refusal([...common(), ...o, "--eval-data", ""]),
    /--eval-data is empty; expected a JSONL file or a dataset name/,
  );
  assert.match(await refusal([...common(), ...o, "--template", ""]), /--template is empty/);
  assert.match(await refusal(["--config", "", ...o]), /--config is empty/);
  assert.match(await refusal([...common(), ...o, "--labels", ","]), /--labels has no labels/);
  assert.match(await refusal([...common(), ...o, "--lora", "r=8,,alpha=16"]), /--lora: unknown key ""/);
  assert.ok(!fs.existsSync(out("never")));
});

test("a non-empty folder that is not a tunebook run is refused; --force writes into it and deletes nothing of yours", async () => {
  const dir = out("thesis");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "chapter1.tex"), "mine");
  assert.match(
    await refusal([...common(), "--out", dir, "--steps", "1"]),
    /--out .*thesis is not empty and is not a tunebook run folder \(no tunebook_run\.json\): choose a new folder, or --force to write into it/,
  );
  assert.deepEqual(fs.readdirSync(dir), ["chapter1.tex"], "refused before writing anything, the lock included");
  await train([...common(), "--out", dir, "--steps", "1", "--force"]);
  assert.equal(fs.readFileSync(path.join(dir, "chapter1.tex"), "utf8"), "mine");
  assert.ok(
    fs.existsSync(path.join(dir, RUN_FILE)) && !fs.existsSync(path.join(dir, LOCK_FILE)),
    "recorded, and unlocked at the end",
  );
});

test("a finished run is not started over without --force; --force deletes its checkpoints first; the record holds the settings", async () => {
  const dir = out("again");
  const first = await train([
    ...common(),
    "--out",
    dir,
    "--steps",
    "3",
    "--checkpoint-every",
    "1",
    "--keep-checkpoints",
    "0",
  ]);
  assert.equal(first.stderr, "");
  const rec = readRunRecord(dir)!;
  assert.equal(rec.settings.batchSize, 4);
  assert.equal(rec.settings.lr, 0.01);
  assert.equal(rec.settings.records, 24);
  assert.match(rec.settings.data, /^[0-9a-f]{64}$/);
  assert.equal(rec.settings.model, fs.realpathSync(t.modelDir));
  assert.match(
    await refusal([...common(), "--out", dir, "--steps", "2"]),
    /again holds a tunebook run \(checkpoints up to step 3 and a finished model\): continue it with --resume, or start over with --force \(its checkpoints are deleted\)/,
  );
  const { stderr } = await train([...common(), "--out", dir, "--steps", "2", "--force"]);
  assert.match(stderr, /--force: starting over \(the earlier run's checkpoints and summary were deleted\)/);
  assert.deepEqual(
    listCheckpoints(path.join(dir, "checkpoints")).map((c) => c.step),
    [2],
    "step 3 of the earlier run is gone",
  );
});

test("--resume refuses changed data, batch size, schedule, optimizer, LoRA or model, naming the field and both values; --force continues", async () => {
  const dir = out("resume-check");
  const base = [...common(), "--out", dir, "--schedule", "constant"];
  await train([...base, "--steps", "2"]);
  const resume = [...base, "--steps", "3", "--resume"];
  const expect = async (extra: string[], re: RegExp) => {
    const msg = await refusal([...resume, ...extra]);
    assert.match(msg, /^tunebook train --resume: .*resume-check was trained with other settings \(/);
    assert.match(msg, re);
    assert.match(msg, /use the run's values, or --force to continue with the new ones$/);
  };
  await expect(["--batch-size", "2"], /--batch-size: 4 then, 2 now/);
  await expect(["--lr", "0.02"], /--lr: 0\.01 then, 0\.02 now/);
  await expect(["--grad-accum", "2"], /--grad-accum: 1 then, 2 now/);
  await expect(["--warmup", "1"], /--warmup: 0 then, 1 now/);
  await expect(
    ["--schedule", "cosine"],
    /--schedule: constant then, cosine now; --steps: 2 then, 3 now \(the cosine schedule's decay depends on it\)/,
  );
  await expect(["--optimizer", "adafactor"], /--optimizer: adamw then, adafactor now/);
  await expect(
    ["--limit", "20"],
    /--data: sha256 [0-9a-f]{12}… of 24 records from .*train\.jsonl then, [0-9a-f]{12}… of 20 records from .*train\.jsonl now/,
  );
  await expect(["--lora", "r=2,alpha=4"], /--lora: null then, \{.*"r":2.*\} now/);
  const other = writeJsonlFile(out("other.jsonl"), qaRecords(24, 50));
  await expect(["--data", other], /--data: sha256 .* of 24 records from .*other\.jsonl now/);
  const copy = out("model-copy");
  fs.cpSync(t.modelDir, copy, { recursive: true });
  await expect(["--model", copy], /--model: .*model then, .*model-copy now/);
  // the same settings (and, with a constant schedule, more steps) resume silently
  const same = await train(resume);
  assert.equal(same.summary.step, 3);
  assert.equal(same.stderr, "");
  const forced = await train([...resume, "--steps", "4", "--batch-size", "2", "--force"]);
  assert.equal(forced.summary.step, 4);
  assert.match(forced.stderr, /--force: resuming with changed settings \(--batch-size: 4 then, 2 now\)/);
  const rec = readRunRecord(dir)!;
  assert.equal(rec.settings.batchSize, 2);
  assert.deepEqual(
    rec.forced?.map((f) => f.changed),
    [["batchSize"]],
  );
});

test("two concurrent runs into one --out: the second is refused at once naming the lock holder; the first is untouched", async () => {
  const dir = out("shared");
  let second: Promise<unknown> | undefined;
  const io = {
    ...captureIO(),
    err: (line: string) => {
      if (!second && /^step 1\//.test(line))
        second = run([...common(), "--out", dir, "--steps", "2"], captureIO()).then(
          () => undefined,
          (e) => e,
        );
    },
  };
  const args = [...common().filter((a) => a !== "--quiet"), "--out", dir, "--steps", "30", "--checkpoint-every", "5"];
  assert.equal(await run(args, io), 0);
  const e: any = await second;
  assert.ok(e instanceof Error, "the second run must fail");
  assert.match(
    e.message,
    new RegExp(
      `shared is in use by another tunebook train \\(pid ${process.pid} on host ${os.hostname()}, started .*; lock .*tunebook_run\\.lock\\): wait for it to finish or stop it$`,
    ),
  );
  assert.deepEqual(
    listCheckpoints(path.join(dir, "checkpoints")).map((c) => c.step),
    [25, 30],
  );
  assert.equal(fs.readFileSync(path.join(dir, "checkpoints", LATEST_FILE), "utf8"), "step-000030\n");
});

test("a checkpointDir outside --out (config file) is checked and locked too; one equal to --out is one folder", async () => {
  const cfg = out("ck.json");
  const elsewhere = out("ck-elsewhere");
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      model: t.modelDir,
      data: t.trainFile,
      out: out("ck-run"),
      numSteps: 1,
      batchSize: 4,
      checkpointDir: elsewhere,
    }),
  );
  const held = acquireRunLock(elsewhere);
  try {
    assert.match(await refusal(["--config", cfg, "--quiet"]), /ck-elsewhere is in use by another tunebook train/);
  } finally {
    held.release();
  }
  assert.ok(!fs.existsSync(path.join(out("ck-run"), LOCK_FILE)), "the --out lock taken first was released");
  await train(["--config", cfg, "--quiet"]);
  assert.deepEqual(
    listCheckpoints(elsewhere).map((c) => c.step),
    [1],
  );
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      model: t.modelDir,
      data: t.trainFile,
      out: out("ck-same"),
      numSteps: 1,
      batchSize: 4,
      checkpointDir: out("ck-same"),
    }),
  );
  await train(["--config", cfg, "--quiet"]);
  assert.deepEqual(
    listCheckpoints(out("ck-same")).map((c) => c.step),
    [1],
  );
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      model: t.modelDir,
      data: t.trainFile,
      out: out("ck-model"),
      numSteps: 1,
      checkpointDir: path.join(t.modelDir, "ck"),
    }),
  );
  assert.match(await refusal(["--config", cfg, "--quiet"]), /^checkpointDir .*model\/ck is inside the --model folder/);
});

test("after a crash: the stale lock is taken over and the leftovers of the interrupted save are cleaned, in one line each", async () => {
  const dir = out("crashed");
  const base = [...common(), "--out", dir, "--schedule", "constant", "--checkpoint-every", "1"];
  await train([...base, "--steps", "2"]);
  const ck = path.join(dir, "checkpoints");
  const pid = deadPid();
  fs.writeFileSync(
    path.join(dir, LOCK_FILE),
    JSON.stringify({ pid, host: os.hostname(), startedAt: "2026-01-02T03:04:05.000Z", token: "dead" }),
  );
  fs.mkdirSync(path.join(ck, `.tmp-step-000003-${pid}-AbCdEf`));
  fs.writeFileSync(path.join(ck, `.tmp-step-000003-${pid}-AbCdEf`, "model.safetensors"), "half");
  fs.renameSync(path.join(ck, "step-000001"), path.join(ck, `.old-step-000001-${pid}-lx2abc`)); // killed while pruning
  fs.writeFileSync(path.join(dir, `.model.safetensors.${pid}.k3j2h1g0.tmp`), "half a final model");
  const { summary, stderr } = await train([...base, "--steps", "3", "--resume"]);
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 2, stderr);
  assert.match(
    lines[0],
    new RegExp(
      `crashed: taking over a stale lock \\(pid ${pid} on host .*, started 2026-01-02T03:04:05\\.000Z, no longer running\\)$`,
    ),
  );
  assert.match(
    lines[1],
    /crashed: removed what an interrupted save left behind \(\.model\.safetensors\.\d+\.k3j2h1g0\.tmp, checkpoints\/\.old-step-000001-\d+-lx2abc, checkpoints\/\.tmp-step-000003-\d+-AbCdEf\)$/,
  );
  assert.equal(summary.step, 3);
  assert.match(summary.resumedFrom, /step-000002$/);
  assert.deepEqual(fs.readdirSync(ck).sort(), ["latest", "step-000002", "step-000003"]);
  assert.ok(!fs.readdirSync(dir).some((n) => n.startsWith(".")), "no hidden leftovers in OUT");
});

/** `tunebook train ...` in a child process (the real CLI entry, with tsx). */
function spawnTrain(args: string[]) {
  const entry = `require(${JSON.stringify(path.resolve("src/cli.ts"))}).main(["train", ...process.argv.slice(1)]).then((c) => process.exit(c))`;
  const child = spawn(process.execPath, ["--import", "tsx", "-e", entry, "--", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (b) => (stderr += b));
  child.stdout!.on("data", (b) => (stdout += b));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => re.test(stderr) && (clearInterval(timer), resolve());
      const timer = setInterval(check, 20);
      exited.then(
        () => (clearInterval(timer), re.test(stderr) ? resolve() : reject(new Error(`exited before ${re}: ${stderr}`))),
      );
    });
  return { child, exited, waitFor, stderr: () => stderr, stdout: () => stdout };
}

test("processes: SIGTERM stops after the step with a checkpoint and frees the folder; SIGKILL mid-run, then --resume starts clean", async () => {
  const dir = out("killed");
  const args = [
    ...common().filter((a) => a !== "--quiet"),
    "--out",
    dir,
    "--schedule",
    "constant",
    "--steps",
    "100000",
    "--checkpoint-every",
    "1",
    "--keep-checkpoints",
    "1",
  ];
  const a = spawnTrain(args);
  await a.waitFor(/checkpoint: .*step-000003/);
  a.child.kill("SIGTERM");
  assert.equal(await a.exited, 0, a.stderr());
  assert.match(a.stderr(), /stopping after this step \(a checkpoint is saved; signal again to quit now\)/);
  assert.equal(JSON.parse(a.stdout()).stopped, true);
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), "lock released on SIGTERM");

  const b = spawnTrain([...args, "--resume"]);
  await b.waitFor(/checkpoint: .*step-0000[1-9]\d/); // saving every step: a kill now often lands mid-save or mid-prune
  b.child.kill("SIGKILL");
  await b.exited;
  assert.ok(fs.existsSync(path.join(dir, LOCK_FILE)), "a SIGKILL leaves the lock behind");
  const target = listCheckpoints(path.join(dir, "checkpoints")).pop()!.step + 1;
  const { summary, stderr } = await train([
    ...args.filter((x) => x !== "100000" && x !== "--steps"),
    "--quiet",
    "--steps",
    String(target),
    "--resume",
  ]);
  assert.match(stderr, new RegExp(`taking over a stale lock \\(pid ${b.child.pid} `));
  assert.equal(summary.step, target);
  assert.ok(summary.stepsRun >= 1 && /step-\d+$/.test(summary.resumedFrom), JSON.stringify(summary));
  assert.ok(
    !fs.readdirSync(path.join(dir, "checkpoints")).some((n) => n.startsWith(".")),
    "no leftovers after the clean start",
  );
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)));
});

/** A small tmpfs (root, as in CI), or undefined where mounting is not allowed. */
function smallTmpfs(bytes: number): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    fs.rmdirSync(dir);
    return undefined;
  }
  after(() => {
    execFileSync("umount", [dir], { stdio: "ignore" });
    fs.rmdirSync(dir);
  });
  return dir;
}

const dirBytes = (d: string): number => fs.readdirSync(d).reduce((n, f) => n + fs.statSync(path.join(d, f)).size, 0);

test("a full disk: the error names the file being written and the newest intact checkpoint, for checkpoints and for the final model", async (tt) => {
  const probe = out("probe");
  await train([...common(), "--out", probe, "--steps", "1"]);
  const ckBytes = dirBytes(path.join(probe, "checkpoints", "step-000001"));
  const modelBytes = fs.statSync(path.join(probe, "model.safetensors")).size;
  const disk = smallTmpfs(Math.floor(2.5 * ckBytes) + 16 * 4096); // two checkpoints fit, a third does not
  if (!disk)
    return tt.skip(
      "mount -t tmpfs is not allowed here (needs root); tests/train/checkpoint.test.ts injects ENOSPC instead",
    );
  const dir = path.join(disk, "run");
  const msg = await refusal([
    ...common(),
    "--out",
    dir,
    "--steps",
    "5",
    "--checkpoint-every",
    "1",
    "--keep-checkpoints",
    "2",
  ]);
  assert.match(
    msg,
    /^cannot write .*run\/checkpoints\/\.tmp-step-000003-\d+-\w+\/(model|optimizer)\.safetensors: no space left on device \(ENOSPC\) while saving the checkpoint of step 3; newest intact checkpoint: .*run\/checkpoints\/step-000002 \(free some space, then continue from it with --resume\)$/,
  );
  assert.deepEqual(fs.readdirSync(path.join(dir, "checkpoints")).sort(), ["latest", "step-000001", "step-000002"]);
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), "lock released on error");

  // the final model does not fit: its checkpoints live elsewhere (config file) and stay the safe copy
  fs.rmSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(disk, "filler"),
    Buffer.alloc(Math.max(0, fs.statfsSync(disk).bavail * fs.statfsSync(disk).bsize - Math.floor(modelBytes / 2))),
  );
  const cfg = out("full.json");
  const ckDir = out("full-checkpoints");
  fs.writeFileSync(
    cfg,
    JSON.stringify({
      model: t.modelDir,
      data: t.trainFile,
      out: path.join(disk, "final"),
      numSteps: 1,
      batchSize: 4,
      checkpointDir: ckDir,
    }),
  );
  const msg2 = await refusal(["--config", cfg, "--quiet"]);
  assert.match(
    msg2,
    /^cannot write .*final\/model\.safetensors: no space left on device \(ENOSPC\); the trained weights are in the newest intact checkpoint .*full-checkpoints\/step-000001: free some space, then run the same command with --resume to write the final files$/,
  );
  assert.ok(
    !fs.readdirSync(path.join(disk, "final")).some((n) => n.startsWith(".") || n === "model.safetensors"),
    "no half-written model left",
  );
});
