/**
 * Record schemas of the course's datasets, and the check of one parsed JSON value against them.
 *
 * | schema           | required                                   | optional       |
 * | ---------------- | ------------------------------------------ | -------------- |
 * | `qa`             | `question`, `answer`                       |                |
 * | `instruction`    | `instruction`, `output`                    | `input`        |
 * | `classification` | `text`, `label`                            |                |
 * | `extraction`     | `text` (or `input`), `answer`              | `question`     |
 *
 * Every schema also allows the metadata fields `id` (string or integer), `source` (string) and `provenance`
 * (object or string). A required text field must be a string with something besides whitespace in it (an empty
 * answer teaches the model to stop at once). Any other field is reported as a warning (a typo such as `anwser`
 * then shows up twice: as the missing field and as the unknown one).
 */

export const SCHEMA_NAMES = ["qa", "instruction", "classification", "extraction"] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export interface QARecord {
  question: string;
  answer: string;
  id?: string | number;
  source?: string;
  provenance?: unknown;
}
export interface InstructionRecord {
  instruction: string;
  input?: string;
  output: string;
  id?: string | number;
  source?: string;
  provenance?: unknown;
}
export interface ClassificationRecord {
  text: string;
  label: string;
  id?: string | number;
  source?: string;
  provenance?: unknown;
}
export interface ExtractionRecord {
  text?: string;
  input?: string;
  answer: string;
  question?: string;
  id?: string | number;
  source?: string;
  provenance?: unknown;
}
/** Any record of the four schemas. */
export type DataRecord = QARecord | InstructionRecord | ClassificationRecord | ExtractionRecord;

/** Fields every schema accepts besides its own. */
export const METADATA_FIELDS = ["id", "source", "provenance"] as const;

interface SchemaSpec {
  required: string[];
  optional: string[];
  /** Groups of which exactly one field must be present (extraction's `text` or `input`). */
  oneOf?: string[][];
  /** The field a template puts after the prompt (the answer). */
  answerField: string;
}

export const SCHEMAS: Readonly<Record<SchemaName, SchemaSpec>> = {
  qa: { required: ["question", "answer"], optional: [], answerField: "answer" },
  instruction: { required: ["instruction", "output"], optional: ["input"], answerField: "output" },
  classification: { required: ["text", "label"], optional: [], answerField: "label" },
  extraction: {
    required: ["answer"],
    optional: ["question", "text", "input"],
    oneOf: [["text", "input"]],
    answerField: "answer",
  },
};

/** One problem with a record. `line` is 1-based and present for records read from a file. */
export interface RecordIssue {
  severity: "error" | "warning";
  /** The field concerned, if any. */
  field?: string;
  message: string;
}

/** Options of `validateRecord`. */
export interface ValidateOptions {
  /** For `classification`: the allowed labels; any other label is an error. */
  labels?: readonly string[];
  /** Warn about fields outside the schema (default true). */
  warnUnknownFields?: boolean;
}

const describe = (v: unknown): string =>
  v === null
    ? "null"
    : Array.isArray(v)
      ? "an array"
      : typeof v === "string"
        ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)
        : typeof v === "object"
          ? "an object"
          : `${typeof v} ${JSON.stringify(v)}`;

/** Whether `s` names a schema. */
export function isSchemaName(s: unknown): s is SchemaName {
  return typeof s === "string" && (SCHEMA_NAMES as readonly string[]).includes(s);
}

/**
 * Check one parsed value against a schema. Returns every issue (errors and warnings); no issue of severity
 * "error" means the record is usable.
 * @example
 * validateRecord({ question: "What is 2+2?", answer: "" }, "qa");
 * // [{ severity: "error", field: "answer", message: 'field "answer": expected a non-empty string, found ""' }]
 */
export function validateRecord(value: unknown, schema: SchemaName, options: ValidateOptions = {}): RecordIssue[] {
  const spec = SCHEMAS[schema];
  if (!spec) throw new Error(`unknown schema ${JSON.stringify(schema)} (expected one of ${SCHEMA_NAMES.join(", ")})`);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return [
      {
        severity: "error",
        message: `expected a JSON object with fields ${spec.required.join(", ")}, found ${describe(value)}`,
      },
    ];
  const rec = value as Record<string, unknown>;
  const issues: RecordIssue[] = [];
  const err = (field: string, expected: string) =>
    issues.push({
      severity: "error",
      field,
      message: `field "${field}": expected ${expected}, found ${describe(rec[field])}`,
    });
  const checkText = (field: string, required: boolean) => {
    if (!(field in rec)) {
      if (required)
        issues.push({
          severity: "error",
          field,
          message: `missing field "${field}" (a non-empty string; schema ${schema})`,
        });
      return;
    }
    const v = rec[field];
    if (typeof v !== "string") err(field, "a string");
    else if (required && v.trim() === "") err(field, "a non-empty string");
  };
  for (const f of spec.required) checkText(f, true);
  for (const f of spec.optional) checkText(f, false);
  for (const group of spec.oneOf ?? []) {
    const present = group.filter((f) => f in rec);
    if (present.length === 0)
      issues.push({
        severity: "error",
        field: group[0],
        message: `missing field "${group.join('" or "')}" (a non-empty string; schema ${schema})`,
      });
    else if (present.length > 1)
      issues.push({
        severity: "error",
        field: present[1],
        message: `fields ${present.map((f) => `"${f}"`).join(" and ")} both present: give only one`,
      });
    else if (typeof rec[present[0]] === "string" && (rec[present[0]] as string).trim() === "")
      err(present[0], "a non-empty string");
  }
  if ("id" in rec && !(typeof rec.id === "string" || Number.isInteger(rec.id))) err("id", "a string or an integer");
  if ("source" in rec && typeof rec.source !== "string") err("source", "a string");
  if (
    "provenance" in rec &&
    !(
      typeof rec.provenance === "string" ||
      (typeof rec.provenance === "object" && rec.provenance !== null && !Array.isArray(rec.provenance))
    )
  )
    err("provenance", "an object or a string");
  if (
    schema === "classification" &&
    options.labels &&
    typeof rec.label === "string" &&
    rec.label.trim() !== "" &&
    !options.labels.includes(rec.label)
  )
    err("label", `one of ${options.labels.map((l) => JSON.stringify(l)).join(", ")}`);
  if (options.warnUnknownFields ?? true) {
    const known = new Set<string>([
      ...spec.required,
      ...spec.optional,
      ...METADATA_FIELDS,
      ...(spec.oneOf ?? []).flat(),
    ]);
    for (const k of Object.keys(rec))
      if (!known.has(k))
        issues.push({
          severity: "warning",
          field: k,
          message: `unknown field "${k}" (schema ${schema} has ${[...known].join(", ")})`,
        });
  }
  return issues;
}

/**
 * Guess the schema of a record from its fields (for `tunebook data validate` without `--schema`).
 * Returns undefined when no schema fits.
 * @example
 * inferSchema({ text: "Win money now", label: "spam" }); // "classification"
 */
export function inferSchema(value: unknown): SchemaName | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const has = (k: string) => k in (value as object);
  if (has("question") && has("answer") && !has("text") && !has("input")) return "qa";
  if (has("instruction") || has("output")) return "instruction";
  if (has("label")) return "classification";
  if (has("answer") && (has("text") || has("input"))) return "extraction";
  return undefined;
}

/** The text a template puts after the prompt: the record's answer field for its schema. */
export function answerField(schema: SchemaName): string {
  return SCHEMAS[schema].answerField;
}
