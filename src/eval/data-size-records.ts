/**
 * How much data a task needs, as recorded (`docs/recorded/data-size/*.json`, format "tunebook-data-size-record"
 * version 1): one model fine-tuned on nested subsets of growing size, several seeds per size (the seed draws the
 * subset and orders the training), each run scored on the same test items. One file per run of the recorder
 * (`scripts/record/data-size.ts`), saying which machine, when, with which software and recipe. The loader checks
 * every field and names the file and the field that is wrong; `curveStats` turns the rows into mean and spread
 * per size, `dataSizeFigure` plots them (with a learner's own live points on top). The format is described in
 * docs/recorded/data-size/README.md.
 */
import * as path from "node:path";
import type { PlotlyFigure } from "../types/figure";
import {
  readJsonRecords,
  type FieldCheck,
  fieldChecker,
  isObject,
  isText,
  isPositiveInt,
} from "../runtime/json-records";

export const DATA_SIZE_FORMAT = "tunebook-data-size-record";
export const DATA_SIZE_VERSION = 1;

/** Metrics a curve can be recorded in (all in [0, 1], higher is better). */
export const DATA_SIZE_METRICS = ["accuracy", "exactMatch", "f1"] as const;
export type DataSizeMetric = (typeof DATA_SIZE_METRICS)[number];

/** One run: one subset size, one seed. */
export interface DataSizeRow {
  examples: number;
  seed: number;
  /** Optimizer updates the run made. */
  steps: number;
  /** The record's metric on the test items, in [0, 1]. */
  value: number;
  /** Loss of the last update; loss on the test answers (null when the run did not score them). */
  trainLoss: number;
  evalLoss: number | null;
  seconds: number;
}

export interface DataSizeRecord {
  format: typeof DATA_SIZE_FORMAT;
  version: typeof DATA_SIZE_VERSION;
  /** Short label for legends, e.g. "spam, embedded model, 2-core Zen 5". */
  label: string;
  /** ISO date of the run. */
  date: string;
  /** Where it ran: the CPU in words, its core count, the tfjs backend and what does the matmuls. */
  machine: { cpu: string; cpus: number; backend: string; matmul: string; [k: string]: unknown };
  /** Versions: node, tfjs, tunebook, ... */
  software: Record<string, string>;
  /** How it was run, in one or two sentences. */
  method: string;
  /** Dataset name (e.g. "spam") and the model fine-tuned. */
  task: string;
  model: string;
  metric: DataSizeMetric;
  /** Test items every run was scored on. */
  testItems: number;
  /** The metric of a reference that learned nothing (e.g. the majority-class rate), or null. */
  baseline: { name: string; value: number } | null;
  /** The one recipe: updates per run = clamp(ceil(epochs × examples / batchSize), minSteps, maxSteps). */
  recipe: {
    lr: number;
    batchSize: number;
    maxLength: number;
    warmupSteps: number;
    epochs: number;
    minSteps: number;
    maxSteps: number;
  };
  rows: DataSizeRow[];
  notes?: string;
  /** The file it came from (added by the loader). */
  file?: string;
}

/** A data-size record that does not follow the format: the message names the file and the field. */
export class DataSizeRecordError extends Error {
  override name = "DataSizeRecordError";
}

const need: FieldCheck = fieldChecker((m) => new DataSizeRecordError(m));

const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const unit = (v: unknown) => finite(v) && (v as number) >= 0 && (v as number) <= 1;

/**
 * Check a parsed data-size record; `source` names it in errors.
 * @example
 * validateDataSizeRecord(JSON.parse(isText), "x.json"); // throws "x.json: rows[3].value: expected a number in [0, 1], ..."
 */
export function validateDataSizeRecord(x: unknown, source = "data-size record"): DataSizeRecord {
  need(isObject(x), source, "a JSON object", x);
  need(x.format === DATA_SIZE_FORMAT, `${source}: format`, `"${DATA_SIZE_FORMAT}"`, x.format);
  need(x.version === DATA_SIZE_VERSION, `${source}: version`, String(DATA_SIZE_VERSION), x.version);
  for (const f of ["label", "method", "task", "model"])
    need(isText(x[f]), `${source}: ${f}`, "a non-empty string", x[f]);
  need(
    typeof x.date === "string" && /^\d{4}-\d{2}-\d{2}/.test(x.date) && !Number.isNaN(Date.parse(x.date)),
    `${source}: date`,
    "an ISO date string",
    x.date,
  );
  need(isObject(x.machine), `${source}: machine`, "{ cpu, cpus, backend, matmul }", x.machine);
  for (const f of ["cpu", "backend", "matmul"])
    need(isText(x.machine[f]), `${source}: machine.${f}`, "a non-empty string", x.machine[f]);
  need(isPositiveInt(x.machine.cpus), `${source}: machine.cpus`, "an integer > 0", x.machine.cpus);
  need(
    isObject(x.software) && Object.values(x.software).every(isText),
    `${source}: software`,
    "an object of version strings",
    x.software,
  );
  for (const k of ["node", "tfjs", "tunebook"])
    need(isText(x.software[k]), `${source}: software.${k}`, "a version string", x.software[k]);
  need(
    (DATA_SIZE_METRICS as readonly string[]).includes(x.metric),
    `${source}: metric`,
    `one of ${DATA_SIZE_METRICS.join(", ")}`,
    x.metric,
  );
  need(isPositiveInt(x.testItems), `${source}: testItems`, "an integer > 0", x.testItems);
  need(
    x.baseline === null || (isObject(x.baseline) && isText(x.baseline.name) && unit(x.baseline.value)),
    `${source}: baseline`,
    "null or { name, value in [0, 1] }",
    x.baseline,
  );
  const r = x.recipe;
  need(isObject(r), `${source}: recipe`, "{ lr, batchSize, maxLength, warmupSteps, epochs, minSteps, maxSteps }", r);
  need(finite(r.lr) && r.lr > 0 && r.lr < 1, `${source}: recipe.lr`, "a learning rate in (0, 1)", r.lr);
  for (const f of ["batchSize", "maxLength", "minSteps", "maxSteps"])
    need(isPositiveInt(r[f]), `${source}: recipe.${f}`, "an integer > 0", r[f]);
  need(
    Number.isInteger(r.warmupSteps) && r.warmupSteps >= 0,
    `${source}: recipe.warmupSteps`,
    "an integer ≥ 0",
    r.warmupSteps,
  );
  need(finite(r.epochs) && r.epochs > 0, `${source}: recipe.epochs`, "a number > 0", r.epochs);
  need(r.maxSteps >= r.minSteps, `${source}: recipe.maxSteps`, `at least recipe.minSteps (${r.minSteps})`, r.maxSteps);
  need(Array.isArray(x.rows) && x.rows.length > 0, `${source}: rows`, "a non-empty array", x.rows);
  const seen = new Set<string>();
  x.rows.forEach((e: any, i: number) => {
    const w = `${source}: rows[${i}]`;
    need(isObject(e), w, "an object", e);
    for (const f of ["examples", "steps"]) need(isPositiveInt(e[f]), `${w}.${f}`, "an integer > 0", e[f]);
    need(Number.isInteger(e.seed), `${w}.seed`, "an integer", e.seed);
    need(
      !seen.has(`${e.examples}/${e.seed}`),
      `${w}`,
      `one row per size and seed (${e.examples} × seed ${e.seed} is listed twice)`,
      e.seed,
    );
    seen.add(`${e.examples}/${e.seed}`);
    need(unit(e.value), `${w}.value`, "a number in [0, 1]", e.value);
    need(finite(e.trainLoss) && e.trainLoss >= 0, `${w}.trainLoss`, "a number ≥ 0", e.trainLoss);
    need(
      e.evalLoss === null || (finite(e.evalLoss) && e.evalLoss >= 0),
      `${w}.evalLoss`,
      "a number ≥ 0 or null",
      e.evalLoss,
    );
    need(finite(e.seconds) && e.seconds >= 0, `${w}.seconds`, "a number ≥ 0", e.seconds);
  });
  if (x.notes !== undefined) need(typeof x.notes === "string", `${source}: notes`, "a string", x.notes);
  return x as unknown as DataSizeRecord;
}

/** Where data-size records live: `docs/recorded/data-size` of the package. */
export function dataSizeRecordsDir(): string {
  return path.resolve(__dirname, "..", "..", "docs", "recorded", "data-size");
}

/**
 * Load every `*.json` data-size record in `dir` (sorted by file name); an absent folder gives []. A malformed
 * file is an error naming it and its field.
 * @example
 * const [rec] = loadDataSizeRecords();
 */
export function loadDataSizeRecords(dir: string = dataSizeRecordsDir()): DataSizeRecord[] {
  return readJsonRecords(dir, validateDataSizeRecord, (m) => new DataSizeRecordError(m));
}

/** Mean and spread of one size's runs. */
export interface CurvePoint {
  examples: number;
  runs: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single run. */
  std: number;
  min: number;
  max: number;
}

/**
 * Per size (smallest first): the number of runs, their mean, sample standard deviation, min and max.
 * @example
 * curveStats([{ examples: 8, value: 0.5 }, { examples: 8, value: 0.7 }]); // [{ examples: 8, runs: 2, mean: 0.6, std: 0.141…, min: 0.5, max: 0.7 }]
 */
export function curveStats(rows: readonly { examples: number; value: number }[]): CurvePoint[] {
  const by = new Map<number, number[]>();
  for (const [i, r] of rows.entries()) {
    if (!(Number.isInteger(r?.examples) && r.examples > 0))
      throw new Error(`curveStats: rows[${i}].examples must be an integer > 0, found ${r?.examples}`);
    if (!finite(r.value)) throw new Error(`curveStats: rows[${i}].value must be a finite number, found ${r.value}`);
    if (!by.has(r.examples)) by.set(r.examples, []);
    by.get(r.examples)!.push(r.value);
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([examples, v]) => {
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
      return { examples, runs: v.length, mean, std, min: Math.min(...v), max: Math.max(...v) };
    });
}

const METRIC_LABEL: Record<DataSizeMetric, string> = {
  accuracy: "accuracy",
  exactMatch: "exact match",
  f1: "token F1",
};

/**
 * The recorded curve: the mean per size with min–max error bars (the full spread of the seeds), each seed's run
 * as a faint dot, the baseline dashed; x is the number of training examples on a log axis. `live` adds points
 * measured in this session (e.g. the smallest and largest size, one seed) in another colour.
 * @example
 * show(dataSizeFigure(rec, { live: rows.map((r) => ({ examples: r.examples, value: r.accuracy! })) }));
 */
export function dataSizeFigure(
  rec: DataSizeRecord,
  opts: { live?: readonly { examples: number; value: number }[]; liveName?: string; title?: string } = {},
): PlotlyFigure {
  const stats = curveStats(rec.rows);
  const label = METRIC_LABEL[rec.metric];
  const xs = stats.map((p) => p.examples);
  const data: Record<string, unknown>[] = [
    {
      type: "scatter",
      mode: "markers",
      name: "recorded runs (one per seed)",
      x: rec.rows.map((r) => r.examples),
      y: rec.rows.map((r) => r.value),
      marker: { color: "rgba(31,119,180,0.35)", size: 6 },
      hovertemplate: "%{x} examples: %{y:.3f}<extra>one seed</extra>",
    },
    {
      type: "scatter",
      mode: "lines+markers",
      name: `recorded ${rec.date.slice(0, 10)} on ${rec.machine.cpu}: mean of ${Math.max(...stats.map((p) => p.runs))} seeds, min–max bars`,
      x: xs,
      y: stats.map((p) => p.mean),
      error_y: {
        type: "data",
        symmetric: false,
        array: stats.map((p) => p.max - p.mean),
        arrayminus: stats.map((p) => p.mean - p.min),
      },
      line: { color: "rgb(31,119,180)" },
    },
  ];
  if (rec.baseline)
    data.push({
      type: "scatter",
      mode: "lines",
      name: rec.baseline.name,
      x: [Math.min(...xs), Math.max(...xs)],
      y: [rec.baseline.value, rec.baseline.value],
      line: { dash: "dash", color: "gray" },
    });
  if (opts.live?.length)
    data.push({
      type: "scatter",
      mode: "markers",
      name: opts.liveName ?? "this run (live)",
      x: opts.live.map((p) => p.examples),
      y: opts.live.map((p) => p.value),
      marker: { color: "rgb(214,39,40)", size: 11, symbol: "diamond" },
    });
  return {
    data,
    layout: {
      title: { text: opts.title ?? `${rec.task}: ${label} by number of training examples (${rec.model})` },
      xaxis: { title: { text: "training examples (log scale)" }, type: "log" },
      yaxis: { title: { text: `${label} on ${rec.testItems} test items` } },
      legend: { orientation: "h" },
    },
  };
}
