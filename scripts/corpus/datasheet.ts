/** The corpus datasheet (data/corpus/datasheet.md), rendered from the build's own counts. */
import type { ContaminationHit, ContaminationOptions } from "./contamination";
import type { CorpusManifest } from "./pack";
import type { LicenseClass } from "./sources";

export interface SourceStats {
  id: string;
  title: string;
  packages: Record<string, string>;
  license: string;
  licenseClass: LicenseClass;
  why: string;
  cleaning: string;
  rawChars: number;
  /** Characters dropped by `--max-chars` (0 when the source was not capped). */
  cappedChars: number;
  dedupParagraphs: number;
  dedupChars: number;
  contaminatedParagraphs: number;
  trainDocs: number;
  heldOutDocs: number;
  trainChars: number;
  heldOutChars: number;
  trainTokens: number;
  heldOutTokens: number;
}

export interface CorpusStats {
  command: string;
  date: string;
  sources: SourceStats[];
  skipped: { id: string; reason: string }[];
  tokenizer: { vocabSize: number; sampleChars: number; minFrequency: number; charsPerToken: number };
  holdoutEvery: number;
  contamination: {
    options: ContaminationOptions;
    testItems: number;
    splits: Record<string, number>;
    answersChecked: number;
    answersTooShort: number;
    ngrams: number;
    hits: ContaminationHit[];
  };
  manifest: CorpusManifest;
  minutes: number;
}

const n = (x: number) => x.toLocaleString("en-US");
const m = (x: number) => `${(x / 1e6).toFixed(2)}M`;

export function renderDatasheet(s: CorpusStats): string {
  const tot = (k: keyof SourceStats) => s.sources.reduce((a, x) => a + (x[k] as number), 0);
  const rows = s.sources.map(
    (x) =>
      `| \`${x.id}\` | ${Object.entries(x.packages)
        .map(([p, v]) => `\`${p}\` ${v}`)
        .join(
          ", ",
        )} | ${x.licenseClass} | ${n(x.trainDocs)} / ${n(x.heldOutDocs)} | ${m(x.trainChars + x.heldOutChars)} | ${n(x.trainTokens)} | ${n(x.heldOutTokens)} | ${n(x.dedupParagraphs)} | ${n(x.contaminatedParagraphs)} |`,
  );
  const byRule = (r: string) => s.contamination.hits.filter((h) => h.rule === r).length;
  const bySplit = new Map<string, number>();
  for (const h of s.contamination.hits) bySplit.set(h.split, (bySplit.get(h.split) ?? 0) + 1);
  const examples = s.contamination.hits
    .slice(0, 8)
    .map((h) => `- \`${h.source}\` ${h.doc}: ${h.rule} of ${h.split} item \`${h.id}\` — “${h.words}”`);
  const c = s.contamination.options;
  const man = s.manifest;
  return `# The family's pretraining corpus

Built by \`scripts/corpus/build-corpus.ts\` from text that Debian and npm packages ship; this datasheet is written by
that script from its own counts (${s.date}; ${s.minutes} minutes). The corpus text itself is never committed: the
script writes it to \`.tunebook/corpus/\` (git-ignored), and the pre-tokenized copy the GPU script reads to
\`.tunebook/corpus/device/\`. Command: \`${s.command}\`.

## Sources

Tokens are counted with the family's own tokenizer (below), each document followed by one \`<|endoftext|>\`.
Every ${s.holdoutEvery}th document of each source (chosen by a hash of its name, at least one per source) is held out.

| source | package and version | license class | documents train / held out | characters | train tokens | held-out tokens | duplicate paragraphs removed | contaminated paragraphs removed |
|---|---|---|---:|---:|---:|---:|---:|---:|
${rows.join("\n")}
| **all** | | | ${n(tot("trainDocs"))} / ${n(tot("heldOutDocs"))} | ${m(tot("trainChars") + tot("heldOutChars"))} | ${n(tot("trainTokens"))} | ${n(tot("heldOutTokens"))} | ${n(tot("dedupParagraphs"))} | ${n(tot("contaminatedParagraphs"))} |
${s.skipped.length ? `\nLeft out of this build: ${s.skipped.map((k) => `\`${k.id}\` (${k.reason})`).join("; ")}.\n` : ""}
## Licenses: why weights trained on each source may be redistributed

${s.sources.map((x) => `- **${x.title}** (\`${x.id}\`): ${x.license}. ${x.why[0].toUpperCase()}${x.why.slice(1)}.`).join("\n")}

Public-domain and permissive sources place no condition on a model trained on them. The copyleft ones (GPL-2+,
the man-pages licence) govern copies and modified versions of their text; a trained model holds neither, and no
corpus text is distributed. \`--permissive-only\` builds the corpus without them.

## Cleaning

Every source ends with the same normalisation: NFC, tabs to spaces, control characters dropped, trailing spaces
trimmed, at most one blank line between paragraphs.

${s.sources.map((x) => `- \`${x.id}\` (${m(x.rawChars)} characters read): ${x.cleaning}.${x.cappedChars ? ` Capped: ${m(x.cappedChars)} characters left out (\`--max-chars\`).` : ""}`).join("\n")}

**De-duplication:** a paragraph of ≥ 64 characters that already occurred anywhere earlier in the corpus (case and
whitespace ignored) is removed: ${n(tot("dedupParagraphs"))} paragraphs, ${m(tot("dedupChars"))} characters.

## Contamination check

No answer of a course test split may occur in the corpus. Checked against ${n(s.contamination.testItems)} test items
(${Object.entries(s.contamination.splits)
    .map(([k, v]) => `\`data/${k}\` ${n(v)}`)
    .join(", ")}), on normalised words (lower case,
letters and digits only):

1. every answer of ≥ ${c.minAnswerChars} characters and ≥ ${c.minAnswerWords} words (${n(s.contamination.answersChecked)} answers) must not occur
   word for word (longer than ${c.n} words: no ${c.n}-word run of it may occur); ${n(s.contamination.answersTooShort)} shorter answers
   (spam's \`ham\`/\`spam\` labels, short subject lines) are common phrases, not evidence, and are covered by rule 2 only;
2. no ${c.n}-word run of any test input (the e-mail, the header, the question) or answer may occur
   (${n(s.contamination.ngrams)} runs; ${c.n} as in Brown et al. 2020).

A corpus paragraph that breaks either rule is removed before the split. Found and removed: **${n(s.contamination.hits.length)}
paragraphs** (${byRule("answer")} by an answer, ${byRule("n-gram")} by a ${c.n}-word run${bySplit.size ? `; ${[...bySplit].map(([k, v]) => `${k} ${v}`).join(", ")}` : ""}).
${examples.length ? `\n${examples.join("\n")}${s.contamination.hits.length > examples.length ? `\n- … (all of them in \`.tunebook/corpus/contamination.json\`)` : ""}\n` : ""}
## Tokenizer

Byte-level BPE trained by \`trainByteLevelBPE\` (src/tokenizer/train-bpe.ts) on ${m(s.tokenizer.sampleChars)} characters of the training
split (every k-th training document, so each source in proportion to its size); vocabulary ${n(s.tokenizer.vocabSize)}
(\`<|endoftext|>\` = 0, \`<|padding|>\` = 1), minimum pair frequency ${s.tokenizer.minFrequency}; ${s.tokenizer.charsPerToken.toFixed(2)} characters per token on the
whole corpus. Written as a Hugging Face \`tokenizer.json\` (sha256 \`${man.tokenizer.sha256.slice(0, 16)}…\`).

## The pre-tokenized copy for the device

\`.tunebook/corpus/device/\`: \`${man.train.file}\` (${n(man.train.tokens)} tokens, ${(man.train.bytes / 2 ** 20).toFixed(1)} MiB, sha256 \`${man.train.sha256.slice(0, 16)}…\`),
one \`heldout.<source>.u16.gz\` per source (${n(Object.values(man.heldOut).reduce((a, f) => a + f.tokens, 0))} tokens in all), little-endian uint16 ids, gzip;
\`manifest.json\` records every file's token count and sha256, \`family.json\` the model configs, plus the tokenizer.
${(Object.values(man.heldOut).reduce((a, f) => a + f.bytes, man.train.bytes) / 2 ** 20).toFixed(1)} MiB in all.

## Limitations

Old and technical English: a 1611 Bible, a 1913 dictionary, 19th-century prose, speeches from 1790–2018 and
software documentation. Little dialogue, no e-mail, no modern web text. Dictionary and WordNet entries are
list-like text, not prose.
`;
}
