import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  TrainCheckpointError, LATEST_FILE, checkpointName, findLatestCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint,
  type CheckpointContents,
} from "../../src/train/checkpoint";

const dirs: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-ckpt-"));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function contents(step: number): CheckpointContents {
  return {
    model: new Map([["w", { dtype: "F32", shape: [2, 2], data: new Float32Array([step, 1, 2, 3]) }]]),
    optimizer: new Map([["w.exp_avg", { dtype: "F32", shape: [2, 2], data: new Float32Array([0.5, step, 0, 0]) }]]),
    optimizerMetadata: { optimizer: "adamw", step: String(step) },
    state: { step, lossHistory: [3, 2, 1] },
  };
}

test("a checkpoint round-trips and the latest pointer names it", async () => {
  const dir = tmpDir();
  const p = await saveCheckpoint(dir, 7, contents(7));
  assert.equal(p, path.join(dir, "step-000007"));
  assert.equal(fs.readFileSync(path.join(dir, LATEST_FILE), "utf8"), "step-000007\n");
  const back = await loadCheckpoint(findLatestCheckpoint(dir)!);
  assert.deepEqual([...back.model.get("w")!.data], [7, 1, 2, 3]);
  assert.deepEqual([...back.optimizer.get("w.exp_avg")!.data], [0.5, 7, 0, 0]);
  assert.equal(back.optimizerMetadata.step, "7");
  assert.deepEqual(back.state, { step: 7, lossHistory: [3, 2, 1] });
  assert.deepEqual(fs.readdirSync(dir).sort(), ["latest", "step-000007"], "no temp files left behind");
});

test("only the newest K checkpoints are kept", async () => {
  const dir = tmpDir();
  for (const s of [2, 4, 6, 8]) await saveCheckpoint(dir, s, contents(s), { keepLast: 2 });
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [6, 8]);
  await saveCheckpoint(dir, 10, contents(10), { keepLast: 0 });
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [6, 8, 10]);
});

test("a crash at any stage of a save leaves the previous checkpoint as the one to resume from", async () => {
  for (const stage of ["model-written", "optimizer-written", "state-written"] as const) {
    const dir = tmpDir();
    await saveCheckpoint(dir, 2, contents(2));
    await assert.rejects(
      saveCheckpoint(dir, 4, contents(4), { faultInjection: (s) => { if (s === stage) throw new Error(`crash at ${s}`); } }),
      /crash at/,
    );
    assert.equal(findLatestCheckpoint(dir), path.join(dir, checkpointName(2)), stage);
    const back = await loadCheckpoint(findLatestCheckpoint(dir)!);
    assert.deepEqual([...back.model.get("w")!.data], [2, 1, 2, 3]);
    assert.ok(!fs.existsSync(path.join(dir, checkpointName(4))), `${stage}: no half-written step-000004`);
  }
  // killed after the rename but before the pointer moved: the pointer (the commit point) still wins
  const dir = tmpDir();
  await saveCheckpoint(dir, 2, contents(2));
  await assert.rejects(saveCheckpoint(dir, 4, contents(4), { faultInjection: (s) => { if (s === "renamed") throw new Error("crash"); } }));
  assert.equal(findLatestCheckpoint(dir), path.join(dir, checkpointName(2)));
});

test("leftover temp dirs are ignored and cleaned; a missing or broken pointer falls back to the newest complete one", async () => {
  const dir = tmpDir();
  await saveCheckpoint(dir, 2, contents(2), { keepLast: 0 });
  await saveCheckpoint(dir, 4, contents(4), { keepLast: 0 });
  fs.mkdirSync(path.join(dir, ".tmp-step-000006-abc"));
  fs.writeFileSync(path.join(dir, ".tmp-step-000006-abc", "model.safetensors"), "partial");
  fs.mkdirSync(path.join(dir, "step-000009")); // incomplete (no files): never chosen
  fs.writeFileSync(path.join(dir, LATEST_FILE), "step-000099\n");
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000004"));
  fs.rmSync(path.join(dir, LATEST_FILE));
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000004"));
  await saveCheckpoint(dir, 6, contents(6), { keepLast: 0 });
  assert.ok(!fs.existsSync(path.join(dir, ".tmp-step-000006-abc")), "stale temp dir removed by the next save");
  assert.equal(findLatestCheckpoint(tmpDir()), undefined);
});

test("re-saving an existing step replaces it whole", async () => {
  const dir = tmpDir();
  await saveCheckpoint(dir, 4, contents(4));
  const c = contents(4);
  (c.model.get("w")!.data as Float32Array)[1] = 42;
  await saveCheckpoint(dir, 4, c);
  const back = await loadCheckpoint(path.join(dir, "step-000004"));
  assert.equal(back.model.get("w")!.data[1], 42);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["latest", "step-000004"]);
});

test("loading a damaged checkpoint names the file", async () => {
  const dir = tmpDir();
  const p = await saveCheckpoint(dir, 1, contents(1));
  await assert.rejects(loadCheckpoint(path.join(dir, "nope")), (e: any) => e instanceof TrainCheckpointError && /no such checkpoint directory/.test(e.message));
  fs.writeFileSync(path.join(p, "trainer_state.json"), "{not json");
  await assert.rejects(loadCheckpoint(p), /trainer_state\.json: cannot read trainer state/);
  fs.writeFileSync(path.join(p, "trainer_state.json"), JSON.stringify({ step: 1 }));
  fs.writeFileSync(path.join(p, "optimizer.safetensors"), Buffer.alloc(4));
  await assert.rejects(loadCheckpoint(p), /optimizer\.safetensors/);
});
