import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "../../../src/cli/notebooks";
import { code, md, notebook, stream, writeCourse, writeNb } from "./helpers";

/** Run the CLI with console output captured. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  const write = process.stderr.write;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await run(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

test("notebooks render --executed DIR --out DIR writes the site", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tb-site-cli-"));
  try {
    writeCourse(path.join(dir, "executed"));
    const out = path.join(dir, "site");
    const r = await cli(["render", "--executed", path.join(dir, "executed"), "--out", out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /3 chapter\(s\), 3 chart\(s\)/);
    assert.ok(r.out.includes(`file://${path.join(out, "index.html")}`));
    assert.ok(fs.existsSync(path.join(out, "02_second.html")));

    const one = await cli(["render", "02", "--executed", path.join(dir, "executed"), "--out", out]);
    assert.equal(one.code, 0, one.err);
    assert.ok(!fs.existsSync(path.join(out, "01_first.html")), "only the named chapter");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("notebooks render exits 1 naming the failing notebook and cell", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tb-site-cli-"));
  try {
    writeNb(
      path.join(dir, "executed"),
      "01_bad.ipynb",
      notebook([md("# Bad"), code("boom()", [stream("stderr", "ReferenceError: boom is not defined\n")], 1)]),
    );
    const out = path.join(dir, "site");
    const r = await cli(["render", "--executed", path.join(dir, "executed"), "--out", out]);
    assert.equal(r.code, 1);
    assert.match(r.err, /01_bad\.ipynb FAILED at cell 2 \(code cell 1\)/);
    assert.match(r.err, /boom is not defined/);
    assert.ok(!fs.existsSync(out));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("notebooks render: usage errors", async () => {
  await assert.rejects(run(["render", "--executed", "a", "--dir", "b"]), /--executed DIR or --dir DIR, not both/);
  await assert.rejects(run(["render", "--bogus"]), /--bogus/);
  await assert.rejects(run(["nope"]), /known: run, strip, render/);
});
