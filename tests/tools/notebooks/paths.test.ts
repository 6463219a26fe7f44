import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveNotebooks, projectRoot } from "../../../src/tools/notebooks/paths";
import { executedPath } from "../../../src/tools/notebooks/runner";

function tmpNotebooks(names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-nb-"));
  for (const n of names) fs.writeFileSync(path.join(dir, n), "{}");
  return dir;
}

test("NAME may be a number prefix, a name, a file name or a path; no names = all, sorted", () => {
  const dir = tmpNotebooks(["02_data.ipynb", "01_task_definition.ipynb", "notes.txt"]);
  const one = path.join(dir, "01_task_definition.ipynb");
  assert.deepEqual(resolveNotebooks([], dir), [one, path.join(dir, "02_data.ipynb")]);
  for (const n of ["01", "01_task_definition", "01_task_definition.ipynb", one])
    assert.deepEqual(resolveNotebooks([n], dir), [one], n);
  assert.throws(() => resolveNotebooks(["03"], dir), /no notebook "03" in .*; known: 01_task_definition, 02_data/);
});

test("ambiguous names are refused", () => {
  const dir = tmpNotebooks(["01_a.ipynb", "01_b.ipynb"]);
  assert.throws(() => resolveNotebooks(["01"], dir), /ambiguous: 01_a, 01_b/);
});

test("executed copies never overwrite the sources", () => {
  const dir = tmpNotebooks(["01_a.ipynb"]);
  assert.throws(() => executedPath(path.join(dir, "01_a.ipynb"), dir), /never overwrite sources/);
  assert.equal(executedPath(path.join(dir, "01_a.ipynb"), path.join(dir, "out")), path.join(dir, "out", "01_a.ipynb"));
  assert.ok(fs.existsSync(path.join(projectRoot(), "package.json")));
});
