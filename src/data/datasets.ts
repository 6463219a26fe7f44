/**
 * The course's three datasets, shipped in `data/<name>/` (built by `scripts/build-datasets.ts`; each folder
 * has `train.jsonl`, `test.jsonl`, `meta.json` and a `datasheet.md`):
 *
 * | name            | task                        | schema           | template                          |
 * | --------------- | --------------------------- | ---------------- | --------------------------------- |
 * | `spam`          | reading: classify an e-mail | `classification` | `classificationTemplate(["ham", "spam"])` |
 * | `docs-qa`       | writing: answer about docs  | `qa`             | `QA_TEMPLATE`                      |
 * | `email-subject` | reading: extract a field    | `extraction`     | `extractionTemplate()`            |
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readJsonl, readJsonlSync, type JsonlResult } from "./jsonl";
import type { SchemaName } from "./schema";
import { classificationTemplate, extractionTemplate, QA_TEMPLATE, type PromptTemplate } from "./templates";

/** What the course knows about a shipped dataset. */
export interface DatasetInfo {
  name: string;
  kind: "reading" | "writing";
  schema: SchemaName;
  /** One line: what goes in and what comes out. */
  description: string;
  /** For classification: the label set. */
  labels?: readonly string[];
}

export const DATASETS: Readonly<Record<string, DatasetInfo>> = {
  spam: {
    name: "spam",
    kind: "reading",
    schema: "classification",
    labels: ["ham", "spam"],
    description: "an e-mail (subject + start of the body) → ham or spam",
  },
  "docs-qa": {
    name: "docs-qa",
    kind: "writing",
    schema: "qa",
    description: "a question about the math.js documentation → a 1–3 sentence answer",
  },
  "email-subject": {
    name: "email-subject",
    kind: "reading",
    schema: "extraction",
    description: "an e-mail's header block → its subject line, copied verbatim",
  },
};

export const DATASET_NAMES = Object.keys(DATASETS);

/** A loaded dataset. */
export interface Dataset<T = Record<string, unknown>> {
  info: DatasetInfo;
  dir: string;
  train: T[];
  test: T[];
  /** Contents of meta.json (counts, split, build command). */
  meta: Record<string, unknown>;
  /** The template the course uses for it. */
  template: PromptTemplate;
}

/** The folder holding the shipped datasets (`data/` at the package root), or one dataset's folder. */
export function dataDir(name?: string): string {
  const root = path.resolve(__dirname, "..", "..", "data");
  return name === undefined ? root : path.join(root, name);
}

function info(name: string): DatasetInfo {
  const i = DATASETS[name];
  if (!i) throw new Error(`unknown dataset ${JSON.stringify(name)} (known: ${DATASET_NAMES.join(", ")})`);
  return i;
}

/**
 * The course's template for a shipped dataset.
 * @example
 * datasetTemplate("spam").render({ text: "Subject: hi", label: "ham" }).completion; // "ham"
 */
export function datasetTemplate(name: string): PromptTemplate {
  const i = info(name);
  if (i.schema === "classification") return classificationTemplate(i.labels!, { textName: "E-mail" });
  if (i.schema === "extraction") return extractionTemplate();
  return QA_TEMPLATE;
}

function readMeta(dir: string): Record<string, unknown> {
  const p = path.join(dir, "meta.json");
  if (!fs.existsSync(p)) return {};
  try {
    return JSON.parse(fs.readFileSync(p, "utf8"));
  } catch (e: any) {
    throw new Error(`${p}: not valid JSON (${e?.message ?? e})`);
  }
}

const assemble = <T>(name: string, dir: string, train: JsonlResult<T>, test: JsonlResult<T>): Dataset<T> => ({
  info: info(name),
  dir,
  train: train.records,
  test: test.records,
  meta: readMeta(dir),
  template: datasetTemplate(name),
});

/**
 * Load a shipped dataset (strictly validated: a bad line throws, naming FILE:LINE and the field).
 * `dir` overrides the folder (e.g. a copy you edited).
 * @example
 * const ds = await loadDataset("docs-qa");
 * ds.train.length; // ≈ 90 % of the pairs
 */
export async function loadDataset<T = Record<string, unknown>>(name: string, dir = dataDir(name)): Promise<Dataset<T>> {
  const i = info(name);
  const opts = { schema: i.schema, labels: i.labels, mode: "strict" as const };
  const [train, test] = await Promise.all([
    readJsonl<T>(path.join(dir, "train.jsonl"), opts),
    readJsonl<T>(path.join(dir, "test.jsonl"), opts),
  ]);
  return assemble(name, dir, train, test);
}

/** Synchronous `loadDataset`. */
export function loadDatasetSync<T = Record<string, unknown>>(name: string, dir = dataDir(name)): Dataset<T> {
  const i = info(name);
  const opts = { schema: i.schema, labels: i.labels, mode: "strict" as const };
  return assemble(
    name,
    dir,
    readJsonlSync<T>(path.join(dir, "train.jsonl"), opts),
    readJsonlSync<T>(path.join(dir, "test.jsonl"), opts),
  );
}

/**
 * One row per shipped dataset: name, kind, schema, train/test counts (from meta.json) and what it maps.
 * @example
 * show(table(datasetOverview()));
 */
export function datasetOverview(): {
  name: string;
  kind: string;
  schema: string;
  train?: number;
  test?: number;
  task: string;
}[] {
  return DATASET_NAMES.map((name) => {
    const i = DATASETS[name];
    const meta = readMeta(dataDir(name)) as { counts?: { train?: number; test?: number } };
    return {
      name,
      kind: i.kind,
      schema: i.schema,
      train: meta.counts?.train,
      test: meta.counts?.test,
      task: i.description,
    };
  });
}
