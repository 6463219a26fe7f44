// Inter-process download locks: two real processes downloading the same file both succeed with one transfer;
// a lock left by a dead process (or an old one from another host) is taken over; a live one is waited for.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveRepoFiles } from "../../src/hub/resolve";
import type { DownloadProgress } from "../../src/hub/download";
import { acquireFileLock, FileLockError, readLockOwner, staleReason } from "../../src/runtime/file-lock";
import { sha256hex, startHubServer } from "../helpers/hubserver";
import { FIXTURES } from "../helpers/backend";
import { freshCache, read, REPO, tinyRepo } from "./fixture";

const WEIGHTS = read(path.join(FIXTURES, "neox-tiny", "A", "model.safetensors"));
const SHA = sha256hex(WEIGHTS);
const REPO_DIR = "models--tiny-org--neox-tiny-a";
const lockOf = (cache: string) => path.join(cache, ".locks", REPO_DIR, `${SHA}.tunebook.lock`);
const blobOf = (cache: string) => path.join(cache, REPO_DIR, "blobs", SHA);
const cdnGets = (hub: { requests: { server: string; method: string }[] }) =>
  hub.requests.filter((q) => q.server === "cdn" && q.method === "GET");

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  return r.pid!;
}

function writeLock(file: string, owner: object, ageMs = 0): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(owner));
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(file, t, t);
}

test("two processes downloading the same file at once: both succeed, the body is served once, one waited for the other", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  hub.throttle("model.safetensors", 8192, 150); // ~2 s: the second process arrives while the first downloads
  const barrier = path.join(cache.dir, "go");
  const child = path.join(__dirname, "download-child.ts");
  const runs = [0, 1].map(() => {
    const p = spawn(
      process.execPath,
      ["--import", "tsx", child, REPO, "model.safetensors", hub.url, cache.dir, barrier],
      {
        env: { ...process.env, HF_HUB_OFFLINE: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    let onReady: () => void;
    const ready = new Promise<void>((r) => (onReady = r));
    p.stdout.on("data", (b) => {
      out += b;
      if (out.includes("ready\n")) onReady();
    });
    p.stderr.on("data", (b) => (err += b));
    const done = new Promise<{ code: number | null; out: string; err: string }>((r) =>
      p.on("close", (code) => r({ code, out, err })),
    );
    return { ready, done };
  });
  await Promise.all(runs.map((r) => r.ready));
  fs.writeFileSync(barrier, "");
  const results = await Promise.all(runs.map((r) => r.done));
  const answers = results.map((r) => {
    assert.equal(r.code, 0, `child failed: ${r.out} ${r.err}`);
    return JSON.parse(
      r.out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .pop()!,
    );
  });
  assert.ok(answers.every((a) => a.ok));
  assert.equal(answers[0].path, answers[1].path);
  assert.deepEqual(read(answers[0].path), WEIGHTS);
  assert.equal(cdnGets(hub).length, 1, "the body was downloaded once");
  const waited = answers.filter((a) => a.waitedFor);
  assert.equal(waited.length, 1, `exactly one process waited: ${JSON.stringify(answers)}`);
  const other = answers.find((a) => !a.waitedFor);
  assert.match(waited[0].waitedFor, new RegExp(`^pid ${other.pid} on ${os.hostname()} since `));
  assert.ok(!fs.existsSync(`${blobOf(cache.dir)}.incomplete`));
  assert.ok(!fs.existsSync(lockOf(cache.dir)), "the lock is released");
});

test("a lock left by a dead process is taken over, and its partial file resumed", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const pid = deadPid();
  writeLock(lockOf(cache.dir), { pid, host: os.hostname(), since: new Date().toISOString() });
  assert.match(staleReason(lockOf(cache.dir)) ?? "", new RegExp(`pid ${pid} .* is no longer running`));
  fs.mkdirSync(path.dirname(blobOf(cache.dir)), { recursive: true });
  fs.writeFileSync(`${blobOf(cache.dir)}.incomplete`, WEIGHTS.subarray(0, 5000));
  const r = await resolveRepoFiles(REPO, ["model.safetensors"], { endpoint: hub.url, offline: false });
  assert.deepEqual(read(r.files["model.safetensors"]), WEIGHTS);
  assert.deepEqual(
    cdnGets(hub).map((q: any) => q.range),
    ["bytes=5000-"],
  );
  assert.ok(!fs.existsSync(lockOf(cache.dir)));
  assert.deepEqual(fs.readdirSync(path.dirname(lockOf(cache.dir))), [], "no lock and no set-aside stale lock left");
});

test("an old lock from another host (no heartbeat for an hour) is taken over; a fresh one is waited for", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const foreign = { pid: 4242, host: "another-host.invalid", since: new Date(0).toISOString() };
  writeLock(lockOf(cache.dir), foreign, 3600_000);
  const r = await resolveRepoFiles(REPO, ["model.safetensors"], { endpoint: hub.url, offline: false });
  assert.deepEqual(read(r.files["model.safetensors"]), WEIGHTS);

  // a fresh foreign lock: the download waits (and says so) until its owner releases it
  fs.rmSync(blobOf(cache.dir));
  fs.rmSync(path.join(cache.dir, REPO_DIR, "snapshots"), { recursive: true });
  writeLock(lockOf(cache.dir), foreign);
  const seen: DownloadProgress[] = [];
  const started = Date.now();
  setTimeout(() => fs.rmSync(lockOf(cache.dir)), 700);
  const again = await resolveRepoFiles(REPO, ["model.safetensors"], {
    endpoint: hub.url,
    offline: false,
    onProgress: (p) => seen.push(p),
  });
  assert.ok(Date.now() - started >= 650, "it waited for the lock");
  assert.deepEqual(read(again.files["model.safetensors"]), WEIGHTS);
  assert.ok(
    seen.some((p) => p.waitingFor === `pid 4242 on another-host.invalid since ${foreign.since}`),
    "progress named the other download",
  );
});

test("acquireFileLock: mutual exclusion, a wait limit that names the owner, pid reuse, heartbeat, release only of one's own lock", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-lock-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "sub", "x.lock");

  const a = await acquireFileLock(file, { purpose: "test A", heartbeatMs: 50 });
  assert.equal(readLockOwner(file)?.pid, process.pid);
  assert.equal(readLockOwner(file)?.host, os.hostname());
  await assert.rejects(
    acquireFileLock(file, { purpose: "test B", timeoutMs: 200, pollMs: 20 }),
    (e: any) =>
      e instanceof FileLockError &&
      e.message.startsWith(`test B: still locked by pid ${process.pid} on ${os.hostname()} since `) &&
      e.message.includes(file),
  );
  // heartbeat: an aged mtime is refreshed while held
  const old = new Date(Date.now() - 3600_000);
  fs.utimesSync(file, old, old);
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(fs.statSync(file).mtimeMs > old.getTime() + 1000, "heartbeat refreshed the lock"); // moved on from the aged mtime
  assert.equal(staleReason(file), undefined);

  // a second holder gets it as soon as the first releases
  const order: string[] = [];
  const b = acquireFileLock(file, { pollMs: 10 }).then((l) => {
    order.push("B got it");
    return l;
  });
  await new Promise((r) => setTimeout(r, 60));
  order.push("A releases");
  a.release();
  const lb = await b;
  assert.deepEqual(order, ["A releases", "B got it"]);
  // A's late release must not delete B's lock
  a.release();
  assert.ok(fs.existsSync(file));
  assert.ok(lb.stillHeld());
  lb.release();
  assert.ok(!fs.existsSync(file));

  // a live pid with another start time is a reused pid: stale (Linux /proc only)
  if (fs.existsSync(`/proc/${process.pid}/stat`)) {
    writeLock(file, { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), procStart: "1" });
    assert.match(staleReason(file) ?? "", /pid was reused/);
    const c = await acquireFileLock(file, { pollMs: 10 });
    c.release();
  }
  // an empty lock (being written, or foreign) is not stale while fresh, stale once old
  fs.writeFileSync(file, "");
  assert.equal(staleReason(file), undefined);
  fs.utimesSync(file, old, old);
  assert.match(staleReason(file) ?? "", /an unknown process\) has not touched it for 3600 s/);
});
