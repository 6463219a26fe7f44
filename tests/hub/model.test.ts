import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveModelDir, readShardNames } from "../../src/hub/model";
import { resolveRepoFiles } from "../../src/hub/resolve";
import { startHubServer } from "../helpers/hubserver";
import { FIXTURES } from "../helpers/backend";
import { freshCache, MAIN, read, REPO, SHARDED, SHARDED_MAIN, shardedRepo, tinyRepo } from "./fixture";

const A = path.join(FIXTURES, "neox-tiny", "A");
const TOKENIZER = path.join(FIXTURES, "pythia", "20B_tokenizer.json");

function tempFolder(links: Record<string, string | Buffer>): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-local-"));
  for (const [name, src] of Object.entries(links)) {
    if (typeof src === "string") fs.symlinkSync(src, path.join(dir, name));
    else fs.writeFileSync(path.join(dir, name), src);
  }
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test("resolveModelDir: config, tokenizer files and model.safetensors in one snapshot; then offline from the cache", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const dir = await resolveModelDir(REPO, { endpoint: hub.url, offline: false });
  assert.equal(dir, path.join(cache.dir, "models--tiny-org--neox-tiny-a", "snapshots", MAIN));
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  assert.deepEqual(read(path.join(dir, "model.safetensors")), read(path.join(A, "model.safetensors")));
  assert.ok(!hub.requests.some((q) => q.url.includes("pytorch_model.bin")), "no pickle probe when safetensors exist");
  assert.ok(!hub.requests.some((q) => q.url.includes("index.json")), "no index lookup when model.safetensors exists");
  const n = hub.requests.length;
  assert.equal(await resolveModelDir(REPO, { endpoint: hub.url, offline: false }), dir);
  assert.equal(await resolveModelDir(REPO, { endpoint: hub.url, offline: true }), dir);
  assert.equal(hub.requests.length, n, "the cached model needs no request, online or offline");
});

test("resolveModelDir: a sharded checkpoint brings the index and every shard it names", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [shardedRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const dir = await resolveModelDir(SHARDED, { endpoint: hub.url, offline: false });
  assert.equal(path.basename(dir), SHARDED_MAIN);
  assert.deepEqual(readShardNames(path.join(dir, "model.safetensors.index.json")), [
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
  ]);
  assert.deepEqual(read(path.join(dir, "model-00001-of-00002.safetensors")), read(path.join(A, "model.safetensors")));
  assert.deepEqual(
    read(path.join(dir, "model-00002-of-00002.safetensors")),
    read(path.join(A, "model.f16.safetensors")),
  );
  const n = hub.requests.length;
  assert.equal(await resolveModelDir(SHARDED, { endpoint: hub.url, offline: true }), dir);
  assert.equal(hub.requests.length, n);
});

test("resolveModelDir: a revision with only pytorch_model.bin says so, without downloading it", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  await assert.rejects(resolveModelDir(REPO, { endpoint: hub.url, offline: false, revision: "step3000" }), (e: any) => {
    assert.equal(e.code, "no-safetensors");
    for (const s of [
      "only pytorch_model.bin",
      "tunebook reads safetensors",
      "safe_serialization=True",
      "revision='step3000'",
      REPO,
    ]) {
      assert.ok(e.message.includes(s), `names ${s}: ${e.message}`);
    }
    return true;
  });
  assert.ok(!hub.requests.some((q) => q.server === "cdn"), "the pickle was not downloaded");
});

test("resolveModelDir: offline with the weights missing names them; local folders are checked the same way", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  const good = tempFolder({
    "config.json": path.join(A, "config.json"),
    "tokenizer.json": TOKENIZER,
    "model.safetensors": path.join(A, "model.safetensors"),
  });
  const pickle = tempFolder({
    "config.json": path.join(A, "config.json"),
    "tokenizer.json": TOKENIZER,
    "pytorch_model.bin": Buffer.alloc(8),
  });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
    good.cleanup();
    pickle.cleanup();
  });

  await assert.rejects(
    resolveModelDir(REPO, { endpoint: hub.url, offline: true }),
    (e: any) =>
      e.code === "offline-missing" &&
      /config\.json, tokenizer\.json/.test(e.message) &&
      /weights are needed too: model\.safetensors/.test(e.message),
  );
  await resolveRepoFiles(REPO, ["config.json", "tokenizer.json"], { endpoint: hub.url, offline: false });
  await assert.rejects(resolveModelDir(REPO, { endpoint: hub.url, offline: true }), (e: any) => {
    assert.equal(e.code, "offline-missing");
    assert.match(e.message, /model\.safetensors/);
    assert.match(e.message, /huggingface-cli download/);
    return true;
  });

  assert.equal(await resolveModelDir(good.dir), good.dir);
  await assert.rejects(resolveModelDir(A), (e: any) => e.code === "local-missing" && /tokenizer\.json/.test(e.message));
  await assert.rejects(
    resolveModelDir(pickle.dir),
    (e: any) =>
      e.code === "no-safetensors" && /only pytorch_model\.bin/.test(e.message) && e.message.includes(pickle.dir),
  );
});

test("readShardNames rejects a malformed index with the file and field named", () => {
  const bad = tempFolder({
    "a.json": Buffer.from("{not json"),
    "b.json": Buffer.from('{"weight_map": {}}'),
    "c.json": Buffer.from('{"weight_map": {"x": "../../etc/passwd"}}'),
    "d.json": Buffer.from('{"weight_map": {"x": 3}}'),
  });
  try {
    assert.throws(() => readShardNames(path.join(bad.dir, "a.json")), /a\.json is not valid JSON/);
    assert.throws(() => readShardNames(path.join(bad.dir, "b.json")), /b\.json: expected "weight_map"/);
    assert.throws(() => readShardNames(path.join(bad.dir, "c.json")), /invalid shard name/);
    assert.throws(() => readShardNames(path.join(bad.dir, "d.json")), /weight_map\["x"\] should be a file name/);
  } finally {
    bad.cleanup();
  }
});
