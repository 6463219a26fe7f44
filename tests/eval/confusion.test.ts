import { test } from "node:test";
import * as assert from "node:assert/strict";
import { confusionMatrix, confusionFromRecords, confusionFigure } from "../../src/eval/confusion";
import type { EvalRecord } from "../../src/eval/run";

test("confusionMatrix: counts gold × predicted in the given label order; precision, recall, accuracy", () => {
  const gold = ["ham", "ham", "ham", "spam", "spam", "ham"];
  const pred = ["ham", "spam", "ham", "spam", "ham", undefined];
  const cm = confusionMatrix(gold, pred, ["ham", "spam"]);
  assert.deepEqual(cm.labels, ["ham", "spam"]);
  assert.deepEqual(cm.counts, [
    [2, 1],
    [1, 1],
  ]);
  assert.deepEqual(cm.unlabelled, [1, 0]);
  assert.equal(cm.total, 6);
  assert.equal(cm.accuracy, 3 / 6, "a prediction with no label counts as wrong");
  const [ham, spam] = cm.perLabel;
  assert.deepEqual([ham.support, spam.support], [4, 2]);
  assert.equal(ham.recall, 2 / 4);
  assert.equal(ham.precision, 2 / 3);
  assert.equal(spam.precision, 1 / 2);
  assert.equal(spam.recall, 1 / 2);
  // a gold label outside the given order is appended, not dropped; a never-predicted label has NaN precision
  const more = confusionMatrix(["a", "b", "c"], ["a", "a", "a"], ["a", "b"]);
  assert.deepEqual(more.labels, ["a", "b", "c"]);
  assert.deepEqual(more.counts, [
    [1, 0, 0],
    [1, 0, 0],
    [1, 0, 0],
  ]);
  assert.ok(Number.isNaN(more.perLabel[1].precision));
  assert.throws(() => confusionMatrix(["a"], []), /1 gold labels but 0 predictions/);
});

test("confusionFromRecords reads gold and predicted labels from evaluation records; refuses records without labels", () => {
  const rec = (label: string | undefined, predictedLabel: string | undefined) =>
    ({ label, predictedLabel }) as EvalRecord;
  const cm = confusionFromRecords([rec("spam", "spam"), rec("ham", "spam"), rec("ham", "ham")], ["ham", "spam"]);
  assert.deepEqual(cm.counts, [
    [1, 1],
    [0, 1],
  ]);
  assert.throws(() => confusionFromRecords([rec(undefined, "ham")]), /no gold labels/);
});

test("confusionFigure: a heatmap with gold rows, predicted columns, counts and row shares as annotations", () => {
  const cm = confusionMatrix(["ham", "ham", "spam", "spam"], ["ham", "spam", "spam", undefined], ["ham", "spam"]);
  const fig = confusionFigure(cm, "Spam");
  const trace = fig.data[0] as { type: string; x: string[]; y: string[]; z: number[][] };
  assert.equal(trace.type, "heatmap");
  assert.deepEqual(trace.x, ["ham", "spam", "(no label)"], "unlabelled predictions get their own column");
  assert.deepEqual(trace.y, ["ham", "spam"]);
  assert.deepEqual(trace.z, [
    [1, 1, 0],
    [0, 1, 1],
  ]);
  const texts = (fig.layout.annotations as { text: string }[]).map((a) => a.text);
  assert.deepEqual(texts, ["1 (50 %)", "1 (50 %)", "0 (0 %)", "0 (0 %)", "1 (50 %)", "1 (50 %)"]);
  assert.match(JSON.stringify(fig.layout.title), /Spam \(accuracy 50\.0 % of 4\)/);
  const plain = confusionFigure(confusionMatrix(["a", "b"], ["a", "b"]));
  assert.deepEqual(
    (plain.data[0] as { x: string[] }).x,
    ["a", "b"],
    "no extra column when every prediction is a label",
  );
});
