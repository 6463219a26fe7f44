/**
 * `tunebook export --engine hf --out DIR (--config FILE.json | the train flags) [--gpu ID] [--gpus N] [--force]`:
 * write the training job `tunebook train` would run as a Hugging Face transformers/PEFT + accelerate job
 * (and axolotl config), with the GPU count, ZeRO stage and micro-batch from the sizing calculator. Prints a
 * summary (JSON with `--json`). The job's own flags and config file are exactly `tunebook train`'s.
 */
import * as path from "node:path";
import { parseNumberFlag, UsageError } from "./args";
import { STD_IO, type CliIO } from "./common";
import { resolveTrainJob } from "./train-job";
import { exportJob, ExportError, ENGINES } from "../export/export";
import { ExportPlanError, PRECISIONS, type Precision } from "../export/plan";
import { evalCommand } from "../export/readme";
import { formatGiB } from "../sizing/units";

const HELP = `usage: tunebook export --engine hf --out DIR (--config FILE.json | --model M --data FILE|DATASET [train flags]) [options]
  --engine hf            transformers/PEFT + accelerate (+ axolotl.yaml)   (default hf)
  --out DIR              the folder to write (refused if it exists, unless --force)
  --gpu ID               the GPU to plan for (a sizing catalog id; default a100-80gb)
  --gpus N|auto          GPU count (default auto: the fewest that fit, up to --max-gpus 64)
  --precision P          auto|bf16|fp16|fp32 on the GPUs (auto: bf16, fp16 on T4/V100 which lack bf16)
  --force                replace an existing DIR      --no-axolotl   skip axolotl.yaml      --json   print JSON
  The job: the same --config file and flags as \`tunebook train\` (--model, --data, --eval-data, --template,
  --labels, --limit, --lora, --lr, --steps, --epochs, --batch-size, --grad-accum, --max-length, --warmup, ...).`;

const VALUES = new Set(["engine", "out", "gpu", "gpus", "max-gpus", "precision"]);
const BOOLS = new Set(["force", "no-axolotl", "json", "help"]);

/** Split argv into export's own flags and the rest (train's flags). */
export function splitExportArgs(argv: string[]): { own: Record<string, string | boolean>; rest: string[] } {
  const own: Record<string, string | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
    if (m && VALUES.has(m[1])) {
      if (m[2] !== undefined) own[m[1]] = m[2];
      else if (i + 1 < argv.length) own[m[1]] = argv[++i];
      else throw new UsageError(`tunebook export: --${m[1]} needs a value`);
    } else if (m && BOOLS.has(m[1])) {
      if (m[2] !== undefined) throw new UsageError(`tunebook export: --${m[1]} takes no value`);
      own[m[1]] = true;
    } else rest.push(a);
  }
  return { own, rest };
}

function positiveInt(v: string, flag: string): number {
  try {
    return parseNumberFlag(v, flag, { min: 1 }, true);
  } catch {
    throw new UsageError(
      `--${flag} must be a positive integer${flag === "gpus" ? " or auto" : ""}, got ${JSON.stringify(v)}`,
    );
  }
}

export async function run(argv: string[], io: CliIO = STD_IO): Promise<number> {
  const { own, rest } = splitExportArgs(argv);
  if (own.help) return (io.out(HELP + "\n"), 0);
  const engine = (own.engine as string | undefined) ?? "hf";
  if (!(ENGINES as readonly string[]).includes(engine))
    throw new UsageError(
      `tunebook export: --engine ${JSON.stringify(engine)} is not supported (known: ${ENGINES.join(", ")})`,
    );
  const out = own.out as string | undefined;
  if (!out) throw new UsageError(`tunebook export: --out DIR is required\n${HELP}`);
  const precision = ((own.precision as string | undefined) ?? "auto").toLowerCase();
  if (precision !== "auto" && !PRECISIONS.includes(precision as Precision))
    throw new UsageError(
      `--precision must be auto or one of ${PRECISIONS.join(", ")}, got ${JSON.stringify(precision)}`,
    );
  const gpusFlag = own.gpus as string | undefined;
  const gpus = gpusFlag === undefined || gpusFlag === "auto" ? "auto" : positiveInt(gpusFlag, "gpus");
  const maxGpus = own["max-gpus"] === undefined ? undefined : positiveInt(own["max-gpus"] as string, "max-gpus");

  // The job itself: exactly what `tunebook train` would resolve (its --out is ours here).
  const job = resolveTrainJob([...rest, "--out", out]);
  if (job === "help") return (io.out(HELP + "\n"), 0);
  const train = { ...job.train };
  if (train.checkpointDir === path.join(out, "checkpoints")) delete train.checkpointDir; // train's default, not a setting
  try {
    const r = await exportJob({
      engine: engine as "hf",
      out,
      model: job.model,
      data: job.data,
      evalData: job.evalData,
      template: job.template,
      labels: job.labels,
      limit: job.limit,
      lora: job.lora,
      train,
      gpu: own.gpu as string | undefined,
      gpus,
      maxGpus,
      precision: precision as Precision | "auto",
      force: own.force === true,
      axolotl: own["no-axolotl"] !== true,
    });
    const c = r.job.cluster;
    if (own.json) {
      io.out(
        JSON.stringify(
          { out: r.out, files: r.files, cluster: c, resolved: r.job.resolved, notes: r.job.notes },
          null,
          2,
        ) + "\n",
      );
    } else {
      io.out(
        [
          `exported to ${r.out} (${r.files.length} files)`,
          `plan: ${c.numProcesses} × ${c.gpuName}, ${c.zeroStage ? `DeepSpeed ZeRO-${c.zeroStage}` : "no ZeRO"}, micro-batch ${c.microBatch} × ${c.gradAccumSteps} accumulation = ${c.effectiveBatch} per update, ${formatGiB(c.bytesPerGpu)} of ${formatGiB(c.usableBytesPerGpu)} per GPU`,
          `why: ${c.reason}`,
          `launch: cd ${out} && accelerate launch --config_file accelerate_config.yaml train.py`,
          `bring it back: (from ${out}) ${evalCommand(r.job)}`,
        ].join("\n") + "\n",
      );
    }
    return 0;
  } catch (e: any) {
    if (e instanceof ExportPlanError || e instanceof ExportError) throw new UsageError(`tunebook export: ${e.message}`);
    throw e;
  }
}
