/**
 * JSON Lines I/O with validation: one JSON object per line, checked against a schema (schema.ts).
 *
 * What is accepted, and what is not (every decision is reported, nothing is dropped silently):
 * - CRLF line endings: accepted and normalised (counted in `crlfLines`; Windows editors write them).
 * - A UTF-8 byte order mark at the very start of the file: accepted with a warning (Notepad writes one and
 *   `JSON.parse` would choke on it; the BOM is not part of the data). A BOM at the start of any later line is an
 *   error: it means files were concatenated byte-wise, and the line would otherwise fail as "bad JSON".
 * - Blank lines: skipped with a warning (a final newline at the end of the file is not a blank line).
 * - A key that appears twice in one object (`JSON.parse` would keep the last silently): an error naming the key.
 * - Invalid UTF-8, bad JSON, a value that is not an object, a missing, mistyped or empty field, a label outside
 *   the allowed set, a line longer than `maxLineBytes`: errors, each naming FILE:LINE, the field and what was
 *   expected.
 * - Fields outside the schema: warnings.
 *
 * Strict mode (the default) throws a `JsonlError` at the first error; lenient mode keeps the good records and
 * returns every issue. Writing is atomic: a temp file in the same folder, then a rename.
 */
import { writeFileAtomic } from "../runtime/atomic";
import { FileAccessError, readRegularFile, readRegularFileSync } from "../runtime/files";
import { findDuplicateKey } from "../runtime/json-keys";
import {
  inferSchema,
  isSchemaName,
  validateRecord,
  SCHEMA_NAMES,
  type RecordIssue,
  type SchemaName,
  type ValidateOptions,
} from "./schema";

/** Options of `parseJsonl` / `readJsonl`, merged over `DEFAULT_JSONL_OPTIONS`. */
export interface JsonlOptions extends ValidateOptions {
  /** The schema each record must follow; "auto" infers it from the first object; undefined checks JSON only. */
  schema?: SchemaName | "auto";
  /** "strict": throw at the first error; "lenient": keep the good lines, report every bad one. */
  mode?: "strict" | "lenient";
  /** Longest accepted line, in bytes of UTF-8 (without the line ending). */
  maxLineBytes?: number;
}

export const DEFAULT_JSONL_OPTIONS: Readonly<Required<Pick<JsonlOptions, "mode" | "maxLineBytes">>> = {
  mode: "strict",
  maxLineBytes: 256 * 1024,
};

/** An issue located in a file. */
export interface JsonlIssue extends RecordIssue {
  file: string;
  /** 1-based line number. */
  line: number;
}

/** What reading a JSONL file gives. */
export interface JsonlResult<T = Record<string, unknown>> {
  file: string;
  /** The valid records, in file order. */
  records: T[];
  /** The 1-based line number of each record in `records`. */
  lineNumbers: number[];
  /** Every error and warning, in line order. */
  issues: JsonlIssue[];
  /** Lines in the file (a final newline does not start a new line). */
  totalLines: number;
  /** Lines with at least one error (not in `records`). */
  badLines: number;
  /** Blank lines skipped. */
  blankLines: number;
  /** Lines that ended in CRLF (normalised). */
  crlfLines: number;
  /** Whether the file started with a UTF-8 byte order mark (ignored). */
  bom: boolean;
  /** The schema used (given or inferred), if any. */
  schema?: SchemaName;
}

/** A bad JSONL file or record; `issues` holds every error found (one in strict mode). */
export class JsonlError extends Error {
  override name = "JsonlError";
  constructor(
    readonly issues: JsonlIssue[],
    message = issues.map(formatIssue).join("\n"),
  ) {
    super(message);
  }
  /** File, line and field of the first issue. */
  get file(): string | undefined {
    return this.issues[0]?.file;
  }
  get line(): number | undefined {
    return this.issues[0]?.line;
  }
  get field(): string | undefined {
    return this.issues[0]?.field;
  }
}

/**
 * One issue as `FILE:LINE: message` (warnings marked).
 * @example
 * formatIssue({ file: "qa.jsonl", line: 3, severity: "error", field: "answer", message: 'missing field "answer"' });
 * // 'qa.jsonl:3: missing field "answer"'
 */
export function formatIssue(i: JsonlIssue): string {
  return `${i.file}:${i.line}: ${i.severity === "warning" ? "warning: " : ""}${i.message}`;
}

// ignoreBOM: keep a U+FEFF at the start of a line in the text, so that it can be reported (the file-start BOM is handled above).
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parse JSONL content (bytes or a string) and validate every record.
 * @example
 * const r = parseJsonl('{"question":"Q?","answer":"A."}\n', "mem.jsonl", { schema: "qa" });
 * r.records; // [{ question: "Q?", answer: "A." }]
 */
export function parseJsonl<T = Record<string, unknown>>(
  content: string | Uint8Array,
  file = "<input>",
  options: JsonlOptions = {},
): JsonlResult<T> {
  const o = { ...DEFAULT_JSONL_OPTIONS, ...options };
  if (o.mode !== "strict" && o.mode !== "lenient")
    throw new Error(`mode must be "strict" or "lenient", found ${JSON.stringify(o.mode)}`);
  if (o.schema !== undefined && o.schema !== "auto" && !isSchemaName(o.schema))
    throw new Error(
      `unknown schema ${JSON.stringify(o.schema)} (expected one of ${SCHEMA_NAMES.join(", ")} or "auto")`,
    );
  if (!(Number.isInteger(o.maxLineBytes) && o.maxLineBytes > 0))
    throw new Error(`maxLineBytes must be a positive integer, found ${o.maxLineBytes}`);
  const bytes =
    typeof content === "string"
      ? Buffer.from(content, "utf8")
      : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const res: JsonlResult<T> = {
    file,
    records: [],
    lineNumbers: [],
    issues: [],
    totalLines: 0,
    badLines: 0,
    blankLines: 0,
    crlfLines: 0,
    bom: false,
  };
  let schema: SchemaName | undefined = o.schema === "auto" ? undefined : o.schema;
  const report = (line: number, issue: RecordIssue) => {
    const full: JsonlIssue = { file, line, ...issue };
    res.issues.push(full);
    if (issue.severity === "error" && o.mode === "strict") throw new JsonlError([full]);
  };

  let start = 0;
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    res.bom = true;
    start = 3;
    report(1, { severity: "warning", message: "UTF-8 byte order mark at the start of the file: ignored" });
  }
  let lineNo = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    lineNo++;
    let stop = end;
    if (stop > start && bytes[stop - 1] === 0x0d) {
      stop--;
      res.crlfLines++;
    }
    const raw = bytes.subarray(start, stop);
    start = end + 1;
    const bad = (issue: Omit<RecordIssue, "severity">) => {
      res.badLines++;
      report(lineNo, { severity: "error", ...issue });
    };
    if (raw.length > o.maxLineBytes) {
      bad({ message: `line is ${raw.length} bytes, over the limit of ${o.maxLineBytes} (maxLineBytes)` });
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      bad({ message: "not valid UTF-8 (save the file as UTF-8)" });
      continue;
    }
    if (text.trim() === "") {
      res.blankLines++;
      report(lineNo, { severity: "warning", message: "blank line: skipped" });
      continue;
    }
    if (text.charCodeAt(0) === 0xfeff) {
      bad({ message: "byte order mark (U+FEFF) at the start of the line: were files concatenated? Remove it" });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e: any) {
      bad({ message: `invalid JSON: ${e?.message ?? e} (expected one JSON object per line)` });
      continue;
    }
    const dup = findDuplicateKey(text);
    if (dup) {
      const field = dup.path === "" ? dup.key : `${dup.path}.${dup.key}`;
      bad({
        field,
        message: `duplicate key ${JSON.stringify(dup.key)}${dup.path ? ` in ${dup.path}` : ""}: each field must appear once (JSON would keep only the last value)`,
      });
      continue;
    }
    if (o.schema === "auto" && schema === undefined) {
      schema = inferSchema(value);
      if (schema === undefined) {
        bad({
          message: `cannot infer the schema from this record's fields (${typeof value === "object" && value ? Object.keys(value).join(", ") || "none" : "not an object"}); pass a schema (${SCHEMA_NAMES.join(", ")})`,
        });
        continue;
      }
    }
    let issues: RecordIssue[];
    if (schema) issues = validateRecord(value, schema, o);
    else if (typeof value !== "object" || value === null || Array.isArray(value))
      issues = [{ severity: "error", message: "expected a JSON object" }];
    else issues = [];
    const errors = issues.filter((i) => i.severity === "error");
    if (errors.length) res.badLines++;
    for (const i of issues) report(lineNo, i);
    if (!errors.length) {
      res.records.push(value as T);
      res.lineNumbers.push(lineNo);
    }
  }
  res.totalLines = lineNo;
  res.schema = schema;
  return res;
}

/** A file that cannot be read (missing, unreadable, a FIFO or folder) as a `JsonlError` at line 0. */
function unreadable(file: string, e: any): JsonlError {
  const notAFile = e instanceof FileAccessError && e.kind !== "missing" && e.kind !== "unreadable";
  const why = notAFile
    ? `is a ${e.kind}, not a regular file (expected a JSONL data file)`
    : `cannot read the file (${e?.code ?? e?.message ?? e})`;
  return new JsonlError([{ file, line: 0, severity: "error", message: why }], `${file}: ${why}`);
}

/**
 * Read and validate a JSONL file. A file that cannot be read throws a `JsonlError` naming it.
 * @example
 * const { records } = await readJsonl("data/docs-qa/train.jsonl", { schema: "qa" });
 */
export async function readJsonl<T = Record<string, unknown>>(
  file: string,
  options: JsonlOptions = {},
): Promise<JsonlResult<T>> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, "the data file");
  } catch (e: any) {
    throw unreadable(file, e);
  }
  return parseJsonl<T>(bytes, file, options);
}

/** Synchronous `readJsonl` (for scripts and small files). */
export function readJsonlSync<T = Record<string, unknown>>(file: string, options: JsonlOptions = {}): JsonlResult<T> {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(file, "the data file");
  } catch (e: any) {
    throw unreadable(file, e);
  }
  return parseJsonl<T>(bytes, file, options);
}

/**
 * Records → JSONL text (one `JSON.stringify` per line, `\n` endings, a final newline). With a schema, every
 * record is validated first and a bad one throws a `JsonlError` naming its line-to-be.
 * @example
 * toJsonl([{ question: "Q?", answer: "A." }], { schema: "qa" }); // '{"question":"Q?","answer":"A."}\n'
 */
export function toJsonl(
  records: readonly unknown[],
  options: { schema?: SchemaName; labels?: readonly string[]; file?: string } = {},
): string {
  const file = options.file ?? "<output>";
  const lines: string[] = [];
  records.forEach((r, i) => {
    if (options.schema) {
      const errors = validateRecord(r, options.schema, { labels: options.labels, warnUnknownFields: false }).filter(
        (x) => x.severity === "error",
      );
      if (errors.length) throw new JsonlError(errors.map((e) => ({ file, line: i + 1, ...e })));
    }
    const s = JSON.stringify(r);
    if (s === undefined)
      throw new JsonlError([
        { file, line: i + 1, severity: "error", message: `record ${i} cannot be written as JSON (${typeof r})` },
      ]);
    lines.push(s);
  });
  return lines.length ? lines.join("\n") + "\n" : "";
}

/**
 * Write records as JSONL atomically (temp file in the same folder, then rename): a crash never leaves a
 * half-written file. Validates first when a schema is given.
 * @example
 * writeJsonl("data/my-task/train.jsonl", records, { schema: "qa" });
 */
export function writeJsonl(
  file: string,
  records: readonly unknown[],
  options: { schema?: SchemaName; labels?: readonly string[] } = {},
): void {
  writeFileAtomic(file, toJsonl(records, { ...options, file }));
}
