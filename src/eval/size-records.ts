/**
 * What model size buys, as recorded on other machines (`docs/recorded/size-sweep/*.json`, format
 * "tunebook-size-record" version 1): every family member fine-tuned on the course tasks with one recipe (on a
 * GPU, through `tunebook export --engine hf`), then scored by tunebook's own `eval` on the test splits. One file
 * per run, saying which machine, when, with which software and recipe. The loader checks every field and names
 * the file and the field that is wrong; notebook 04 plots the metric against model size from these files.
 * scripts/device/README.md ("What model size buys") describes the run that writes them.
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

export const SIZE_RECORD_FORMAT = "tunebook-size-record";
export const SIZE_RECORD_VERSION = 1;

/** The course tasks a sweep covers (shipped dataset names) and the metric each is judged by. */
export const SIZE_TASKS = { "email-subject": "exactMatch", spam: "accuracy", "docs-qa": "f1" } as const;
export type SizeTask = keyof typeof SIZE_TASKS;
export type SizeMetric = "exactMatch" | "f1" | "accuracy" | "perplexity";

/**
 * The targets of issue 17 (part 4), on the test splits, for the default model as a learner runs it: drawn as a
 * dashed line so the curve shows at which size a target is reached.
 */
export const SIZE_TARGETS: Record<SizeTask, { metric: SizeMetric; value: number }> = {
  "email-subject": { metric: "exactMatch", value: 0.6 },
  spam: { metric: "accuracy", value: 0.9 },
  "docs-qa": { metric: "f1", value: 0.5 },
};

export interface SizeSample {
  input: string;
  expected: string;
  output: string;
}

export interface SizeResult {
  model: string;
  task: SizeTask;
  /** Test items scored. */
  testItems: number;
  /** 0–1, or null where the metric does not apply to the task. */
  exactMatch: number | null;
  f1: number | null;
  accuracy: number | null;
  /** Perplexity of the reference answers (> 0), or null. */
  perplexity: number | null;
  /** Exactly three answers, as `eval` wrote them. */
  samples: SizeSample[];
}

export interface SizeRecord {
  format: typeof SIZE_RECORD_FORMAT;
  version: typeof SIZE_RECORD_VERSION;
  /** Short label for legends, e.g. "tunebook family on NVIDIA H100". */
  label: string;
  /** ISO date of the run. */
  date: string;
  machine: { gpu: string; [k: string]: unknown };
  /** Versions: torch, transformers, peft, tunebook, ... */
  software: Record<string, string>;
  /** How it was run, in one sentence. */
  method: string;
  /** The one recipe every member was fine-tuned with. */
  recipe: { lr: number; numSteps: number; batchSize: number; maxLength?: number; lora?: string | null };
  models: { name: string; parameters: number }[];
  results: SizeResult[];
  notes?: string;
  /** The file it came from (added by the loader). */
  file?: string;
}

/** A size record that does not follow the format: the message names the file and the field. */
export class SizeRecordError extends Error {
  override name = "SizeRecordError";
}

const need: FieldCheck = fieldChecker((m) => new SizeRecordError(m));

const unitOrNull = (v: unknown) => v === null || (typeof v === "number" && v >= 0 && v <= 1);

/**
 * Check a parsed size record; `source` names it in errors.
 *
 * @example
 * validateSizeRecord(JSON.parse(isText), "docs/recorded/size-sweep/x.json"); // throws "x.json: results[3].f1: ..."
 */
export function validateSizeRecord(x: unknown, source = "size record"): SizeRecord {
  need(isObject(x), source, "a JSON object", x);
  need(x.format === SIZE_RECORD_FORMAT, `${source}: format`, `"${SIZE_RECORD_FORMAT}"`, x.format);
  need(x.version === SIZE_RECORD_VERSION, `${source}: version`, String(SIZE_RECORD_VERSION), x.version);
  for (const f of ["label", "method"]) need(isText(x[f]), `${source}: ${f}`, "a non-empty string", x[f]);
  need(
    typeof x.date === "string" && /^\d{4}-\d{2}-\d{2}/.test(x.date) && !Number.isNaN(Date.parse(x.date)),
    `${source}: date`,
    "an ISO date string",
    x.date,
  );
  need(
    isObject(x.machine) && isText(x.machine.gpu),
    `${source}: machine.gpu`,
    "a non-empty string naming the accelerator",
    x.machine?.gpu,
  );
  need(
    isObject(x.software) && Object.keys(x.software).length > 0 && Object.values(x.software).every(isText),
    `${source}: software`,
    "an object of version strings",
    x.software,
  );
  for (const k of ["torch", "transformers", "tunebook"])
    need(isText(x.software[k]), `${source}: software.${k}`, "a version string", x.software[k]);
  const r = x.recipe;
  need(isObject(r), `${source}: recipe`, "{ lr, numSteps, batchSize, ... }", r);
  need(typeof r.lr === "number" && r.lr > 0 && r.lr < 1, `${source}: recipe.lr`, "a learning rate in (0, 1)", r.lr);
  for (const f of ["numSteps", "batchSize"])
    need(isPositiveInt(r[f]), `${source}: recipe.${f}`, "an integer > 0", r[f]);
  if (r.maxLength !== undefined)
    need(
      Number.isInteger(r.maxLength) && r.maxLength >= 2,
      `${source}: recipe.maxLength`,
      "an integer ≥ 2",
      r.maxLength,
    );
  if (r.lora !== undefined)
    need(r.lora === null || isText(r.lora), `${source}: recipe.lora`, "a LoRA spec string or null", r.lora);
  need(Array.isArray(x.models) && x.models.length > 0, `${source}: models`, "a non-empty array", x.models);
  const names = new Set<string>();
  x.models.forEach((m: any, i: number) => {
    need(isObject(m) && isText(m.name), `${source}: models[${i}].name`, "a model name", m?.name);
    need(!names.has(m.name), `${source}: models[${i}].name`, "a name not listed before", m.name);
    need(isPositiveInt(m.parameters), `${source}: models[${i}].parameters`, "an integer > 0", m.parameters);
    names.add(m.name);
  });
  need(Array.isArray(x.results) && x.results.length > 0, `${source}: results`, "a non-empty array", x.results);
  const seen = new Set<string>();
  x.results.forEach((e: any, i: number) => {
    const w = `${source}: results[${i}]`;
    need(isObject(e), w, "an object", e);
    need(names.has(e.model), `${w}.model`, `one of models[].name (${[...names].join(", ")})`, e.model);
    need(Object.hasOwn(SIZE_TASKS, e.task), `${w}.task`, `one of ${Object.keys(SIZE_TASKS).join(", ")}`, e.task);
    need(
      !seen.has(`${e.model}\u0000${e.task}`),
      `${w}`,
      `one result per model and task (${e.model} × ${e.task} is listed twice)`,
      e.task,
    );
    seen.add(`${e.model}\u0000${e.task}`);
    need(isPositiveInt(e.testItems), `${w}.testItems`, "an integer > 0", e.testItems);
    for (const f of ["exactMatch", "f1", "accuracy"])
      need(unitOrNull(e[f]), `${w}.${f}`, "a number in [0, 1] or null", e[f]);
    need(
      e.perplexity === null || (typeof e.perplexity === "number" && Number.isFinite(e.perplexity) && e.perplexity > 0),
      `${w}.perplexity`,
      "a number > 0 or null",
      e.perplexity,
    );
    const main = SIZE_TASKS[e.task as SizeTask];
    need(typeof e[main] === "number", `${w}.${main}`, `a number (${e.task} is judged by ${main})`, e[main]);
    need(
      Array.isArray(e.samples) && e.samples.length === 3,
      `${w}.samples`,
      "three sample answers",
      e.samples?.length ?? e.samples,
    );
    e.samples.forEach((s: any, k: number) => {
      need(isObject(s), `${w}.samples[${k}]`, "{ input, expected, output }", s);
      for (const f of ["input", "expected", "output"])
        need(typeof s[f] === "string", `${w}.samples[${k}].${f}`, "a string", s[f]);
    });
  });
  return x as unknown as SizeRecord;
}

/** Where size records live: `docs/recorded/size-sweep` of the package. */
export function sizeRecordsDir(): string {
  return path.resolve(__dirname, "..", "..", "docs", "recorded", "size-sweep");
}

/**
 * Load every `*.json` size record in `dir` (sorted by file name); an absent or empty folder gives []. A malformed
 * file is an error naming it and its field (never a silently skipped number).
 *
 * @example
 * const recs = loadSizeRecords(); // [] until a GPU session has recorded a sweep
 */
export function loadSizeRecords(dir: string = sizeRecordsDir()): SizeRecord[] {
  return readJsonRecords(dir, validateSizeRecord, (m) => new SizeRecordError(m));
}

export const NO_SIZE_SWEEP = "no recorded size sweep yet";

const LABEL: Record<SizeMetric, string> = {
  exactMatch: "exact match",
  f1: "token F1",
  accuracy: "accuracy",
  perplexity: "perplexity",
};

/** One task's points of every record: parameters → metric, smallest model first. */
export function sizePoints(
  recs: readonly SizeRecord[],
  task: SizeTask,
  metric: SizeMetric = SIZE_TASKS[task],
): { label: string; model: string; parameters: number; value: number }[] {
  return recs.flatMap((r) => {
    const params = new Map(r.models.map((m) => [m.name, m.parameters]));
    return r.results
      .filter((e) => e.task === task && typeof e[metric] === "number")
      .map((e) => ({
        label: `${r.label} (${r.date.slice(0, 10)})`,
        model: e.model,
        parameters: params.get(e.model)!,
        value: e[metric] as number,
      }))
      .sort((a, b) => a.parameters - b.parameters);
  });
}

/**
 * Metric against model size (parameters, log x) for one task, a trace per record, the task's target dashed.
 * With no records: an empty figure whose title and annotation say "no recorded size sweep yet".
 *
 * @example
 * show(sizeFigure(loadSizeRecords(), "email-subject"));             // exact match vs parameters
 * show(sizeFigure(recs, "docs-qa", { metric: "perplexity" }));
 */
export function sizeFigure(
  recs: readonly SizeRecord[],
  task: SizeTask,
  opts: { metric?: SizeMetric; title?: string } = {},
): PlotlyFigure {
  const metric = opts.metric ?? SIZE_TASKS[task];
  if (!Object.hasOwn(LABEL, metric))
    throw new Error(`sizeFigure: unknown metric ${JSON.stringify(metric)} (known: ${Object.keys(LABEL).join(", ")})`);
  if (!Object.hasOwn(SIZE_TASKS, task))
    throw new Error(`sizeFigure: unknown task ${JSON.stringify(task)} (known: ${Object.keys(SIZE_TASKS).join(", ")})`);
  const pts = sizePoints(recs, task, metric);
  const title = opts.title ?? `${task}: ${LABEL[metric]} by model size`;
  const layout: Record<string, unknown> = {
    title: { text: pts.length ? title : `${title}: ${NO_SIZE_SWEEP}` },
    xaxis: { title: { text: "parameters" }, type: "log" },
    yaxis: { title: { text: LABEL[metric] }, ...(metric === "perplexity" ? { type: "log" } : { rangemode: "tozero" }) },
    legend: { orientation: "h" },
  };
  if (!pts.length) {
    layout.annotations = [
      {
        text: `${NO_SIZE_SWEEP} (docs/recorded/size-sweep/ is empty)`,
        showarrow: false,
        xref: "paper",
        yref: "paper",
        x: 0.5,
        y: 0.5,
      },
    ];
    return { data: [], layout };
  }
  const labels = [...new Set(pts.map((p) => p.label))];
  const data: Record<string, unknown>[] = labels.map((label) => {
    const mine = pts.filter((p) => p.label === label);
    return {
      type: "scatter",
      mode: "lines+markers",
      name: label,
      x: mine.map((p) => p.parameters),
      y: mine.map((p) => p.value),
      text: mine.map((p) => p.model),
      hovertemplate: "%{text}: %{y}<extra></extra>",
    };
  });
  const target = SIZE_TARGETS[task];
  if (target.metric === metric) {
    const xs = pts.map((p) => p.parameters);
    data.push({
      type: "scatter",
      mode: "lines",
      name: `target ${target.value}`,
      x: [Math.min(...xs), Math.max(...xs)],
      y: [target.value, target.value],
      line: { dash: "dash", color: "gray" },
    });
  }
  return { data, layout };
}

/**
 * The records as Markdown: one table per task (model, parameters, the four metrics, one sample answer), or one
 * line saying that no size sweep has been recorded yet.
 */
export function sizeMarkdown(recs: readonly SizeRecord[]): string {
  if (!recs.length)
    return `*${NO_SIZE_SWEEP}*: the family's fine-tuning results per model size appear here once a GPU run has written docs/recorded/size-sweep/ (scripts/device/README.md).`;
  const f = (v: number | null, pct: boolean) =>
    v === null ? "–" : pct ? `${(100 * v).toFixed(1)} %` : v.toFixed(v >= 100 ? 0 : 2);
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ").slice(0, 60);
  const out: string[] = [];
  for (const r of recs) {
    out.push(
      `**${r.label}** (${r.date.slice(0, 10)}, ${r.machine.gpu}; lr ${r.recipe.lr}, ${r.recipe.numSteps} updates of ${r.recipe.batchSize})`,
      "",
    );
    out.push(
      "| task | model | parameters | exact match | token F1 | accuracy | perplexity | a sample answer |",
      "|---|---|---:|---:|---:|---:|---:|---|",
    );
    const params = new Map(r.models.map((m) => [m.name, m.parameters]));
    const rows = [...r.results].sort(
      (a, b) => a.task.localeCompare(b.task) || params.get(a.model)! - params.get(b.model)!,
    );
    for (const e of rows) {
      const s = e.samples[0];
      out.push(
        `| ${e.task} | ${e.model} | ${params.get(e.model)!.toLocaleString("en-US")} | ${f(e.exactMatch, true)} | ${f(e.f1, false)} | ${f(e.accuracy, true)} | ${f(e.perplexity, false)} | ${cell(s.output)} (expected ${cell(s.expected)}) |`,
      );
    }
    out.push("");
  }
  return out.join("\n").trimEnd();
}
