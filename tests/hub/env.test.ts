import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { hubCacheDir, hubEndpoint, hubToken, isOffline } from "../../src/hub/env";
import { isHubReachable } from "../../src/hub/http";
import { parseModelSource } from "../../src/hub/resolve";
import { repoFolderName } from "../../src/hub/cache";

const VARS = [
  "HF_HUB_CACHE",
  "HUGGINGFACE_HUB_CACHE",
  "HF_HOME",
  "XDG_CACHE_HOME",
  "HF_HUB_OFFLINE",
  "TRANSFORMERS_OFFLINE",
  "HF_ENDPOINT",
  "HF_TOKEN",
  "HUGGING_FACE_HUB_TOKEN",
];

function withEnv(vars: Record<string, string | undefined>, fn: () => void | Promise<void>): Promise<void> {
  const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
  for (const k of VARS) delete process.env[k];
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) process.env[k] = v;
  return Promise.resolve(fn()).finally(() => {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
}

test("hubCacheDir follows huggingface_hub: HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME > ~/.cache", async () => {
  await withEnv({}, () => assert.equal(hubCacheDir(), path.join(os.homedir(), ".cache", "huggingface", "hub")));
  await withEnv({ XDG_CACHE_HOME: "/x" }, () => assert.equal(hubCacheDir(), "/x/huggingface/hub"));
  await withEnv({ XDG_CACHE_HOME: "/x", HF_HOME: "/h" }, () => assert.equal(hubCacheDir(), "/h/hub"));
  await withEnv({ HF_HOME: "~/hf" }, () => assert.equal(hubCacheDir(), path.join(os.homedir(), "hf", "hub")));
  await withEnv({ HF_HOME: "/h", HUGGINGFACE_HUB_CACHE: "/legacy" }, () => assert.equal(hubCacheDir(), "/legacy"));
  await withEnv({ HF_HOME: "/h", HUGGINGFACE_HUB_CACHE: "/legacy", HF_HUB_CACHE: "/c" }, () =>
    assert.equal(hubCacheDir(), "/c"),
  );
  assert.equal(repoFolderName("EleutherAI/pythia-70m"), "models--EleutherAI--pythia-70m");
});

test("isOffline, hubEndpoint and hubToken read the environment when called", async () => {
  for (const [v, want] of [
    ["1", true],
    ["true", true],
    ["YES", true],
    ["on", true],
    ["0", false],
    ["", false],
    ["no", false],
  ] as const) {
    await withEnv({ HF_HUB_OFFLINE: v }, () => assert.equal(isOffline(), want, `HF_HUB_OFFLINE=${v}`));
  }
  await withEnv({ TRANSFORMERS_OFFLINE: "1" }, () => assert.equal(isOffline(), true));
  await withEnv({}, () => {
    assert.equal(isOffline(), false);
    assert.equal(hubEndpoint(), "https://huggingface.co");
    assert.equal(hubToken(), undefined);
  });
  await withEnv({ HF_ENDPOINT: "http://mirror.local:8080/", HF_TOKEN: "t1" }, () => {
    assert.equal(hubEndpoint(), "http://mirror.local:8080");
    assert.equal(hubEndpoint("http://other/"), "http://other");
    assert.equal(hubToken(), "t1");
    assert.equal(hubToken("t2"), "t2");
  });
});

test("parseModelSource tells repo ids, existing folders and missing folders apart", () => {
  assert.deepEqual(parseModelSource("EleutherAI/pythia-70m"), { kind: "repo", repoId: "EleutherAI/pythia-70m" });
  assert.deepEqual(parseModelSource("  EleutherAI/pythia-1.4b-deduped "), {
    kind: "repo",
    repoId: "EleutherAI/pythia-1.4b-deduped",
  });
  assert.deepEqual(parseModelSource(os.tmpdir()), { kind: "local", dir: path.resolve(os.tmpdir()) });
  assert.deepEqual(parseModelSource("."), { kind: "local", dir: process.cwd() });
  for (const p of ["./nope-xyz", "../nope-xyz", "/nope/xyz", "~/nope-xyz-123", "a/b/c", "nope-xyz/"]) {
    assert.throws(() => parseModelSource(p), /does not exist/, p);
  }
  for (const p of ["pythia-70m", "org--x/name", "bad id/x", ""]) {
    assert.throws(
      () => parseModelSource(p),
      (e: any) => e.code === "bad-id",
      p,
    );
  }
});

test("isHubReachable: true for a live server, false for a refused port or in offline mode", async () => {
  let hits = 0;
  const s = http.createServer((_q, r) => {
    hits++;
    r.end("ok");
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(s.address() as any).port}`;
  try {
    assert.equal(await isHubReachable({ endpoint: url, offline: false, timeoutMs: 60_000 }), true); // not about timeouts
    assert.equal(hits, 1);
    assert.equal(await isHubReachable({ endpoint: url, offline: true }), false);
    assert.equal(hits, 1, "offline mode makes no request");
  } finally {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  assert.equal(await isHubReachable({ endpoint: url, offline: false, timeoutMs: 2000 }), false);
});
