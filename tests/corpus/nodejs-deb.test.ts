// The Node.js docs source reads a downloaded nodejs-doc .deb without installing it: `apt-get install nodejs-doc`
// removes NodeSource's nodejs on these machines, so the corpus must not need it installed.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-nodejs-deb-"));
const debs = path.join(tmp, "debs");
process.env.TUNEBOOK_CORPUS_DEBS = debs; // read when sources.ts is loaded

function buildDeb(): void {
  const pkg = path.join(tmp, "pkg");
  const api = path.join(pkg, "usr", "share", "doc", "nodejs", "api");
  fs.mkdirSync(api, { recursive: true });
  fs.mkdirSync(path.join(pkg, "DEBIAN"));
  fs.writeFileSync(
    path.join(pkg, "DEBIAN", "control"),
    "Package: nodejs-doc\nVersion: 18.0.0-test\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n",
  );
  for (const name of ["fs", "path"])
    fs.writeFileSync(
      path.join(api, `${name}.md.gz`),
      zlib.gzipSync(`# Module ${name}\n\nThe ${name} module reads and writes things.\n`),
    );
  fs.writeFileSync(path.join(api, "all.md.gz"), zlib.gzipSync("# All\n\nskipped\n"));
  fs.mkdirSync(debs);
  execFileSync("dpkg-deb", ["--root-owner-group", "-b", pkg, path.join(debs, "nodejs-doc_18.0.0-test_all.deb")], {
    stdio: "ignore",
  });
}

test("nodejs-docs: not installed and no .deb → one line with the download command and the NodeSource warning", async () => {
  const { SOURCES } = await import("../../scripts/corpus/sources");
  const src = SOURCES.find((s) => s.id === "nodejs-docs")!;
  const root = fs.mkdtempSync(path.join(tmp, "root-"));
  assert.throws(
    () => src.read(root),
    (e: any) =>
      /needs the Debian package nodejs-doc, neither installed nor downloaded/.test(e.message) &&
      /apt-get download nodejs-doc/.test(e.message) &&
      /NodeSource/.test(e.message) &&
      !/\n/.test(e.message),
  );
});

test("nodejs-docs: a downloaded .deb is read without installing it; its version is recorded; the temp folder is removed", async (t) => {
  try {
    execFileSync("dpkg-deb", ["--version"], { stdio: "ignore" });
  } catch {
    return t.skip("dpkg-deb is not available");
  }
  buildDeb();
  const { SOURCES } = await import("../../scripts/corpus/sources");
  const src = SOURCES.find((s) => s.id === "nodejs-docs")!;
  const root = fs.mkdtempSync(path.join(tmp, "root-"));
  const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("tunebook-nodejs-doc-")).length;
  const got = src.read(root);
  assert.deepEqual(got.packages, { "nodejs-doc": "18.0.0-test" });
  assert.deepEqual(
    got.docs.map((d) => d.name),
    ["nodejs-docs/fs", "nodejs-docs/path"],
  );
  assert.match(got.docs[0].text, /The fs module reads and writes things/);
  assert.equal(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("tunebook-nodejs-doc-")).length, before);
  fs.rmSync(tmp, { recursive: true, force: true });
});
