/**
 * A folder of JSON records (recorded measurements: `docs/recorded/*.json`, `docs/recorded/size-sweep/*.json`):
 * every `*.json` file, sorted by name, parsed and validated. An absent folder gives []; a malformed file is an
 * error naming it (never a silently skipped number).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * @example
 * const recs = readJsonRecords("docs/recorded", validateRecording, (m) => new RecordingError(m));
 */
export function readJsonRecords<T>(
  dir: string,
  validate: (parsed: unknown, file: string) => T,
  makeError: (message: string) => Error,
): (T & { file: string })[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      let parsed: unknown;
      try {
        parsed = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (e: any) {
        throw makeError(`${file}: not valid JSON (${String(e?.message ?? e).split("\n")[0]})`);
      }
      return { ...validate(parsed, file), file };
    });
}

/** One check of a record's field: throws when `cond` is false (see `fieldChecker`). */
export type FieldCheck = (cond: unknown, where: string, what: string, got: unknown) => asserts cond;

/**
 * The field check of one record format: a false condition throws the format's error with one line naming the
 * field and what was expected, e.g. `x.json: rows[3].value: expected a number in [0, 1], found 1.5` (the value
 * found cut at 80 characters). Declare the result with its type: TypeScript narrows only through an annotated
 * assertion function.
 * @example
 * const need: FieldCheck = fieldChecker((m) => new SizeRecordError(m));
 * need(isObject(x), "x.json", "a JSON object", x);
 */
export function fieldChecker(makeError: (message: string) => Error): FieldCheck {
  return (cond, where, what, got) => {
    if (!cond) throw makeError(`${where}: expected ${what}, found ${JSON.stringify(got)?.slice(0, 80) ?? String(got)}`);
  };
}

/** A plain JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, any> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
/** A string with something other than spaces in it. */
export const isText = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";
/** An integer ≥ 1. */
export const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
