// The iteration loop's selection and comparison: wrongExamples maps wrong predictions back to their source
// records; selectByError picks, round robin over the errors, each one's most similar unused pool example of the
// same class (a small deterministic example worked by hand); variantRows/variantFigure summarise runs per variant.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  selectByError,
  variantFigure,
  variantRows,
  wordCounts,
  worstMistake,
  wrongExamples,
} from "../../src/eval/targeted";
import { confusionMatrix } from "../../src/eval/confusion";
import type { EvalRecord } from "../../src/eval/run";

const rec = (index: number, label: string, predictedLabel: string): EvalRecord => ({
  index,
  prompt: "",
  reference: label,
  prediction: predictedLabel,
  em: label === predictedLabel ? 1 : 0,
  f1: 0,
  category: "wrong",
  finishReason: "eos",
  newTokens: 1,
  label,
  predictedLabel,
});

test("wordCounts: lower-case words, keeps $ and !", () => {
  assert.deepEqual(
    [...wordCounts("Win $$$ NOW! win")],
    [
      ["win", 2],
      ["$$$", 1],
      ["now!", 1],
    ],
  );
});

test("wrongExamples: the source records of wrong predictions, optionally one kind of mistake", () => {
  const src = ["a", "b", "c", "d"];
  const recs = [rec(0, "ham", "ham"), rec(1, "ham", "spam"), rec(2, "spam", "ham"), rec(3, "ham", "spam")];
  assert.deepEqual(wrongExamples(recs, src), ["b", "c", "d"]);
  assert.deepEqual(wrongExamples(recs, src, { gold: "ham", predicted: "spam" }), ["b", "d"]);
  assert.throws(() => wrongExamples([rec(7, "ham", "spam")], src), /index 7 is outside the 4 source records/);
  const { label: _l, ...noLabel } = rec(0, "ham", "ham");
  assert.throws(() => wrongExamples([noLabel as EvalRecord], src), /no gold labels/);
});

test("selectByError: round robin, nearest same-class unused pool example each, deterministic", () => {
  const pool = [
    { text: "cheap meeting now pills", label: "spam" }, // 0: nearest to error A, but the wrong class
    { text: "meeting notes for the cvs commit", label: "ham" }, // 1: nearest to error B
    { text: "cheap flights for the meeting", label: "ham" }, // 2: nearest ham to error A
    { text: "buy cheap now", label: "ham" }, // 3: also close to A
    { text: "unrelated words entirely", label: "ham" }, // 4
    { text: "cvs commit failed", label: "ham" }, // 5: second nearest to B, but excluded
  ];
  const errors = [
    { text: "cheap meeting now", label: "ham" }, // A
    { text: "cvs commit notes", label: "ham" }, // B
  ];
  const by = { label: (r: { label: string }) => r.label };
  const a = wordCounts("cheap meeting now");
  const cos = (t: string) => {
    const b = wordCounts(t);
    let d = 0;
    for (const [w, c] of a) d += c * (b.get(w) ?? 0);
    return (
      d / Math.sqrt([...a.values()].reduce((x, c) => x + c * c, 0) * [...b.values()].reduce((x, c) => x + c * c, 0))
    );
  };
  assert.ok(cos(pool[0].text) > cos(pool[3].text)); // 3 of 4 words shared vs 2 of 3
  assert.ok(cos(pool[3].text) > cos(pool[2].text)); // "buy cheap now" (2 of 3) beats 2 of 5: A's first ham is 3
  const picked = selectByError(errors, pool, { count: 3, ...by, exclude: [pool[5]] });
  assert.deepEqual(picked, [pool[3], pool[1], pool[2]]); // A → 3, B → 1, A → 2 (next nearest ham)
  assert.deepEqual(selectByError(errors, pool, { count: 3, ...by, exclude: [pool[5]] }), picked); // same again
  assert.ok(!picked.includes(pool[0])); // never the other class
  // without a class, the spam example is A's nearest
  assert.equal(selectByError(errors.slice(0, 1), pool, { count: 1 })[0], pool[0]);
  // the pool runs out: every ham once, no repeats
  assert.equal(new Set(selectByError(errors, pool, { count: 99, ...by })).size, 5);
  assert.throws(() => selectByError([], pool, { count: 1 }), /no errors to target/);
  assert.throws(() => selectByError(errors, pool, { count: -1 }), /count must be an integer ≥ 0/);
  assert.throws(() => selectByError([{ x: 1 }], [{ x: 2 }], { count: 1 }), /no `text` or `input`/);
});

test("variantRows / variantFigure: mean accuracy with range and mean mistakes per variant", () => {
  const cm = (g: string[], p: string[]) => confusionMatrix(g, p, ["ham", "spam"]);
  const gold = ["ham", "ham", "spam", "spam"];
  const runs = [
    { variant: "before", seed: 0, cm: cm(gold, ["spam", "spam", "spam", "spam"]) }, // 0.5, 2 ham→spam
    { variant: "after", seed: 0, cm: cm(gold, ["ham", "spam", "spam", "spam"]) }, // 0.75, 1 ham→spam
    { variant: "before", seed: 1, cm: cm(gold, ["ham", "spam", "spam", "spam"]) }, // 0.75
    { variant: "after", seed: 1, cm: cm(gold, ["ham", "ham", "spam", "ham"]) }, // 0.75, 1 spam→ham
  ];
  const rows = variantRows(runs);
  assert.deepEqual(
    rows.map((r) => [r.variant, r.runs, r.accuracy, r.accuracyMin, r.accuracyMax]),
    [
      ["before", 2, 0.625, 0.5, 0.75],
      ["after", 2, 0.75, 0.75, 0.75],
    ],
  );
  assert.deepEqual(rows[0].mistakes, { "ham → spam": 1.5, "spam → ham": 0 });
  assert.deepEqual(rows[1].mistakes, { "ham → spam": 0.5, "spam → ham": 0.5 });
  const fig = variantFigure(runs, "t");
  assert.equal(fig.data.length, 4); // accuracy bars, seed dots, two kinds of mistake
  assert.deepEqual((fig.data[0] as any).error_y.arrayminus, [0.125, 0]);
  assert.deepEqual((fig.data[1] as any).y, [0.5, 0.75, 0.75, 0.75]);
  assert.throws(() => variantRows([]), /no runs/);
});

test("worstMistake: the largest off-diagonal cell, or null", () => {
  const cm = confusionMatrix(
    ["ham", "ham", "ham", "spam", "spam"],
    ["spam", "spam", "ham", "ham", "spam"],
    ["ham", "spam"],
  );
  assert.deepEqual(worstMistake(cm), { gold: "ham", predicted: "spam", count: 2 });
  assert.equal(worstMistake(confusionMatrix(["ham"], ["ham"], ["ham", "spam"])), null);
});
