// The filter report: per-check and overall precision/recall of "drop" against "unusable" labels, counted by
// hand on a small set; missed and wrongly dropped pairs listed; labels matched to a run's pairs by id and text.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { filterReport, matchLabels } from "../../src/data/filter-report";

const labelled = [
  { question: "What is a unit?", answer: "A value with a unit of measurement, such as 5 cm.", usable: true },
  { question: "What is a matrix?", answer: "", usable: false, reason: "empty" },
  { question: "Why?", answer: "because because because because because because", usable: false, reason: "loop" },
  { question: "What is a tensor?", answer: "What is a tensor?", usable: false, reason: "copy" },
  { question: "What does abs do?", answer: "It computes the sine of a number.", usable: false, reason: "wrong fact" },
  { question: "How are units written?", answer: "!!!!!!!!!!!!!!!!! units", usable: true, reason: "odd but right" },
];

test("filterReport counts drops per check and overall against the labels", () => {
  const r = filterReport(labelled);
  assert.equal(r.total, 6);
  assert.equal(r.unusable, 4);
  assert.equal(r.usable, 2);
  const byCheck = Object.fromEntries(r.rows.map((x) => [x.check, x]));
  assert.deepEqual(byCheck["empty-answer"], {
    check: "empty-answer",
    dropped: 1,
    truePositives: 1,
    falsePositives: 0,
    precision: 1,
    recall: 0.25,
  });
  // the repetition check drops the loop (right) and the "!!!…" answer labelled usable (wrong)
  assert.equal(byCheck.repetitive.dropped, 2);
  assert.equal(byCheck.repetitive.precision, 0.5);
  assert.equal(byCheck["not-english"].dropped, 0);
  assert.equal(byCheck["not-english"].precision, null, "a check that drops nothing has no precision");
  assert.deepEqual(r.overall, {
    check: "all checks",
    dropped: 4,
    truePositives: 3,
    falsePositives: 1,
    precision: 0.75,
    recall: 0.75,
  });
  assert.equal(r.rows[r.rows.length - 1], r.overall);
  assert.deepEqual(
    r.missed.map((x) => x.reason),
    ["wrong fact"],
  );
  assert.deepEqual(
    r.wronglyDropped.map((x) => [x.item.reason, x.reason]),
    [["odd but right", "repetitive"]],
  );
});

test("filterReport passes options on (grounding needs the context) and names a missing label", () => {
  const ctx = "Math.js supports units. Units can be used to do calculations.";
  const items = [
    { question: "Units?", answer: "The bureau of the United States was the last year.", context: ctx, usable: false },
    { question: "Units?", answer: "Units can be used to do calculations.", context: ctx, usable: true },
  ];
  assert.equal(filterReport(items).overall.recall, 0);
  const r = filterReport(items, { grounding: true });
  assert.equal(r.overall.recall, 1);
  assert.equal(r.overall.precision, 1);
  assert.equal(filterReport([{ question: "Q", answer: "A!", usable: true }]).overall.recall, null);
  assert.throws(() => filterReport([{ question: "Q", answer: "A" } as any]), /item 0 needs a boolean field usable/);
});

test("matchLabels: by id and exact answer; a different text is unlabelled", () => {
  const labels = [
    { id: "a", question: "Q", answer: "Units can be added. ", usable: true, reason: "copied" },
    { id: "b", question: "Q", answer: "old text", usable: false },
  ];
  const pairs = [
    { id: "a", answer: "Units can be added." },
    { id: "b", answer: "new text" },
    { id: "c", answer: "x" },
  ];
  const m = matchLabels(pairs, labels);
  assert.deepEqual(m.labelled, [{ id: "a", answer: "Units can be added.", usable: true, reason: "copied" }]);
  assert.deepEqual(
    m.unlabelled.map((p) => p.id),
    ["b", "c"],
  );
  assert.throws(() => matchLabels(pairs, [{ id: "a", answer: "x" } as any]), /label 0 needs/);
});

test("the committed labelled sample: every pair labelled with a reason, all five sources present", () => {
  const fs = require("node:fs") as typeof import("node:fs");
  const path = require("node:path") as typeof import("node:path");
  const file = path.resolve(__dirname, "..", "..", "data", "docs-qa", "filter-labels.jsonl");
  const rows = fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l: string) => JSON.parse(l));
  assert.ok(rows.length >= 60, `${rows.length} labelled pairs`);
  for (const r of rows) {
    assert.equal(typeof r.usable, "boolean", r.id);
    assert.ok(typeof r.reason === "string" && r.reason.length > 0, `${r.id} has a reason`);
    assert.equal(typeof r.question, "string");
    assert.equal(typeof r.answer, "string");
  }
  const kinds = new Set(rows.map((r: { kind: string }) => r.kind));
  for (const k of ["docs", "template", "model-free", "model-extractive", "bad"]) assert.ok(kinds.has(k), k);
  assert.equal(new Set(rows.map((r: { id: string }) => r.id)).size, rows.length, "ids are unique");
  // the whole sample goes through the report without an error
  const r = filterReport(rows, { language: "en", grounding: true });
  assert.equal(r.total, rows.length);
});
