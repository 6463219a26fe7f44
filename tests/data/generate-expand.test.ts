// Template expansion: paraphrases keep the answer and record provenance; deterministic per seed and stable
// when other items are added; section question types read their answers from the section; markdown sections.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  expandPairs,
  questionsFromSections,
  PARAPHRASE_TEMPLATES,
  QUESTION_TYPES,
} from "../../src/data/generate/expand";
import { sectionsFromMarkdown, splitSentences } from "../../src/data/generate/text";
import { Rng } from "../../src/runtime/seed";

const seeds = [
  { id: "s1", question: "What is a learning rate?", answer: "The size of each optimizer step." },
  { id: "s2", question: "How do I install the package?", answer: "Run npm install tunebook." },
  { id: "s3", question: "Why does training diverge?", answer: "Usually the learning rate is too high." },
];

test("paraphrases: new questions, same answers, provenance recorded, at most perItem each", () => {
  const out = expandPairs(seeds, { perItem: 3, seed: 5 });
  assert.equal(out.length, 9);
  for (const p of out) {
    const src = seeds.find((s) => s.id === p.provenance.sourceId)!;
    assert.ok(src, `unknown source ${JSON.stringify(p.provenance)}`);
    assert.equal(p.answer, src.answer);
    assert.notEqual(p.question, src.question);
    assert.equal(p.provenance.method, "template");
    if (p.provenance.method === "template") {
      assert.equal(p.provenance.seed, 5);
      assert.ok(PARAPHRASE_TEMPLATES.some((t) => t.id === (p.provenance as any).template));
    }
  }
  const ids = out.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "ids are unique");
});

test("question-form rewrites are grammatical for their forms and skipped when they do not fit", () => {
  const get = (id: string) => PARAPHRASE_TEMPLATES.find((t) => t.id === id)!;
  const rng = new Rng(0);
  assert.equal(
    get("para.what-is.explain").apply("What is a learning rate?", rng),
    "Can you explain what a learning rate is?",
  );
  assert.equal(
    get("para.how-do-i.steps").apply("How do I install the package?", rng),
    "What are the steps to install the package?",
  );
  assert.equal(
    get("para.why.reason").apply("Why does training diverge?", rng),
    "For what reason does training diverge?",
  );
  assert.equal(get("para.what-is.explain").apply("How do I install it?", rng), null);
  const typo = get("para.noisy.typo").apply("How do I install the package?", rng)!;
  assert.notEqual(typo, "How do I install the package?");
  assert.equal(
    [...typo].sort().join(""),
    [..."How do I install the package?"].sort().join(""),
    "a typo swaps letters, adds none",
  );
});

test("deterministic: same seed same output; another seed differs; adding items does not change the others", () => {
  const a = expandPairs(seeds, { seed: 1 });
  assert.deepEqual(expandPairs(seeds, { seed: 1 }), a);
  const b = expandPairs(seeds, { seed: 2 });
  assert.notDeepEqual(
    b.map((p) => p.question),
    a.map((p) => p.question),
  );
  const more = expandPairs(
    [...seeds, { id: "s4", question: "Can I use a GPU?", answer: "Yes, with the WebGPU backend." }],
    { seed: 1 },
  );
  assert.deepEqual(
    more.filter((p) => p.provenance.sourceId !== "s4"),
    a,
  );
  assert.throws(
    () => expandPairs(seeds, { templates: ["para.nope"] }),
    /unknown paraphrase template "para.nope" \(known: /,
  );
  assert.throws(() => expandPairs([{ question: 1 } as any]), /seed 0 needs string fields question and answer/);
});

const MD = `# Widget

The widget is a small tool that counts words in a document. It reads plain text and markdown.

## Installation

Install it with npm and then import it. You need Node 20 or later for the install to work.

\`\`\`bash
npm install widget
\`\`\`

## Options

The options object controls the counting:

- \`minLength\`: shortest word counted
- \`ignoreCase\`: fold case before counting
  so that "A" and "a" are one word
- \`stopWords\`: words never counted

| a | b |
|---|---|
| 1 | 2 |

## Tiny

Too short.
`;

test("markdown sections: headings split, code and tables removed, lists kept, short sections skipped", () => {
  const secs = sectionsFromMarkdown(MD, "widget", { minChars: 40 });
  assert.deepEqual(
    secs.map((s) => [s.id, s.title]),
    [
      ["widget#0-widget", "Widget"],
      ["widget#1-installation", "Installation"],
      ["widget#2-options", "Options"],
    ],
  );
  assert.ok(!secs[1].text.includes("npm install widget"), "fenced code removed");
  assert.ok(!secs[2].text.includes("|"), "tables removed");
  assert.deepEqual(
    secs[2].text.split("\n").filter((l) => l.startsWith("- ")),
    [
      "- minLength: shortest word counted",
      '- ignoreCase: fold case before counting so that "A" and "a" are one word',
      "- stopWords: words never counted",
    ],
  );
  assert.deepEqual(splitSentences("Install it first. Then run npm test, e.g. in CI. Done!"), [
    "Install it first.",
    "Then run npm test, e.g. in CI.",
    "Done!",
  ]);
});

test("section question types: answers are read from the section text", () => {
  const secs = sectionsFromMarkdown(MD, "widget", { minChars: 40 });
  const pairs = questionsFromSections(secs, { perItem: 5, seed: 0 });
  const by = (t: string) => pairs.filter((p) => (p.provenance as any).template === t);
  assert.deepEqual(
    by("section.define").map((p) => [p.question, p.answer]),
    [["What is the widget?", "The widget is a small tool that counts words in a document."]],
  );
  assert.deepEqual(
    by("section.list").map((p) => p.answer),
    [
      'minLength: shortest word counted; ignoreCase: fold case before counting so that "A" and "a" are one word; stopWords: words never counted.',
    ],
  );
  for (const p of by("section.continue")) {
    const m = /continue: "(.*) \.\.\."\?$/.exec(p.question)!;
    assert.ok(m, p.question);
    assert.ok(
      p.context!.replace(/\n/g, " ").includes(`${m[1]} ${p.answer}`),
      `"${m[1]}" + "${p.answer}" is not in the section`,
    );
  }
  for (const p of by("section.which")) assert.equal(p.answer, secs.find((s) => s.id === p.provenance.sourceId)!.title);
  for (const p of pairs) {
    assert.equal(p.context, secs.find((s) => s.id === p.provenance.sourceId)!.text);
    assert.ok(QUESTION_TYPES.some((t) => t.id === (p.provenance as any).template));
  }
  assert.ok(by("section.about").length >= 2);
  assert.deepEqual(questionsFromSections(secs, { perItem: 5, seed: 0 }), pairs);
  assert.ok(questionsFromSections(secs, { perItem: 1 }).length <= secs.length);
});

test("splitByGroup keeps a seed and its paraphrases on one side; sourceGroup reads provenance", async () => {
  const { splitByGroup, sourceGroup } = await import("../../src/data/generate/group-split");
  const many = Array.from({ length: 40 }, (_, i) => ({
    id: `s${i}`,
    question: `What is item number ${i}?`,
    answer: `It is item ${i}.`,
  }));
  const all = [...many, ...expandPairs(many, { perItem: 3, seed: 0 })];
  const { train, test, testGroups } = splitByGroup(all, { testFraction: 0.2, seed: 1 });
  assert.equal(train.length + test.length, all.length);
  const side = new Map<string, string>();
  for (const [name, part] of [
    ["train", train],
    ["test", test],
  ] as const) {
    for (const p of part) {
      const g = sourceGroup(p);
      assert.ok(!side.has(g) || side.get(g) === name, `group ${g} is on both sides`);
      side.set(g, name);
    }
  }
  assert.ok(
    test.length >= Math.round(all.length * 0.2) && test.length < Math.round(all.length * 0.2) + 4,
    `test has ${test.length}`,
  );
  assert.equal(new Set(test.map(sourceGroup)).size, testGroups.length);
  assert.deepEqual(splitByGroup(all, { testFraction: 0.2, seed: 1 }).test, test, "deterministic");
  assert.equal(sourceGroup({ id: "gen~x~1", provenance: { method: "model", sourceId: "a,b" } }), "gen~x~1");
  assert.equal(sourceGroup({ id: "q~local:default~0", provenance: { method: "model", sourceId: "q" } }), "q");
  assert.throws(() => sourceGroup({}), /neither a provenance.sourceId nor an id/);
});

test("markdown sections drop tables without outer pipes and HTML comments, and decode entities", () => {
  const md =
    "# Units\n\nThe unit &mu; and the dot &#183; are written as entities in this page of the docs.\n\nBase | Unit\n---- | ----\nLength | meter (m)\n\n<!-- a hidden\nnote -->\nMore prose follows the table here.\n";
  const [s] = sectionsFromMarkdown(md, "u", { minChars: 10 });
  assert.ok(!s.text.includes("|") && !s.text.includes("meter"), s.text);
  assert.ok(!s.text.includes("hidden"), s.text);
  assert.ok(s.text.includes("the dot \u00b7 are"), s.text);
  assert.ok(s.text.includes("More prose follows"), s.text);
});
