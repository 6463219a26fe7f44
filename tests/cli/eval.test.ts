import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { captureIO, writeJsonlFile, useTinyTask } from "../eval/helpers/tiny-task";
import { run } from "../../src/cli/eval";
import { ERROR_CATEGORIES } from "../../src/eval/errors";

const t = useTinyTask();

test("tunebook eval --json prints the metrics of a QA test file", async () => {
  const io = captureIO();
  const code = await run(
    ["--model", t.modelDir, "--data", t.testFile, "--json", "--limit", "3", "--max-new-tokens", "4", "--examples"],
    io,
  );
  assert.equal(code, 0);
  const r = JSON.parse(io.stdout());
  assert.equal(r.count, 3);
  assert.equal(r.schema, "qa");
  assert.equal(r.template, "qa");
  assert.equal(r.adapter, null);
  for (const k of ["exactMatch", "f1", "perplexity", "evalLoss", "meanNewTokens"])
    assert.equal(typeof r[k], "number", k);
  assert.deepEqual(Object.keys(r.errors), [...ERROR_CATEGORIES]);
  assert.equal(
    Object.values(r.errors as Record<string, number>).reduce((a, b) => a + b, 0),
    3,
  );
  assert.equal(r.examples.length, 3);
  assert.equal(r.examples[0].reference, JSON.parse(fs.readFileSync(t.testFile, "utf8").split("\n")[0]).answer);
  assert.match(io.stderr(), /eval 3\/3/);
});

test("tunebook eval on a classification file reports accuracy and the majority class; text output", async () => {
  const io = captureIO();
  assert.equal(
    await run(["--model", t.modelDir, "--data", t.classFile, "--json", "--max-new-tokens", "2", "--no-perplexity"], io),
    0,
  );
  const r = JSON.parse(io.stdout());
  assert.equal(r.schema, "classification");
  assert.ok(r.accuracy >= 0 && r.accuracy <= 1);
  assert.equal(r.majorityLabel, "good");
  assert.equal(r.perplexity, undefined);
  const text = captureIO();
  assert.equal(
    await run(["--model", t.modelDir, "--data", t.classFile, "--max-new-tokens", "2", "--labels", "bad,good"], text),
    0,
  );
  assert.match(text.stdout(), /^model\s+/m);
  assert.match(text.stdout(), /exact match\s+\d/);
  assert.match(text.stdout(), /accuracy\s+\d+\.\d %/);
  assert.match(text.stdout(), /errors\s+empty \d+, correct \d+/);
});

test("tunebook eval: a bad JSONL line is reported as FILE:LINE; a missing file by name; usage errors", async () => {
  const bad = path.join(t.dir, "bad.jsonl");
  fs.writeFileSync(bad, '{"question":"Q?","answer":"A"}\n{"question":"Q2?"}\n');
  await assert.rejects(run(["--model", t.modelDir, "--data", bad, "--json"], captureIO()), (e: any) =>
    /bad\.jsonl:2: .*"answer"/.test(e.message),
  );
  const notJson = writeJsonlFile(path.join(t.dir, "nj.jsonl"), [{ question: "Q", answer: "A" }]);
  fs.appendFileSync(notJson, "{oops\n");
  await assert.rejects(run(["--model", t.modelDir, "--data", notJson], captureIO()), /nj\.jsonl:2: invalid JSON/);
  await assert.rejects(
    run(["--model", t.modelDir, "--data", path.join(t.dir, "nope.jsonl")], captureIO()),
    /nope\.jsonl: no such file/,
  );
  await assert.rejects(run(["--data", t.testFile], captureIO()), /--model and --data are required/);
  await assert.rejects(
    run(["--model", t.modelDir, "--data", t.testFile, "--template", "poem"], captureIO()),
    /unknown template "poem"/,
  );
  await assert.rejects(
    run(["--model", t.modelDir, "--data", t.testFile, "--template", "classification"], captureIO()),
    /test\.jsonl:1: missing field "text"/,
  );
  await assert.rejects(run(["--model", path.join(t.dir, "no-model"), "--data", t.testFile], captureIO()), /no-model/);
});

test("tunebook eval --adapter fails clearly rather than evaluating the bare model", async () => {
  await assert.rejects(
    run(
      ["--model", t.modelDir, "--adapter", path.join(t.dir, "no-adapter"), "--data", t.testFile, "--limit", "1"],
      captureIO(),
    ),
    /LoRA adapters are not supported yet|no-adapter/,
  );
});
