import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { resolveRepoFiles } from "../../src/hub/resolve";
import { HubError } from "../../src/hub/errors";
import { gitBlobSha1, sha256hex, startHubServer } from "../helpers/hubserver";
import { FIXTURES } from "../helpers/backend";
import { scanCacheDir } from "@huggingface/hub";
import { freshCache, MAIN, read, REPO, STEP1000, tinyRepo } from "./fixture";

const A = path.join(FIXTURES, "neox-tiny", "A");
const FILES = ["config.json", "tokenizer.json", "model.safetensors"];

function listAll(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(path.relative(dir, p));
    if (e.isDirectory()) out.push(...listAll(p).map((q) => path.join(e.name, q)));
  }
  return out;
}

/** A port nobody listens on (connection refused). */
async function deadEndpoint(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as any).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

test("fresh download: HF cache layout (blobs, relative snapshot symlinks, refs/main), then the cache with no requests", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });

  const r = await resolveRepoFiles(REPO, FILES, { endpoint: hub.url, offline: false, token: "tok-123" });
  assert.equal(r.source, "download");
  assert.equal(r.commit, MAIN);
  const root = path.join(cache.dir, "models--tiny-org--neox-tiny-a");
  assert.equal(r.dir, path.join(root, "snapshots", MAIN));
  assert.equal(fs.readFileSync(path.join(root, "refs", "main"), "utf8"), MAIN);

  const weights = read(path.join(A, "model.safetensors"));
  const config = read(path.join(A, "config.json"));
  const expectBlobs = [
    sha256hex(weights),
    gitBlobSha1(config),
    gitBlobSha1(read(path.join(FIXTURES, "pythia", "20B_tokenizer.json"))),
  ].sort();
  assert.deepEqual(
    fs.readdirSync(path.join(root, "blobs")).sort(),
    expectBlobs,
    "one blob per file, named by etag, no .incomplete left",
  );
  for (const f of FILES) {
    const p = path.join(root, "snapshots", MAIN, f);
    assert.equal(r.files[f], p);
    assert.ok(fs.lstatSync(p).isSymbolicLink(), `${f} is a symlink`);
    assert.ok(!path.isAbsolute(fs.readlinkSync(p)), `${f} links relatively`);
    assert.match(fs.readlinkSync(p), /^\.\.\/\.\.\/blobs\/[0-9a-f]{40,64}$/);
  }
  assert.deepEqual(read(r.files["model.safetensors"]), weights);
  assert.deepEqual(read(r.files["config.json"]), config);

  // the token goes to the hub, never to the CDN the LFS redirect points at (another origin)
  assert.ok(hub.requests.filter((q) => q.server === "hub").every((q) => q.authorization === "Bearer tok-123"));
  const cdn = hub.requests.filter((q) => q.server === "cdn");
  assert.equal(cdn.length, 1, "one CDN download for the one LFS file");
  assert.equal(cdn[0].authorization, undefined);

  // huggingface.js's own cache scanner reads the layout we wrote (same reader logic as `huggingface-cli scan-cache`)
  const scan = await scanCacheDir(cache.dir);
  assert.equal(scan.warnings.length, 0, String(scan.warnings));
  assert.deepEqual(
    scan.repos.map((x) => x.id),
    [{ name: REPO, type: "model" }],
  );
  assert.deepEqual(
    scan.repos[0].revisions.map((v) => [v.commitOid, v.refs, v.files.length]),
    [[MAIN, ["main"], 3]],
  );
  assert.equal(
    scan.repos[0].size,
    weights.length + config.length + read(path.join(FIXTURES, "pythia", "20B_tokenizer.json")).length,
  );

  const before = hub.requests.length;
  const again = await resolveRepoFiles(REPO, FILES, { endpoint: hub.url, offline: false });
  assert.equal(hub.requests.length, before, "second call makes no request");
  assert.equal(again.source, "cache");
  assert.deepEqual(again.files, r.files);
  assert.ok(!listAll(root).some((p) => p.endsWith(".incomplete") || p.endsWith(".tmp")));
});

test("refresh: true asks the hub again and follows a branch that moved; blobs are reused", async (t) => {
  const cache = freshCache();
  const repo = tinyRepo();
  const hub = await startHubServer({ repos: [repo] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const first = await resolveRepoFiles(REPO, ["config.json"], { endpoint: hub.url, offline: false });
  repo.refs.main = STEP1000; // the branch moves to a commit with the same config.json
  const stale = await resolveRepoFiles(REPO, ["config.json"], { endpoint: hub.url, offline: false });
  assert.equal(stale.commit, MAIN, "without refresh the cached snapshot is used");
  const n = hub.requests.length;
  const fresh = await resolveRepoFiles(REPO, ["config.json"], { endpoint: hub.url, offline: false, refresh: true });
  assert.equal(fresh.commit, STEP1000);
  assert.equal(fresh.source, "cache", "same blob: nothing downloaded");
  assert.equal(hub.requests.slice(n).filter((q) => q.method === "GET").length, 0);
  assert.equal(
    fs.readFileSync(path.join(cache.dir, "models--tiny-org--neox-tiny-a", "refs", "main"), "utf8"),
    STEP1000,
  );
  assert.equal(fs.realpathSync(fresh.files["config.json"]), fs.realpathSync(first.files["config.json"]));
});

test("optional files: absent ones are recorded in .no_exist/{commit} and not asked for again", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const opts = { endpoint: hub.url, offline: false, optional: ["tokenizer_config.json", "special_tokens_map.json"] };
  const r = await resolveRepoFiles(REPO, ["config.json"], opts);
  assert.ok(r.files["tokenizer_config.json"]);
  assert.equal(r.files["special_tokens_map.json"], undefined);
  assert.deepEqual(r.missing, ["special_tokens_map.json"]);
  assert.ok(
    fs.existsSync(path.join(cache.dir, "models--tiny-org--neox-tiny-a", ".no_exist", MAIN, "special_tokens_map.json")),
  );
  const n = hub.requests.length;
  const again = await resolveRepoFiles(REPO, ["config.json"], opts);
  assert.equal(hub.requests.length, n);
  assert.deepEqual(again.missing, ["special_tokens_map.json"]);
});

test("a branch revision resolves to its commit, recorded in refs/{branch}; a commit revision needs no ref", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  const r = await resolveRepoFiles(REPO, ["model.safetensors"], {
    endpoint: hub.url,
    offline: false,
    revision: "step1000",
  });
  const root = path.join(cache.dir, "models--tiny-org--neox-tiny-a");
  assert.equal(r.commit, STEP1000);
  assert.equal(fs.readFileSync(path.join(root, "refs", "step1000"), "utf8"), STEP1000);
  assert.deepEqual(read(r.files["model.safetensors"]), read(path.join(A, "model.f16.safetensors")));
  assert.ok(!fs.existsSync(path.join(root, "refs", "main")));

  const byCommit = await resolveRepoFiles(REPO, ["config.json"], { endpoint: hub.url, offline: false, revision: MAIN });
  assert.equal(byCommit.dir, path.join(root, "snapshots", MAIN));
  assert.deepEqual(fs.readdirSync(path.join(root, "refs")), ["step1000"]);
  assert.ok(hub.requests.some((q) => q.url.startsWith(`/${REPO}/resolve/${MAIN}/config.json`)));
});

test("offline with a full cache works without the network; with a missing file it says what, where and how", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  const saved = process.env.HF_HUB_OFFLINE;
  t.after(async () => {
    if (saved === undefined) delete process.env.HF_HUB_OFFLINE;
    else process.env.HF_HUB_OFFLINE = saved;
    await hub.close();
    cache.cleanup();
  });
  delete process.env.HF_HUB_OFFLINE;
  await resolveRepoFiles(REPO, ["config.json", "model.safetensors"], { endpoint: hub.url, offline: false });
  const n = hub.requests.length;

  process.env.HF_HUB_OFFLINE = "1";
  const r = await resolveRepoFiles(REPO, ["config.json", "model.safetensors"], {
    endpoint: hub.url,
    optional: ["special_tokens_map.json"],
  });
  assert.equal(r.source, "cache");
  assert.equal(r.commit, MAIN);
  assert.deepEqual(r.missing, ["special_tokens_map.json"], "an optional file unknown offline is just missing");
  assert.equal(hub.requests.length, n, "offline makes no request");

  await assert.rejects(resolveRepoFiles(REPO, ["config.json", "tokenizer.json"], { endpoint: hub.url }), (e: any) => {
    assert.ok(e instanceof HubError);
    assert.equal(e.code, "offline-missing");
    for (const s of [
      REPO,
      "revision main",
      "tokenizer.json",
      "HF_HUB_OFFLINE",
      cache.dir,
      "huggingface-cli download",
      "local folder",
    ]) {
      assert.ok(e.message.includes(s), `message names ${s}: ${e.message}`);
    }
    assert.ok(!/Missing from the cache: .*config\.json/.test(e.message), "config.json is cached, not missing");
    return true;
  });
  await assert.rejects(
    resolveRepoFiles(REPO, ["config.json"], { endpoint: hub.url, revision: "step1000" }),
    /no refs\/step1000/,
  );
  assert.equal(hub.requests.length, n);
});

test("an unreachable hub falls back to the cache, or says it could not reach it", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    cache.cleanup();
  });
  await resolveRepoFiles(REPO, ["config.json"], { endpoint: hub.url, offline: false });
  const dead = await deadEndpoint();
  const r = await resolveRepoFiles(REPO, ["config.json"], { endpoint: dead, offline: false, optional: ["extra.txt"] });
  assert.equal(r.source, "cache");
  assert.match(r.offline ?? "", /could not reach/);
  await assert.rejects(
    resolveRepoFiles(REPO, ["tokenizer.json"], { endpoint: dead, offline: false }),
    (e: any) =>
      e.code === "offline-missing" &&
      /could not reach .*ECONNREFUSED/.test(e.message) &&
      /tokenizer\.json/.test(e.message),
  );
});

test("a cache written by another tool (HF_HOME/hub, relative symlinks, refs/main) is reused as is", async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-hfhome-"));
  const saved = { cache: process.env.HF_HUB_CACHE, home: process.env.HF_HOME };
  t.after(() => {
    for (const [k, v] of [
      ["HF_HUB_CACHE", saved.cache],
      ["HF_HOME", saved.home],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(home, { recursive: true, force: true });
  });
  delete process.env.HF_HUB_CACHE;
  process.env.HF_HOME = home;
  const root = path.join(home, "hub", "models--EleutherAI--pythia-70m");
  const commit = "a".repeat(40);
  const config = read(path.join(A, "config.json"));
  fs.mkdirSync(path.join(root, "blobs"), { recursive: true });
  fs.mkdirSync(path.join(root, "snapshots", commit), { recursive: true });
  fs.mkdirSync(path.join(root, "refs"), { recursive: true });
  fs.writeFileSync(path.join(root, "blobs", gitBlobSha1(config)), config);
  fs.symlinkSync(`../../blobs/${gitBlobSha1(config)}`, path.join(root, "snapshots", commit, "config.json"));
  fs.writeFileSync(path.join(root, "refs", "main"), commit);
  const r = await resolveRepoFiles("EleutherAI/pythia-70m", ["config.json"], {
    endpoint: await deadEndpoint(),
    offline: false,
  });
  assert.equal(r.source, "cache");
  assert.equal(r.files["config.json"], path.join(root, "snapshots", commit, "config.json"));
  assert.equal(r.offline, undefined, "no network was even tried");
});

test("hub errors are named: unknown repo, unknown revision, missing required file, gated repo", async (t) => {
  const cache = freshCache();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  const gated = await startHubServer({ repos: [tinyRepo()], token: "s3cret" });
  const savedToken = process.env.HF_TOKEN;
  t.after(async () => {
    if (savedToken === undefined) delete process.env.HF_TOKEN;
    else process.env.HF_TOKEN = savedToken;
    await hub.close();
    await gated.close();
    cache.cleanup();
  });
  delete process.env.HF_TOKEN;
  const o = { endpoint: hub.url, offline: false };
  await assert.rejects(
    resolveRepoFiles("nobody/nothing", ["config.json"], o),
    (e: any) => e.code === "repo-not-found" && /nobody\/nothing/.test(e.message) && /HF_TOKEN/.test(e.message),
  );
  await assert.rejects(
    resolveRepoFiles(REPO, ["config.json"], { ...o, revision: "step9" }),
    (e: any) => e.code === "revision-not-found" && /"step9"/.test(e.message),
  );
  await assert.rejects(
    resolveRepoFiles(REPO, ["config.json", "nope.json"], o),
    (e: any) => e.code === "file-not-found" && /has no nope\.json/.test(e.message),
  );
  // a separate cache: the first one already holds config.json, and a full cache is answered without the network
  const gatedCache = path.join(cache.dir, "gated");
  const g = { endpoint: gated.url, offline: false, cacheDir: gatedCache };
  await assert.rejects(
    resolveRepoFiles(REPO, ["config.json"], g),
    (e: any) => e.code === "gated" && /HF_TOKEN/.test(e.message),
  );
  process.env.HF_TOKEN = "s3cret";
  const r = await resolveRepoFiles(REPO, ["config.json"], g);
  assert.ok(r.files["config.json"].startsWith(gatedCache));
  assert.equal(r.commit, MAIN);
  await assert.rejects(resolveRepoFiles(REPO, ["../escape"], o), (e: any) => e.code === "bad-id");
});

test("a local folder is used as is; a missing file, a missing folder and a bad id are told apart", async () => {
  const r = await resolveRepoFiles(A, ["config.json", "model.safetensors"], {
    optional: ["tokenizer.json"],
    endpoint: "http://127.0.0.1:9",
    offline: false,
  });
  assert.equal(r.source, "local");
  assert.equal(r.dir, A);
  assert.equal(r.files["config.json"], path.join(A, "config.json"));
  assert.deepEqual(r.missing, ["tokenizer.json"]);
  const rel = path.relative(process.cwd(), A);
  assert.equal((await resolveRepoFiles(rel.startsWith(".") ? rel : `./${rel}`, ["config.json"])).dir, A);
  await assert.rejects(
    resolveRepoFiles(A, ["tokenizer.json"]),
    (e: any) =>
      e.code === "local-missing" &&
      e.message.includes(A) &&
      /tokenizer\.json/.test(e.message) &&
      /model\.safetensors/.test(e.message),
  );
  await assert.rejects(
    resolveRepoFiles("./no/such/folder", ["config.json"]),
    (e: any) => e.code === "bad-id" && /does not exist/.test(e.message),
  );
  await assert.rejects(
    resolveRepoFiles("pythia-70m", ["config.json"]),
    (e: any) => e.code === "bad-id" && /org\/name/.test(e.message),
  );
  await assert.rejects(
    resolveRepoFiles(path.join(A, "config.json"), ["config.json"]),
    (e: any) => e.code === "bad-id" && /is a file/.test(e.message),
  );
});
