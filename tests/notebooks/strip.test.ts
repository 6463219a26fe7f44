import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { notebookDirt, stripNotebook, stripFile, readNotebook, NotebookJson } from "../../src/notebooks/strip";
import { listNotebooks, projectRoot } from "../../src/notebooks/paths";

const dirty: NotebookJson = {
  cells: [
    { cell_type: "markdown", source: "# t", metadata: {} },
    { cell_type: "code", source: "1", execution_count: 3, outputs: [{ output_type: "stream", name: "stdout", text: "1" }], metadata: { execution: { x: 1 }, tags: ["keep"] } },
  ],
  metadata: { kernelspec: { name: "tslab" } },
  nbformat: 4,
  nbformat_minor: 4,
};

test("strip removes outputs, execution counts and timings and keeps the rest", () => {
  assert.equal(notebookDirt(dirty).length, 3);
  const clean = stripNotebook(dirty);
  assert.deepEqual(notebookDirt(clean), []);
  assert.deepEqual(clean.cells[1], { cell_type: "code", source: "1", execution_count: null, outputs: [], metadata: { tags: ["keep"] } });
  assert.deepEqual(clean.cells[0], dirty.cells[0]);
  assert.equal(dirty.cells[1].execution_count, 3, "the input is not modified");
});

test("stripFile rewrites a dirty file and leaves a clean one alone", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-strip-")), "n.ipynb");
  fs.writeFileSync(file, JSON.stringify(dirty));
  assert.equal(stripFile(file), true);
  assert.deepEqual(notebookDirt(readNotebook(file)), []);
  assert.equal(stripFile(file), false);
  fs.writeFileSync(file, "{not json");
  assert.throws(() => readNotebook(file), /n\.ipynb: not a readable notebook/);
});

test("committed notebooks carry no outputs and no execution counts", () => {
  const files = listNotebooks(path.join(projectRoot(), "notebooks"));
  assert.ok(files.length >= 1, "notebooks/ has notebooks");
  for (const f of files) assert.deepEqual(notebookDirt(readNotebook(f)), [], `${path.basename(f)}: run \`npx tunebook notebooks strip\``);
});
