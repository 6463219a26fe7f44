import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LOCK_FILE, RunLockError, acquireRunLock, lockHolderState, readRunLock } from "../../src/train/run-lock";

const dirs: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-lock-"));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

const writeLock = (dir: string, info: object) => fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(info));

test("a second lock on a locked folder is refused in one line naming the holder; release frees it", () => {
  const dir = path.join(tmpDir(), "run");
  const a = acquireRunLock(dir);
  const held = readRunLock(dir)!;
  assert.equal(held.pid, process.pid);
  assert.equal(held.host, os.hostname());
  assert.ok(!Number.isNaN(Date.parse(held.startedAt)));
  assert.throws(
    () => acquireRunLock(dir),
    (e: any) => {
      assert.ok(e instanceof RunLockError);
      assert.match(
        e.message,
        new RegExp(
          `is in use by another tunebook train \\(pid ${process.pid} on host ${os.hostname()}, started ${held.startedAt}; lock .*${LOCK_FILE}\\)`,
        ),
      );
      assert.ok(!e.message.includes("\n"));
      return true;
    },
  );
  a.release();
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)));
  a.release(); // idempotent
  const b = acquireRunLock(dir);
  b.release();
  assert.deepEqual(fs.readdirSync(dir), [], "no temp files left beside the lock");
});

test("a stale lock (dead pid on this host) is reported in one line and taken over", () => {
  const dir = tmpDir();
  const pid = deadPid();
  writeLock(dir, { pid, host: os.hostname(), startedAt: "2026-01-02T03:04:05.000Z", token: "old" });
  const lines: string[] = [];
  const lock = acquireRunLock(dir, { onStale: (l) => lines.push(l) });
  assert.deepEqual(lines, [
    `${dir}: taking over a stale lock (pid ${pid} on host ${os.hostname()}, started 2026-01-02T03:04:05.000Z, no longer running)`,
  ]);
  assert.equal(lock.tookOver?.pid, pid);
  assert.equal(readRunLock(dir)!.token, lock.info.token);
  lock.release();
});

test("stale also: our own pid with a token this process never held (a restarted container), and a reused pid", () => {
  const dir = tmpDir();
  writeLock(dir, { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: "not-ours" });
  assert.equal(lockHolderState(readRunLock(dir)!), "dead");
  const lock = acquireRunLock(dir, { onStale: () => undefined });
  lock.release();
  if (fs.existsSync("/proc/self/stat")) {
    // a live process, but not the one that wrote the lock (its start time differs)
    assert.equal(
      lockHolderState({
        pid: process.ppid,
        host: os.hostname(),
        startedAt: new Date().toISOString(),
        token: "t",
        proc: "another-boot:1",
      }),
      "dead",
    );
    assert.equal(
      lockHolderState({ pid: process.ppid, host: os.hostname(), startedAt: new Date().toISOString(), token: "t" }),
      "alive",
    );
  }
});

test("a lock from another host is never taken over; a file that is not a lock is named", () => {
  const dir = tmpDir();
  writeLock(dir, { pid: 1234, host: "elsewhere.example", startedAt: "2026-01-02T03:04:05.000Z", token: "x" });
  assert.throws(
    () => acquireRunLock(dir),
    /is locked by a run on another host \(pid 1234 on host elsewhere\.example, .*\): if that run is gone, delete the lock file/,
  );
  fs.writeFileSync(path.join(dir, LOCK_FILE), "garbage");
  assert.throws(
    () => acquireRunLock(dir),
    /tunebook_run\.lock: not a tunebook lock file \(expected JSON \{pid, host, startedAt\}\); delete it if no tunebook train is using/,
  );
});

test("release leaves a lock alone that is no longer ours", () => {
  const dir = tmpDir();
  const lock = acquireRunLock(dir);
  writeLock(dir, { pid: 99, host: os.hostname(), startedAt: new Date().toISOString(), token: "someone-else" });
  lock.release();
  assert.equal(readRunLock(dir)!.token, "someone-else");
});

test("two processes: the second is refused while the first lives; a SIGKILLed holder's lock is taken over; a clean exit releases it", async () => {
  const dir = tmpDir();
  const script = `const { acquireRunLock } = require(${JSON.stringify(path.resolve("src/train/run-lock.ts"))});
acquireRunLock(process.argv[1]); process.stdout.write("locked\\n"); process.stdin.on("data", () => process.exit(0)); process.stdin.resume();`;
  const start = async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "-e", script, dir], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (b) => String(b).includes("locked") && resolve());
      child.on("exit", (code) => reject(new Error(`child exited with ${code} before locking`)));
    });
    return child;
  };
  const child = await start();
  assert.throws(() => acquireRunLock(dir), new RegExp(`in use by another tunebook train \\(pid ${child.pid} on host`));
  const gone = new Promise((r) => child.on("exit", r));
  child.kill("SIGKILL"); // no exit handler runs: the lock file stays behind
  await gone;
  assert.equal(readRunLock(dir)!.pid, child.pid);
  const lines: string[] = [];
  acquireRunLock(dir, { onStale: (l) => lines.push(l) }).release();
  assert.match(lines.join(""), new RegExp(`taking over a stale lock \\(pid ${child.pid} `));

  const polite = await start();
  const exited = new Promise((r) => polite.on("exit", r));
  polite.stdin!.write("bye\n");
  await exited;
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), "released on process exit");
});
