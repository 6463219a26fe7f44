// `tunebook datagen` steps on real files: expand (pairs and markdown), dedup and filter with reports, model
// through an OpenAI-compatible server on 127.0.0.1, and clear usage errors.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "../../src/cli/datagen";
import { startOpenAIServer } from "../helpers/openai-server";

const readLines = (f: string) =>
  fs
    .readFileSync(f, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "datagen-"));
}

test("expand, dedup and filter on JSONL files; reports list every removed item with its reason", async () => {
  const d = tmp();
  try {
    const seeds = path.join(d, "seeds.jsonl");
    fs.writeFileSync(
      seeds,
      [
        { id: "a", question: "What is a tensor?", answer: "An array with a shape." },
        { id: "b", question: "How do I install the package?", answer: "Run npm install." },
      ]
        .map((x) => JSON.stringify(x))
        .join("\n") + "\n",
    );
    const doc = path.join(d, "doc.md");
    fs.writeFileSync(
      doc,
      "# Widget\n\nThe widget is a small tool that counts words in a document. It reads plain text and markdown files.\n",
    );
    const log = console.log;
    const lines: string[] = [];
    console.log = (s: string) => lines.push(s);
    try {
      assert.equal(
        await run(["expand", seeds, doc, "--out", path.join(d, "exp.jsonl"), "--per-item", "2", "--seed", "1"]),
        0,
      );
      const exp = readLines(path.join(d, "exp.jsonl"));
      assert.equal(exp.filter((p) => p.provenance.template.startsWith("para.")).length, 4);
      assert.ok(exp.some((p) => p.provenance.sourceId.startsWith(doc)));
      // dedup: the seeds plus a case-variant copy of one
      const dupIn = path.join(d, "dup.jsonl");
      fs.writeFileSync(
        dupIn,
        fs.readFileSync(seeds, "utf8") + JSON.stringify({ question: "what is a TENSOR", answer: "x y" }) + "\n",
      );
      assert.equal(
        await run(["dedup", dupIn, "--out", path.join(d, "dd.jsonl"), "--report", path.join(d, "dd-report.jsonl")]),
        0,
      );
      assert.equal(readLines(path.join(d, "dd.jsonl")).length, 2);
      assert.deepEqual(
        readLines(path.join(d, "dd-report.jsonl")).map((r) => [r.index, r.reason, r.duplicateOf]),
        [[2, "exact-duplicate", 0]],
      );
      // filter: an answer copying its question
      const fIn = path.join(d, "f.jsonl");
      fs.writeFileSync(
        fIn,
        fs.readFileSync(seeds, "utf8") +
          JSON.stringify({ question: "What is an epoch?", answer: "What is an epoch?" }) +
          "\n",
      );
      assert.equal(
        await run(["filter", fIn, "--out", path.join(d, "ff.jsonl"), "--report", path.join(d, "ff-report.jsonl")]),
        0,
      );
      assert.equal(readLines(path.join(d, "ff.jsonl")).length, 2);
      assert.deepEqual(
        readLines(path.join(d, "ff-report.jsonl")).map((r) => r.reason),
        ["answer-copies-question"],
      );
    } finally {
      console.log = log;
    }
    assert.match(lines.join("\n"), /dedup: input 3, exact 1, near 0, kept 2/);
    assert.match(lines.join("\n"), /filter: kept 2,.*answer-copies-question 1/);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test("model step through an OpenAI-compatible endpoint named by the environment", async () => {
  const d = tmp();
  const s = await startOpenAIServer();
  const saved = { base: process.env.OPENAI_BASE_URL, model: process.env.OPENAI_MODEL };
  try {
    process.env.OPENAI_BASE_URL = s.baseUrl;
    process.env.OPENAI_MODEL = "test-model";
    const q = path.join(d, "q.jsonl");
    fs.writeFileSync(q, JSON.stringify({ id: "q1", question: "What is a tensor?", answer: "An array." }) + "\n");
    const log = console.log;
    console.log = () => {};
    try {
      assert.equal(
        await run([
          "model",
          q,
          "--generator",
          "openai",
          "--out",
          path.join(d, "m.jsonl"),
          "--temperature",
          "0.5",
          "--seed",
          "3",
        ]),
        0,
      );
    } finally {
      console.log = log;
    }
    const [p] = readLines(path.join(d, "m.jsonl"));
    assert.equal(p.question, "What is a tensor?");
    assert.match(p.answer, /^echo: ### Question:\nWhat is a tensor\?/);
    assert.deepEqual(
      [p.provenance.generator, p.provenance.temperature, p.provenance.seed],
      [`openai:${s.baseUrl}/test-model`, 0.5, 3],
    );
  } finally {
    if (saved.base === undefined) delete process.env.OPENAI_BASE_URL;
    else process.env.OPENAI_BASE_URL = saved.base;
    if (saved.model === undefined) delete process.env.OPENAI_MODEL;
    else process.env.OPENAI_MODEL = saved.model;
    await s.close();
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test("usage errors name the problem", async () => {
  await assert.rejects(run(["dedup", "x.jsonl"]), /--out is required/);
  await assert.rejects(
    run(["dedup", "/no/such.jsonl", "--out", "/tmp/x.jsonl"]),
    /input \/no\/such.jsonl does not exist/,
  );
  await assert.rejects(run(["shuffle", __filename, "--out", "/tmp/x.jsonl"]), /unknown step "shuffle"/);
  const saved = process.env.OPENAI_BASE_URL;
  delete process.env.OPENAI_BASE_URL;
  try {
    await assert.rejects(
      run(["model", __filename, "--generator", "openai", "--out", "/tmp/x.jsonl"]),
      /needs OPENAI_BASE_URL/,
    );
  } finally {
    if (saved !== undefined) process.env.OPENAI_BASE_URL = saved;
  }
});
