/**
 * Describing a dataset: counts, length statistics per field, label balance. Used by the datasheets, by
 * `tunebook data stats` and by notebook 01's plots.
 */
import { SCHEMAS, type SchemaName } from "./schema";

/** Summary of a list of numbers. */
export interface LengthStats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  max: number;
}

/**
 * Min, mean, median, 90th percentile (nearest rank) and max.
 * @example
 * lengthStats([1, 2, 3, 4]); // { count: 4, min: 1, mean: 2.5, p50: 2, p90: 4, max: 4 }
 */
export function lengthStats(values: readonly number[]): LengthStats {
  if (!values.length) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, max: 0 };
  const s = [...values].sort((a, b) => a - b);
  const rank = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return {
    count: s.length,
    min: s[0],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: rank(0.5),
    p90: rank(0.9),
    max: s[s.length - 1],
  };
}

/** Count of each label, most frequent first (ties by name). */
export function labelCounts(records: readonly Record<string, unknown>[], field = "label"): [string, number][] {
  const m = new Map<string, number>();
  for (const r of records) {
    const v = String(r[field]);
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** What `datasetStats` reports. */
export interface DatasetStats {
  records: number;
  schema?: SchemaName;
  /** Character lengths of each text field of the schema present in the records. */
  chars: Record<string, LengthStats>;
  /** For classification: label → count, and the share of the most frequent label (what always guessing it scores). */
  labels?: Record<string, number>;
  majorityRate?: number;
}

/**
 * Counts and character-length statistics of a dataset's text fields.
 * @example
 * datasetStats(records, "classification").majorityRate; // 0.5 for a balanced set
 */
export function datasetStats(records: readonly Record<string, unknown>[], schema?: SchemaName): DatasetStats {
  const fields = schema
    ? [...SCHEMAS[schema].required, ...SCHEMAS[schema].optional, ...(SCHEMAS[schema].oneOf ?? []).flat()]
    : [...new Set(records.flatMap((r) => Object.keys(r)))];
  const chars: Record<string, LengthStats> = {};
  for (const f of new Set(fields)) {
    const lens = records.filter((r) => typeof r[f] === "string").map((r) => (r[f] as string).length);
    if (lens.length) chars[f] = lengthStats(lens);
  }
  const out: DatasetStats = { records: records.length, schema, chars };
  if (schema === "classification" && records.length) {
    const lc = labelCounts(records);
    out.labels = Object.fromEntries(lc);
    out.majorityRate = lc[0][1] / records.length;
  }
  return out;
}

/**
 * Length of one text field in every record, in characters or whitespace-separated words (for histograms).
 * `where` keeps only records whose fields equal the given values. Records without the field are skipped.
 * @example
 * fieldLengths(spam.train, "text", { where: { label: "ham" } }); // [397, 214, ...]
 * fieldLengths([{ answer: "It adds two numbers." }], "answer", { unit: "words" }); // [4]
 */
export function fieldLengths(
  records: readonly Record<string, unknown>[],
  field: string,
  options: { unit?: "chars" | "words"; where?: Record<string, unknown> } = {},
): number[] {
  const where = Object.entries(options.where ?? {});
  return records
    .filter((r) => typeof r[field] === "string" && where.every(([k, v]) => r[k] === v))
    .map((r) =>
      options.unit === "words" ? (r[field] as string).split(/\s+/).filter(Boolean).length : (r[field] as string).length,
    );
}
