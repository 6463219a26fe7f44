// The contamination check finds a test answer or a 13-word run of a test input in a corpus paragraph, whatever
// the punctuation and case, and ignores answers too short to be evidence.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ContaminationIndex,
  readTestItems,
  removeContamination,
  type TestItem,
} from "../../scripts/corpus/contamination";

const items: TestItem[] = [
  {
    split: "docs-qa/test.jsonl",
    id: "q1",
    answer: "Factory functions inject dependencies into a function.",
    inputs: ["What are factory functions?"],
  },
  {
    split: "spam/test.jsonl",
    id: "s1",
    answer: "spam",
    inputs: ["Dear friend you have been selected to receive a free cruise to the bahamas click here now to claim it"],
  },
  { split: "email-subject/test.jsonl", id: "e1", answer: "Re: hello", inputs: ["Subject: Re: hello"] },
];

test("an answer is found word for word across case, punctuation and line breaks", () => {
  const idx = new ContaminationIndex(items);
  const hit = idx.find("As the manual says, FACTORY functions\ninject dependencies -- into a function; done.");
  assert.equal(hit?.item.id, "q1");
  assert.equal(hit?.rule, "answer");
  assert.equal(
    idx.find("Factory functions inject dependencies into a method."),
    undefined,
    "a different last word is no match",
  );
});

test("a 13-word run of a test input is found; 12 words are not enough", () => {
  const idx = new ContaminationIndex(items);
  const input = items[1].inputs[0].split(" ");
  assert.equal(idx.find(`Yesterday: ${input.slice(2, 15).join(" ")}!`)?.rule, "n-gram");
  assert.equal(idx.find(input.slice(2, 14).join(" ")), undefined);
});

test("short answers (labels, two-word subjects) are not checked word for word", () => {
  const idx = new ContaminationIndex(items);
  assert.equal(idx.answersTooShort, 2);
  assert.equal(idx.answersChecked, 1);
  assert.equal(idx.find("This is spam. Re: hello to you."), undefined);
});

test("removeContamination drops the paragraph and reports it, and keeps the rest", () => {
  const idx = new ContaminationIndex(items);
  const docs = [
    {
      source: "s",
      name: "s/1",
      text: "Clean paragraph.\n\nFactory functions inject dependencies into a function.\n\nAnother clean one.",
    },
  ];
  const { docs: out, hits } = removeContamination(docs, idx);
  assert.equal(out[0].text, "Clean paragraph.\n\nAnother clean one.");
  assert.deepEqual(
    hits.map((h) => [h.source, h.doc, h.split, h.id, h.rule]),
    [["s", "s/1", "docs-qa/test.jsonl", "q1", "answer"]],
  );
});

test("readTestItems reads every */test.jsonl and names a bad line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-contam-"));
  try {
    fs.mkdirSync(path.join(dir, "a"));
    fs.writeFileSync(path.join(dir, "a", "test.jsonl"), '{"id":"x","question":"q?","answer":"an answer"}\n');
    assert.deepEqual(readTestItems(dir), [{ split: "a/test.jsonl", id: "x", answer: "an answer", inputs: ["q?"] }]);
    fs.appendFileSync(path.join(dir, "a", "test.jsonl"), "{oops\n");
    assert.throws(() => readTestItems(dir), /a\/test\.jsonl:2 is not JSON/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the course's own test splits are all read (3 tasks, every item)", () => {
  const got = readTestItems(path.join(__dirname, "..", "..", "data"));
  const splits = new Set(got.map((i) => i.split));
  for (const s of ["docs-qa/test.jsonl", "email-subject/test.jsonl", "spam/test.jsonl"]) assert.ok(splits.has(s), s);
  assert.ok(
    got.every((i) => i.answer !== undefined),
    "every test item has an answer or label",
  );
});
