/**
 * `tunebook sizing`: the memory and time a job needs, or the largest models a GPU holds.
 *
 *   tunebook sizing --model M | --params N [--job inference|train|lora|qlora] [--dtype D] [--gpu ID]
 *                   [--gpus N] [--zero 1|2|3] [--batch B] [--seq S] [--json]
 *   tunebook sizing --gpu ID [--json]        largest models per job
 *   tunebook sizing --list-gpus [--json]     the catalog
 */
import { parseArgs, bool, str, int, num, UsageError } from "./args";
import {
  CONVENTIONS,
  type Convention,
  estimateJson,
  estimateMemory,
  formatEstimate,
  formatGiB,
  formatParams,
  getGpu,
  GPU_CATALOG,
  gpuIds,
  gpuReport,
  type JobOptions,
  JOBS,
  type Job,
  loadModelShape,
  parseDtype,
  parseParamCount,
  RECOMPUTE,
  type Recompute,
  SIZING_OPTIMIZERS,
  type SizingOptimizer,
  shapeFromParams,
  SizingError,
  thisMachine,
} from "../sizing";

const HELP = `usage: tunebook sizing --model M | --params N [options] [--json]
       tunebook sizing --gpu ID [--json]          largest models per job on one GPU
       tunebook sizing --list-gpus [--json]       the GPU catalog
  --model M        a Pythia preset (pythia-1b), a reference (gpt3-175b, llama-2-7b, llama-2-70b, mistral-7b),
                   a config.json (GPT-NeoX or LLaMA-style) or its folder, "default", or a hub repo id
  --params N       a bare parameter count: 7e9, 7b, 70m (layers/width/heads assumed, and stated)
  --job J          ${JOBS.join(" | ")} (default inference)
  --dtype D        fp32 | fp16 | bf16 | int8 | int4 (inference weights; training: fp32 or 16-bit mixed precision)
  --gpu ID         ${gpuIds().join(", ")}
  --gpus N         GPUs (inference: weights split evenly; training: data parallel unless --zero)
  --zero S         ZeRO stage 1 | 2 | 3 over --gpus (training jobs)
  --batch B        sequences per GPU (default 1)      --seq S   tokens per sequence (default 512)
  --optimizer O    ${SIZING_OPTIMIZERS.join(" | ")} (default adamw)
  --convention C   ${CONVENTIONS.join(" | ")} (default eleutherai-16)
  --recompute R    ${RECOMPUTE.join(" | ")} (activation recomputation; default none)
  --rank R         LoRA rank (default 8)              --targets a,b   LoRA target modules or all-linear
  --overhead F     extra memory as a fraction of the weights (default 0.2 inference, 0 training)
  --mfu F          model FLOPs utilisation for time estimates (default 0.4)
  --tokens N       total tokens, for a total time
  --json           job: {"totalBytes", "breakdown": {weights, kvCache, activations, gradients, optimizer, overhead}, ...}
                   gpu: {"gpu", "maxParams": {inference, train, lora, qlora}, "assumptions"}`;

const SPEC = {
  booleans: ["json", "help", "list-gpus"],
  values: [
    "model",
    "params",
    "job",
    "dtype",
    "gpu",
    "gpus",
    "zero",
    "batch",
    "seq",
    "optimizer",
    "convention",
    "recompute",
    "rank",
    "targets",
    "overhead",
    "mfu",
    "tokens",
    "revision",
  ],
};

/**
 * A count flag such as `--params 70m` or `--tokens 2e9`: `parseParamCount`'s forms, but only whole numbers
 * (it rounds, and `--params 1.5` must not become 2 parameters).
 */
function wholeCount(v: string, flag: string): number {
  const n = parseParamCount(v, `--${flag}`);
  const m = /^\s*([+-]?[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbt]?)\s*$/i.exec(v);
  const exact = m
    ? Number(m[1]) * { "": 1, k: 1e3, m: 1e6, b: 1e9, t: 1e12 }[m[2].toLowerCase() as "" | "k" | "m" | "b" | "t"]
    : n;
  // 1.4b is 1.4 × 1e9 = 1399999999.9999998 in floating point: allow a few units in the last place
  if (Math.abs(exact - n) > Math.max(1e-6, 8 * Number.EPSILON * n))
    throw new UsageError(
      `--${flag} must be a whole number of ${flag === "params" ? "parameters" : "tokens"} (e.g. 70m, 1.4b, 7e9), got ${JSON.stringify(v)}`,
    );
  return n;
}

function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`--${flag} ${JSON.stringify(v)} is not known; use one of: ${allowed.join(", ")}`);
  return v as T;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SPEC, "tunebook sizing");
  if (bool(p, "help")) return (console.log(HELP), 0);
  if (p.positional.length)
    throw new UsageError(
      `tunebook sizing: unexpected argument ${JSON.stringify(p.positional[0])}; use --model or --params\n${HELP}`,
    );
  const json = bool(p, "json");
  try {
    if (bool(p, "list-gpus")) {
      const all = [...GPU_CATALOG, thisMachine()];
      if (json) console.log(JSON.stringify(all, null, 2));
      else
        for (const g of all)
          console.log(
            `${g.id.padEnd(22)} ${formatGiB(g.memoryBytes, 0).padStart(8)}  ${g.fp16Tflops ?? "?"} TFLOPS fp16  ${g.name}`,
          );
      return 0;
    }
    const model = str(p, "model");
    const params = str(p, "params");
    if (model !== undefined && params !== undefined)
      throw new UsageError("tunebook sizing: give --model or --params, not both");
    const gpuId = str(p, "gpu");
    const gpu = gpuId !== undefined ? getGpu(gpuId) : undefined;
    const zero = int(p, "zero", undefined, 0, 3);
    const targets = str(p, "targets");
    const tokens = str(p, "tokens");
    const job: Partial<JobOptions> = {
      job: oneOf<Job>(str(p, "job"), JOBS, "job"),
      dtype: str(p, "dtype") !== undefined ? parseDtype(str(p, "dtype"), "--dtype") : undefined,
      optimizer: oneOf<SizingOptimizer>(str(p, "optimizer"), SIZING_OPTIMIZERS, "optimizer"),
      convention: oneOf<Convention>(str(p, "convention"), CONVENTIONS, "convention"),
      recompute: oneOf<Recompute>(str(p, "recompute"), RECOMPUTE, "recompute"),
      gpus: int(p, "gpus"),
      zero: zero as JobOptions["zero"] | undefined,
      batch: int(p, "batch"),
      seq: int(p, "seq"),
      loraRank: int(p, "rank"),
      loraTargets:
        targets === undefined
          ? undefined
          : targets === "all-linear"
            ? "all-linear"
            : targets
                .split(",")
                .map((s) => s.trim())
                .filter(Boolean),
      overhead: num(p, "overhead", undefined, { min: 0 }),
      mfu: num(p, "mfu", undefined, { min: 0, exclusiveMin: true, max: 1 }),
      tokens: tokens === undefined ? undefined : wholeCount(tokens, "tokens"),
    };
    if (model === undefined && params === undefined) {
      if (!gpu)
        throw new UsageError(
          `tunebook sizing: give --model M or --params N (or --gpu ID alone for the largest models it holds)\n${HELP}`,
        );
      const report = gpuReport(
        gpu,
        Object.fromEntries(Object.entries(job).filter(([k, v]) => v !== undefined && k !== "job")),
      );
      if (json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`${report.gpu.name}: largest model that fits`);
        for (const [j, n] of Object.entries(report.maxParams)) console.log(`  ${j.padEnd(10)} ${formatParams(n)}`);
        console.log("assumptions:\n" + report.assumptions.map((a) => `  - ${a}`).join("\n"));
      }
      return 0;
    }
    const shape =
      params !== undefined
        ? shapeFromParams(wholeCount(params, "params"))
        : await loadModelShape(model as string, { revision: str(p, "revision") });
    const result = estimateMemory(shape, job, gpu);
    if (json) console.log(JSON.stringify(estimateJson(result), null, 2));
    else console.log(formatEstimate(result).replace(/\*\*/g, ""));
    return 0;
  } catch (e) {
    if (e instanceof SizingError) throw new UsageError(`tunebook sizing: ${e.message}`);
    throw e;
  }
}
