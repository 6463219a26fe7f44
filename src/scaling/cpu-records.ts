/**
 * The training step of notebook 05 recorded on a CPU (`docs/recorded/cpu-scaling/*.json`, format
 * "tunebook-cpu-scaling-record" version 1; docs/recorded/cpu-scaling/README.md): what the notebook plots when a
 * live run at the GPU recordings' batch shape would take too long. Every file says which CPU, backend and matmul
 * engine, when, with which software and how; each row keeps every timed step and the 1-minute load average at
 * each, because the recording machine may be shared. scripts/record/cpu-scaling.ts writes them; the loader checks
 * every field and names the file and the field that is wrong.
 */
import * as path from "node:path";
import {
  readJsonRecords,
  type FieldCheck,
  fieldChecker,
  isObject,
  isText,
  isPositiveInt,
} from "../runtime/json-records";
import { throughputPoint, type ThroughputPoint } from "./throughput";

export const CPU_RECORD_FORMAT = "tunebook-cpu-scaling-record";
export const CPU_RECORD_VERSION = 1;

/** One model at one batch shape; `stepSecondsAll` is empty (and `error` says why) when it did not run. */
export interface CpuRecordRow {
  model: string;
  /** All parameters. */
  params: number;
  /** N of 6·N: all parameters except the input embedding. */
  flopParams: number;
  batch: number;
  seq: number;
  /** Untimed steps before the timed ones. */
  warmupSteps: number;
  /** Every timed step, seconds, in order. */
  stepSecondsAll: number[];
  /** `os.loadavg()[0]` at the end of each timed step (same length as stepSecondsAll). */
  loadAverage1m: number[];
  /** Loss of the first step (≈ ln(vocab) for random weights), or null. */
  firstLoss: number | null;
  error?: string;
}

export interface CpuRecord {
  format: typeof CPU_RECORD_FORMAT;
  version: typeof CPU_RECORD_VERSION;
  /** Legend label, e.g. "tunebook on AMD EPYC (Zen 5), 2 cores, wasm". */
  label: string;
  /** ISO date of the run. */
  date: string;
  machine: { cpu: string; cores: number; [k: string]: unknown };
  /** tfjs backend: "wasm", "cpu", "tensorflow". */
  backend: string;
  /** What ran the matmuls, e.g. "OpenBLAS 0.3.21 (Cooperlake), 2 threads". */
  matmul: string;
  /** "fp32" (all tfjs computes). */
  precision: string;
  software: Record<string, string>;
  method: string;
  /** `os.loadavg()` ([1, 5, 15] minutes) before and after the run. */
  loadAverage: { before: number[]; after: number[] };
  notes?: string;
  rows: CpuRecordRow[];
  /** The file it came from (added by the loader). */
  file?: string;
}

/** A CPU record that does not follow the format: the message names the file and the field. */
export class CpuRecordError extends Error {
  override name = "CpuRecordError";
}

const need: FieldCheck = fieldChecker((m) => new CpuRecordError(m));

const nonNeg = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
const loads = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every(nonNeg);

/**
 * Check a parsed CPU record; `source` names it in errors.
 *
 * @example
 * validateCpuRecord(JSON.parse(isText), "x.json"); // throws CpuRecordError "x.json: rows[1].stepSecondsAll[2]: ..."
 */
export function validateCpuRecord(x: any, source = "cpu record"): CpuRecord {
  need(isObject(x), source, "a JSON object", Array.isArray(x) ? "an array" : x);
  need(x.format === CPU_RECORD_FORMAT, `${source}: format`, `"${CPU_RECORD_FORMAT}"`, x.format);
  need(x.version === CPU_RECORD_VERSION, `${source}: version`, `${CPU_RECORD_VERSION}`, x.version);
  for (const f of ["label", "backend", "matmul", "precision", "method"])
    need(isText(x[f]), `${source}: ${f}`, "a non-empty string", x[f]);
  need(isText(x.date) && !Number.isNaN(Date.parse(x.date)), `${source}: date`, "an ISO date string", x.date);
  need(
    isObject(x.machine) && isText(x.machine.cpu),
    `${source}: machine.cpu`,
    "a string naming the CPU",
    x.machine?.cpu,
  );
  need(isPositiveInt(x.machine.cores), `${source}: machine.cores`, "an integer ≥ 1", x.machine.cores);
  need(
    isObject(x.software) && Object.values(x.software).every((v) => typeof v === "string"),
    `${source}: software`,
    "an object of version strings",
    x.software,
  );
  need(isObject(x.loadAverage), `${source}: loadAverage`, "an object {before, after}", x.loadAverage);
  for (const f of ["before", "after"])
    need(loads(x.loadAverage[f]), `${source}: loadAverage.${f}`, "three numbers ≥ 0 (1, 5, 15 min)", x.loadAverage[f]);
  need(x.notes === undefined || typeof x.notes === "string", `${source}: notes`, "a string", x.notes);
  need(Array.isArray(x.rows) && x.rows.length > 0, `${source}: rows`, "a non-empty array", x.rows);
  x.rows.forEach((r: any, i: number) => {
    const w = `${source}: rows[${i}]`;
    need(isObject(r), w, "an object", r);
    need(isText(r.model), `${w}.model`, "a model name", r.model);
    for (const f of ["params", "flopParams", "batch", "seq"])
      need(isPositiveInt(r[f]), `${w}.${f}`, "an integer ≥ 1", r[f]);
    need(r.flopParams <= r.params, `${w}.flopParams`, `at most params (${r.params})`, r.flopParams);
    need(Number.isInteger(r.warmupSteps) && r.warmupSteps >= 0, `${w}.warmupSteps`, "an integer ≥ 0", r.warmupSteps);
    need(Array.isArray(r.stepSecondsAll), `${w}.stepSecondsAll`, "an array of seconds", r.stepSecondsAll);
    r.stepSecondsAll.forEach((s: unknown, j: number) =>
      need(typeof s === "number" && Number.isFinite(s) && s > 0, `${w}.stepSecondsAll[${j}]`, "a number > 0", s),
    );
    need(
      Array.isArray(r.loadAverage1m) && r.loadAverage1m.length === r.stepSecondsAll.length,
      `${w}.loadAverage1m`,
      `an array as long as stepSecondsAll (${r.stepSecondsAll.length})`,
      r.loadAverage1m,
    );
    r.loadAverage1m.forEach((s: unknown, j: number) => need(nonNeg(s), `${w}.loadAverage1m[${j}]`, "a number ≥ 0", s));
    need(
      r.firstLoss === null || (typeof r.firstLoss === "number" && Number.isFinite(r.firstLoss)),
      `${w}.firstLoss`,
      "a number or null",
      r.firstLoss,
    );
    if (r.error === undefined)
      need(r.stepSecondsAll.length > 0, `${w}.stepSecondsAll`, "at least one step (or an `error` saying why not)", []);
    else need(isText(r.error), `${w}.error`, "a non-empty string", r.error);
  });
  return x as CpuRecord;
}

/** The folder CPU records live in: `docs/recorded/cpu-scaling` of the package. */
export function cpuRecordedDir(): string {
  return path.resolve(__dirname, "..", "..", "docs", "recorded", "cpu-scaling");
}

/**
 * Load every `*.json` CPU record in `dir` (sorted by name); an absent folder gives []. A malformed file is one
 * error naming the file and the field.
 *
 * @example
 * loadCpuRecords().map((r) => `${r.label} (${r.date.slice(0, 10)})`);
 */
export function loadCpuRecords(dir: string = cpuRecordedDir()): CpuRecord[] {
  return readJsonRecords(dir, validateCpuRecord, (m) => new CpuRecordError(m));
}

/**
 * A CPU record's measured rows as throughput points (rows with an `error` are left out), one series per shape.
 *
 * @example
 * cpuRecordPoints(loadCpuRecords()[0]).map((p) => [p.model, p.batch, p.seq, p.tokensPerSecondBest]);
 */
export function cpuRecordPoints(rec: CpuRecord): ThroughputPoint[] {
  const cpu = rec.machine.cpu.replace(/\(\w+ (family \d)/, "($1").replace(/, \d+ CPUs?$/, "");
  const machine = `${cpu}, ${rec.machine.cores} cores`;
  const backend = `${rec.backend} + ${rec.matmul.split(",")[0]}`;
  return rec.rows
    .filter((r) => r.error === undefined)
    .map((r) =>
      throughputPoint(
        { ...r, stepSeconds: r.stepSecondsAll },
        {
          series: `${machine} · tunebook ${backend} · ${rec.precision} · B×T ${r.batch}×${r.seq} (recorded ${rec.date.slice(0, 10)})`,
          source: "recorded",
          machine,
          backend,
          dtype: rec.precision,
          date: rec.date.slice(0, 10),
        },
      ),
    );
}
