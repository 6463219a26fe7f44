import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  executedProblem,
  looksLikeError,
  notebookOutline,
  readSiteNotebook,
  joinText,
} from "../../../src/tools/site/notebook";
import { code, md, notebook, stream, tableOut } from "./helpers";

const TSLAB_THROW =
  'evalmachine.<anonymous>:3\nthrow new TypeError("boom");\n^\n\nTypeError: boom\n    at evalmachine.<anonymous>:3:7\n';

test("a complete, error-free copy has no problem", () => {
  assert.equal(
    executedProblem(
      notebook([
        md("# t"),
        code("1", [tableOut("a")], 1),
        code("  ", [], null),
        code("2", [stream("stderr", "warning: slow\n")], 2),
      ]),
    ),
    null,
  );
});

test("an error output names its cell", () => {
  const p = executedProblem(
    notebook([
      md("# t"),
      code("ok()", [], 1),
      code(
        "bad()",
        [
          {
            output_type: "error",
            ename: "ReferenceError",
            evalue: "bad is not defined",
            traceback: ["\x1b[31mReferenceError\x1b[0m: bad is not defined"],
          },
        ],
        2,
      ),
    ]),
  );
  assert.ok(p);
  assert.equal(p.cell, 3);
  assert.equal(p.codeCell, 2);
  assert.equal(p.source, "bad()");
  assert.equal(p.message, "ReferenceError: bad is not defined");
});

test("tslab's stderr error text is a failure; a warning is not", () => {
  const p = executedProblem(
    notebook([
      code("a", [], 1),
      code('throw new TypeError("boom")', [stream("stderr", TSLAB_THROW)], 2),
      code("c", [], null),
    ]),
  );
  assert.ok(p);
  assert.equal(p.cell, 2);
  assert.match(p.message, /TypeError: boom/);
  assert.equal(looksLikeError(TSLAB_THROW), true);
  assert.equal(looksLikeError("1:7 - Type 'string' is not assignable to type 'number'."), true);
  assert.equal(looksLikeError("UnhandledPromiseRejection: Error: late"), true);
  assert.equal(looksLikeError("warning: the errors table is long\n"), false);
});

test("a copy cut short names the last executed cell and its stderr", () => {
  const p = executedProblem(
    notebook([code("a", [], 1), code("b", [stream("stderr", "the kernel gave up here\n")], 2), code("c", [], null)]),
  );
  assert.ok(p);
  assert.equal(p.cell, 2);
  assert.match(p.message, /execution stopped after this cell.*\n.*gave up/);
});

test("a never-executed cell is named when nothing explains it", () => {
  const p = executedProblem(notebook([md("# t"), code("a", [], null)]));
  assert.ok(p);
  assert.equal(p.cell, 2);
  assert.match(p.message, /never executed/);
});

test("outline: first H1 and first paragraph", () => {
  const o = notebookOutline(
    notebook([md("# 01 · Define **the** task\n\nFine-tuning starts\nwith a task."), md("More.")]),
    "x/01_a.ipynb",
  );
  assert.deepEqual(o, { title: "01 · Define **the** task", summary: "Fine-tuning starts\nwith a task." });
  const o2 = notebookOutline(notebook([md("# Title\nRight under the title."), md("Later.")]), "b.ipynb");
  assert.deepEqual(o2, { title: "Title", summary: "Right under the title." });
  const o3 = notebookOutline(notebook([md("Intro first.\n\n- a list"), md("# Late title")]), "c.ipynb");
  assert.deepEqual(o3, { title: "Late title", summary: "Intro first." });
  assert.deepEqual(notebookOutline(notebook([code("1")]), "dir/05_x.ipynb"), { title: "05_x", summary: "" });
});

test("readSiteNotebook: clear errors naming the file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tb-site-nb-"));
  try {
    const bad = path.join(dir, "bad.ipynb");
    fs.writeFileSync(bad, "{ not json");
    assert.throws(
      () => readSiteNotebook(bad),
      (e: Error) => e.message.startsWith(bad) && /JSON/.test(e.message),
    );
    fs.writeFileSync(bad, JSON.stringify({ cells: {} }));
    assert.throws(() => readSiteNotebook(bad), /no "cells" array/);
    fs.writeFileSync(bad, JSON.stringify({ cells: [{ cell_type: "code", source: "", outputs: "x" }] }));
    assert.throws(() => readSiteNotebook(bad), /cell 1: "outputs" must be an array/);
    assert.throws(() => readSiteNotebook(path.join(dir, "missing.ipynb")), /missing\.ipynb: cannot read/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(joinText(["a\n", "b"]), "a\nb");
});
