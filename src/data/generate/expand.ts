/**
 * Template expansion: more pairs from the ones you have, without a model.
 *
 * - **Paraphrase templates** rewrite a seed pair's question (the answer stays): question-form rewrites
 *   ("What is X?" → "Can you explain what X is?"), wrappers real users type ("Quick question: ..."), and
 *   noisy variants (lower case without punctuation, one typo). A rewrite that does not fit a question is
 *   skipped, never forced.
 * - **Question types** turn one document section into pairs whose answers are read from the section: what it
 *   says about its topic, a definition, the points of a list, how a sentence continues, which section a
 *   sentence is from.
 *
 * Deterministic: the random choices for an item come from `hash(seed, item id)`, so an item's expansions do not
 * change when other items are added. Every pair records `{method: "template", template, seed, sourceId}`.
 */
import { Rng } from "../../runtime/seed";
import { hashString, splitSentences } from "./text";
import type { QAPair, Section } from "./types";

/** A question rewrite: the new question, or null when it does not apply to this question. */
export interface ParaphraseTemplate {
  id: string;
  apply(question: string, rng: Rng): string | null;
}

/** A question type over a section: zero or more (question, answer) pairs. */
export interface QuestionType {
  id: string;
  apply(section: Section, rng: Rng): { question: string; answer: string }[];
}

const stripQ = (q: string) => q.trim().replace(/[?.!\s]+$/, "");
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const form = (re: RegExp, make: (m: RegExpExecArray) => string) => (q: string) => {
  const m = re.exec(q.trim());
  return m ? make(m) : null;
};

/** The paraphrase templates, in a fixed order (ids are recorded in provenance). */
export const PARAPHRASE_TEMPLATES: readonly ParaphraseTemplate[] = [
  {
    id: "para.what-is.explain",
    apply: form(/^what (is|are) (.+?)\??$/i, (m) => `Can you explain what ${m[2]} ${m[1].toLowerCase()}?`),
  },
  {
    id: "para.what-is.meaning",
    apply: form(/^what (is|are) (an? |the )?(.+?)\??$/i, (m) => `What does ${m[2] ?? ""}${m[3]} mean?`),
  },
  {
    id: "para.how-do-i.steps",
    apply: form(/^how (?:do|can|should) (i|you|we) (.+?)\??$/i, (m) => `What are the steps to ${m[2]}?`),
  },
  {
    id: "para.how-do-i.way",
    apply: form(/^how (?:do|can|should) (i|you|we) (.+?)\??$/i, (m) => `What is the right way to ${m[2]}?`),
  },
  { id: "para.what-does.purpose", apply: form(/^what does (.+?) do\??$/i, (m) => `What is the purpose of ${m[1]}?`) },
  {
    id: "para.why.reason",
    apply: form(
      /^why (does|do|is|are|should|would|can) (.+?)\??$/i,
      (m) => `For what reason ${m[1].toLowerCase()} ${m[2]}?`,
    ),
  },
  { id: "para.can-i.possible", apply: form(/^can (i|you|we) (.+?)\??$/i, (m) => `Is it possible to ${m[2]}?`) },
  { id: "para.wrap.quick", apply: (q) => `Quick question: ${q.trim()}` },
  { id: "para.wrap.like-to-know", apply: (q) => `I would like to know: ${q.trim()}` },
  { id: "para.wrap.docs", apply: (q) => `${q.trim()} I could not find it in the docs.` },
  { id: "para.noisy.lowercase", apply: (q) => (stripQ(q).toLowerCase() === q.trim() ? null : stripQ(q).toLowerCase()) },
  {
    id: "para.noisy.typo",
    apply: (q, rng) => {
      // swap two adjacent letters inside one word of 5+ letters (a typo a person would make)
      const words = [...q.matchAll(/\p{L}{5,}/gu)];
      if (!words.length) return null;
      const w = words[rng.int(words.length)];
      const i = 1 + rng.int(w[0].length - 3);
      const typo = w[0].slice(0, i) + w[0][i + 1] + w[0][i] + w[0].slice(i + 2);
      return typo === w[0] ? null : q.slice(0, w.index!) + typo + q.slice(w.index! + w[0].length);
    },
  },
];

const words = (s: string) => s.split(/\s+/).filter(Boolean);
const proseSentences = (text: string) =>
  text
    .split("\n")
    .filter((l) => !l.startsWith("- "))
    .flatMap(splitSentences);

/** The question types over a document section, in a fixed order. */
export const QUESTION_TYPES: readonly QuestionType[] = [
  {
    id: "section.about",
    apply: (s) => {
      const sent = proseSentences(s.text)
        .filter((x) => words(x).length >= 3)
        .slice(0, 2)
        .join(" ");
      return s.title && words(sent).length >= 6
        ? [{ question: `What does the section "${s.title}" say?`, answer: sent }]
        : [];
    },
  },
  {
    id: "section.define",
    apply: (s) => {
      const first = proseSentences(s.text)[0] ?? "";
      const m = /^(The |An? )?([A-Za-z][\w.\-@/ ]{1,40}?) (is|are) (an?|the|one) \S/.exec(first);
      return m && words(first).length >= 6
        ? [{ question: `What ${m[3]} ${(m[1] ?? "").toLowerCase()}${m[2]}?`, answer: first }]
        : [];
    },
  },
  {
    id: "section.list",
    apply: (s) => {
      const items = s.text
        .split("\n")
        .filter((l) => l.startsWith("- "))
        .map((l) => l.slice(2).replace(/[.;:,\s]+$/, ""));
      if (!s.title || items.length < 2 || items.length > 12) return [];
      return [{ question: `Which points are listed under "${s.title}"?`, answer: items.join("; ") + "." }];
    },
  },
  {
    id: "section.continue",
    apply: (s, rng) => {
      const long = proseSentences(s.text).filter((x) => words(x).length >= 10 && words(x).length <= 60);
      if (!long.length) return [];
      const sent = words(long[rng.int(long.length)]);
      const cut = Math.floor(sent.length / 2);
      const where = s.title ? ` in the section "${s.title}"` : "";
      return [
        {
          question: `How does this sentence${where} continue: "${sent.slice(0, cut).join(" ")} ..."?`,
          answer: sent.slice(cut).join(" "),
        },
      ];
    },
  },
  {
    id: "section.which",
    apply: (s, rng) => {
      const sents = proseSentences(s.text).filter((x) => words(x).length >= 8 && words(x).length <= 60);
      if (!s.title || !sents.length) return [];
      return [
        { question: `Which section of the documentation says: "${sents[rng.int(sents.length)]}"?`, answer: s.title },
      ];
    },
  },
];

export interface ExpandOptions {
  /** Seed of the run (recorded in provenance). */
  seed?: number;
  /** New pairs per seed pair / per section at most. */
  perItem?: number;
  /** Only these template / question-type ids (default: all). */
  templates?: string[];
}

export const DEFAULT_EXPAND: Required<Omit<ExpandOptions, "templates">> = {
  seed: 0, // reproducible by default
  perItem: 3, // a few variants per item: more adds near-duplicates faster than information
};

function pick<T extends { id: string }>(all: readonly T[], ids: string[] | undefined, kind: string): readonly T[] {
  if (!ids) return all;
  const known = new Set(all.map((t) => t.id));
  const bad = ids.filter((id) => !known.has(id));
  if (bad.length)
    throw new Error(
      `unknown ${kind} ${bad.map((b) => JSON.stringify(b)).join(", ")} (known: ${[...known].join(", ")})`,
    );
  return all.filter((t) => ids.includes(t.id));
}

/**
 * Paraphrase each seed pair's question with up to `perItem` applicable templates (chosen at random, seeded);
 * the answer is kept. Seeds are not repeated in the output. Items need `question`, `answer` and an `id`.
 *
 * @example
 * const more = expandPairs([{ id: "q1", question: "How do I install the package?", answer: "Run npm install tunebook." }], { perItem: 2, seed: 1 });
 * // e.g. [{ question: "What are the steps to install the package?", answer: "Run npm install tunebook.", provenance: { method: "template", template: "para.how-do-i.steps", seed: 1, sourceId: "q1" }, ... }, ...]
 */
export function expandPairs(
  seeds: readonly { id?: string | number; question: string; answer: string; context?: string }[],
  options: ExpandOptions = {},
): QAPair[] {
  const o = { ...DEFAULT_EXPAND, ...options };
  const templates = pick(PARAPHRASE_TEMPLATES, o.templates, "paraphrase template");
  const out: QAPair[] = [];
  seeds.forEach((s, i) => {
    if (!s || typeof s.question !== "string" || typeof s.answer !== "string")
      throw new Error(`expandPairs: seed ${i} needs string fields question and answer`);
    const sourceId = String(s.id ?? i);
    const rng = new Rng(hashString(`${o.seed}:${sourceId}`));
    const made = new Set([s.question.trim()]);
    const candidates = rng.shuffle([...templates]);
    for (const t of candidates) {
      if (made.size > o.perItem) break;
      const q = t.apply(s.question, rng);
      if (q === null || made.has(q.trim())) continue;
      made.add(q.trim());
      out.push({
        id: `${sourceId}~${t.id}`,
        question: upperFirst(q.trim()),
        answer: s.answer,
        ...(s.context !== undefined ? { context: s.context } : {}),
        provenance: { method: "template", template: t.id, seed: o.seed, sourceId },
      });
    }
  });
  return out;
}

/**
 * Turn each document section into up to `perItem` pairs with the question types (chosen at random, seeded).
 * The section text is kept as `context`.
 *
 * @example
 * const pairs = questionsFromSections(sectionsFromMarkdown(readme, "tfjs/README"), { perItem: 2, seed: 0 });
 */
export function questionsFromSections(sections: readonly Section[], options: ExpandOptions = {}): QAPair[] {
  const o = { ...DEFAULT_EXPAND, ...options };
  const types = pick(QUESTION_TYPES, o.templates, "question type");
  const out: QAPair[] = [];
  sections.forEach((s, i) => {
    if (!s || typeof s.text !== "string" || typeof s.id !== "string")
      throw new Error(`questionsFromSections: section ${i} needs string fields id, title and text`);
    const rng = new Rng(hashString(`${o.seed}:${s.id}`));
    let n = 0;
    for (const t of rng.shuffle([...types])) {
      for (const qa of t.apply({ ...s, title: s.title ?? "" }, rng)) {
        if (n >= o.perItem) break;
        n++;
        out.push({
          id: `${s.id}~${t.id}`,
          ...qa,
          context: s.text,
          provenance: { method: "template", template: t.id, seed: o.seed, sourceId: s.id },
        });
      }
    }
  });
  return out;
}
