import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  RUN_FILE,
  RunFolderError,
  checkFolderPath,
  checkNotModelFolder,
  cleanRunLeftovers,
  compareRunSettings,
  dataHash,
  describeChanges,
  inspectRunFolder,
  readRunRecord,
  type RunSettings,
} from "../../src/train/run-folder";
import { saveCheckpoint } from "../../src/train/checkpoint";

const dirs: string[] = [];
const tmpDir = () => {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-runfolder-")));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const settings = (over: Partial<RunSettings> = {}): RunSettings => ({
  model: "default",
  data: dataHash([{ q: "a" }]),
  dataSource: "a.jsonl",
  records: 1,
  template: "qa",
  labels: null,
  maxLength: 256,
  batchSize: 4,
  gradAccumSteps: 1,
  lr: 1e-3,
  schedule: "linear",
  warmupSteps: 0,
  numSteps: 10,
  numEpochs: 0,
  optimizer: "adamw",
  weightDecay: 0,
  optimizerOptions: {},
  lora: null,
  ...over,
});

test("compareRunSettings names each changed field by its flag with both values", () => {
  assert.deepEqual(compareRunSettings(settings(), settings()), []);
  const now = settings({
    batchSize: 8,
    lr: 2e-3,
    data: dataHash([{ q: "b" }]),
    dataSource: "b.jsonl",
    lora: '{"r":8}',
  });
  const changes = compareRunSettings(settings(), now);
  assert.deepEqual(
    changes.map((c) => c.flag),
    ["--data", "--batch-size", "--lr", "--lora"],
  );
  const text = describeChanges(changes, settings(), now);
  assert.match(
    text,
    /^--data: sha256 [0-9a-f]{12}… of 1 records from a\.jsonl then, [0-9a-f]{12}… of 1 records from b\.jsonl now; --batch-size: 4 then, 8 now; --lr: 0\.001 then, 0\.002 now; --lora: null then, \{"r":8\} now$/,
  );
  // key order is not a change; the steps only count when the schedule decays
  assert.deepEqual(
    compareRunSettings(
      settings({ optimizerOptions: { beta1: 0.9, eps: 1e-8 } }),
      settings({ optimizerOptions: { eps: 1e-8, beta1: 0.9 } }),
    ),
    [],
  );
  assert.deepEqual(
    compareRunSettings(settings(), settings({ numSteps: 20 })).map((c) => c.field),
    ["numSteps"],
  );
  assert.match(
    describeChanges(compareRunSettings(settings(), settings({ numSteps: 20 })), settings(), settings({ numSteps: 20 })),
    /--steps: 10 then, 20 now \(the linear schedule's decay depends on it\)/,
  );
  assert.deepEqual(
    compareRunSettings(settings({ schedule: "constant" }), settings({ schedule: "constant", numSteps: 20 })),
    [],
  );
  // a field an older record did not keep is not compared
  const { gradAccumSteps: _g, ...old } = settings();
  assert.deepEqual(compareRunSettings(old, settings({ gradAccumSteps: 4 })), []);
});

test("inspectRunFolder tells a new, an empty, a foreign and a tunebook run folder apart", async () => {
  const root = tmpDir();
  assert.deepEqual(inspectRunFolder(path.join(root, "new"), path.join(root, "new", "checkpoints")), {
    exists: false,
    empty: true,
    isRun: false,
    checkpoints: [],
    finished: false,
  });
  fs.mkdirSync(path.join(root, "empty"));
  assert.equal(inspectRunFolder(path.join(root, "empty"), "").empty, true);
  fs.mkdirSync(path.join(root, "mine"));
  fs.writeFileSync(path.join(root, "mine", "thesis.tex"), "x");
  assert.deepEqual(inspectRunFolder(path.join(root, "mine"), path.join(root, "mine", "checkpoints")), {
    exists: true,
    empty: false,
    isRun: false,
    record: undefined,
    checkpoints: [],
    finished: false,
  });
  const legacy = path.join(root, "legacy"); // a run from before tunebook_run.json: recognised by its checkpoints
  await saveCheckpoint(path.join(legacy, "checkpoints"), 3, {
    model: new Map([["w", { dtype: "F32", shape: [1], data: new Float32Array([1]) }]]),
    optimizer: new Map(),
    optimizerMetadata: {},
    state: { step: 3 },
  });
  assert.deepEqual(inspectRunFolder(legacy, path.join(legacy, "checkpoints")).checkpoints, [3]);
  assert.equal(inspectRunFolder(legacy, path.join(legacy, "checkpoints")).isRun, true);
  fs.writeFileSync(path.join(legacy, RUN_FILE), "{oops");
  assert.throws(() => inspectRunFolder(legacy, ""), /tunebook_run\.json: not valid JSON/);
  fs.writeFileSync(path.join(legacy, RUN_FILE), JSON.stringify({ format: "other" }));
  assert.throws(
    () => readRunRecord(legacy),
    (e: any) =>
      e instanceof RunFolderError && /not a tunebook run record \(expected "format": "tunebook-run"/.test(e.message),
  );
});

test("checkFolderPath: a file, or a path below a file, is refused before anything is written", () => {
  const root = tmpDir();
  fs.writeFileSync(path.join(root, "notes.txt"), "x");
  assert.throws(
    () => checkFolderPath("--out", path.join(root, "notes.txt")),
    /^RunFolderError: --out .*notes\.txt: is a file, expected a folder$/,
  );
  assert.throws(
    () => checkFolderPath("--out", path.join(root, "notes.txt", "run")),
    /--out .*notes\.txt\/run: .*notes\.txt is a file, so no folder can be made below it/,
  );
  checkFolderPath("--out", path.join(root, "a", "b"));
  assert.ok(!fs.existsSync(path.join(root, "a")), "checking creates nothing");
});

test("checkNotModelFolder refuses the model folder, a folder inside it or around it, and the real home of linked weights", () => {
  const root = tmpDir();
  const model = path.join(root, "models", "base");
  fs.mkdirSync(model, { recursive: true });
  fs.writeFileSync(path.join(model, "config.json"), "{}");
  fs.mkdirSync(path.join(root, "blobs"));
  fs.writeFileSync(path.join(root, "blobs", "abc123"), "weights");
  fs.symlinkSync(path.join(root, "blobs", "abc123"), path.join(model, "model.safetensors")); // as in a hub snapshot
  fs.symlinkSync(model, path.join(root, "alias"));
  const refused = (dir: string, how: RegExp) =>
    assert.throws(() => checkNotModelFolder([{ flag: "--out", dir }], { modelDir: model }), how);
  refused(
    model,
    /^RunFolderError: --out .*models\/base is the --model folder \(.*\): training writes model\.safetensors, config\.json and checkpoints there, over the weights it starts from; choose another --out \(--force does not change this\)$/,
  );
  refused(path.join(root, "alias"), /--out .*alias is the --model folder/); // real paths are compared
  refused(
    path.join(model, "ft"),
    /is inside the --model folder .*: the run's files would be mixed into the model's; choose another --out/,
  );
  refused(
    path.join(root, "models"),
    /contains the --model folder .*: a run folder must not hold the model it starts from/,
  );
  refused(path.join(root, "blobs"), /is the folder holding the --model weights \(.*blobs\)/);
  checkNotModelFolder([{ flag: "--out", dir: path.join(root, "runs", "a") }], { modelDir: model });
  assert.throws(
    () =>
      checkNotModelFolder([{ flag: "checkpointDir", dir: path.join(root, "hf", "hub", "x") }], {
        cacheDir: path.join(root, "hf", "hub"),
      }),
    /checkpointDir .* is inside the Hugging Face cache/,
  );
});

test("cleanRunLeftovers removes tunebook's temp names only", () => {
  const out = tmpDir();
  const leftovers = [
    ".model.safetensors.4242.k3j2h1g0.tmp",
    ".config.json.tmp-4242-lx2abcde12",
    ".adapter.old-4242-lx2abcde12",
    ".final.tmp-4242-lx2abcde12",
  ];
  const keep = ["model.safetensors", ".mine.tmp-1-a", "notes.tmp", ".config.json.bak", "tunebook_run.lock"];
  for (const n of [...leftovers, ...keep]) fs.writeFileSync(path.join(out, n), "x");
  assert.deepEqual(cleanRunLeftovers(out).sort(), [...leftovers].sort());
  assert.deepEqual(fs.readdirSync(out).sort(), [...keep].sort());
});
