/**
 * From what a user types (`--data FILE|NAME [--template T] [--labels a,b]`) to records, a template and a
 * label set: the part `tunebook eval` and `tunebook train` share.
 *
 * - `data`: a JSONL file, or the name of a shipped dataset (`spam`, `docs-qa`, `email-subject`) meaning its
 *   `train.jsonl` or `test.jsonl`. Files are read strictly: the first bad line throws a `JsonlError` whose
 *   message is `FILE:LINE: field "x": expected …`.
 * - `template`: "auto" (the dataset's template, else the default one for the file's schema), a schema name
 *   (`qa`, `instruction`, `classification`, `extraction`), or a shipped dataset's name (its template).
 * - `labels`: classification only; given, else the dataset's, else the distinct labels found in the file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DATASETS, dataDir, datasetTemplate } from "../data/datasets";
import { readJsonl } from "../data/jsonl";
import { isSchemaName, SCHEMA_NAMES, type SchemaName } from "../data/schema";
import { templateFor, type PromptTemplate } from "../data/templates";

export interface TaskSpec {
  /** A JSONL file or a shipped dataset's name. */
  data: string;
  /** "auto", a schema name or a dataset name. Default "auto". */
  template?: string;
  /** Classification label set. */
  labels?: string[];
  /** Which split a dataset name means. Default "test". */
  split?: "train" | "test";
}

export interface Task {
  file: string;
  records: Record<string, unknown>[];
  schema: SchemaName;
  template: PromptTemplate;
  /** The label set (classification only). */
  labels?: string[];
  /** The shipped dataset, when `data` or `template` named one. */
  dataset?: string;
}

export class TaskError extends Error {
  override name = "TaskError";
}

/** Template names `loadTask` accepts. */
export const TEMPLATE_NAMES = ["auto", ...SCHEMA_NAMES, ...Object.keys(DATASETS)];

/**
 * Read a task's records and choose its template.
 * @example
 * const task = await loadTask({ data: "spam" });              // data/spam/test.jsonl, the spam template
 * const mine = await loadTask({ data: "my.jsonl", template: "qa" });
 */
export async function loadTask(spec: TaskSpec): Promise<Task> {
  const tname = spec.template ?? "auto";
  if (!TEMPLATE_NAMES.includes(tname))
    throw new TaskError(`unknown template ${JSON.stringify(tname)} (known: ${TEMPLATE_NAMES.join(", ")})`);
  const isFile = fs.existsSync(spec.data);
  const dsName = !isFile && DATASETS[spec.data] ? spec.data : DATASETS[tname] ? tname : undefined;
  let file = spec.data;
  if (!isFile) {
    if (!DATASETS[spec.data])
      throw new TaskError(`${spec.data}: no such file (nor a shipped dataset: ${Object.keys(DATASETS).join(", ")})`);
    file = path.join(dataDir(spec.data), `${spec.split ?? "test"}.jsonl`);
  }
  const ds = dsName ? DATASETS[dsName] : undefined;
  const wanted: SchemaName | "auto" = ds ? ds.schema : isSchemaName(tname) ? tname : "auto";
  const labels = spec.labels ?? (ds?.labels ? [...ds.labels] : undefined);
  const r = await readJsonl(file, { schema: wanted, labels, mode: "strict", warnUnknownFields: false });
  if (r.records.length === 0) throw new TaskError(`${file}: no records`);
  const schema = r.schema!;
  let taskLabels = labels;
  if (schema === "classification" && !taskLabels) {
    taskLabels = [...new Set(r.records.map((x) => String(x.label)))].sort();
    if (taskLabels.length < 2)
      throw new TaskError(
        `${file}: classification needs at least two labels; the file has only ${JSON.stringify(taskLabels)} (pass --labels a,b)`,
      );
  }
  let template: PromptTemplate;
  if (dsName) template = datasetTemplate(dsName);
  else template = templateFor(schema, { labels: taskLabels });
  if (template.schema && template.schema !== schema)
    throw new TaskError(
      `${file}: records have schema ${schema} but template ${JSON.stringify(tname)} expects ${template.schema}`,
    );
  return {
    file,
    records: r.records,
    schema,
    template,
    ...(schema === "classification" ? { labels: taskLabels } : {}),
    ...(dsName ? { dataset: dsName } : {}),
  };
}
