import { test, before, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadTask } from "../../src/pipeline/task";
import { dataDir } from "../../src/data/datasets";
import { writeJsonlFile } from "../eval/helpers/tiny-task";

let dir: string;
before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-task-"))));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a shipped dataset's name means its split, with the course's template and labels", async () => {
  const spam = await loadTask({ data: "spam" });
  assert.equal(spam.file, path.join(dataDir("spam"), "test.jsonl"));
  assert.equal(spam.schema, "classification");
  assert.deepEqual(spam.labels, ["ham", "spam"]);
  assert.equal(spam.dataset, "spam");
  assert.match(spam.template.renderPrompt(spam.records[0]), /^### E-mail:\n/);
  const qa = await loadTask({ data: "docs-qa", split: "train" });
  assert.equal(qa.file, path.join(dataDir("docs-qa"), "train.jsonl"));
  assert.equal(qa.template.name, "qa");
  assert.equal(qa.labels, undefined);
});

test("a file: schema inferred, labels from the file or given, template by schema or dataset name", async () => {
  const f = writeJsonlFile(path.join(dir, "c.jsonl"), [
    { text: "a", label: "yes" },
    { text: "b", label: "no" },
  ]);
  const auto = await loadTask({ data: f });
  assert.equal(auto.schema, "classification");
  assert.deepEqual(auto.labels, ["no", "yes"]);
  const given = await loadTask({ data: f, labels: ["yes", "no", "maybe"] });
  assert.deepEqual(given.labels, ["yes", "no", "maybe"]);
  await assert.rejects(loadTask({ data: f, labels: ["yes"] }), /c\.jsonl:2: field "label": expected one of "yes"/);
  const one = writeJsonlFile(path.join(dir, "one.jsonl"), [{ text: "a", label: "yes" }]);
  await assert.rejects(loadTask({ data: one }), /at least two labels/);
  const ex = writeJsonlFile(path.join(dir, "e.jsonl"), [{ text: "Subject: hi\nFrom: x", answer: "hi" }]);
  assert.equal((await loadTask({ data: ex })).template.name, "extraction");
  assert.equal((await loadTask({ data: ex, template: "email-subject" })).dataset, "email-subject");
  await assert.rejects(loadTask({ data: ex, template: "qa" }), /e\.jsonl:1: missing field "question"/);
  await assert.rejects(
    loadTask({ data: path.join(dir, "none.jsonl") }),
    /none\.jsonl: no such file \(nor a shipped dataset/,
  );
  await assert.rejects(loadTask({ data: f, template: "sonnet" }), /unknown template "sonnet"/);
});
