/**
 * Prompt templates: a record → `{prompt, completion}`. The prompt is what the model is given; the completion is
 * what it must learn to write. Keeping the two apart is what loss masking (train only on the completion) and
 * evaluation (generate from the prompt, compare with the completion) both need.
 *
 * A template is a string with `{field}` placeholders for the prompt, plus the name of the record field that is
 * the completion. The course's Q&A format is
 *
 *     ### Question:\n{question}\n\n### Answer:\n   → answer
 *
 * Instruction templates follow the Alpaca layout (a preamble, `### Instruction:`, an optional `### Input:`,
 * `### Response:`). Chat templates (Jinja, from a model's `tokenizer_config.json`) live in chat-template.ts and
 * implement the same `PromptTemplate` interface.
 */
import type { SchemaName } from "./schema";

/** A rendered example. `prompt + completion` is the full training text; the completion has no EOS token
 * (prepare.ts appends the tokenizer's EOS id). */
export interface RenderedExample {
  prompt: string;
  completion: string;
}

/** Anything that turns a record into a prompt and a completion. */
export interface PromptTemplate {
  readonly name: string;
  /** The schema of the records it expects, if it is tied to one. */
  readonly schema?: SchemaName;
  /** The prompt and the completion (the answer). Throws a `TemplateError` naming a missing field. */
  render(record: Record<string, unknown>): RenderedExample;
  /** Only the prompt (for generation): needs no answer field. */
  renderPrompt(record: Record<string, unknown>): string;
}

/** A record that does not fit a template: the message names the template and the field. */
export class TemplateError extends Error {
  override name = "TemplateError";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The field names a template string uses, in order of first appearance. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

function fieldText(record: Record<string, unknown>, field: string, template: string): string {
  if (typeof record !== "object" || record === null)
    throw new TemplateError(
      `template "${template}": expected a record object, found ${record === null ? "null" : typeof record}`,
    );
  if (!(field in record) || record[field] === undefined || record[field] === null)
    throw new TemplateError(
      `template "${template}": the record has no field "${field}" (fields: ${Object.keys(record).join(", ") || "none"})`,
      field,
    );
  const v = record[field];
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new TemplateError(
    `template "${template}": field "${field}" must be a string, found ${Array.isArray(v) ? "an array" : typeof v}`,
    field,
  );
}

/** Options of `stringTemplate`. */
export interface StringTemplateOptions {
  name?: string;
  schema?: SchemaName;
  /** Put in front of the answer (e.g. " " for a label after a colon). Default "". */
  completionPrefix?: string;
  /** Check the answer (e.g. that a label is in the label set); throw a `TemplateError` to refuse. */
  checkAnswer?: (answer: string) => void;
}

/**
 * A template from a prompt string with `{field}` placeholders and the name of the answer field. `{{` and `}}`
 * write literal braces.
 * @example
 * const t = stringTemplate("Q: {question}\nA:", "answer", { completionPrefix: " " });
 * t.render({ question: "2+2?", answer: "4" }); // { prompt: "Q: 2+2?\nA:", completion: " 4" }
 */
export function stringTemplate(
  prompt: string,
  answerField: string,
  options: StringTemplateOptions = {},
): PromptTemplate {
  const name = options.name ?? prompt.replace(/\n/g, "\\n").slice(0, 40);
  const fill = (record: Record<string, unknown>) =>
    prompt
      .replace(/\{\{/g, "\u0000")
      .replace(/\}\}/g, "\u0001")
      .replace(PLACEHOLDER, (_, f: string) => fieldText(record, f, name))
      .replace(/\u0000/g, "{")
      .replace(/\u0001/g, "}");
  return {
    name,
    schema: options.schema,
    renderPrompt: fill,
    render(record) {
      const p = fill(record);
      const answer = fieldText(record, answerField, name);
      if (answer.trim() === "")
        throw new TemplateError(`template "${name}": field "${answerField}" (the answer) is empty`, answerField);
      options.checkAnswer?.(answer);
      return { prompt: p, completion: (options.completionPrefix ?? "") + answer };
    },
  };
}

/**
 * The course's Q&A template: `### Question:` … `### Answer:`.
 *
 * @example
 * QA_TEMPLATE.render({ question: "What is LoRA?", answer: "A low-rank adapter." });
 * // { prompt: "### Question:\nWhat is LoRA?\n\n### Answer:\n", completion: "A low-rank adapter." }
 */
export const QA_TEMPLATE: PromptTemplate = stringTemplate("### Question:\n{question}\n\n### Answer:\n", "answer", {
  name: "qa",
  schema: "qa",
});

const ALPACA_WITH_INPUT =
  "Below is an instruction that describes a task, paired with an input that provides further context. " +
  "Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n";
const ALPACA_NO_INPUT =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n" +
  "### Instruction:\n{instruction}\n\n### Response:\n";

const withInput = stringTemplate(ALPACA_WITH_INPUT, "output", { name: "instruction", schema: "instruction" });
const noInput = stringTemplate(ALPACA_NO_INPUT, "output", { name: "instruction", schema: "instruction" });
const hasInput = (r: Record<string, unknown>) => typeof r.input === "string" && r.input.trim() !== "";

/**
 * Alpaca-style instruction template: with an `### Input:` section when the record has a non-empty `input`,
 * without one otherwise.
 *
 * @example
 * INSTRUCTION_TEMPLATE.render({ instruction: "Summarise.", input: "Long text…", output: "Short." }).prompt;
 */
export const INSTRUCTION_TEMPLATE: PromptTemplate = {
  name: "instruction",
  schema: "instruction",
  render: (r) => (hasInput(r) ? withInput : noInput).render(r),
  renderPrompt: (r) => (hasInput(r) ? withInput : noInput).renderPrompt(r),
};

/** Options of `classificationTemplate`. */
export interface ClassificationTemplateOptions {
  /** What the text is, for the prompt's header (default "Text"). */
  textName?: string;
  /** The question asked (default: "Which label fits? Answer with one of: a, b."). */
  question?: string;
}

/**
 * A reading task: text → one label of a fixed set. The labels are listed in the prompt, and `render` refuses a
 * label outside the set.
 * @example
 * const t = classificationTemplate(["ham", "spam"], { textName: "E-mail" });
 * t.render({ text: "WIN A FREE CRUISE", label: "spam" }).completion; // "spam"
 */
export function classificationTemplate(
  labels: readonly string[],
  options: ClassificationTemplateOptions = {},
): PromptTemplate {
  if (!Array.isArray(labels) || labels.length < 2 || labels.some((l) => typeof l !== "string" || l.trim() === ""))
    throw new TemplateError(
      `classificationTemplate: expected at least two non-empty string labels, found ${JSON.stringify(labels)}`,
    );
  const textName = options.textName ?? "Text";
  const question = (options.question ?? `Which label fits? Answer with one of: ${labels.join(", ")}.`).replace(
    /[{}]/g,
    (c) => c + c,
  );
  return stringTemplate(`### ${textName}:\n{text}\n\n### Question:\n${question}\n\n### Answer:\n`, "label", {
    name: `classification(${labels.join("|")})`,
    schema: "classification",
    checkAnswer: (a) => {
      if (!labels.includes(a))
        throw new TemplateError(
          `classification template: label ${JSON.stringify(a)} is not one of ${labels.map((l) => JSON.stringify(l)).join(", ")}`,
          "label",
        );
    },
  });
}

/**
 * An extraction task: the answer is copied from the input. The question comes from the record's `question`
 * field when it has one, else from `question` here. Reads `text`, or `input` when there is no `text`.
 *
 * The answer follows `### Answer:` on the same line, after a space (`completion` = " " + answer), unlike the
 * Q&A template's new line. Byte-level BPE tokenizers (GPT-2's, Pythia's, the embedded model's) fold a leading
 * space into the next word: in the input, "Subject: Lunch at noon" holds the tokens " Lunch", " at", " noon";
 * an answer on a new line would start with "Lunch" — a different token — so the model could not simply
 * continue copying the tokens that follow the ones it has just written. With the space, the answer is the
 * same token sequence as in the input (tests/data/templates.test.ts checks this with Pythia's tokenizer).
 * @example
 * const t = extractionTemplate("What is the subject line?");
 * t.render({ text: "Subject: Lunch?\nFrom: a@b.c", answer: "Lunch?" });
 * // { prompt: "### Input:\nSubject: Lunch?\nFrom: a@b.c\n\n### Question:\nWhat is the subject line?\n\n### Answer:", completion: " Lunch?" }
 */
export function extractionTemplate(question = "What is the answer?"): PromptTemplate {
  const t = stringTemplate("### Input:\n{text}\n\n### Question:\n{question}\n\n### Answer:", "answer", {
    name: "extraction",
    schema: "extraction",
    completionPrefix: " ",
  });
  const norm = (r: Record<string, unknown>) => {
    if (typeof r !== "object" || r === null) throw new TemplateError(`template "extraction": expected a record object`);
    const text = r.text ?? r.input;
    if (text === undefined)
      throw new TemplateError(
        `template "extraction": the record has no field "text" (or "input") (fields: ${Object.keys(r).join(", ") || "none"})`,
        "text",
      );
    return { ...r, text, question: r.question ?? question };
  };
  return {
    name: "extraction",
    schema: "extraction",
    render: (r) => t.render(norm(r)),
    renderPrompt: (r) => t.renderPrompt(norm(r)),
  };
}

/**
 * The default template for a schema (classification needs its labels).
 * @example
 * templateFor("qa").render({ question: "What is 2+2?", answer: "4" });
 */
export function templateFor(
  schema: SchemaName,
  options: { labels?: readonly string[]; question?: string } = {},
): PromptTemplate {
  switch (schema) {
    case "qa":
      return QA_TEMPLATE;
    case "instruction":
      return INSTRUCTION_TEMPLATE;
    case "extraction":
      return extractionTemplate(options.question);
    case "classification":
      if (!options.labels)
        throw new TemplateError(
          `templateFor("classification") needs the label set: templateFor("classification", { labels: ["ham", "spam"] })`,
        );
      return classificationTemplate(options.labels);
    default:
      throw new TemplateError(`no template for schema ${JSON.stringify(schema)}`);
  }
}

/**
 * Render records for display: one row per record with its prompt and completion (what the model reads, what
 * it must write).
 * @example
 * show(table(renderExamples(QA_TEMPLATE, ds.train.slice(0, 3))));
 */
export function renderExamples(
  template: PromptTemplate,
  records: readonly Record<string, unknown>[],
): { prompt: string; completion: string }[] {
  return records.map((r) => template.render(r));
}
