import { test } from "node:test";
import * as assert from "node:assert/strict";
import { parseEmail, header, decodeEncodedWords, htmlToText, truncateWords } from "../../src/data/email";
import { spamClassification, subjectExtraction, type CorpusEmail } from "../../src/data/corpora/spam";
import { parseMarkdown, firstSentences } from "../../src/data/corpora/markdown-sections";
import { docsQA } from "../../src/data/corpora/docs-qa";

const MULTIPART = [
  "From someone@example.com  Thu Aug 22 12:00:00 2002",
  "From: =?iso-8859-1?Q?Ren=E9?= <rene@example.com>",
  "To: list@example.com",
  "Subject: Weekly",
  "  report",
  'Content-Type: multipart/alternative; boundary="XYZ"',
  "",
  "--XYZ",
  "Content-Type: text/html; charset=utf-8",
  "",
  "<html><body><p>HTML&nbsp;version</p></body></html>",
  "--XYZ",
  "Content-Type: text/plain; charset=iso-8859-1",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Caf=E9 at noon,=",
  " see you.",
  "--XYZ--",
].join("\r\n");

test("parseEmail: unfolded and decoded headers, text/plain part preferred, quoted-printable + charset", () => {
  const e = parseEmail(MULTIPART);
  assert.equal(header(e, "subject"), "Weekly report");
  assert.equal(header(e, "FROM"), "René <rene@example.com>");
  assert.equal(e.bodyType, "text/plain");
  assert.equal(e.body, "Café at noon, see you.");
});

test("base64 bodies, HTML-only mail, encoded words, word truncation", () => {
  const b64 = Buffer.from("Hello wörld", "utf8").toString("base64");
  const e = parseEmail(
    `Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${b64}\n`,
  );
  assert.equal(e.body, "Hello wörld");
  const h = parseEmail(
    "Subject: y\nContent-Type: text/html\n\n<html><style>p{}</style><p>Win&#33; <a href=x>now</a></p>",
  );
  assert.equal(h.body, "Win! now");
  assert.equal(decodeEncodedWords("=?utf-8?B?w6lt?= =?utf-8?Q?ail?="), "émail");
  assert.equal(htmlToText("<p>a</p><p>b &amp; c</p>"), "a\nb & c");
  assert.equal(truncateWords("one two three", 9), "one two");
  assert.equal(truncateWords("short", 9), "short");
});

const corpus: CorpusEmail[] = [
  {
    id: "1",
    group: "easy-ham-1",
    text: "From: a@x\nTo: b@x\nSubject: Lunch today?\nDate: Mon\n\nShall we get lunch at noon today, at the usual place?",
  },
  {
    id: "2",
    group: "easy-ham-1",
    text: "From: c@x\nSubject: Re: Lunch today?\n\nYes, see you at the usual place at twelve o'clock.",
  },
  {
    id: "3",
    group: "spam-1",
    text: "From: s@y\nSubject: WIN $$$\n\nClick here to claim your free prize money right now!!!",
  },
  {
    id: "4",
    group: "spam-2",
    text: "From: s@y\nSubject: WIN $$$\n\nClick here to claim your free prize money right now!!!",
  },
  { id: "5", group: "easy-ham-2", text: "From: d@x\nSubject: empty\n\n" },
  {
    id: "6",
    group: "hard-ham-1",
    text: "From: e@x\nSubject: lunch today?\n\nNewsletter: our lunch menu for this week is online now.",
  },
];

test("spamClassification: drops empties and duplicates, balances, labels by group, records provenance", () => {
  const { records, counts } = spamClassification(corpus, { seed: 1 });
  assert.equal(counts.emptyBody, 1);
  assert.equal(counts.duplicate, 1);
  assert.equal(records.filter((r) => r.label === "spam").length, 1);
  assert.equal(records.filter((r) => r.label === "ham").length, 1);
  assert.equal(counts.hamSampledOut, 2);
  for (const r of records) {
    assert.match(r.text, /^Subject: /);
    assert.equal(r.label, r.provenance.group.startsWith("spam") ? "spam" : "ham");
  }
  const all = spamClassification(corpus, { balance: false });
  assert.equal(all.records.length, 4);
  assert.ok(spamClassification(corpus, { maxChars: 30, balance: false }).records.every((r) => r.text.length <= 30));
});

test("subjectExtraction: the answer is in the input verbatim, one e-mail per subject", () => {
  const { records, counts } = subjectExtraction(corpus);
  for (const r of records) assert.ok(r.text.includes(`Subject: ${r.answer}`), r.id);
  assert.deepEqual(
    records.map((r) => r.answer),
    ["Lunch today?", "Re: Lunch today?", "WIN $$$", "empty"],
  );
  assert.equal(counts.duplicateSubject, 2); // "WIN $$$" again, "lunch today?" (case-insensitive)
  assert.equal(records[0].text, "From: a@x\nTo: b@x\nSubject: Lunch today?\nDate: Mon");
});

const SQRT_MD = `<!-- generated -->

# Function sqrt

Calculate the square root of a value.

For matrices, the function is evaluated element wise.


## Syntax

\`\`\`js
math.sqrt(x)
\`\`\`

### Parameters

Parameter | Type | Description
--------- | ---- | -----------
\`x\` | number &#124; BigNumber |  Value for which to calculate the square root.

### Returns

Type | Description
---- | -----------
number &#124; BigNumber |  Returns the square root of \`x\`


## Examples

\`\`\`js
math.sqrt(25)                // returns 5
math.square(5)               // returns 25
\`\`\`


## See also

[square](square.md),
[cbrt](cbrt.md)
`;

test("markdown sections and first sentences", () => {
  const secs = parseMarkdown(SQRT_MD);
  assert.deepEqual(
    secs.map((s) => s.title),
    ["Function sqrt", "Syntax", "Parameters", "Returns", "Examples", "See also"],
  );
  assert.deepEqual(secs[2].tables[0], [
    ["Parameter", "Type", "Description"],
    ["`x`", "number | BigNumber", "Value for which to calculate the square root."],
  ]);
  assert.equal(firstSentences("It adds. It also subtracts. And more.", 2), "It adds. It also subtracts.");
  assert.equal(firstSentences("Use e.g. this. Then 1.5 more.", 1), "Use e.g. this.");
});

test("docsQA: one pair per rule from a reference page, with provenance", () => {
  const pairs = docsQA([{ path: "functions/sqrt.md", text: SQRT_MD }]);
  const by = Object.fromEntries(pairs.map((p) => [p.provenance.rule, p]));
  assert.deepEqual(Object.keys(by).sort(), [
    "describe",
    "example",
    "parameter",
    "parameters",
    "returns",
    "see-also",
    "syntax",
  ]);
  assert.equal(by.describe.question, "What does the mathjs function `sqrt` do?");
  assert.equal(
    by.describe.answer,
    "Calculate the square root of a value. For matrices, the function is evaluated element wise.",
  );
  assert.equal(by.syntax.answer, "Call it as `math.sqrt(x)`.");
  assert.equal(by.example.answer, "`math.sqrt(25)` returns 5."); // math.square(5) belongs to another function
  assert.equal(pairs.filter((p) => p.provenance.rule === "example").length, 1);
  assert.equal(by["see-also"].answer, "The docs of `sqrt` point to `square` and `cbrt`.");
  assert.equal(by.returns.answer, "It returns a number | BigNumber: Returns the square root of `x`.");
  assert.deepEqual(by.describe.provenance, { file: "functions/sqrt.md", section: "Function sqrt", rule: "describe" });
  assert.deepEqual(
    pairs.map((p) => p.id),
    pairs.map((_, i) => `docs-qa-${String(i + 1).padStart(5, "0")}`),
  );
});
