/**
 * Recorded scaling numbers from other machines (`docs/recorded/*.json`, format "tunebook-scaling-record"
 * version 1): what notebook 05 shows when this machine has no GPU. Every file says which machine, when,
 * with which software and how it measured; the loader checks each field and names the one that is wrong.
 * Files come from scripts/device/gpu-scaling.sh (PyTorch, and tunebook itself on WebGPU).
 */
import * as path from "node:path";
import { readJsonRecords, type FieldCheck, fieldChecker } from "../runtime/json-records";

export const RECORD_FORMAT = "tunebook-scaling-record";
export const RECORD_VERSION = 1;

/** One measured configuration; numbers are null (with `error`) when it did not run. */
export interface RecordedRow {
  model: string;
  params: number | null;
  /** "fp32", "bf16-amp", ... */
  precision: string;
  batch: number;
  seq: number;
  stepSeconds: number | null;
  tokensPerSecond: number | null;
  peakMemoryBytes: number | null;
  /** Every timed step (seconds), where the recorder kept them. */
  stepSecondsAll?: number[];
  error?: string;
}

export interface Recording {
  format: typeof RECORD_FORMAT;
  version: number;
  /** Short label for legends, e.g. "PyTorch 2.11.0 on NVIDIA H200". */
  label: string;
  framework: "pytorch" | "tunebook" | string;
  /** ISO date of the run. */
  date: string;
  machine: { gpu: string; [k: string]: unknown };
  software: Record<string, string>;
  /** How it was measured, in one sentence. */
  method: string;
  notes?: string;
  rows: RecordedRow[];
  /** The file it came from (added by the loader). */
  file?: string;
}

/** A recording file that does not follow the format: the message names the file and the field. */
export class RecordingError extends Error {
  override name = "RecordingError";
}

const need: FieldCheck = fieldChecker((m) => new RecordingError(m));

const numOrNull = (v: unknown) => v === null || (typeof v === "number" && Number.isFinite(v) && v >= 0);

/**
 * Check a parsed recording; `source` names it in errors.
 *
 * @example
 * validateRecording(JSON.parse(text), "docs/recorded/x.json"); // throws RecordingError "x.json: rows[2].stepSeconds: ..."
 */
export function validateRecording(x: any, source = "recording"): Recording {
  need(x !== null && typeof x === "object" && !Array.isArray(x), source, "a JSON object", typeof x);
  need(x.format === RECORD_FORMAT, `${source}: format`, `"${RECORD_FORMAT}"`, x.format);
  need(x.version === RECORD_VERSION, `${source}: version`, `${RECORD_VERSION}`, x.version);
  for (const f of ["label", "framework", "method"])
    need(typeof x[f] === "string" && x[f].trim() !== "", `${source}: ${f}`, "a non-empty string", x[f]);
  need(
    typeof x.date === "string" && !Number.isNaN(Date.parse(x.date)),
    `${source}: date`,
    "an ISO date string",
    x.date,
  );
  need(
    x.machine && typeof x.machine === "object" && typeof x.machine.gpu === "string" && x.machine.gpu !== "",
    `${source}: machine.gpu`,
    "a non-empty string naming the accelerator",
    x.machine?.gpu,
  );
  need(
    x.software && typeof x.software === "object" && Object.values(x.software).every((v) => typeof v === "string"),
    `${source}: software`,
    "an object of version strings",
    x.software,
  );
  need(Array.isArray(x.rows) && x.rows.length > 0, `${source}: rows`, "a non-empty array", x.rows);
  x.rows.forEach((r: any, i: number) => {
    const w = `${source}: rows[${i}]`;
    need(r && typeof r === "object", w, "an object", r);
    need(typeof r.model === "string" && r.model !== "", `${w}.model`, "a model name", r.model);
    need(
      typeof r.precision === "string" && r.precision !== "",
      `${w}.precision`,
      "a precision name (fp32, bf16-amp, ...)",
      r.precision,
    );
    for (const f of ["batch", "seq"]) need(Number.isInteger(r[f]) && r[f] >= 1, `${w}.${f}`, "an integer ≥ 1", r[f]);
    for (const f of ["params", "stepSeconds", "tokensPerSecond", "peakMemoryBytes"])
      need(numOrNull(r[f]), `${w}.${f}`, "a number ≥ 0 or null", r[f]);
    if (r.stepSecondsAll !== undefined) {
      need(Array.isArray(r.stepSecondsAll), `${w}.stepSecondsAll`, "an array of seconds", r.stepSecondsAll);
      r.stepSecondsAll.forEach((s: unknown, j: number) =>
        need(typeof s === "number" && Number.isFinite(s) && s > 0, `${w}.stepSecondsAll[${j}]`, "a number > 0", s),
      );
    }
    if (r.error === undefined) {
      for (const f of ["params", "stepSeconds", "tokensPerSecond"])
        need(typeof r[f] === "number" && r[f] > 0, `${w}.${f}`, "a number > 0 (or an `error` saying why not)", r[f]);
    } else need(typeof r.error === "string", `${w}.error`, "a string", r.error);
  });
  return x as Recording;
}

/** The folder recordings live in: `docs/recorded` of the package. */
export function recordedDir(): string {
  return path.resolve(__dirname, "..", "..", "docs", "recorded");
}

/**
 * Load every `*.json` recording in `dir` (sorted by file name); an absent or empty folder gives [].
 * A malformed file is an error naming it and its field (never a silently skipped number).
 *
 * @example
 * const recs = loadRecordings();          // [] when nothing was recorded yet
 * recs.map((r) => `${r.label} (${r.date})`);
 */
export function loadRecordings(dir: string = recordedDir()): Recording[] {
  return readJsonRecords(dir, validateRecording, (m) => new RecordingError(m));
}

/** Rows of all recordings flattened for a table or plot, each with its recording's label and date. */
export function recordedRows(
  recs: readonly Recording[],
): (RecordedRow & { label: string; date: string; gpu: string })[] {
  return recs.flatMap((r) =>
    r.rows.map((row) => ({
      ...row,
      label: `${r.label} · ${row.precision}`,
      date: r.date.slice(0, 10),
      gpu: r.machine.gpu,
    })),
  );
}
