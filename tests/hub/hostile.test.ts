// A hostile or broken hub, and hostile arguments: every commit, etag, size, redirect, revision and file name is
// refused with one line naming what was wrong, and nothing is written outside the cache folder.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkCommit, checkEtag, checkRevision } from "../../src/hub/cache";
import { resolveModelDir } from "../../src/hub/model";
import { resolveRepoFiles } from "../../src/hub/resolve";
import { type FixtureRepo, gitBlobSha1, sha256hex, startHubServer } from "../helpers/hubserver";
import { FIXTURES } from "../helpers/backend";
import { MAIN, read, REPO, tinyRepo } from "./fixture";

const WEIGHTS = read(path.join(FIXTURES, "neox-tiny", "A", "model.safetensors"));
const CONFIG = read(path.join(FIXTURES, "neox-tiny", "A", "config.json"));

/** A temp folder holding the cache in `cache/`, so an escape from the cache lands where the walk sees it. */
function sandbox(): { root: string; cache: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-hostile-"));
  const cache = path.join(root, "cache");
  return { root, cache, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Every path under `dir` (relative), symlinks not followed. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    out.push(e.name);
    if (e.isDirectory()) out.push(...walk(path.join(dir, e.name)).map((q) => path.join(e.name, q)));
  }
  return out;
}

function assertNothingOutsideCache(root: string, label: string): void {
  const outside = walk(root).filter((p) => p !== "cache" && !p.startsWith(`cache${path.sep}`));
  assert.deepEqual(outside, [], `${label}: written outside the cache`);
  // and no symlink inside the cache points out of it
  if (fs.existsSync(path.join(root, "cache"))) {
    for (const p of walk(path.join(root, "cache"))) {
      const full = path.join(root, "cache", p);
      if (!fs.lstatSync(full).isSymbolicLink()) continue;
      const target = path.resolve(path.dirname(full), fs.readlinkSync(full));
      assert.ok(
        target.startsWith(path.join(root, "cache") + path.sep),
        `${label}: ${p} links out of the cache to ${target}`,
      );
    }
  }
}

const oneLine = (e: any) => typeof e?.message === "string" && !e.message.includes("\n") && !/\n\s+at /.test(e.message);

const SHA_OF_OTHER = sha256hex(Buffer.from("other bytes"));
const HOSTILE_HEADERS: {
  name: string;
  file: string;
  optional?: boolean;
  headers: Record<string, string | null>;
  expect: RegExp;
}[] = [
  {
    name: "X-Linked-Etag that climbs out of blobs/",
    file: "model.safetensors",
    headers: { "X-Linked-Etag": '"../../../escape-etag"' },
    expect: /X-Linked-Etag header .*"\.\.\/\.\.\/\.\.\/escape-etag" is not a content hash/,
  },
  {
    name: "X-Linked-Etag that is absolute",
    file: "model.safetensors",
    headers: { "X-Linked-Etag": "/tmp/escape-abs" },
    expect: /X-Linked-Etag header .* is not a content hash/,
  },
  {
    name: "X-Linked-Etag that is not hex",
    file: "model.safetensors",
    headers: { "X-Linked-Etag": '"not-a-digest"' },
    expect: /X-Linked-Etag .*expected a sha256/,
  },
  {
    name: "X-Linked-Etag that is a sha1, not a sha256",
    file: "model.safetensors",
    headers: { "X-Linked-Etag": `"${gitBlobSha1(WEIGHTS)}"` },
    expect: /X-Linked-Etag header .*is not a sha256/,
  },
  {
    name: "ETag of a small file that climbs out",
    file: "config.json",
    headers: { ETag: '"../../../escape-etag"' },
    expect: /ETag header .* is not a content hash/,
  },
  {
    name: "ETag in uppercase hex",
    file: "config.json",
    headers: { ETag: `"${gitBlobSha1(CONFIG).toUpperCase()}"` },
    expect: /ETag header .*lowercase hex/,
  },
  {
    name: "X-Repo-Commit that climbs out of snapshots/",
    file: "config.json",
    headers: { "X-Repo-Commit": "../../../escape-commit" },
    expect: /X-Repo-Commit header .*"\.\.\/\.\.\/\.\.\/escape-commit" is not a commit id \(expected 40 lowercase hex/,
  },
  {
    name: "X-Repo-Commit of an LFS file that climbs out",
    file: "model.safetensors",
    headers: { "X-Repo-Commit": "../../../escape-commit" },
    expect: /X-Repo-Commit header/,
  },
  {
    name: "X-Repo-Commit of a 404 (optional file) that climbs out",
    file: "nope.json",
    optional: true,
    headers: { "X-Repo-Commit": "../../../escape-commit" },
    expect: /X-Repo-Commit header .*is not a commit id/,
  },
  {
    name: "X-Repo-Commit that is a short hash",
    file: "config.json",
    headers: { "X-Repo-Commit": MAIN.slice(0, 7) },
    expect: /X-Repo-Commit header .*is not a commit id/,
  },
  {
    name: "X-Linked-Size that is negative",
    file: "model.safetensors",
    headers: { "X-Linked-Size": "-5" },
    expect: /X-Linked-Size header .*"-5" is not a size in bytes/,
  },
  {
    name: "X-Linked-Size that is not an integer",
    file: "model.safetensors",
    headers: { "X-Linked-Size": "1e3" },
    expect: /X-Linked-Size header .*is not a size/,
  },
  {
    name: "a redirect to a file: URL",
    file: "model.safetensors",
    headers: { Location: "file:///etc/passwd" },
    expect: /redirected to file: URL .*only http and https/,
  },
];

for (const c of HOSTILE_HEADERS) {
  test(`a hostile hub: ${c.name} is refused, nothing written outside the cache`, async (t) => {
    const box = sandbox();
    const hub = await startHubServer({ repos: [tinyRepo()] });
    t.after(async () => {
      await hub.close();
      box.cleanup();
    });
    hub.hostile(c.file, c.headers);
    const files = c.optional ? ["config.json"] : [c.file];
    const optional = c.optional ? [c.file] : [];
    await assert.rejects(
      resolveRepoFiles(REPO, files, { endpoint: hub.url, offline: false, cacheDir: box.cache, optional }),
      (e: any) => {
        assert.equal(e.code, "bad-header", e.message);
        assert.match(e.message, c.expect);
        assert.ok(oneLine(e), `one line: ${e.message}`);
        return true;
      },
    );
    assertNothingOutsideCache(box.root, c.name);
    const blobs = path.join(box.cache, "models--tiny-org--neox-tiny-a", "blobs");
    if (c.file !== "nope.json") {
      assert.deepEqual(fs.existsSync(blobs) ? fs.readdirSync(blobs) : [], [], "no blob for a refused answer");
    }
  });
}

test("a hub whose etag is well formed but wrong: the download fails verification, nothing reaches blobs/ or the snapshot", async (t) => {
  const box = sandbox();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    box.cleanup();
  });
  hub.hostile("model.safetensors", { "X-Linked-Etag": `"${SHA_OF_OTHER}"` });
  hub.hostile("config.json", { ETag: `"${gitBlobSha1(Buffer.from("other"))}"` });
  const o = { endpoint: hub.url, offline: false, cacheDir: box.cache };
  await assert.rejects(
    resolveRepoFiles(REPO, ["model.safetensors"], o),
    (e: any) =>
      e.code === "checksum" &&
      e.message.includes(`the hub advertised ${SHA_OF_OTHER} (X-Linked-Etag)`) &&
      e.message.includes(sha256hex(WEIGHTS)) &&
      oneLine(e),
  );
  await assert.rejects(
    resolveRepoFiles(REPO, ["config.json"], o),
    (e: any) => e.code === "checksum" && /git blob hash is [0-9a-f]{40}/.test(e.message) && oneLine(e),
  );
  const root = path.join(box.cache, "models--tiny-org--neox-tiny-a");
  assert.deepEqual(fs.readdirSync(path.join(root, "blobs")), [], "neither the blob nor a partial file is kept");
  assert.ok(!fs.existsSync(path.join(root, "snapshots", MAIN)));
  assertNothingOutsideCache(box.root, "wrong etag");
});

const BAD_REVISIONS = [
  "../..",
  "../../../escape-rev",
  "/tmp/escape-rev",
  "main/../../../escape-rev",
  "a\\b",
  "a//b",
  "main/",
  "/main",
  "x\0y",
  ".hidden",
  "a/./b",
  "has space",
  "tag.lock",
  "br@{1}",
  "a~1",
  "a:b",
];

test("a hostile --revision is refused before any request, offline or online, and writes nothing", async (t) => {
  const box = sandbox();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    box.cleanup();
  });
  for (const revision of BAD_REVISIONS) {
    for (const offline of [false, true]) {
      await assert.rejects(
        resolveRepoFiles(REPO, ["config.json"], { endpoint: hub.url, offline, cacheDir: box.cache, revision }),
        (e: any) => {
          assert.equal(e.code, "bad-id", `${JSON.stringify(revision)}: ${e.message}`);
          assert.match(
            e.message,
            /^invalid revision ".*": .*expected a branch, tag or commit like "main", "step3000", "refs\/pr\/1"/,
          );
          assert.ok(oneLine(e), e.message);
          return true;
        },
      );
    }
    await assert.rejects(
      resolveModelDir(REPO, { endpoint: hub.url, offline: false, cacheDir: box.cache, revision }),
      (e: any) => e.code === "bad-id" && /invalid revision/.test(e.message),
    );
  }
  assert.deepEqual(hub.requests, [], "refused before asking the hub");
  assert.ok(!fs.existsSync(box.cache), "nothing written");
  assertNothingOutsideCache(box.root, "revisions");
});

test("revisions the hub really uses pass: branches, tags, refs/pr/N and commits; refs/pr/1 is stored under refs/", async (t) => {
  for (const ok of ["main", "step3000", "v1.0", "release/2024-01", "refs/pr/1", MAIN])
    assert.equal(checkRevision(ok), ok);
  for (const bad of BAD_REVISIONS)
    assert.throws(
      () => checkRevision(bad),
      (e: any) => e.code === "bad-id",
      JSON.stringify(bad),
    );
  const box = sandbox();
  const repo: FixtureRepo = { ...tinyRepo(), refs: { ...tinyRepo().refs, "refs/pr/1": MAIN } };
  const hub = await startHubServer({ repos: [repo] });
  t.after(async () => {
    await hub.close();
    box.cleanup();
  });
  const r = await resolveRepoFiles(REPO, ["config.json"], {
    endpoint: hub.url,
    offline: false,
    cacheDir: box.cache,
    revision: "refs/pr/1",
  });
  assert.equal(r.commit, MAIN);
  assert.equal(
    fs.readFileSync(path.join(box.cache, "models--tiny-org--neox-tiny-a", "refs", "refs", "pr", "1"), "utf8"),
    MAIN,
  );
  const again = await resolveRepoFiles(REPO, ["config.json"], {
    offline: true,
    cacheDir: box.cache,
    revision: "refs/pr/1",
  });
  assert.equal(again.source, "cache");
  assertNothingOutsideCache(box.root, "refs/pr/1");
});

test("hostile file names are refused before any request: absolute, .., empty segments, backslashes, NUL", async (t) => {
  const box = sandbox();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    box.cleanup();
  });
  const bad = [
    "../escape",
    "/etc/passwd",
    "a//b",
    "a/",
    "a\\..\\b",
    "x\0y",
    "./config.json",
    "sub/../../escape",
    "C:/x",
    "line\nbreak",
  ];
  for (const f of bad) {
    for (const where of ["required", "optional"] as const) {
      const call =
        where === "required"
          ? resolveRepoFiles(REPO, [f], { endpoint: hub.url, offline: false, cacheDir: box.cache })
          : resolveRepoFiles(REPO, ["config.json"], {
              endpoint: hub.url,
              offline: false,
              cacheDir: box.cache,
              optional: [f],
            });
      await assert.rejects(
        call,
        (e: any) =>
          e.code === "bad-id" &&
          /^invalid file name ".*": expected a relative path inside the repository/.test(e.message) &&
          oneLine(e),
        JSON.stringify(f),
      );
    }
  }
  assert.deepEqual(hub.requests, []);
  assertNothingOutsideCache(box.root, "file names");
});

test("a shard name from a hostile model.safetensors.index.json is refused before it is fetched", async (t) => {
  const box = sandbox();
  const index = { weight_map: { "a.weight": "../../../escape-shard.safetensors" } };
  const base = tinyRepo();
  const files = { ...base.commits[MAIN] };
  delete files["model.safetensors"];
  files["model.safetensors.index.json"] = { content: Buffer.from(JSON.stringify(index)) };
  const hub = await startHubServer({ repos: [{ ...base, commits: { [MAIN]: files } }] });
  t.after(async () => {
    await hub.close();
    box.cleanup();
  });
  await assert.rejects(
    resolveModelDir(REPO, { endpoint: hub.url, offline: false, cacheDir: box.cache }),
    (e: any) =>
      e.code === "bad-id" &&
      /invalid shard name in .*model\.safetensors\.index\.json "\.\.\/\.\.\/\.\.\/escape-shard\.safetensors"/.test(
        e.message,
      ),
  );
  assert.ok(!hub.requests.some((q) => q.url.includes("escape-shard")));
  assertNothingOutsideCache(box.root, "shard names");
});

test("checkCommit and checkEtag take exactly what the hub sends", () => {
  assert.equal(checkCommit(MAIN, "x"), MAIN);
  for (const bad of ["", MAIN.toUpperCase(), MAIN.slice(1), `${MAIN}0`, `../${MAIN.slice(3)}`, `${MAIN.slice(1)}\0`]) {
    assert.throws(
      () => checkCommit(bad, "X-Repo-Commit header"),
      (e: any) => e.code === "bad-header" && /X-Repo-Commit header: .* is not a commit id/.test(e.message),
    );
  }
  assert.equal(checkEtag(sha256hex(WEIGHTS), "x"), sha256hex(WEIGHTS));
  assert.equal(checkEtag(gitBlobSha1(CONFIG), "x"), gitBlobSha1(CONFIG));
  for (const bad of [
    "",
    "..",
    "abc",
    `${sha256hex(WEIGHTS)}0`,
    `"${sha256hex(WEIGHTS)}"`,
    `${gitBlobSha1(CONFIG)}-gzip`,
    `a/${"0".repeat(62)}`,
  ]) {
    assert.throws(
      () => checkEtag(bad, "ETag header"),
      (e: any) => e.code === "bad-header" && /ETag header: .* is not a content hash/.test(e.message),
      bad,
    );
  }
});

test("a size larger than the free disk space is refused before the download starts, naming the file and the folder", async (t) => {
  const box = sandbox();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    box.cleanup();
  });
  hub.hostile("model.safetensors", { "X-Linked-Size": "9000000000000000" }); // 9 PB
  await assert.rejects(
    resolveRepoFiles(REPO, ["model.safetensors"], { endpoint: hub.url, offline: false, cacheDir: box.cache }),
    (e: any) =>
      e.code === "disk-full" &&
      /not enough disk space for model\.safetensors of tiny-org\/neox-tiny-a@main: 9000000000000000 bytes needed, \d+ free in .*blobs; .*HF_HUB_CACHE/.test(
        e.message,
      ) &&
      oneLine(e),
  );
  assert.equal(hub.requests.filter((q) => q.server === "cdn").length, 0, "nothing was downloaded");
});

test("a disk that fills up during the download (ENOSPC) is named: the file, the partial file, what to do", {
  skip: !fs.existsSync("/dev/full") && "no /dev/full",
}, async (t) => {
  const box = sandbox();
  const hub = await startHubServer({ repos: [tinyRepo()] });
  t.after(async () => {
    await hub.close();
    box.cleanup();
  });
  // writes to /dev/full fail with ENOSPC: stand it in for the partial file
  const blobs = path.join(box.cache, "models--tiny-org--neox-tiny-a", "blobs");
  fs.mkdirSync(blobs, { recursive: true });
  const partial = path.join(blobs, `${sha256hex(WEIGHTS)}.incomplete`);
  fs.symlinkSync("/dev/full", partial);
  await assert.rejects(
    resolveRepoFiles(REPO, ["model.safetensors"], { endpoint: hub.url, offline: false, cacheDir: box.cache }),
    (e: any) =>
      e.code === "disk-full" &&
      e.message.startsWith(
        `writing ${partial} (model.safetensors of tiny-org/neox-tiny-a@main) failed after 0 of ${WEIGHTS.length} bytes: ENOSPC (the disk is full)`,
      ) &&
      /free space and run again to resume/.test(e.message) &&
      oneLine(e),
  );
  assert.ok(!fs.existsSync(path.join(blobs, sha256hex(WEIGHTS))));
});
