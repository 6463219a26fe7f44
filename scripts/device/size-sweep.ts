/**
 * What model size buys (issue 17, part 3): the record stage. After every family member has been fine-tuned on
 * each course task with one recipe (exported by `tunebook export --engine hf`, run by transformers on the GPU;
 * scripts/device/README.md, "What model size buys", has the run), this scores each fine-tuned model with
 * tunebook's own evaluation on the task's test split and writes one record in the format of
 * src/eval/size-records.ts (docs/recorded/size-sweep/README.md):
 *
 *   node --import tsx scripts/device/size-sweep.ts record --sweep DIR --out docs/recorded/size-sweep/DATE-LABEL.json
 *       [--family .tunebook/family] [--limit N] [--tasks email-subject,spam,docs-qa]
 *
 * DIR holds `sweep.json` (written by the device run: label, date, machine, software, method, recipe, models
 * [{name, parameters}]) and, per member and task, `DIR/<member>/<task>/`: either a fine-tuned model folder
 * (config.json, safetensors, tokenizer files: what the exported train.py saves for a full fine-tune) or a PEFT
 * adapter (`adapter/` with adapter_config.json, what it saves with --lora), which is put on the pretrained member
 * from `--family FAMILY_DIR/<member>`. A missing folder is an error naming it: a record never holds a made-up row.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadModel } from "../../src/pipeline/pretrained";
import { loadTask } from "../../src/pipeline/task";
import { evaluateModel, type EvalResult } from "../../src/eval/run";
import { loadAdapterInto } from "../../src/pipeline/adapters";
import { LoraModel } from "../../src/lora/model";
import {
  SIZE_TASKS,
  validateSizeRecord,
  type SizeRecord,
  type SizeResult,
  type SizeTask,
} from "../../src/eval/size-records";

/** The first three test items' answers (a fixed choice, so records from different sizes show the same inputs). */
function samples(r: EvalResult): SizeResult["samples"] {
  return r.records.slice(0, 3).map((e) => ({
    input: e.prompt.length > 400 ? "…" + e.prompt.slice(-400) : e.prompt, // the end holds the question; long e-mails are cut
    expected: e.reference,
    output: e.prediction,
  }));
}

/** One row of a size record from tunebook's evaluation of one fine-tuned model. */
export function sizeResult(model: string, task: SizeTask, r: EvalResult): SizeResult {
  const m = r.metrics;
  return {
    model,
    task,
    testItems: m.count,
    exactMatch: m.exactMatch,
    f1: m.f1,
    accuracy: m.accuracy ?? null,
    perplexity: m.perplexity ?? null,
    samples: samples(r),
  };
}

export interface RecordSweepOptions {
  sweep: string;
  out: string;
  /** Where the pretrained members are (`<family>/<member>/`), for sweeps that fine-tuned LoRA adapters. */
  family?: string;
  tasks: SizeTask[];
  limit?: number;
  log: (line: string) => void;
}

/** Evaluate `sweep/<member>/<task>/` for every member and task in sweep.json, write and return the record. */
export async function recordSweep(o: RecordSweepOptions): Promise<SizeRecord> {
  const metaFile = path.join(o.sweep, "sweep.json");
  if (!fs.existsSync(metaFile))
    throw new Error(`${metaFile} is missing: the device run writes it next to the fine-tuned models`);
  let meta: any;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
  } catch (e: any) {
    throw new Error(`${metaFile}: not valid JSON (${String(e?.message ?? e).split("\n")[0]})`);
  }
  if (!Array.isArray(meta?.models) || !meta.models.length)
    throw new Error(`${metaFile}: models: expected a non-empty array of {name, parameters}`);
  const where = (member: string, task: string): { model: string; adapter?: string } => {
    const d = path.join(o.sweep, member, task);
    if (fs.existsSync(path.join(d, "config.json"))) return { model: d };
    const adapter = path.join(d, "adapter");
    if (fs.existsSync(path.join(adapter, "adapter_config.json"))) {
      if (!o.family)
        throw new Error(`${adapter}: a LoRA adapter; give --family DIR (the pretrained members) to put it on`);
      return { model: path.join(o.family, member), adapter };
    }
    throw new Error(
      `${d}: no fine-tuned model (config.json) or adapter (adapter/adapter_config.json); every member × task of ${metaFile} needs one`,
    );
  };
  for (const m of meta.models) for (const t of o.tasks) where(String(m?.name), t);
  const results: SizeResult[] = [];
  for (const m of meta.models) {
    for (const task of o.tasks) {
      const w = where(m.name, task);
      const t = await loadTask({ data: task, split: "test" });
      const records = o.limit ? t.records.slice(0, o.limit) : t.records;
      const loaded = await loadModel(w.model);
      try {
        if (w.adapter) await loadAdapterInto(loaded.model, w.adapter);
        const r = await evaluateModel(loaded.model, loaded.tokenizer, t.template, records, {
          labels: t.labels,
          ...(t.labels ? { maxNewTokens: 8 } : {}),
        });
        const row = sizeResult(m.name, task, r);
        results.push(row);
        o.log(
          `${m.name} × ${task}: exact match ${row.exactMatch?.toFixed(3)}, F1 ${row.f1?.toFixed(3)}, accuracy ${row.accuracy?.toFixed(3) ?? "–"}, perplexity ${row.perplexity?.toFixed(2) ?? "–"} (${row.testItems} items)`,
        );
      } finally {
        LoraModel.find(loaded.model)?.unload(); // adapters are variables of their own
        loaded.model.dispose();
      }
    }
  }
  const { label, date, machine, software, method, recipe, models, notes } = meta;
  const record = validateSizeRecord(
    {
      format: "tunebook-size-record",
      version: 1,
      label,
      date,
      machine,
      software,
      method,
      recipe,
      models,
      results,
      ...(notes !== undefined ? { notes } : {}),
    },
    `${metaFile} + evaluation`,
  );
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify(record, null, 1) + "\n");
  o.log(`wrote ${o.out}`);
  return record;
}

function parse(argv: string[]): RecordSweepOptions {
  if (argv[0] !== "record")
    throw new Error("usage: size-sweep.ts record --sweep DIR --out FILE.json [--family DIR] [--limit N] [--tasks a,b]");
  const o: Partial<RecordSweepOptions> = { tasks: Object.keys(SIZE_TASKS) as SizeTask[], log: (l) => console.log(l) };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === "--sweep") o.sweep = path.resolve(v);
    else if (a === "--out") o.out = path.resolve(v);
    else if (a === "--family") o.family = path.resolve(v);
    else if (a === "--limit") o.limit = Number(v);
    else if (a === "--tasks") {
      o.tasks = v.split(",") as SizeTask[];
      for (const t of o.tasks)
        if (!Object.hasOwn(SIZE_TASKS, t))
          throw new Error(`--tasks: unknown task ${JSON.stringify(t)} (known: ${Object.keys(SIZE_TASKS).join(", ")})`);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!o.sweep || !o.out) throw new Error("--sweep DIR and --out FILE.json are required");
  if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit > 0))
    throw new Error(`--limit takes a positive whole number`);
  return o as RecordSweepOptions;
}

if (require.main === module) {
  (async () => {
    const { initBackend } = await import("../../src/runtime/backend");
    const opts = parse(process.argv.slice(2));
    await initBackend();
    await recordSweep(opts);
  })().catch((e) => {
    console.error(`size-sweep: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
