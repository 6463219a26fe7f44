/**
 * Recorded PEFT comparisons (`docs/recorded/peft-compare/*.json`, format "tunebook-peft-compare" version 1,
 * written by scripts/record/peft-compare.ts; docs/recorded/peft-compare/README.md describes the fields): full
 * fine-tuning, LoRA at several ranks and BitFit, each trained with one recipe and several seeds and scored on the
 * same held-out records, with trainable parameters, speed and one step's memory. The loader checks every field
 * and names the file and the field that is wrong; notebook 06 plots the record and states what it shows.
 */
import * as path from "node:path";
import {
  readJsonRecords,
  type FieldCheck,
  fieldChecker,
  isObject,
  isText,
  isPositiveInt,
} from "../../runtime/json-records";
import type { PlotlyFigure } from "../../types/figure";
import type { StepMemory } from "./memory";
import type { PeftRecipe, PeftRow } from "./peft-compare";

export const PEFT_RECORD_FORMAT = "tunebook-peft-compare";
export const PEFT_RECORD_VERSION = 1;

/** One step's memory of one method (measured in a child process: `measureStepMemoryInChild`). */
export interface PeftMemory extends StepMemory {
  label: string;
}

export interface PeftRecord {
  format: typeof PEFT_RECORD_FORMAT;
  version: typeof PEFT_RECORD_VERSION;
  /** Short label, e.g. "2-core Zen 5, wasm". */
  label: string;
  /** ISO date of the run. */
  date: string;
  /** The CPU model (os.cpus()), its logical cores, and anything else known. */
  machine: { cpu: string; cores: number; [k: string]: unknown };
  /** The tfjs backend. */
  backend: string;
  /** Versions: node, tfjs, tunebook. */
  software: Record<string, string>;
  /** How it was run, in one sentence. */
  method: string;
  /** The model: name and parameter count. */
  model: { name: string; parameters: number };
  /** The task: dataset, metric, and how many records were trained on / scored. */
  task: { dataset: string; metric: string; trainRecords: number; testRecords: number };
  /** The recipe every run shared, and the seeds each configuration ran with. */
  recipe: PeftRecipe & { seeds: number[]; lrChoice: string };
  /** The base model's score on the same test records (before any training). */
  baseAccuracy: number;
  rows: PeftRow[];
  memory: PeftMemory[];
  notes?: string;
  /** The file it came from (added by the loader). */
  file?: string;
}

/** A PEFT record that does not follow the format: the message names the file and the field. */
export class PeftRecordError extends Error {
  override name = "PeftRecordError";
}

const need: FieldCheck = fieldChecker((m) => new PeftRecordError(m));

const nonNegInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const pos = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;
const unit = (v: unknown) => typeof v === "number" && v >= 0 && v <= 1;
const METHODS = ["full", "lora", "bitfit"];

/**
 * Check a parsed PEFT record; `source` names it in errors.
 *
 * @example
 * validatePeftRecord(JSON.parse(isText), "docs/recorded/peft-compare/x.json"); // throws "x.json: rows[3].accuracy: ..."
 */
export function validatePeftRecord(x: unknown, source = "peft record"): PeftRecord {
  need(isObject(x), source, "a JSON object", x);
  need(x.format === PEFT_RECORD_FORMAT, `${source}: format`, `"${PEFT_RECORD_FORMAT}"`, x.format);
  need(x.version === PEFT_RECORD_VERSION, `${source}: version`, String(PEFT_RECORD_VERSION), x.version);
  for (const f of ["label", "method", "backend"]) need(isText(x[f]), `${source}: ${f}`, "a non-empty string", x[f]);
  need(
    typeof x.date === "string" && /^\d{4}-\d{2}-\d{2}/.test(x.date) && !Number.isNaN(Date.parse(x.date)),
    `${source}: date`,
    "an ISO date string",
    x.date,
  );
  need(isObject(x.machine) && isText(x.machine.cpu), `${source}: machine.cpu`, "the CPU model", x.machine?.cpu);
  need(isPositiveInt(x.machine.cores), `${source}: machine.cores`, "a positive integer", x.machine.cores);
  need(
    isObject(x.software) && Object.values(x.software).every(isText),
    `${source}: software`,
    "an object of version strings",
    x.software,
  );
  for (const k of ["node", "tfjs", "tunebook"])
    need(isText(x.software[k]), `${source}: software.${k}`, "a version string", x.software[k]);
  need(isObject(x.model) && isText(x.model.name), `${source}: model.name`, "a non-empty string", x.model?.name);
  need(isPositiveInt(x.model.parameters), `${source}: model.parameters`, "a positive integer", x.model.parameters);
  const t = x.task;
  need(isObject(t), `${source}: task`, "{ dataset, metric, trainRecords, testRecords }", t);
  for (const f of ["dataset", "metric"]) need(isText(t[f]), `${source}: task.${f}`, "a non-empty string", t[f]);
  for (const f of ["trainRecords", "testRecords"])
    need(isPositiveInt(t[f]), `${source}: task.${f}`, "a positive integer", t[f]);
  const r = x.recipe;
  need(isObject(r), `${source}: recipe`, "{ numSteps, batchSize, ... }", r);
  for (const f of ["numSteps", "batchSize", "maxLength", "testExamples"])
    need(isPositiveInt(r[f]), `${source}: recipe.${f}`, "a positive integer", r[f]);
  for (const f of ["warmupSteps", "textTokens"])
    need(nonNegInt(r[f]), `${source}: recipe.${f}`, "an integer ≥ 0", r[f]);
  need(isText(r.schedule), `${source}: recipe.schedule`, "a schedule name", r.schedule);
  need(isText(r.lrChoice), `${source}: recipe.lrChoice`, "a sentence on how each lr was chosen", r.lrChoice);
  need(
    Array.isArray(r.seeds) && r.seeds.length > 0 && r.seeds.every(nonNegInt),
    `${source}: recipe.seeds`,
    "a non-empty list of integer seeds",
    r.seeds,
  );
  need(unit(x.baseAccuracy), `${source}: baseAccuracy`, "a number in 0..1", x.baseAccuracy);
  need(Array.isArray(x.rows) && x.rows.length > 0, `${source}: rows`, "a non-empty list", x.rows);
  x.rows.forEach((row: any, i: number) => {
    const w = `${source}: rows[${i}]`;
    need(isObject(row), w, "an object", row);
    need(isText(row.label), `${w}.label`, "a non-empty string", row.label);
    need(METHODS.includes(row.method), `${w}.method`, METHODS.join(" | "), row.method);
    if (row.method === "lora") {
      need(isPositiveInt(row.r), `${w}.r`, "a positive integer (LoRA rank)", row.r);
      need(pos(row.alpha), `${w}.alpha`, "a positive number", row.alpha);
      need(isText(row.targets), `${w}.targets`, "the target modules", row.targets);
    } else for (const f of ["r", "alpha", "targets"]) need(row[f] === null, `${w}.${f}`, "null (not LoRA)", row[f]);
    need(pos(row.lr), `${w}.lr`, "a positive number", row.lr);
    need(nonNegInt(row.seed), `${w}.seed`, "an integer ≥ 0", row.seed);
    need(unit(row.accuracy), `${w}.accuracy`, "a number in 0..1", row.accuracy);
    need(isPositiveInt(row.count), `${w}.count`, "a positive integer", row.count);
    need(
      nonNegInt(row.correct) && row.correct <= row.count && Math.abs(row.correct / row.count - row.accuracy) < 1e-9,
      `${w}.correct`,
      "an integer ≤ count with correct / count = accuracy",
      row.correct,
    );
    need(isPositiveInt(row.trainableParams), `${w}.trainableParams`, "a positive integer", row.trainableParams);
    for (const f of ["tokensPerSec", "stepMs", "finalLoss"])
      need(pos(row[f]), `${w}.${f}`, "a positive number", row[f]);
  });
  need(Array.isArray(x.memory), `${source}: memory`, "a list (possibly empty)", x.memory);
  x.memory.forEach((m: any, i: number) => {
    const w = `${source}: memory[${i}]`;
    need(isObject(m) && isText(m.label), `${w}.label`, "a non-empty string", m?.label);
    need(METHODS.includes(m.mode), `${w}.mode`, METHODS.join(" | "), m.mode);
    for (const f of ["batchSize", "seqLen", "trainableParams", "tensorBytesBetweenSteps", "tensorPeakBytes"])
      need(isPositiveInt(m[f]), `${w}.${f}`, "a positive integer", m[f]);
    need(pos(m.stepMs), `${w}.stepMs`, "a positive number", m.stepMs);
    need(
      m.rssPeakBytes === undefined || isPositiveInt(m.rssPeakBytes),
      `${w}.rssPeakBytes`,
      "a positive integer",
      m.rssPeakBytes,
    );
  });
  if (x.notes !== undefined) need(typeof x.notes === "string", `${source}: notes`, "a string", x.notes);
  return x as unknown as PeftRecord;
}

/** Where PEFT records live: `docs/recorded/peft-compare` of the package. */
export function peftRecordsDir(): string {
  return path.resolve(__dirname, "..", "..", "..", "docs", "recorded", "peft-compare");
}

/**
 * Every `*.json` PEFT record in `dir`, sorted by file name; an absent folder gives []. A malformed file is one
 * error naming it and its field.
 *
 * @example
 * const [rec] = loadPeftRecords().slice(-1); // the latest record
 */
export function loadPeftRecords(dir: string = peftRecordsDir()): PeftRecord[] {
  return readJsonRecords(dir, validatePeftRecord, (m) => new PeftRecordError(m));
}

/** One configuration over its seeds. */
export interface PeftGroup {
  label: string;
  method: PeftRow["method"];
  r: number | null;
  lr: number;
  trainableParams: number;
  seeds: number;
  /** Accuracies of the seeds, and their mean, lowest and highest. */
  accuracies: number[];
  mean: number;
  min: number;
  max: number;
  /** Mean training tokens per second over the seeds. */
  tokensPerSec: number;
}

const METHOD_ORDER: Record<PeftRow["method"], number> = { full: 0, lora: 1, bitfit: 2 };

/**
 * Group rows by configuration (label): full fine-tuning, LoRA by rank, BitFit.
 *
 * @example
 * peftGroups(record.rows).map((g) => [g.label, g.mean]);
 */
export function peftGroups(rows: readonly PeftRow[]): PeftGroup[] {
  const by = new Map<string, PeftRow[]>();
  for (const r of rows) by.set(r.label, [...(by.get(r.label) ?? []), r]);
  const groups = [...by].map(([label, rs]) => {
    const acc = rs.map((r) => r.accuracy);
    return {
      label,
      method: rs[0].method,
      r: rs[0].r,
      lr: rs[0].lr,
      trainableParams: rs[0].trainableParams,
      seeds: rs.length,
      accuracies: acc,
      mean: acc.reduce((a, b) => a + b, 0) / acc.length,
      min: Math.min(...acc),
      max: Math.max(...acc),
      tokensPerSec: rs.reduce((a, r) => a + r.tokensPerSec, 0) / rs.length,
    };
  });
  return groups.sort((a, b) => METHOD_ORDER[a.method] - METHOD_ORDER[b.method] || (a.r ?? 0) - (b.r ?? 0));
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/**
 * The table of a comparison: one row per configuration (accuracy over seeds, trainable parameters, speed, and
 * the step memory where measured).
 *
 * @example
 * show(table(peftTable(record.rows, record.memory)));
 */
export function peftTable(
  rows: readonly PeftRow[],
  memory: readonly PeftMemory[] = [],
): Record<string, string | number>[] {
  return peftGroups(rows).map((g) => {
    const m = memory.find((x) => x.label === g.label);
    return {
      method: g.label,
      lr: g.lr,
      "trainable params": g.trainableParams.toLocaleString("en-US"),
      seeds: g.seeds,
      "accuracy (mean)": pct(g.mean),
      "accuracy (min–max)": g.seeds > 1 ? `${pct(g.min)} – ${pct(g.max)}` : "one seed",
      "tokens/s": Math.round(g.tokensPerSec),
      "step tensor peak (MB)": m ? (m.tensorPeakBytes / 1e6).toFixed(1) : "–",
      "process peak RSS (MB)": m?.rssPeakBytes ? (m.rssPeakBytes / 1e6).toFixed(0) : "–",
    };
  });
}

/**
 * Accuracy per configuration: a bar at the mean over seeds, a dot per seed, the base model as a dashed line.
 *
 * @example
 * show(peftFigure(record.rows, { baseAccuracy: record.baseAccuracy, title: "recorded 2026-12-05" }));
 */
export function peftFigure(
  rows: readonly PeftRow[],
  opts: { baseAccuracy?: number; title?: string } = {},
): PlotlyFigure {
  const groups = peftGroups(rows);
  const x = groups.map((g) => `${g.label}<br>${g.trainableParams.toLocaleString("en-US")} trained`);
  const data: Record<string, unknown>[] = [
    { type: "bar", name: "mean over seeds", x, y: groups.map((g) => 100 * g.mean), marker: { color: "#9ecae1" } },
    {
      type: "scatter",
      mode: "markers",
      name: "one seed",
      x: groups.flatMap((g, i) => g.accuracies.map(() => x[i])),
      y: groups.flatMap((g) => g.accuracies.map((a) => 100 * a)),
      marker: { color: "#08519c", size: 8 },
    },
  ];
  const shapes =
    opts.baseAccuracy === undefined
      ? []
      : [
          {
            type: "line",
            xref: "paper",
            x0: 0,
            x1: 1,
            y0: 100 * opts.baseAccuracy,
            y1: 100 * opts.baseAccuracy,
            line: { dash: "dash", color: "#888" },
          },
        ];
  return {
    data,
    layout: {
      title: opts.title ?? "Held-out accuracy by method",
      yaxis: { title: "test accuracy (%)", range: [0, 100] },
      shapes,
      annotations:
        opts.baseAccuracy === undefined
          ? []
          : [{ xref: "paper", x: 1, y: 100 * opts.baseAccuracy, text: "base model", showarrow: false, yshift: 10 }],
      height: 420,
    },
  };
}

/** What the comparison says about "LoRA is slightly less accurate than full fine-tuning". */
export interface PeftVerdict {
  full: PeftGroup;
  /** The LoRA configuration with the highest mean. */
  bestLora: PeftGroup;
  /** full mean − best LoRA mean (accuracy, 0–1). */
  gap: number;
  /** The larger of the two configurations' seed ranges (max − min); 0 with one seed. */
  spread: number;
  outcome: "lora-lower" | "no-measurable-difference" | "lora-higher" | "one-seed";
}

/**
 * Compare full fine-tuning with the best LoRA rank: the gap in mean accuracy against the seed-to-seed range.
 * A gap larger than either configuration's range counts as a difference; one seed cannot tell.
 *
 * @example
 * peftVerdict(record.rows).outcome; // "lora-lower", "no-measurable-difference", "lora-higher" or "one-seed"
 */
export function peftVerdict(rows: readonly PeftRow[]): PeftVerdict {
  const groups = peftGroups(rows);
  const full = groups.find((g) => g.method === "full");
  const loras = groups.filter((g) => g.method === "lora");
  if (!full || loras.length === 0) throw new Error("peftVerdict: need rows for full fine-tuning and for LoRA");
  const bestLora = loras.reduce((a, b) => (b.mean > a.mean ? b : a));
  const gap = full.mean - bestLora.mean;
  const spread = Math.max(full.max - full.min, bestLora.max - bestLora.min);
  const outcome =
    full.seeds < 2 || bestLora.seeds < 2
      ? "one-seed"
      : Math.abs(gap) <= spread
        ? "no-measurable-difference"
        : gap > 0
          ? "lora-lower"
          : "lora-higher";
  return { full, bestLora, gap, spread, outcome };
}

/**
 * The verdict in words, for the notebook's markdown (numbers from the rows).
 *
 * @example
 * show(markdown(peftVerdictMarkdown(record.rows)));
 */
export function peftVerdictMarkdown(rows: readonly PeftRow[]): string {
  const v = peftVerdict(rows);
  const pts = (x: number) => `${(100 * Math.abs(x)).toFixed(1)} points`;
  const head =
    `Full fine-tuning: **${pct(v.full.mean)}** (mean of ${v.full.seeds}); best LoRA (${v.bestLora.label}): ` +
    `**${pct(v.bestLora.mean)}** (mean of ${v.bestLora.seeds}). `;
  switch (v.outcome) {
    case "lora-lower":
      return (
        head +
        `LoRA is lower by ${pts(v.gap)}, more than the seed-to-seed range (${pts(v.spread)}): ` +
        "the chapter's *slightly lower accuracy* shows up here."
      );
    case "lora-higher":
      return (
        head +
        `LoRA is *higher* by ${pts(v.gap)}, more than the seed-to-seed range (${pts(v.spread)}): ` +
        "on this task and model the chapter's *slightly lower accuracy* does not show up; the opposite does."
      );
    case "no-measurable-difference":
      return (
        head +
        `The gap (${pts(v.gap)}, ${v.gap >= 0 ? "full ahead" : "LoRA ahead"}) is within the seed-to-seed range ` +
        `(${pts(v.spread)}): with these seeds the chapter's *slightly lower accuracy* cannot be told from noise.`
      );
    default:
      return (
        head +
        `The gap is ${pts(v.gap)} (${v.gap >= 0 ? "full ahead" : "LoRA ahead"}), from one seed each: ` +
        "one seed cannot tell a small difference from noise."
      );
  }
}
