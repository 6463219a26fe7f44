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
