import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  notebookDirt,
  stripNotebook,
  stripFile,
  readNotebook,
  type NotebookJson,
} from "../../../src/tools/notebooks/strip";
import { listNotebooks, projectRoot } from "../../../src/tools/notebooks/paths";

const dirty: NotebookJson = {
  cells: [
    { cell_type: "markdown", source: "# t", metadata: {} },
    {
      cell_type: "code",
      source: "1",
      execution_count: 3,
      outputs: [{ output_type: "stream", name: "stdout", text: "1" }],
      metadata: { execution: { x: 1 }, tags: ["keep"] },
    },
  ],
  metadata: { kernelspec: { name: "tslab" } },
  nbformat: 4,
  nbformat_minor: 4,
};

test("strip removes outputs, execution counts and timings and keeps the rest", () => {
  assert.equal(notebookDirt(dirty).length, 3);
  const clean = stripNotebook(dirty);
  assert.deepEqual(notebookDirt(clean), []);
  assert.deepEqual(clean.cells[1], {
    cell_type: "code",
    source: "1",
    execution_count: null,
    outputs: [],
    metadata: { tags: ["keep"] },
  });
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
  for (const f of files)
    assert.deepEqual(notebookDirt(readNotebook(f)), [], `${path.basename(f)}: run \`npx tunebook notebooks strip\``);
});

test("malformed notebooks: one line naming the file and the cell, from strip, --check and the runner (before anything runs)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-strip-bad-"));
  const cases: [unknown, RegExp][] = [
    [{ cells: [null] }, /bad\.ipynb: cell 1 \(cells\[0\]\) is null, expected an object with "cell_type" and "source"$/],
    [
      { cells: [{ cell_type: "code", source: "1" }, 7] },
      /bad\.ipynb: cell 2 \(cells\[1\]\) is number 7, expected an object/,
    ],
    [{ cells: [["code"]] }, /cell 1 \(cells\[0\]\) is an array, expected an object/],
    [
      { cells: [{ source: "1" }] },
      /cell 1 \(cells\[0\]\): "cell_type" must be a string \("code", "markdown" or "raw"\), found undefined/,
    ],
    [
      { cells: [{ cell_type: "code", source: [1, 2] }] },
      /cell 1 \(cells\[0\]\): "source" must be a string or a list of strings, found an array/,
    ],
    [
      { cells: [{ cell_type: "code", source: "1", outputs: "none" }] },
      /cell 1 \(cells\[0\]\): "outputs" must be a list, found string "none"/,
    ],
    [
      { cells: [{ cell_type: "code", source: "1", metadata: null }] },
      /cell 1 \(cells\[0\]\): "metadata" must be an object, found null/,
    ],
    [{ metadata: {} }, /bad\.ipynb: not a notebook \(no "cells" array\)$/],
    [{ cells: {} }, /bad\.ipynb: not a notebook \(no "cells" array; found an object\)$/],
    [null, /bad\.ipynb: not a notebook \(expected a JSON object, found null\)$/],
  ];
  const { run } = await import("../../../src/cli/notebooks");
  const { runNotebooks } = await import("../../../src/tools/notebooks/runner");
  try {
    const file = path.join(dir, "bad.ipynb");
    for (const [nb, re] of cases) {
      fs.writeFileSync(file, JSON.stringify(nb));
      const ok = (e: unknown) =>
        e instanceof Error && !(e instanceof TypeError) && re.test(e.message) && !e.message.includes("\n");
      assert.throws(() => stripFile(file), ok, JSON.stringify(nb));
      await assert.rejects(run(["strip", "--dir", dir, "bad"]), ok, JSON.stringify(nb));
      await assert.rejects(run(["strip", "--check", "--dir", dir, "bad"]), ok, JSON.stringify(nb));
      await assert.rejects(
        runNotebooks([file], { python: "/bin/false", outDir: path.join(dir, "out"), log: () => {} }),
        ok,
        JSON.stringify(nb),
      );
    }
    fs.rmSync(file);
    fs.mkdirSync(file);
    assert.throws(() => readNotebook(file), /bad\.ipynb: the notebook is a folder, not a regular file$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
