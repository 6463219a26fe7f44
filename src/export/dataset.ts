/**
 * The exported dataset: one JSONL row per record with TRL's prompt-completion fields (`prompt`, `completion`,
 * rendered by the same template as the local run, so the prompt/answer boundary is the same) followed by
 * the record's own fields; and a dataset card (`data/README.md`) whose YAML front matter tells Hugging Face
 * `datasets` which file is which split, so `load_dataset("path/to/data")` works.
 */
import type { PromptTemplate } from "../data/templates";

/** Fields every exported row starts with. */
export const RENDERED_FIELDS = ["prompt", "completion"] as const;

/** A record that cannot be exported (e.g. it already has a `prompt` field). */
export class ExportDataError extends Error {
  override name = "ExportDataError";
}

/**
 * Rows for the exported JSONL: `{prompt, completion, ...record}`. A record whose own fields are called
 * `prompt` or `completion` is refused (they would be overwritten).
 * @example
 * renderRows(QA_TEMPLATE, [{ question: "2+2?", answer: "4" }]);
 * // [{ prompt: "### Question:\n2+2?\n\n### Answer:\n", completion: "4", question: "2+2?", answer: "4" }]
 */
export function renderRows(
  template: PromptTemplate,
  records: readonly Record<string, unknown>[],
  file = "data",
): Record<string, unknown>[] {
  return records.map((r, i) => {
    const clash = RENDERED_FIELDS.find((f) => f in r);
    if (clash)
      throw new ExportDataError(
        `${file}: record ${i + 1} already has a field "${clash}"; rename it (the export adds "prompt" and "completion")`,
      );
    const { prompt, completion } = template.render(r);
    return { prompt, completion, ...r };
  });
}

/**
 * The original records back from exported rows (drops `prompt` and `completion`).
 * @example
 * recordsFromRows(renderRows(QA_TEMPLATE, records)); // deep-equals records
 */
export function recordsFromRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map(({ prompt: _p, completion: _c, ...rest }) => rest);
}

/** What the card says about the data. */
export interface CardInfo {
  /** Shown as the card's title. */
  name: string;
  template: string;
  schema: string;
  source: string;
  splits: { name: "train" | "test"; file: string; rows: number }[];
  /** Extra fields besides prompt/completion. */
  fields: string[];
}

/**
 * `data/README.md`: YAML front matter (`configs` with `data_files` per split) and a short description.
 * @example
 * datasetCard({ name: "email-subject", template: "extraction", schema: "extraction", source: "data/email-subject/train.jsonl",
 *   splits: [{ name: "train", file: "train.jsonl", rows: 50 }], fields: ["text", "answer"] });
 */
export function datasetCard(info: CardInfo): string {
  const yaml = [
    "---",
    "configs:",
    "- config_name: default",
    "  data_files:",
    ...info.splits.flatMap((s) => [`  - split: ${s.name}`, `    path: ${s.file}`]),
    "task_categories:",
    "- text-generation",
    "---",
  ];
  const rows = info.splits.map((s) => `| ${s.name} | \`${s.file}\` | ${s.rows} |`);
  return [
    ...yaml,
    "",
    `# ${info.name}`,
    "",
    `Exported by \`tunebook export\` from \`${info.source}\` (schema \`${info.schema}\`, template \`${info.template}\`).`,
    "",
    "| split | file | rows |",
    "| --- | --- | --- |",
    ...rows,
    "",
    "Each row holds TRL's prompt-completion fields — `prompt` (what the model reads) and `completion` (what it",
    "learns to write; the training script appends the tokenizer's EOS token and masks the prompt out of the loss) —",
    `followed by the record's own fields (${info.fields.map((f) => `\`${f}\``).join(", ") || "none"}).`,
    "",
    "```python",
    "from datasets import load_dataset",
    'ds = load_dataset("json", data_files={' +
      info.splits.map((s) => `"${s.name}": "data/${s.file}"`).join(", ") +
      "})",
    '# or, from the export folder: load_dataset("data")',
    "```",
    "",
  ].join("\n");
}
