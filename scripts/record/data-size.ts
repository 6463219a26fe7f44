/**
 * Record a data-size curve: the embedded model fine-tuned on nested, class-balanced subsets of a course dataset
 * (several sizes × several seeds; the seed draws the subset and orders the training), each run scored on the same
 * test items; written as docs/recorded/data-size/<date>-<label>.json (format "tunebook-data-size-record" v1,
 * docs/recorded/data-size/README.md). Notebook 04 plots the file and runs a small live slice of it.
 *
 *   nice -n 5 node --import tsx scripts/record/data-size.ts --label spam-zen5-2core \
 *     [--task spam] [--sizes 16,32,64,160] [--seeds 0,1,2,3,4] [--test 64] [--epochs 8] [--min-steps 30]
 *
 * The rows are rewritten to the output file after every run (a run cut short leaves a valid file of the runs
 * done so far, which the notes say).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../../src/runtime/backend";
import { machineReport } from "../../src/runtime/environment";
import { writeFileAtomic } from "../../src/runtime/atomic";
import { describeCpu, machineCpu } from "../../src/tools/bench/limits";
import { nativeBlasStatus } from "../../src/kernels/native-blas";
import { loadDataset } from "../../src/data/datasets";
import { sampleItems } from "../../src/data/split";
import { loadModel } from "../../src/pipeline/pretrained";
import { dataSizeCurve } from "../../src/pipeline/sweep";
import { evaluateModel } from "../../src/eval/run";
import {
  DATA_SIZE_FORMAT,
  DATA_SIZE_VERSION,
  dataSizeRecordsDir,
  validateDataSizeRecord,
  type DataSizeRecord,
} from "../../src/eval/data-size-records";
import { DATA_SIZE_RECIPES, type DataSizeRecipe } from "../../src/course/evaluate/data-size";

const { values: a } = parseArgs({
  options: {
    label: { type: "string" },
    task: { type: "string", default: "spam" },
    sizes: { type: "string" },
    seeds: { type: "string", default: "0,1,2,3,4" },
    test: { type: "string" },
    epochs: { type: "string" },
    "min-steps": { type: "string" },
    date: { type: "string", default: new Date().toISOString().slice(0, 10) },
    out: { type: "string" },
  },
});
const die = (m: string): never => {
  console.error(`data-size: ${m}`);
  process.exit(2);
};
if (!a.label || !/^[a-z0-9-]+$/.test(a.label)) die("--label is required: lower-case letters, digits and dashes");
const recipe0: DataSizeRecipe =
  DATA_SIZE_RECIPES[a.task as keyof typeof DATA_SIZE_RECIPES] ??
  die(`--task must be one of ${Object.keys(DATA_SIZE_RECIPES).join(", ")}, found ${a.task}`);
const ints = (s: string, name: string) => {
  const v = s.split(",").map(Number);
  if (!v.every(Number.isInteger)) die(`--${name} must be comma-separated integers, found ${s}`);
  return v;
};
const recipe = {
  ...recipe0,
  ...(a.sizes ? { sizes: ints(a.sizes, "sizes") } : {}),
  ...(a.test ? { testItems: ints(a.test, "test")[0] } : {}),
  ...(a.epochs ? { epochs: Number(a.epochs) } : {}),
  ...(a["min-steps"] ? { minSteps: ints(a["min-steps"], "min-steps")[0] } : {}),
};
const seeds = ints(a.seeds!, "seeds");
/** The majority-class rate of the test labels: what always answering the commonest label scores. */
function majority(labels: string[]): { name: string; value: number } {
  const n = new Map<string, number>();
  for (const l of labels) n.set(l, (n.get(l) ?? 0) + 1);
  const [label, count] = [...n.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0];
  return { name: `majority class (${label})`, value: count / labels.length };
}
const out = a.out ?? path.join(dataSizeRecordsDir(), `${a.date}-${a.label}.json`);

(async () => {
  await initBackend({ verbose: false });
  const report = await machineReport();
  const ds = await loadDataset(a.task!);
  const { model, tokenizer } = await loadModel("default");
  const test = sampleItems(ds.test, recipe.testItems, 0);
  const labels = ds.info.labels ? [...ds.info.labels] : undefined;
  const evalOpts = { ...recipe.eval, ...(labels ? { labels } : {}) };
  const metric = recipe.metric;
  const baseline =
    metric === "accuracy"
      ? majority(test.map((r) => String(r.label)))
      : {
          name: "base model, not fine-tuned",
          value: (await evaluateModel(model, tokenizer, ds.template, test, evalOpts)).metrics[metric],
        };
  const rows: DataSizeRecord["rows"] = [];
  const t0 = performance.now();
  const write = (done: boolean) => {
    const rec: DataSizeRecord = {
      format: DATA_SIZE_FORMAT,
      version: DATA_SIZE_VERSION,
      label: `${a.task}, embedded model, ${report.threads.cpus}-core CPU`,
      date: a.date!,
      machine: {
        cpu: describeCpu(machineCpu()),
        cpus: report.threads.cpus,
        backend: `${report.backend} (${report.threads.backend} threads)`,
        matmul: nativeBlasStatus().why,
        platform: report.platform,
      },
      software: { node: report.versions.node, tfjs: report.versions.tfjs, tunebook: report.versions.tunebook },
      method:
        `The embedded default model fine-tuned from scratch for each size and seed on a class-balanced subset of ` +
        `${a.task}'s training split (nested per seed; the seed draws the subset and orders the training), ` +
        `updates = clamp(ceil(epochs × examples / batchSize), minSteps, maxSteps); every run scored on the same ` +
        `${test.length} seeded test items (${metric}${metric === "accuracy" ? " by label likelihood" : ""}); ` +
        `scripts/record/data-size.ts under nice -n 5 on a shared machine.`,
      task: a.task!,
      model: "default (embedded, ~5.3M parameters)",
      metric,
      testItems: test.length,
      baseline,
      recipe: {
        lr: recipe.train.lr,
        batchSize: recipe.train.batchSize,
        maxLength: recipe.train.maxLength,
        warmupSteps: recipe.train.warmupSteps,
        epochs: recipe.epochs,
        minSteps: recipe.minSteps,
        maxSteps: recipe.maxSteps,
      },
      rows,
      notes: done
        ? `complete: ${rows.length} runs in ${((performance.now() - t0) / 1000).toFixed(0)} s of wall time`
        : `partial: ${rows.length} of ${recipe.sizes.length * seeds.length} runs so far`,
    };
    validateDataSizeRecord(JSON.parse(JSON.stringify(rec)), out);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    writeFileAtomic(out, `${JSON.stringify(rec, null, 1)}\n`);
  };
  await dataSizeCurve({ model, tokenizer }, ds.template, ds.train, test, {
    sizes: recipe.sizes,
    seeds,
    epochs: recipe.epochs,
    minSteps: recipe.minSteps,
    maxSteps: recipe.maxSteps,
    ...(labels ? { stratify: (r: Record<string, unknown>) => String(r.label) } : {}),
    train: recipe.train,
    eval: evalOpts,
    onRunStart: (r) =>
      console.log(`run ${r.run}/${r.runs}: ${r.examples} examples, seed ${r.seed}, ${r.steps} updates`),
    onRow: (r) => {
      const value = r[metric] as number;
      rows.push({
        examples: r.examples,
        seed: r.seed,
        steps: r.steps,
        value,
        trainLoss: r.trainLoss,
        evalLoss: Number.isFinite(r.evalLoss) ? r.evalLoss : null,
        seconds: Math.round(r.seconds * 10) / 10,
      });
      console.log(`  ${metric} ${value.toFixed(3)}, train loss ${r.trainLoss.toFixed(3)}, ${r.seconds.toFixed(0)} s`);
      write(false);
    },
  });
  write(true);
  console.log(`wrote ${out} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
})();
