import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveRepoFiles } from "../../src/hub/resolve";
import type { DownloadProgress } from "../../src/hub/download";
import { sha256hex, startHubServer } from "../helpers/hubserver";
import { FIXTURES } from "../helpers/backend";
import { freshCache, MAIN, read, REPO, tinyRepo } from "./fixture";

const WEIGHTS = read(path.join(FIXTURES, "neox-tiny", "A", "model.safetensors"));
const TOKENIZER = read(path.join(FIXTURES, "pythia", "20B_tokenizer.json"));
const ROOT = (cache: string) => path.join(cache, "models--tiny-org--neox-tiny-a");

test("a connection dropped mid-file leaves the partial file; the next call resumes it with Range, byte-identical", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const cut = 40_000;
  hub.dropAfter("model.safetensors", cut);
  let message = "";
  await assert.rejects(
    resolveRepoFiles(REPO, ["model.safetensors"], { endpoint: hub.url, offline: false, retries: 0 }),
    (e: any) => {
      message = e.message;
      return e.code === "interrupted" && /run the same call again to resume/.test(e.message);
    },
  );
  const blob = path.join(ROOT(cache.dir), "blobs", sha256hex(WEIGHTS));
  // the bytes that arrived before the socket closed are on disk (all of them, on loopback)
  const kept = fs.statSync(`${blob}.incomplete`).size;
  assert.ok(kept > 0 && kept <= cut, `partial file kept: ${kept} bytes`);
  assert.ok(message.includes(`after ${kept} of ${WEIGHTS.length} bytes`), message);
  assert.ok(!fs.existsSync(blob), "no blob until the download is complete and verified");
  assert.ok(!fs.existsSync(path.join(ROOT(cache.dir), "snapshots", MAIN, "model.safetensors")));

  const progress: DownloadProgress[] = [];
  const r = await resolveRepoFiles(REPO, ["model.safetensors"], {
    endpoint: hub.url,
    offline: false,
    onProgress: (p) => progress.push(p),
  });
  const cdn = hub.requests.filter((q) => q.server === "cdn" && q.method === "GET");
  assert.equal(cdn.length, 2);
  assert.equal(cdn[0].range, undefined);
  assert.equal(cdn[1].range, `bytes=${kept}-`, "resumed where it stopped");
  assert.deepEqual(read(r.files["model.safetensors"]), WEIGHTS);
  assert.ok(!fs.existsSync(`${blob}.incomplete`));
  assert.equal(progress[0].loaded, kept, "progress starts at the resumed offset");
  assert.equal(progress[progress.length - 1].loaded, WEIGHTS.length);
});

test("within one call, dropped connections are retried by resuming (LFS through the CDN and a plain file)", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  hub.dropAfter("model.safetensors", 10_000, 2);
  hub.dropAfter("tokenizer.json", 1_000_000);
  const r = await resolveRepoFiles(REPO, ["model.safetensors", "tokenizer.json"], {
    endpoint: hub.url,
    offline: false,
  });
  assert.deepEqual(read(r.files["model.safetensors"]), WEIGHTS);
  assert.deepEqual(read(r.files["tokenizer.json"]), TOKENIZER);
  const bodies = hub.requests.filter(
    (q) => q.method === "GET" && (q.server === "cdn" || q.url.includes("tokenizer.json")),
  );
  const ranges = bodies.map(
    (q) =>
      [q.server === "cdn" ? "weights" : "tokenizer", q.range ? Number(/^bytes=(\d+)-$/.exec(q.range)![1]) : 0] as const,
  );
  assert.deepEqual(
    ranges.map(([f]) => f),
    ["weights", "weights", "weights", "tokenizer", "tokenizer"],
    "two drops of the weights, one of the tokenizer",
  );
  const w = ranges.filter(([f]) => f === "weights").map(([, at]) => at);
  assert.ok(
    w[0] === 0 && w[1] > 0 && w[1] <= 10_000 && w[2] > w[1] && w[2] <= 20_000,
    `weights resumed at increasing offsets: ${w}`,
  );
  const k = ranges.filter(([f]) => f === "tokenizer").map(([, at]) => at);
  assert.ok(k[0] === 0 && k[1] > 0 && k[1] <= 1_000_000, `tokenizer resumed: ${k}`);
});

test("a wrong checksum (content differs from X-Linked-Etag) is a clear error and leaves nothing corrupt in blobs/", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  hub.corrupt("model.safetensors");
  await assert.rejects(
    resolveRepoFiles(REPO, ["config.json", "model.safetensors"], { endpoint: hub.url, offline: false }),
    (e: any) =>
      e.code === "checksum" &&
      /model\.safetensors/.test(e.message) &&
      e.message.includes(sha256hex(WEIGHTS)) &&
      /sha256/.test(e.message),
  );
  const blobs = fs.readdirSync(path.join(ROOT(cache.dir), "blobs"));
  assert.ok(!blobs.some((b) => b.startsWith(sha256hex(WEIGHTS))), `no blob or partial for the bad file: ${blobs}`);
  assert.ok(!fs.existsSync(path.join(ROOT(cache.dir), "snapshots", MAIN, "model.safetensors")));
  // the server tells the truth again: the next call downloads a good copy
  const r = await resolveRepoFiles(REPO, ["config.json", "model.safetensors"], { endpoint: hub.url, offline: false });
  assert.deepEqual(read(r.files["model.safetensors"]), WEIGHTS);
});

test("a plain (non-LFS) file is checked against its git blob hash", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  hub.corrupt("tokenizer.json");
  await assert.rejects(
    resolveRepoFiles(REPO, ["tokenizer.json"], { endpoint: hub.url, offline: false }),
    (e: any) => e.code === "checksum" && /git blob hash/.test(e.message) && /tokenizer\.json/.test(e.message),
  );
  assert.deepEqual(fs.readdirSync(path.join(ROOT(cache.dir), "blobs")), []);
});

test("progress: called per file with increasing loaded, ending at total", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const seen: DownloadProgress[] = [];
  await resolveRepoFiles(REPO, ["config.json", "tokenizer.json", "model.safetensors"], {
    endpoint: hub.url,
    offline: false,
    onProgress: (p) => seen.push({ ...p }),
  });
  const sizes: Record<string, number> = { "tokenizer.json": TOKENIZER.length, "model.safetensors": WEIGHTS.length };
  for (const [file, size] of Object.entries(sizes)) {
    const mine = seen.filter((p) => p.file === file);
    assert.equal(mine[0].loaded, 0);
    if (size > 1_000_000) assert.ok(mine.length >= 3, `${file}: several reports (${mine.length})`);
    assert.ok(mine.every((p) => p.total === size));
    for (let i = 1; i < mine.length; i++)
      assert.ok(mine[i].loaded >= mine[i - 1].loaded, `${file}: loaded never decreases`);
    assert.ok(mine.some((p, i) => i > 0 && p.loaded > mine[i - 1].loaded));
    assert.equal(mine[mine.length - 1].loaded, size);
  }
  assert.deepEqual([...new Set(seen.map((p) => p.file))], ["config.json", "tokenizer.json", "model.safetensors"]);
});
