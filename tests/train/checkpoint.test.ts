import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CheckpointWriteError,
  TrainCheckpointError,
  LATEST_FILE,
  checkpointName,
  cleanCheckpointLeftovers,
  findLatestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  removeAllCheckpoints,
  saveCheckpoint,
  type CheckpointContents,
} from "../../src/train/checkpoint";

const dirs: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-ckpt-"));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function contents(step: number, extra = 0): CheckpointContents {
  return {
    model: new Map([
      ["w", { dtype: "F32", shape: [2, 2], data: new Float32Array([step, 1, 2, 3]) }],
      ...(extra ? [["big", { dtype: "F32", shape: [extra], data: new Float32Array(extra).fill(step) }] as const] : []),
    ]),
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
  assert.deepEqual(
    listCheckpoints(dir).map((c) => c.step),
    [6, 8],
  );
  await saveCheckpoint(dir, 10, contents(10), { keepLast: 0 });
  assert.deepEqual(
    listCheckpoints(dir).map((c) => c.step),
    [6, 8, 10],
  );
});

test("a crash at any stage of a save leaves the previous checkpoint as the one to resume from", async () => {
  for (const stage of ["model-written", "optimizer-written", "state-written"] as const) {
    const dir = tmpDir();
    await saveCheckpoint(dir, 2, contents(2));
    await assert.rejects(
      saveCheckpoint(dir, 4, contents(4), {
        faultInjection: (s) => {
          if (s === stage) throw new Error(`crash at ${s}`);
        },
      }),
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
  await assert.rejects(
    saveCheckpoint(dir, 4, contents(4), {
      faultInjection: (s) => {
        if (s === "renamed") throw new Error("crash");
      },
    }),
  );
  assert.equal(findLatestCheckpoint(dir), path.join(dir, checkpointName(2)));
});

/** The pid of a process that has exited. */
const deadPid = () =>
  Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));

test("leftovers are ignored; a save removes a gone process's, never a live one's; cleanCheckpointLeftovers removes all", async () => {
  const dir = tmpDir();
  await saveCheckpoint(dir, 2, contents(2), { keepLast: 0 });
  await saveCheckpoint(dir, 4, contents(4), { keepLast: 0 });
  const live = process.ppid; // alive, and not us: as if another process were saving into this folder right now
  const dead = deadPid();
  const names = {
    live: `.tmp-step-000006-${live}-abcdef`,
    dead: `.tmp-step-000006-${dead}-abcdef`,
    deadOld: `.old-step-000001-${dead}-xyz`,
    deadPointer: `.latest.tmp-${dead}-k3j2h1`, // a pointer write cut short
    legacy: ".tmp-step-000005-Zq81Ab", // an older tunebook's name: no pid, so only the lock holder may remove it
  };
  for (const n of Object.values(names)) fs.mkdirSync(path.join(dir, n));
  fs.writeFileSync(path.join(dir, names.live, "model.safetensors"), "partial");
  fs.mkdirSync(path.join(dir, "step-000009")); // incomplete (no files): never chosen
  fs.writeFileSync(path.join(dir, LATEST_FILE), "step-000099\n");
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000004"));
  fs.rmSync(path.join(dir, LATEST_FILE));
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000004"));
  await saveCheckpoint(dir, 6, contents(6), { keepLast: 0 });
  assert.ok(fs.existsSync(path.join(dir, names.live)), "a save deletes no temp dir of a live process");
  assert.ok(fs.existsSync(path.join(dir, names.legacy)));
  for (const n of [names.dead, names.deadOld, names.deadPointer])
    assert.ok(!fs.existsSync(path.join(dir, n)), `${n}: its process is gone, the save removed it`);
  assert.deepEqual(cleanCheckpointLeftovers(dir), [names.legacy, names.live]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["latest", "step-000002", "step-000004", "step-000006", "step-000009"]);
  assert.deepEqual(cleanCheckpointLeftovers(path.join(dir, "missing")), []);
  assert.equal(findLatestCheckpoint(tmpDir()), undefined);
});

test("a crash while pruning leaves no half-deleted step folder; the next start cleans the leftover", async () => {
  const dir = tmpDir();
  for (const s of [2, 4]) await saveCheckpoint(dir, s, contents(s), { keepLast: 2 });
  let aside = "";
  await assert.rejects(
    saveCheckpoint(dir, 6, contents(6), {
      keepLast: 2,
      faultInjection: (stage, d) => {
        if (stage === "pruned-aside") {
          aside = d;
          fs.rmSync(path.join(d, "optimizer.safetensors")); // the delete got this far when the process died
          throw new Error("killed while pruning");
        }
      },
    }),
    /killed while pruning/,
  );
  assert.match(path.basename(aside), /^\.old-step-000002-/);
  assert.deepEqual(
    listCheckpoints(dir).map((c) => c.step),
    [4, 6],
    "step-000002 is gone under its real name, not half there",
  );
  assert.ok(!fs.existsSync(path.join(dir, "step-000002")));
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000006"));
  assert.deepEqual(cleanCheckpointLeftovers(dir), [path.basename(aside)]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["latest", "step-000004", "step-000006"]);
  // the crashed save of step 8 (killed after its temp dir was written) is cleaned the same way
  await assert.rejects(
    saveCheckpoint(dir, 8, contents(8), {
      faultInjection: (s) => {
        if (s === "optimizer-written") throw new Error("killed");
      },
    }),
    /killed/,
  );
  fs.mkdirSync(path.join(dir, ".tmp-step-000008-424242-crashd")); // what a SIGKILL leaves (a throw cleans up itself)
  assert.deepEqual(cleanCheckpointLeftovers(dir), [".tmp-step-000008-424242-crashd"]);
  assert.equal((await loadCheckpoint(findLatestCheckpoint(dir)!)).state.step, 6);
});

test("a re-save killed between setting the old copy aside and the swap: the next start puts the old copy back", async () => {
  const dir = tmpDir();
  await saveCheckpoint(dir, 4, contents(4));
  // the state a kill between the two renames leaves: latest names step-000004, which sits under its aside name
  fs.renameSync(path.join(dir, "step-000004"), path.join(dir, ".old-step-000004-777-abc"));
  fs.mkdirSync(path.join(dir, ".tmp-step-000004-777-def"));
  assert.deepEqual(cleanCheckpointLeftovers(dir), [".tmp-step-000004-777-def"]);
  assert.equal(findLatestCheckpoint(dir), path.join(dir, "step-000004"));
  assert.equal((await loadCheckpoint(path.join(dir, "step-000004"))).state.step, 4);
});

test("removeAllCheckpoints deletes the checkpoints and the pointer, nothing else", async () => {
  const dir = tmpDir();
  for (const s of [1, 2]) await saveCheckpoint(dir, s, contents(s), { keepLast: 0 });
  fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
  removeAllCheckpoints(dir);
  assert.deepEqual(fs.readdirSync(dir), ["notes.txt"]);
});

/** A small tmpfs (we are root in CI), or undefined where mounting is not allowed. */
function smallTmpfs(bytes: number): string | undefined {
  const dir = tmpDir();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  after(() => execFileSync("umount", [dir], { stdio: "ignore" }));
  return dir;
}

test("a full disk mid-save: one error naming the file and the intact checkpoint, nothing half-written, latest unchanged", async (t) => {
  const floats = 64 * 1024; // 256 KiB per tensor copy: one checkpoint (weights + optimizer state) ≈ 256 KiB + headers
  const disk = smallTmpfs(400 * 1024);
  let dir: string;
  let opts = {};
  if (disk) {
    dir = path.join(disk, "ckpt");
  } else {
    // no mount here: the same error, injected where the disk would fill
    t.diagnostic(
      "mount -t tmpfs is not allowed here: ENOSPC is injected through faultInjection instead of a full tmpfs",
    );
    dir = path.join(tmpDir(), "ckpt");
    opts = {
      faultInjection: (stage: string, d: string) => {
        if (stage === "model-written" && d.includes("step-000002"))
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
    };
  }
  await saveCheckpoint(dir, 1, contents(1, floats), { keepLast: 1, ...opts });
  const err = await saveCheckpoint(dir, 2, contents(2, floats), { keepLast: 1, ...opts }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(err instanceof CheckpointWriteError, `expected a CheckpointWriteError, got ${err}`);
  assert.equal(err.code, "ENOSPC");
  assert.match(
    err.message,
    /^cannot write \S*\.tmp-step-000002-\S*\/model\.safetensors: no space left on device \(ENOSPC\) while saving the checkpoint of step 2; newest intact checkpoint: \S*step-000001$/,
  );
  assert.equal(err.intact, path.join(dir, "step-000001"));
  assert.ok(!err.message.includes("\n"));
  assert.deepEqual(fs.readdirSync(dir).sort(), ["latest", "step-000001"], "no temp dir or partial file left");
  assert.equal(fs.readFileSync(path.join(dir, LATEST_FILE), "utf8"), "step-000001\n");
  assert.equal((await loadCheckpoint(findLatestCheckpoint(dir)!)).model.get("big")!.data[0], 1);
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
  await assert.rejects(
    loadCheckpoint(path.join(dir, "nope")),
    (e: any) => e instanceof TrainCheckpointError && /no such checkpoint directory/.test(e.message),
  );
  fs.writeFileSync(path.join(p, "trainer_state.json"), "{not json");
  await assert.rejects(loadCheckpoint(p), /trainer_state\.json: cannot read trainer state/);
  fs.writeFileSync(path.join(p, "trainer_state.json"), JSON.stringify({ step: 1 }));
  fs.writeFileSync(path.join(p, "optimizer.safetensors"), Buffer.alloc(4));
  await assert.rejects(loadCheckpoint(p), /optimizer\.safetensors/);
});
