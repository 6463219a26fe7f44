import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTinyTask, classRecords } from "../eval/helpers/tiny-task";
import { classificationTemplate } from "../../src/data/templates";
import { evaluateModel } from "../../src/eval/run";
import {
  clipText,
  pickDemonstrations,
  fewShotTemplate,
  promptingSetup,
  cardRecipe,
} from "../../src/course/why-fine-tune/setup";
import {
  labelledShare,
  promptingRows,
  promptingFigure,
  promptingSummary,
  type PromptingResult,
} from "../../src/course/why-fine-tune/results";
import { courseLoopSvg, courseLoopFigure, COURSE_LOOP, LOOP_TOOLS } from "../../src/course/why-fine-tune/loop";
import {
  excerpt,
  passageRows,
  pairRows,
  fineTuningSize,
  pretrainingRecord,
  dataSizeRows,
} from "../../src/course/why-fine-tune/data";
import { modelSizeRows, ADVICE_SIZES } from "../../src/course/why-fine-tune/sizes";
import { defaultModelDir } from "../../src/pipeline/pretrained";
import { projectRoot } from "../../src/tools/notebooks/paths";
import { DISPLAY } from "../../src/display/kernel";

const t = useTinyTask();
const LABELS = ["bad", "good"];
const template = classificationTemplate(LABELS);

test("clipText keeps texts that fit and cuts the rest at a word boundary, within the budget", () => {
  const text = "The apple was lovely and fine, and the sky was awful and broken today.";
  assert.equal(clipText(t.tokenizer, text, 1000), text);
  for (const n of [3, 8, 12]) {
    const c = clipText(t.tokenizer, text, n);
    assert.ok(text.startsWith(c), `"${c}" is a prefix`);
    assert.ok(t.tokenizer.encode(c, { addSpecialTokens: false }).length <= n);
    assert.ok(c === "" || /\s/.test(text[c.length]), "cut before whitespace");
  }
  assert.throws(() => clipText(t.tokenizer, text, 0), /maxTokens must be a positive integer/);
});

test("pickDemonstrations takes the labels in turn, seeded; without labels it samples", () => {
  const recs = classRecords(30);
  const d = pickDemonstrations(recs, 4, { labelField: "label", labels: LABELS, seed: 3 });
  assert.deepEqual(
    d.map((r) => r.label),
    ["bad", "good", "bad", "good"],
  );
  assert.deepEqual(d, pickDemonstrations(recs, 4, { labelField: "label", labels: LABELS, seed: 3 }));
  assert.notDeepEqual(d, pickDemonstrations(recs, 4, { labelField: "label", labels: LABELS, seed: 4 }));
  // one label runs out: the other fills in
  const few = [...recs.filter((r) => r.label === "bad").slice(0, 1), ...recs.filter((r) => r.label === "good")];
  assert.deepEqual(
    pickDemonstrations(few, 3, { labelField: "label", labels: LABELS }).map((r) => r.label),
    ["bad", "good", "good"],
  );
  assert.throws(() => pickDemonstrations(recs.slice(0, 2), 3), /only 2 records to pick 3 from/);
  assert.equal(pickDemonstrations(recs, 5, { seed: 1 }).length, 5);
});

test("fewShotTemplate puts the solved examples before the record's prompt and keeps its completion", () => {
  const demos = classRecords(2);
  const few = fewShotTemplate(template, demos);
  const r = { text: "The cup was lovely.", label: "good" };
  const zero = template.render(r);
  const shot = few.render(r);
  const prefix = demos.map((d) => {
    const x = template.render(d);
    return `${x.prompt}${x.completion}\n\n`;
  });
  assert.equal(shot.prompt, prefix.join("") + zero.prompt);
  assert.equal(shot.completion, zero.completion);
  assert.equal(few.renderPrompt(r), shot.prompt);
  assert.equal(few.name, `2-shot ${template.name}`);
});

const tinyDataset = () => ({
  train: classRecords(24),
  test: classRecords(12).map((r, i) => ({ ...r, text: `${r.text} Number ${i}.` })),
  template,
  info: { labels: LABELS },
});

test("promptingSetup: a seeded, clipped test set and few-shot prompts that fit; a prompt over the context is refused", () => {
  const s = promptingSetup(tinyDataset(), t.tokenizer, 128, { k: 1, testSize: 6, inputTokens: 8, demoTokens: 6 });
  assert.equal(s.test.length, 6);
  assert.equal(s.demonstrations.length, 1);
  for (const r of s.test) assert.ok(t.tokenizer.encode(String(r.text), { addSpecialTokens: false }).length <= 8);
  assert.ok(s.promptTokens.fewShot.mean > s.promptTokens.zeroShot.mean);
  assert.ok(s.promptTokens.fewShot.max + s.options.answerTokens <= 128);
  const again = promptingSetup(tinyDataset(), t.tokenizer, 128, { k: 1, testSize: 6, inputTokens: 8, demoTokens: 6 });
  assert.deepEqual([again.test, again.demonstrations], [s.test, s.demonstrations], "seeded: the same sample twice");
  assert.throws(
    () => promptingSetup(tinyDataset(), t.tokenizer, 40, { k: 4, testSize: 6, inputTokens: 8, demoTokens: 6 }),
    /longest 4-shot prompt has \d+ tokens.*over the model's context of 40: lower k/,
  );
  assert.throws(() => promptingSetup(tinyDataset(), t.tokenizer, 128, { testSize: 0 }), /testSize must be a positive/);
});

test("zero-shot, few-shot and fine-tuned results become rows, a chart and a summary; evaluating leaks no tensors", async () => {
  const s = promptingSetup(tinyDataset(), t.tokenizer, 128, { k: 1, testSize: 6, inputTokens: 8, demoTokens: 6 });
  const opts = { labels: LABELS, maxNewTokens: 3, perplexity: false };
  const before = tf.memory().numTensors;
  const zero = await evaluateModel(t.model, t.tokenizer, s.zeroShot, s.test, opts);
  const few = await evaluateModel(t.model, t.tokenizer, s.fewShot, s.test, opts);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(few.metrics.count, 6);
  assert.ok(few.records.every((r) => r.prompt.length > zero.records[r.index].prompt.length));
  const results: PromptingResult[] = [
    { method: "zero-shot", shots: 0, promptTokens: s.promptTokens.zeroShot.mean, trainedExamples: 0, result: zero },
    { method: "few-shot", shots: 1, promptTokens: s.promptTokens.fewShot.mean, trainedExamples: 0, result: few },
  ];
  const rows = promptingRows(results);
  assert.deepEqual(
    rows.map((r) => r.method),
    ["zero-shot", "few-shot"],
  );
  assert.equal(rows[1]["examples in the prompt"], 1);
  assert.match(rows[0].accuracy, /^\d+\.\d %$/);
  const share = labelledShare(zero);
  assert.ok(share >= 0 && share <= 1);
  const fig = promptingFigure(results, "t");
  assert.equal(fig.data.length, 3);
  assert.deepEqual((fig.data[0] as { y: number[] }).y, [zero.metrics.accuracy, few.metrics.accuracy]);
  const md = promptingSummary(results);
  assert.match(md, /On 6 held-out inputs, always answering "(bad|good)" scores/);
  assert.match(md, /Best here: \*\*(zero-shot|few-shot)\*\*/);
  assert.match(md, /The examples in the prompt (taught|did not teach this model) the answer format/);
  assert.throws(() => promptingSummary([]), /no results/);
});

test("cardRecipe reads the embedded model's spam recipe, and falls back without a card", () => {
  const r = cardRecipe(defaultModelDir(), "spam", { seed: 0, lr: 1 });
  assert.equal(r.config.numSteps, 120);
  assert.equal(r.config.lr, 0.002);
  assert.equal(r.config.seed, 0);
  assert.match(r.source, /model card's recipe/);
  const none = cardRecipe(os.tmpdir(), "spam", { lr: 1e-4, numSteps: 30 });
  assert.deepEqual(none.config, { lr: 1e-4, numSteps: 30 });
  assert.match(none.source, /fallback/);
});

test("the loop figure: every step and tool links to a notebook that exists; a text list as fallback", () => {
  const svg = courseLoopSvg();
  const hrefs = [...svg.matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(hrefs.length, COURSE_LOOP.length + LOOP_TOOLS.length);
  assert.equal((svg.match(/<a /g) ?? []).length, (svg.match(/<\/a>/g) ?? []).length);
  const dir = path.join(projectRoot(), "notebooks");
  for (const h of hrefs) assert.ok(fs.existsSync(path.join(dir, h)), `${h} exists in notebooks/`);
  for (const n of ["01", "02", "03", "04", "05", "06", "07"])
    assert.ok(
      hrefs.some((h) => h.startsWith(`${n}_`)),
      `notebook ${n} is linked`,
    );
  const bundle = (courseLoopFigure() as unknown as Record<symbol, () => Record<string, string>>)[DISPLAY]();
  assert.ok(bundle["text/html"].includes("<svg"));
  assert.match(bundle["text/plain"], /^1\. Define the task .*01_task_definition\.ipynb$/m);
  assert.throws(() => courseLoopSvg(COURSE_LOOP.slice(0, 2)), /at least 3 steps/);
});

test("data samples: excerpts, token counts of passages and pairs, and the size table", () => {
  assert.equal(excerpt("a\nb", 10), "a ⏎ b");
  assert.equal(excerpt("one two three four five", 12), "one two …");
  const passages = [
    { id: "doc/1", text: "The apple was lovely and fine. The sky was awful and broken." },
    { id: "doc/2", text: "The snow was lovely." },
  ];
  const rows = passageRows(t.tokenizer, passages, { n: 1 });
  assert.equal(rows.length, 1);
  assert.equal(rows[0].tokens, t.tokenizer.encode(passages[0].text, { addSpecialTokens: false }).length);
  const recs = classRecords(4);
  const pairs = pairRows(t.tokenizer, template, recs, { n: 2 });
  assert.equal(pairs.length, 2);
  assert.equal(pairs[0].output, recs[0].label);
  const size = fineTuningSize(t.tokenizer, template, recs);
  assert.equal(size.records, 4);
  const eos = t.tokenizer.eosTokenId !== undefined ? 1 : 0;
  const answers = recs.reduce((a, r) => a + t.tokenizer.encode(r.label, { addSpecialTokens: false }).length + eos, 0);
  assert.equal(size.answerTokens, answers);
  assert.ok(size.tokens > size.answerTokens);

  const rec = pretrainingRecord(defaultModelDir());
  const raw = JSON.parse(fs.readFileSync(path.join(defaultModelDir(), "training.json"), "utf8"));
  assert.equal(rec?.tokensSeen, raw.tokensSeen);
  assert.equal(rec?.trainTokens, raw.corpus.trainTokens);
  assert.equal(pretrainingRecord(os.tmpdir()), undefined);
  const table = dataSizeRows(rec, size, "tiny");
  assert.match(table[0].tokens, new RegExp(raw.tokensSeen.toLocaleString("en-US")));
  assert.match(table[1].examples, /^4 records$/);
  const published = dataSizeRows(undefined, size, "tiny", { tokens: "many", source: "a paper" });
  assert.equal(published[0].tokens, "many");
  assert.equal(published[0].source, "a paper");
});

test("model sizes: parameters from the configs, memory from the calculator, the model in hand first", () => {
  const rows = modelSizeRows({ tiny: t.model.config });
  assert.deepEqual(
    rows.map((r) => r.model),
    ["tiny", ...ADVICE_SIZES],
  );
  const p70 = rows.find((r) => r.model === "pythia-70m")!;
  assert.match(p70.parameters, /^70,426,624 /);
  const fitsFull = Object.keys(p70).find((k) => k.startsWith("full fine-tuning fits"))!;
  assert.equal(p70[fitsFull], "yes");
  assert.equal(rows.find((r) => r.model === "pythia-1.4b")![fitsFull], "no");
  const fitsLora = Object.keys(p70).find((k) => k.startsWith("LoRA fits"))!;
  assert.equal(rows.find((r) => r.model === "pythia-1.4b")![fitsLora], "yes");
  // a model already among the advice sizes is listed once, under the caller's name
  assert.equal(modelSizeRows({ "pythia-70m": t.model.config }).length, ADVICE_SIZES.length);
});
