import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  beforeAfterRows,
  predictionRows,
  metricRows,
  promptInput,
  percent,
  comparisonSummary,
} from "../../src/course/rows";
import type { EvalRecord, EvalResult } from "../../src/eval/run";
import type { Comparison } from "../../src/eval/compare";
import { exactMatch, tokenF1 } from "../../src/eval/metrics";

const prompt = (s: string) =>
  `### Input:\nSubject: ${s}\nFrom: a@b\n\n### Question:\nWhat is the subject line of this e-mail?\n\n### Answer:\n`;
function rec(i: number, reference: string, prediction: string): EvalRecord {
  return {
    index: i,
    prompt: prompt(reference),
    reference,
    prediction,
    em: exactMatch(prediction, reference),
    f1: tokenF1(prediction, reference),
    category: "wrong",
    finishReason: "eos",
    newTokens: 3,
  };
}

test("promptInput: the first section's text, or the whole prompt without headers", () => {
  assert.equal(promptInput(prompt("Hello")), "Subject: Hello\nFrom: a@b");
  assert.equal(promptInput("### Question:\nWhy?\n\n### Answer:\n"), "Why?");
  assert.equal(promptInput("plain text"), "plain text");
});

test("beforeAfterRows: pairs predictions, marks exact matches, shortens long text; refuses mismatched evaluations", () => {
  const before = [rec(0, "Meeting at noon", "the the the"), rec(1, "Re: lunch", "Re: lunch!")];
  const after = [rec(0, "Meeting at noon", "Meeting at noon"), rec(1, "Re: lunch", "x".repeat(300))];
  const rows = beforeAfterRows(before, after, { maxAnswerChars: 20 });
  assert.equal(rows.length, 2);
  assert.deepEqual(
    [rows[0]["before EM"], rows[0]["after EM"], rows[1]["before EM"], rows[1]["after EM"]],
    ["", "✓", "✓", ""],
  );
  assert.equal(rows[0].input, "Subject: Meeting at noon From: a@b");
  assert.equal(rows[1].after.length, 20);
  assert.ok(rows[1].after.endsWith("…"));
  assert.throws(() => beforeAfterRows(before, after.slice(0, 1)), /2 and 1 records/);
  assert.throws(() => beforeAfterRows(before, [after[1], after[0]]), /record 0 has different prompts/);
});

test("predictionRows: one row per record with EM and F1", () => {
  const result = { records: [rec(0, "a b c d", "a b"), rec(1, "yes", "yes")] } as unknown as EvalResult;
  const rows = predictionRows(result);
  assert.deepEqual(
    rows.map((r) => r.EM),
    ["", "✓"],
  );
  assert.equal(rows[0].f1, Number(tokenF1("a b", "a b c d").toFixed(2)));
});

test("metricRows: readable names; perplexity is better when it falls, EM when it rises", () => {
  const rows = metricRows([
    { metric: "exactMatch", base: 0, tuned: 0.5, change: 0.5 },
    { metric: "perplexity", base: 300, tuned: 20, change: -280 },
    { metric: "f1", base: 0.4, tuned: 0.3, change: -0.1 },
    { metric: "meanNewTokens", base: 40, tuned: 8, change: -32 },
  ]);
  assert.deepEqual(
    rows.map((r) => r.metric),
    ["exact match", "perplexity of the reference answers", "token F1", "generated tokens per answer"],
  );
  assert.deepEqual(
    rows.map((r) => r.verdict),
    ["better", "better", "worse", ""],
  );
});

test("percent and comparisonSummary: numbers come from the comparison", () => {
  assert.equal(percent(0.4567), "45.7 %");
  assert.equal(percent(undefined), "n/a");
  const m = (em: number, f1: number, acc?: number, ppl?: number) => ({
    count: 10,
    exactMatch: em,
    f1,
    meanNewTokens: 3,
    ...(acc !== undefined ? { accuracy: acc, majorityRate: 0.5, majorityLabel: "ham" } : {}),
    ...(ppl !== undefined ? { perplexity: ppl } : {}),
  });
  const cmp = {
    base: { metrics: m(0, 0.1, 0.5, 300) },
    tuned: { metrics: m(0.6, 0.8, 0.9, 12.5) },
    rows: [],
    metrics: [],
  } as unknown as Comparison;
  const s = comparisonSummary(cmp, "Task X");
  assert.match(s, /Task X/);
  assert.match(s, /0\.0 % → 60\.0 %/);
  assert.match(s, /50\.0 % → 90\.0 %/);
  assert.match(s, /majority class "ham" scores 50\.0 %/);
  assert.match(s, /300\.0 → 12\.5/);
  const noLabels = { ...cmp, base: { metrics: m(0, 0.1) }, tuned: { metrics: m(0, 0.2) } } as unknown as Comparison;
  assert.doesNotMatch(comparisonSummary(noLabels, "Y"), /accuracy|perplexity/);
});
