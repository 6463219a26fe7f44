/**
 * Notebook 02's retrieval-augmented generation: questions with the documentation passage that answers them, and
 * a prompt that shows the model a passage, a question and an answer copied from the passage, a few times, then
 * the new passage and question.
 *
 * The passage of a docs-qa record is found through the record's provenance (the page and the section its answer
 * came from): an exact retriever, standing in for the search step a real system would run over its documents.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sectionsFromMarkdown, splitSentences } from "../../data/generate/text";
import type { PromptTemplate } from "../../data/templates";

/** A question with the passage to answer it from. */
export interface PassageQuestion {
  id: string;
  question: string;
  /** The passage (a few sentences of one documentation section). */
  context: string;
  /** Id of the section the passage came from. */
  sectionId: string;
}

export interface PassageOptions {
  /** First sentences of the section kept in the passage. */
  maxSentences?: number;
  /** Characters of the passage at most (whole sentences; the first is always kept). */
  maxChars?: number;
}

export const DEFAULT_PASSAGE_OPTIONS: Required<PassageOptions> = {
  maxSentences: 3, // a section's opening sentences hold its main statement; three leave room for choice
  maxChars: 420, // ≈ 150 tokens of the embedded model's tokenizer: two shots and the question still fit in 512
};

type DocsRecord = { id: string; question: string; provenance?: { file?: string; section?: string } };

/**
 * For each docs-qa record, the passage its answer comes from: the section named in its provenance, read from the
 * math.js documentation folder, cut to its first sentences. Records whose page or section has no prose (tables
 * and code are removed) are skipped and counted.
 *
 * @example
 * const { items, skipped } = passagesFor(docs.train.slice(40, 100), path.join(mathjsDir, "docs"));
 */
export function passagesFor(
  records: readonly DocsRecord[],
  docsDir: string,
  options: PassageOptions = {},
): { items: PassageQuestion[]; skipped: number } {
  const o = { ...DEFAULT_PASSAGE_OPTIONS, ...options };
  if (!(Number.isInteger(o.maxSentences) && o.maxSentences >= 1))
    throw new Error(`passagesFor: maxSentences must be an integer >= 1, got ${o.maxSentences}`);
  if (!(Number.isFinite(o.maxChars) && o.maxChars >= 1))
    throw new Error(`passagesFor: maxChars must be a number >= 1, got ${o.maxChars}`);
  if (!fs.existsSync(docsDir)) throw new Error(`passagesFor: docsDir ${docsDir} does not exist`);
  const pages = new Map<string, ReturnType<typeof sectionsFromMarkdown>>();
  const items: PassageQuestion[] = [];
  let skipped = 0;
  records.forEach((r, i) => {
    const file = r?.provenance?.file;
    const title = r?.provenance?.section;
    if (typeof r?.question !== "string" || typeof file !== "string" || typeof title !== "string")
      throw new Error(`passagesFor: record ${i} needs a question and provenance.file and provenance.section`);
    const rel = file.replace(/^mathjs\/docs\//, "");
    if (!pages.has(rel)) {
      const p = path.join(docsDir, rel);
      pages.set(rel, fs.existsSync(p) ? sectionsFromMarkdown(fs.readFileSync(p, "utf8"), file, { minChars: 1 }) : []);
    }
    const section = pages.get(rel)?.find((s) => s.title === title);
    const sentences = section ? splitSentences(section.text.replace(/\n/g, " ")).slice(0, o.maxSentences) : [];
    let context = sentences[0] ?? "";
    for (const s of sentences.slice(1)) if (context.length + 1 + s.length <= o.maxChars) context += ` ${s}`;
    if (!section || !context) {
      skipped++;
      return;
    }
    items.push({ id: String(r.id ?? i), question: r.question, context, sectionId: section.id });
  });
  return { items, skipped };
}

/** One solved example shown in the prompt: a passage, a question and the answer copied from the passage. */
export interface PassageDemo {
  context: string;
  question: string;
  answer: string;
}

/**
 * The retrieval-augmented prompt as a template: the demonstrations, then `{context}`, `Question: {question}` and
 * `Answer:`. The answer follows the colon after a space, so that its first word is the same token as in the
 * passage (what a model that copies needs).
 *
 * @example
 * passageTemplate([demo]).renderPrompt({ question: "What is a unit?", context: "Math.js supports units. ..." });
 */
export function passageTemplate(demos: readonly PassageDemo[] = []): PromptTemplate {
  const shot = (context: string, question: string) => `${context}\n\nQuestion: ${question}\nAnswer:`;
  const need = (r: Record<string, unknown>, f: string) => {
    if (typeof r?.[f] !== "string" || (r[f] as string).trim() === "")
      throw new Error(`passageTemplate: the record needs a non-empty string field ${f}`);
    return (r[f] as string).trim();
  };
  demos.forEach((d, i) => {
    for (const f of ["context", "question", "answer"] as const)
      if (typeof d?.[f] !== "string" || !d[f].trim())
        throw new Error(`passageTemplate: demo ${i} needs a non-empty string field ${f}`);
  });
  const head = demos.map((d) => `${shot(d.context.trim(), d.question.trim())} ${d.answer.trim()}\n\n`).join("");
  const renderPrompt = (r: Record<string, unknown>) => head + shot(need(r, "context"), need(r, "question"));
  return {
    name: `passage-qa(${demos.length} shots)`,
    render: (r) => ({ prompt: renderPrompt(r), completion: ` ${need(r, "answer")}` }),
    renderPrompt,
  };
}
