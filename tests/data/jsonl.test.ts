import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  parseJsonl,
  readJsonl,
  readJsonlSync,
  writeJsonl,
  toJsonl,
  formatIssue,
  JsonlError,
} from "../../src/data/jsonl";
import { makeFifo } from "../helpers/fifo";
import { findDuplicateKey, scanWork } from "../../src/runtime/json-keys";
import { validateRecord, inferSchema } from "../../src/data/schema";

const QA = (q: string, a: string) => JSON.stringify({ question: q, answer: a });
const errorsOf = (r: { issues: { severity: string }[] }) => r.issues.filter((i) => i.severity === "error");

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-jsonl-"));
}

test("a valid file gives every record with its line number", () => {
  const text = [QA("a?", "A."), QA("b?", "B.")].join("\n") + "\n";
  const r = parseJsonl(text, "ok.jsonl", { schema: "qa" });
  assert.equal(r.records.length, 2);
  assert.deepEqual(r.lineNumbers, [1, 2]);
  assert.equal(r.totalLines, 2);
  assert.equal(r.issues.length, 0);
});

test("each kind of bad line names FILE:LINE, the field and what was expected", () => {
  const cases: [string, string, RegExp][] = [
    ["bad JSON", '{"question": "a?", "answer": ', /^f\.jsonl:2: invalid JSON: .*one JSON object per line/],
    ["missing field", JSON.stringify({ question: "a?" }), /^f\.jsonl:2: missing field "answer"/],
    [
      "mistyped field",
      JSON.stringify({ question: "a?", answer: 42 }),
      /^f\.jsonl:2: field "answer": expected a string, found number 42/,
    ],
    [
      "empty answer",
      JSON.stringify({ question: "a?", answer: "  " }),
      /^f\.jsonl:2: field "answer": expected a non-empty string/,
    ],
    ["not an object", "[1, 2]", /^f\.jsonl:2: expected a JSON object/],
    [
      "mistyped metadata",
      JSON.stringify({ question: "a?", answer: "A", id: 1.5 }),
      /^f\.jsonl:2: field "id": expected a string or an integer/,
    ],
    ["BOM inside the file", "\ufeff" + QA("b?", "B."), /^f\.jsonl:2: byte order mark/],
  ];
  for (const [name, line, re] of cases) {
    const text = QA("ok?", "Fine.") + "\n" + line + "\n" + QA("c?", "C.") + "\n";
    // strict: stops at the first error, with file, line and field
    assert.throws(
      () => parseJsonl(text, "f.jsonl", { schema: "qa" }),
      (e: unknown) => {
        assert.ok(e instanceof JsonlError, name);
        assert.equal(e.line, 2, name);
        assert.match(e.message, re, name);
        return true;
      },
    );
    // lenient: keeps lines 1 and 3, reports line 2
    const r = parseJsonl(text, "f.jsonl", { schema: "qa", mode: "lenient" });
    assert.deepEqual(r.lineNumbers, [1, 3], name);
    assert.equal(r.badLines, 1, name);
    assert.equal(errorsOf(r).length >= 1, true, name);
    assert.match(formatIssue(errorsOf(r)[0] as any), re, name);
  }
});

test("a line over the size limit is an error naming its size and the limit", () => {
  const long = QA("q?", "x".repeat(500));
  const r = parseJsonl(QA("a?", "A") + "\n" + long + "\n", "big.jsonl", {
    schema: "qa",
    mode: "lenient",
    maxLineBytes: 200,
  });
  assert.equal(r.records.length, 1);
  const [e] = errorsOf(r) as any[];
  assert.equal(e.line, 2);
  assert.match(formatIssue(e), /^big\.jsonl:2: line is \d+ bytes, over the limit of 200 \(maxLineBytes\)/);
});

test("invalid UTF-8 is an error on its line", () => {
  const bytes = Buffer.concat([Buffer.from(QA("a?", "A") + "\n"), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])]);
  const r = parseJsonl(bytes, "u.jsonl", { schema: "qa", mode: "lenient" });
  assert.equal(r.records.length, 1);
  assert.match(formatIssue(errorsOf(r)[0] as any), /^u\.jsonl:2: not valid UTF-8/);
});

test("lenient mode reports every bad line and drops nothing silently", () => {
  const lines = [
    QA("a?", "A"),
    "nope",
    JSON.stringify({ question: "b?" }),
    QA("c?", "C"),
    JSON.stringify({ question: "d?", answer: "" }),
    QA("e?", "E"),
  ];
  const r = parseJsonl(lines.join("\n"), "m.jsonl", { schema: "qa", mode: "lenient" });
  assert.deepEqual(r.lineNumbers, [1, 4, 6]);
  assert.deepEqual(
    errorsOf(r).map((i: any) => i.line),
    [2, 3, 5],
  );
  assert.equal(r.records.length + r.badLines + r.blankLines, r.totalLines);
});

test("CRLF endings are accepted and normalised; a BOM at the start is ignored with a warning", () => {
  const text = "\ufeff" + QA("a?", "A") + "\r\n" + QA("b?", "B") + "\r\n";
  const r = parseJsonl(text, "w.jsonl", { schema: "qa" });
  assert.equal(r.records.length, 2);
  assert.equal(r.crlfLines, 2);
  assert.equal(r.bom, true);
  assert.deepEqual(r.records[1], { question: "b?", answer: "B" });
  assert.equal(errorsOf(r).length, 0);
  assert.equal(r.issues.filter((i) => i.severity === "warning").length, 1);
  assert.match(formatIssue(r.issues[0]), /^w\.jsonl:1: warning: UTF-8 byte order mark/);
});

test("blank lines are skipped with a warning; unknown fields warn", () => {
  const r = parseJsonl(
    QA("a?", "A") + "\n\n" + JSON.stringify({ question: "b?", answer: "B", anwser: "x" }) + "\n",
    "b.jsonl",
    { schema: "qa" },
  );
  assert.equal(r.records.length, 2);
  assert.equal(r.blankLines, 1);
  const w = r.issues.map(formatIssue);
  assert.ok(w.some((m) => /^b\.jsonl:2: warning: blank line/.test(m)));
  assert.ok(w.some((m) => /^b\.jsonl:3: warning: unknown field "anwser"/.test(m)));
});

test("schemas: instruction (optional input), classification labels, extraction text-or-input", () => {
  assert.equal(validateRecord({ instruction: "Sum", output: "3" }, "instruction").length, 0);
  assert.match(
    validateRecord({ instruction: "Sum", input: 3, output: "3" }, "instruction")[0].message,
    /field "input": expected a string/,
  );
  assert.equal(validateRecord({ text: "buy", label: "spam" }, "classification", { labels: ["ham", "spam"] }).length, 0);
  const [bad] = validateRecord({ text: "buy", label: "eggs" }, "classification", { labels: ["ham", "spam"] });
  assert.equal(bad.field, "label");
  assert.match(bad.message, /expected one of "ham", "spam", found "eggs"/);
  assert.equal(validateRecord({ input: "Subject: x", answer: "x" }, "extraction").length, 0);
  assert.match(validateRecord({ answer: "x" }, "extraction")[0].message, /missing field "text" or "input"/);
  assert.equal(inferSchema({ question: "q", answer: "a" }), "qa");
  assert.equal(inferSchema({ text: "t", label: "l" }), "classification");
  assert.equal(inferSchema({ text: "t", answer: "a" }), "extraction");
  assert.equal(inferSchema({ instruction: "i", output: "o" }), "instruction");
  const r = parseJsonl(JSON.stringify({ text: "t", label: "l" }) + "\n", "x.jsonl", { schema: "auto" });
  assert.equal(r.schema, "classification");
});

test("writeJsonl is atomic: it validates first, leaves no temp file, and never half-writes", async () => {
  const dir = tmpDir();
  const file = path.join(dir, "out.jsonl");
  const recs = [
    { question: "a?", answer: "A\nwith a newline" },
    { question: "b?", answer: "B" },
  ];
  writeJsonl(file, recs, { schema: "qa" });
  assert.deepEqual(fs.readdirSync(dir), ["out.jsonl"]);
  const back = await readJsonl(file, { schema: "qa" });
  assert.deepEqual(back.records, recs);
  // a bad record: nothing is written, the old file stays intact
  const before = fs.readFileSync(file, "utf8");
  assert.throws(
    () => writeJsonl(file, [{ question: "c?", answer: "C" }, { question: "d?" }], { schema: "qa" }),
    /out\.jsonl:2: missing field "answer"/,
  );
  assert.equal(fs.readFileSync(file, "utf8"), before);
  assert.deepEqual(fs.readdirSync(dir), ["out.jsonl"]);
  assert.equal(toJsonl([]), "");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a missing file is a clear error naming it", async () => {
  await assert.rejects(readJsonl("/nonexistent/x.jsonl"), /\/nonexistent\/x\.jsonl: cannot read the file \(ENOENT\)/);
});

test("a key that appears twice in a record is an error naming FILE:LINE and the key, at any depth", async () => {
  const text =
    [
      QA("a?", "A."),
      '{"question": "b?", "answer": "B.", "answer": "C."}',
      '{"question": "c?", "answer": "C.", "meta": {"src": "x", "src": "y"}}',
      QA("d?", "D."),
    ].join("\n") + "\n";
  assert.throws(
    () => parseJsonl(text, "dup.jsonl", { schema: "qa" }),
    (e: unknown) => {
      assert.ok(e instanceof JsonlError);
      assert.equal(
        formatIssue(e.issues[0]),
        'dup.jsonl:2: duplicate key "answer": each field must appear once (JSON would keep only the last value)',
      );
      assert.equal(e.field, "answer");
      return true;
    },
  );
  const r = parseJsonl(text, "dup.jsonl", { schema: "qa", mode: "lenient" });
  assert.deepEqual(r.lineNumbers, [1, 4]);
  assert.equal(r.badLines, 2);
  assert.deepEqual(
    errorsOf(r).map((i) => formatIssue(i as any)),
    [
      'dup.jsonl:2: duplicate key "answer": each field must appear once (JSON would keep only the last value)',
      'dup.jsonl:3: duplicate key "src" in meta: each field must appear once (JSON would keep only the last value)',
    ],
  );
  // the same key in two records, or inside two different objects, is fine
  assert.equal(
    parseJsonl('{"question":"a?","answer":"A","m":{"k":1},"n":{"k":1}}\n' + QA("a?", "A"), "ok.jsonl", { schema: "qa" })
      .records.length,
    2,
  );
});

test("the duplicate-key check keeps reading fast: its work over 20,000 records is linear in the text", () => {
  const line = JSON.stringify({
    question: "What does the flag --max-new-tokens do? ".repeat(4),
    answer: "It caps the new tokens. ".repeat(10),
    id: "x",
    meta: { a: [1, 2, 3], b: "z" },
  });
  const text = Array.from({ length: 20_000 }, () => line).join("\n");
  // work counted, not timed (speed under load is the bench's business): every character looked at about once
  const before = scanWork.chars;
  const r = parseJsonl(text, "big.jsonl");
  assert.equal(r.records.length, 20_000);
  const work = scanWork.chars - before;
  assert.ok(work >= text.length - 20_000 && work <= 2 * text.length, `${work} characters looked at for ${text.length}`);
  // the worst cases for a scanner: long runs of backslashes before quotes, many keys, deep nesting
  for (const hard of [
    JSON.stringify({ a: `${"\\".repeat(5000)}"`.repeat(20), b: '\\"'.repeat(20000) }),
    JSON.stringify(Object.fromEntries(Array.from({ length: 20000 }, (_, i) => [`k${i}`, i]))),
    `${'{"a":['.repeat(5000)}1${"]}".repeat(5000)}`,
  ]) {
    const at = scanWork.chars;
    assert.equal(findDuplicateKey(hard), undefined);
    assert.ok(scanWork.chars - at <= 3 * hard.length, `${scanWork.chars - at} characters looked at for ${hard.length}`);
  }
});

test("a data file that is a FIFO or a folder is refused at once, naming it (a FIFO would block the read)", async () => {
  const dir = tmpDir();
  const fifo = makeFifo(path.join(dir, "train.jsonl"));
  try {
    await assert.rejects(
      readJsonl(fifo.path),
      (e: unknown) =>
        e instanceof JsonlError &&
        e.message === `${fifo.path}: is a FIFO (named pipe), not a regular file (expected a JSONL data file)`,
    );
    assert.throws(() => readJsonlSync(fifo.path), /train\.jsonl: is a FIFO \(named pipe\), not a regular file/);
    await assert.rejects(
      readJsonl(dir),
      (e: unknown) =>
        e instanceof JsonlError && e.message === `${dir}: is a folder, not a regular file (expected a JSONL data file)`,
    );
    assert.ok(!fifo.wasOpened(), "refused at once, without opening the FIFO");
  } finally {
    fifo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
