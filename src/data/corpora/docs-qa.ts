/**
 * Q&A pairs from a documentation corpus, made deterministically from the docs' structure — the writing task
 * that stands in for the course's product-documentation Q&A. The corpus is math.js's Markdown documentation
 * (`node_modules/mathjs/docs`, Apache-2.0), whose function reference pages all share one layout: a title,
 * a description, `## Syntax`, a parameter table, a return table, examples, "See also".
 *
 * Question types (the `rule` in each pair's provenance):
 * - `describe`: "What does the mathjs function `f` do?" → the description's first sentences.
 * - `syntax`: "How do you call `f` in mathjs?" → the call forms of the Syntax block.
 * - `parameters`: "What parameters does `math.f` take?" → the parameter table as one sentence.
 * - `parameter`: "What is the `x` parameter of `math.f`?" → its type and description.
 * - `returns`: "What does `math.f` return?" → the return table's type and description.
 * - `example`: "What does `math.f(25)` return?" → the result written in an example's comment.
 * - `see-also`: "Which mathjs functions are related to `f`?" → the See also list.
 * - `constant`: "What is the constant `pi` in mathjs?" → its description and value (constants.md).
 * - `section`: "What does the mathjs documentation say about <heading> (<page>)?" → the section's first
 *   sentences (the guide pages: data types, expressions, core); on class reference pages, "In mathjs, what
 *   does `<method>` do (class <C>)?" → the method's description.
 * Answers are 1–3 sentences, copied or assembled from the docs' own words; every pair records its file,
 * section and rule.
 */
import type { QARecord } from "../schema";
import { firstSentences, inlineText, parseMarkdown, type MdSection } from "./markdown-sections";

/** A source document: its path (relative, as recorded in provenance) and its Markdown text. */
export interface DocFile {
  path: string;
  text: string;
}

/** Provenance of a generated pair. */
export interface DocsProvenance {
  file: string;
  section: string;
  rule: string;
}

export type DocsQARecord = QARecord & { id: string; source: string; provenance: DocsProvenance };

/** Options of `docsQA`. */
export interface DocsQAOptions {
  /** Written into each record's `source`. */
  source: string;
  /** At most this many `example` pairs per function. */
  maxExamplesPerFunction: number;
  /** Longest answer, in characters (longer candidates are skipped, not cut mid-sentence). */
  maxAnswerChars: number;
}

export const DEFAULT_DOCS_QA: Readonly<DocsQAOptions> = {
  source: "mathjs-docs",
  maxExamplesPerFunction: 3,
  maxAnswerChars: 360,
};

const find = (secs: MdSection[], title: string) => secs.find((s) => s.title.toLowerCase() === title.toLowerCase());
const sentence = (s: string) => (/[.!?)]$/.test(s) ? s : s + ".");
const listText = (xs: string[]) =>
  xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;

function functionPairs(doc: DocFile, o: DocsQAOptions): Omit<DocsQARecord, "id" | "source">[] {
  const secs = parseMarkdown(doc.text);
  const title = secs.find((s) => s.level === 1 && /^Function /.test(s.title));
  if (!title) return [];
  const f = title.title.replace(/^Function\s+/, "").trim();
  const out: Omit<DocsQARecord, "id" | "source">[] = [];
  const add = (section: string, rule: string, question: string, answer: string) => {
    answer = answer.trim();
    if (answer && answer.length <= o.maxAnswerChars)
      out.push({ question, answer, provenance: { file: doc.path, section, rule } });
  };
  if (title.paragraphs.length)
    add(
      title.title,
      "describe",
      `What does the mathjs function \`${f}\` do?`,
      firstSentences(title.paragraphs.join(" "), 3, 300),
    );
  const syntax = find(secs, "Syntax");
  if (syntax?.code.length) {
    const calls = syntax.code
      .join("\n")
      .split("\n")
      .map((l) => l.replace(/\/\/.*$/, "").trim())
      .filter((l) => l.startsWith("math."));
    const uniq = [...new Set(calls)].slice(0, 4).map((c) => `\`${c}\``);
    if (uniq.length)
      add(
        "Syntax",
        "syntax",
        `How do you call \`${f}\` in mathjs?`,
        `Call it as ${uniq.length > 1 ? listText(uniq.slice(0, -1)).replace(/ and /g, ", ") + " or " + uniq[uniq.length - 1] : uniq[0]}.`,
      );
  }
  const params =
    find(secs, "Parameters")
      ?.tables[0]?.slice(1)
      .filter((r) => r.length >= 3 && r[0]) ?? [];
  if (params.length) {
    const parts = params.map(([n, t, d]) => `${n} (${t})${d ? `: ${d.replace(/\.$/, "")}` : ""}`);
    add(
      "Parameters",
      "parameters",
      `What parameters does \`math.${f}\` take?`,
      `\`math.${f}\` takes ${params.length === 1 ? "one parameter" : `${params.length} parameters`}: ${parts.join("; ")}.`,
    );
    for (const [n, t, d] of params)
      if (d && d.length > 3)
        add(
          "Parameters",
          "parameter",
          `What is the ${n} parameter of \`math.${f}\`?`,
          `${n} is a ${t}: ${sentence(d)}`,
        );
  }
  const ret = find(secs, "Returns")?.tables[0]?.[1];
  if (ret?.[0])
    add(
      "Returns",
      "returns",
      `What does \`math.${f}\` return?`,
      `It returns a ${ret[0]}${ret[1] ? `: ${sentence(ret[1])}` : "."}`,
    );
  const examples = find(secs, "Examples");
  let nEx = 0;
  const seen = new Set<string>();
  for (const line of (examples?.code ?? []).join("\n").split("\n")) {
    const m = /^\s*(math\.[^/]*?)\s*\/\/\s*(?:returns\s+)?(.+?)\s*$/.exec(line);
    if (!m || nEx >= o.maxExamplesPerFunction || seen.has(m[1])) continue;
    const expr = m[1].replace(/;$/, "");
    if (!expr.startsWith(`math.${f}(`) || m[2].length > 80) continue;
    seen.add(m[1]);
    nEx++;
    add(
      "Examples",
      "example",
      `In mathjs, what does \`${expr}\` return?`,
      `\`${expr}\` returns ${m[2].replace(/\.$/, "")}.`,
    );
  }
  const see = find(secs, "See also");
  const related = (see?.paragraphs.join(" ") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (related.length)
    add(
      "See also",
      "see-also",
      `Which mathjs functions are related to \`${f}\`?`,
      `The docs of \`${f}\` point to ${listText(related.map((r) => `\`${r}\``))}.`,
    );
  return out;
}

function constantPairs(doc: DocFile, o: DocsQAOptions): Omit<DocsQARecord, "id" | "source">[] {
  const out: Omit<DocsQARecord, "id" | "source">[] = [];
  for (const sec of parseMarkdown(doc.text))
    for (const table of sec.tables) {
      const head = table[0]?.map((c) => c.toLowerCase()) ?? [];
      if (head[0] !== "constant") continue;
      for (const [names, desc, value] of table.slice(1)) {
        const first = names.split(",")[0].trim();
        const answer = `${sentence(desc)} Its value is ${value.replace(/^For example /, "for example ")}.`;
        if (desc && answer.length <= o.maxAnswerChars)
          out.push({
            question: `What is the constant ${first} in mathjs?`,
            answer,
            provenance: { file: doc.path, section: sec.title, rule: "constant" },
          });
      }
    }
  return out;
}

function sectionPairs(doc: DocFile, o: DocsQAOptions): Omit<DocsQARecord, "id" | "source">[] {
  const secs = parseMarkdown(doc.text);
  const isClass = /(^|\/)classes\/[^/]+\.md$/.test(doc.path);
  const page = (isClass ? secs.find((s) => s.level > 0) : secs.find((s) => s.level === 1))?.title ?? doc.path;
  const out: Omit<DocsQARecord, "id" | "source">[] = [];
  for (const s of secs) {
    const prose = s.paragraphs.filter(
      (p) => p.length > (isClass ? 15 : 40) && !/^(for example|example|examples)\b/i.test(p) && !/:$/.test(p),
    );
    if (!s.title || !prose.length) continue;
    // Class reference pages: only methods and constructors ("index.forEach(callback)", "new Index(...ranges)").
    if (isClass && !s.title.includes("(")) continue;
    const answer = sentence(firstSentences(prose[0], 3, 300));
    if (answer.length < (isClass ? 15 : 40) || answer.length > o.maxAnswerChars) continue;
    const question = isClass
      ? `In mathjs, what does \`${s.title.replace(/\s*⇒.*$/, "")}\` do (class ${page})?`
      : s.level === 1
        ? `What does the mathjs documentation say about ${s.title}?`
        : `What does the mathjs documentation say about "${s.title}" (${page})?`;
    out.push({ question, answer, provenance: { file: doc.path, section: s.title, rule: "section" } });
  }
  return out;
}

/**
 * Build Q&A pairs from documentation files. Function pages (`# Function f`) give the reference questions,
 * a constants table gives `constant` questions, any other page gives `section` questions. Duplicate
 * questions keep their first answer. Ids are `docs-qa-00001`, … in file order (sort the files first for a
 * stable result).
 * @example
 * const pairs = docsQA([{ path: "functions/sqrt.md", text: fs.readFileSync(".../sqrt.md", "utf8") }]);
 * pairs[0]; // { id, question: "What does the mathjs function `sqrt` do?", answer: "Calculate the square root of a value. ...", ... }
 */
export function docsQA(docs: readonly DocFile[], options: Partial<DocsQAOptions> = {}): DocsQARecord[] {
  const o = { ...DEFAULT_DOCS_QA, ...options };
  const seen = new Set<string>();
  const out: DocsQARecord[] = [];
  for (const doc of docs) {
    const isFunction = /^#\s+Function\s/m.test(doc.text);
    const isConstants = /^Constant\s*\|/m.test(doc.text);
    const pairs = isFunction ? functionPairs(doc, o) : isConstants ? constantPairs(doc, o) : sectionPairs(doc, o);
    for (const p of pairs) {
      const key = p.question.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        id: `docs-qa-${String(out.length + 1).padStart(5, "0")}`,
        question: inlineText(p.question),
        answer: p.answer,
        source: o.source,
        provenance: p.provenance,
      });
    }
  }
  return out;
}
