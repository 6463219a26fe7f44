/**
 * `tunebook datagen <expand|model|dedup|filter>`: the data-generation steps of notebook 02 on JSONL files.
 * Inputs are Q&A JSONL (`question`, `answer`) validated strictly; outputs are written atomically; every
 * removed or rejected item goes to `--report` (JSONL) with its reason, and the counts are printed.
 */
import * as fs from "node:fs";
import { parseArgs, bool, int, num, str, UsageError, type ParsedArgs } from "./args";
import { readJsonl, writeJsonl } from "../data/jsonl";
import { expandPairs, questionsFromSections } from "../data/generate/expand";
import { sectionsFromMarkdown } from "../data/generate/text";
import { answerWithModel, pairsWithModel } from "../data/generate/model-pairs";
import { LocalGenerator } from "../model/local-generator";
import { openAIGeneratorFromEnv } from "../data/generate/openai";
import type { Generator } from "../data/generate/types";
import { dedup } from "../data/dedup";
import { filterPairs } from "../data/filters";
import { describeFileKind, readRegularFileSync } from "../runtime/files";

const HELP = `usage: tunebook datagen STEP INPUT... --out OUT.jsonl [options]
steps:
  expand   pairs.jsonl → paraphrased pairs; doc.md ... → questions read from the sections
           --per-item N (3)  --seed S (0)
  model    questions/pairs.jsonl → pairs written by a model
           --generator default|MODEL_DIR|openai (default)   openai reads OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_API_KEY
           --mode answer|pairs (answer)  --count N (8, pairs mode)  --shots N (3)
           --max-new-tokens N  --temperature T  --seed S (0)
  dedup    --key question|pair (question)  --threshold J (0.8)  --unit word|char (word)
  filter   --lang en  --min-answer-chars N (2)  --max-answer-chars N (2000)
common: --report REPORT.jsonl   removed/rejected items with their reason`;

type Pair = { id?: string | number; question: string; answer: string; [k: string]: unknown };

async function readPairs(files: string[]): Promise<Pair[]> {
  const out: Pair[] = [];
  for (const f of files) out.push(...(await readJsonl<Pair>(f, { schema: "qa", mode: "strict" })).records);
  return out;
}

async function generatorFor(p: ParsedArgs): Promise<Generator> {
  const g = str(p, "generator") ?? "default";
  if (g === "openai") {
    const api = openAIGeneratorFromEnv();
    if (!api)
      throw new UsageError(
        "tunebook datagen model: --generator openai needs OPENAI_BASE_URL (and OPENAI_MODEL, OPENAI_API_KEY) in the environment",
      );
    return api;
  }
  const { loadModel } = await import("../pipeline/pretrained");
  const { initBackend } = await import("../runtime/backend");
  await initBackend({ verbose: false });
  const { model, tokenizer } = await loadModel(g);
  return new LocalGenerator(model, tokenizer, { modelName: g });
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    {
      booleans: ["help"],
      values: [
        "out",
        "report",
        "per-item",
        "seed",
        "generator",
        "mode",
        "count",
        "shots",
        "max-new-tokens",
        "temperature",
        "key",
        "threshold",
        "unit",
        "lang",
        "min-answer-chars",
        "max-answer-chars",
      ],
    },
    "tunebook datagen",
  );
  const [step, ...inputs] = p.positional;
  if (bool(p, "help") || !step) return (console.log(HELP), step ? 0 : 2);
  const out = str(p, "out");
  if (!out) throw new UsageError(`tunebook datagen ${step}: --out is required\n${HELP}`);
  if (inputs.length === 0) throw new UsageError(`tunebook datagen ${step}: no INPUT file given\n${HELP}`);
  for (const f of inputs) {
    const st = fs.statSync(f, { throwIfNoEntry: false });
    if (!st) throw new UsageError(`tunebook datagen ${step}: input ${f} does not exist`);
    if (!st.isFile())
      throw new UsageError(`tunebook datagen ${step}: input ${f} is a ${describeFileKind(st)}, not a regular file`);
  }
  const seed = int(p, "seed", 0, 0)!;
  let result: unknown[];
  let report: unknown[] = [];
  let summary: Record<string, number>;
  if (step === "expand") {
    const md = inputs.filter((f) => /\.(md|markdown)$/i.test(f));
    const sections = md.flatMap((f) =>
      sectionsFromMarkdown(readRegularFileSync(f, "the markdown input").toString("utf8"), f),
    );
    const pairs = await readPairs(inputs.filter((f) => !md.includes(f)));
    const o = { perItem: int(p, "per-item", 3)!, seed };
    result = [...expandPairs(pairs, o), ...questionsFromSections(sections, o)];
    summary = { seeds: pairs.length, sections: sections.length, made: result.length };
  } else if (step === "model") {
    const gen = await generatorFor(p);
    const pairs = await readPairs(inputs);
    const o = {
      maxNewTokens: int(p, "max-new-tokens"),
      temperature: num(p, "temperature", undefined, { min: 0 }),
      seed,
    };
    const clean = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    const mode = str(p, "mode") ?? "answer";
    if (mode === "answer") {
      result = await answerWithModel(gen, pairs, clean);
    } else if (mode === "pairs") {
      const r = await pairsWithModel(gen, pairs, { ...clean, count: int(p, "count", 8)!, shots: int(p, "shots", 3)! });
      result = r.pairs;
      report = r.rejected;
    } else throw new UsageError(`tunebook datagen model: --mode must be answer or pairs, got ${JSON.stringify(mode)}`);
    summary = { inputs: pairs.length, made: result.length, rejected: report.length };
  } else if (step === "dedup") {
    const key = str(p, "key") ?? "question";
    if (key !== "question" && key !== "pair")
      throw new UsageError(`tunebook datagen dedup: --key must be question or pair, got ${JSON.stringify(key)}`);
    const unit = str(p, "unit") ?? "word";
    if (unit !== "word" && unit !== "char")
      throw new UsageError(`tunebook datagen dedup: --unit must be word or char, got ${JSON.stringify(unit)}`);
    const r = dedup(await readPairs(inputs), {
      key: key === "question" ? (x) => x.question : (x) => `${x.question}\n${x.answer}`,
      threshold: num(p, "threshold", 0.8, { min: 0, exclusiveMin: true, max: 1 }),
      unit,
    });
    result = r.kept;
    report = r.removed.map((x) => ({
      index: x.index,
      reason: x.kind === "exact" ? "exact-duplicate" : "near-duplicate",
      duplicateOf: x.duplicateOf,
      similarity: x.similarity,
      item: x.item,
    }));
    summary = r.counts;
  } else if (step === "filter") {
    const lang = str(p, "lang");
    if (lang !== undefined && lang !== "en")
      throw new UsageError(`tunebook datagen filter: --lang supports only en, got ${JSON.stringify(lang)}`);
    const minAnswerChars = int(p, "min-answer-chars", 2, 0)!;
    const maxAnswerChars = int(p, "max-answer-chars", 2000)!;
    if (maxAnswerChars < minAnswerChars)
      throw new UsageError(
        `tunebook datagen filter: --max-answer-chars ${maxAnswerChars} is below --min-answer-chars ${minAnswerChars}`,
      );
    const r = filterPairs(await readPairs(inputs), {
      language: lang === "en" ? "en" : null,
      minAnswerChars,
      maxAnswerChars,
    });
    result = r.kept;
    report = r.dropped;
    summary = r.counts;
  } else throw new UsageError(`tunebook datagen: unknown step ${JSON.stringify(step)}\n${HELP}`);
  writeJsonl(out, result, { schema: "qa" });
  const rep = str(p, "report");
  if (rep) writeJsonl(rep, report);
  console.log(
    `${step}: ${Object.entries(summary)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")} → ${out}${rep ? ` (report: ${rep})` : ""}`,
  );
  return 0;
}
