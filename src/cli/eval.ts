/**
 * `tunebook eval --model M [--adapter A] --data FILE|NAME [...]`: generate an answer for every test record
 * and print exact match, token F1, accuracy (classification), perplexity and the error categories — as JSON
 * with `--json`, as a text table otherwise. Progress goes to stderr.
 */
import { parseArgs, bool, str, int, UsageError } from "./args";
import { initBackend } from "../runtime/backend";
import { textProgress } from "../hub";
import { ERROR_CATEGORIES } from "../eval/errors";
import { evaluateModel, DEFAULT_EVAL_OPTIONS, type EvalResult } from "../eval/run";
import { disposeModel, loadAdapterInto, loadModel, loadTask, TEMPLATE_NAMES } from "../pipeline";
import { assertFiniteWeights, STD_IO, type CliIO } from "./common";

/** New tokens for classification when not given: enough for a label and a little more to see what follows. */
const CLASSIFICATION_MAX_NEW_TOKENS = 8;

const HELP = `usage: tunebook eval --model M --data FILE|DATASET [options]
  --model M              "default" (embedded), a folder, or a repo id (EleutherAI/pythia-70m)
  --adapter DIR          a LoRA adapter to put on the model first
  --data FILE|DATASET    a JSONL test file, or a shipped dataset (spam, docs-qa, email-subject: its test split)
  --template T           ${TEMPLATE_NAMES.join("|")} (default auto: the dataset's, or the schema's default)
  --labels a,b           classification label set (default: the dataset's, or the labels in the file)
  --label-method M       likelihood|generation: how accuracy reads a label (default likelihood; both reported)
  --limit N              evaluate the first N records only
  --max-new-tokens N     default ${DEFAULT_EVAL_OPTIONS.maxNewTokens} (${CLASSIFICATION_MAX_NEW_TOKENS} for classification: a label is a word or two)
  --batch-size N         prompts generated together (default ${DEFAULT_EVAL_OPTIONS.batchSize})
  --stop STR             stop strings (repeatable; default "\\n###")
  --no-perplexity        skip the references' perplexity
  --examples             include every example (prompt, reference, prediction, em, f1, category) in the JSON
  --json                 print JSON instead of a table
  --revision REV         hub revision`;

const pct = (x: number | undefined) => (x === undefined ? "—" : `${(100 * x).toFixed(1)} %`);

/** The metrics as a text table. */
export function formatEvalText(r: EvalResult, head: { model: string; data: string }): string {
  const m = r.metrics;
  const rows: [string, string][] = [
    ["model", head.model],
    ["data", `${head.data} (${m.count} examples)`],
    ["exact match", pct(m.exactMatch)],
    ["token F1", pct(m.f1)],
  ];
  if (m.accuracy !== undefined) {
    rows.push([
      "accuracy",
      `${pct(m.accuracy)} (likelihood ${pct(m.accuracyLikelihood)}, generation ${pct(m.accuracyGeneration)})`,
    ]);
    rows.push(["majority class", `${pct(m.majorityRate)} ("${m.majorityLabel}")`]);
  }
  if (m.perplexity !== undefined)
    rows.push(["perplexity", `${m.perplexity.toFixed(3)} (eval loss ${m.evalLoss!.toFixed(4)})`]);
  rows.push(["new tokens", `${m.meanNewTokens.toFixed(1)} per example`]);
  rows.push(["errors", ERROR_CATEGORIES.map((c) => `${c} ${r.errors[c]}`).join(", ")]);
  rows.push(["time", `${r.seconds.toFixed(1)} s`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}

export async function run(argv: string[], io: CliIO = STD_IO): Promise<number> {
  const p = parseArgs(
    argv,
    {
      booleans: ["json", "help", "examples", "no-perplexity"],
      values: [
        "model",
        "adapter",
        "data",
        "template",
        "labels",
        "label-method",
        "limit",
        "max-new-tokens",
        "batch-size",
        "revision",
      ],
      repeat: ["stop"],
    },
    "tunebook eval",
  );
  if (bool(p, "help")) return (io.out(HELP + "\n"), 0);
  const modelId = str(p, "model");
  const data = str(p, "data");
  if (!modelId || !data) throw new UsageError(`tunebook eval: --model and --data are required\n${HELP}`);
  if (p.positional.length)
    throw new UsageError(`tunebook eval: unexpected argument ${JSON.stringify(p.positional[0])}`);
  const labelMethod = str(p, "label-method") ?? "likelihood";
  if (labelMethod !== "likelihood" && labelMethod !== "generation")
    throw new UsageError(`--label-method must be likelihood or generation, got ${JSON.stringify(labelMethod)}`);
  const labels = str(p, "labels")
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const options = {
    limit: int(p, "limit", 0)!, // 0 (all) only as the default: `--limit 0` is refused, not read as "all"
    maxNewTokens: int(p, "max-new-tokens"),
    batchSize: int(p, "batch-size", DEFAULT_EVAL_OPTIONS.batchSize)!,
    stopStrings: (p.flags.stop as string[] | undefined) ?? DEFAULT_EVAL_OPTIONS.stopStrings,
    perplexity: !bool(p, "no-perplexity"),
    labelMethod: labelMethod as "likelihood" | "generation",
  };

  // Read and check the data before the (slow) model load: a bad line fails fast with FILE:LINE.
  const task = await loadTask({ data, template: str(p, "template"), labels, split: "test" });
  await initBackend({ verbose: false });
  const { model, tokenizer, dir } = await loadModel(modelId, {
    revision: str(p, "revision"),
    onProgress: textProgress(),
  });
  try {
    const ctx = model.config.maxPositionEmbeddings;
    if (options.maxNewTokens !== undefined && options.maxNewTokens >= ctx)
      throw new UsageError(
        `--max-new-tokens ${options.maxNewTokens} is over the limit of ${ctx - 1}: ${modelId}'s context is ${ctx} tokens (max_position_embeddings) and a prompt needs at least one`,
      );
    const adapter = str(p, "adapter");
    if (adapter) await loadAdapterInto(model, adapter);
    assertFiniteWeights(model, dir, adapter);
    const r = await evaluateModel(model, tokenizer, task.template, task.records, {
      ...options,
      maxNewTokens:
        options.maxNewTokens ?? (task.labels ? CLASSIFICATION_MAX_NEW_TOKENS : DEFAULT_EVAL_OPTIONS.maxNewTokens),
      labels: task.labels,
      onProgress: (done, total) => io.err(`eval ${done}/${total}\n`),
    });
    if (bool(p, "json")) {
      const out = {
        model: modelId,
        adapter: adapter ?? null,
        data: task.file,
        template: task.template.name,
        schema: task.schema,
        ...r.metrics,
        errors: r.errors,
        seconds: r.seconds,
        ...(bool(p, "examples") ? { examples: r.records } : {}),
      };
      io.out(JSON.stringify(out, null, 2) + "\n");
    } else io.out(formatEvalText(r, { model: modelId + (adapter ? ` + ${adapter}` : ""), data: task.file }));
  } finally {
    disposeModel(model); // with an --adapter's variables, which are not the model's
  }
  return 0;
}
