/**
 * `tunebook <command>`: the command line over the same library the notebooks use.
 * Each command lives in src/cli/<name>.ts and exports `run(argv): Promise<number>` (the exit code).
 * Errors reach stderr as one clear message and a non-zero exit code, never a stack trace
 * (set TUNEBOOK_DEBUG=1 to see one).
 */
import { UsageError } from "./cli/args";

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  env: { summary: "backend, threads, versions, memory, hub reachability", load: () => import("./cli/env") },
  start: { summary: "register the tslab kernel and open the course in Jupyter", load: () => import("./cli/start") },
  notebooks: {
    summary:
      "notebooks run [NAME...] [--out DIR] | strip [--check] | render [--out DIR] [--executed DIR]: execute, strip or publish notebooks",
    load: () => import("./cli/notebooks"),
  },
  data: {
    summary:
      "data validate FILE... [--schema qa|instruction|classification|extraction] [--lenient] [--json] | stats FILE | list",
    load: () => import("./cli/data"),
  },
  datagen: {
    summary:
      "datagen expand|model|dedup|filter INPUT... --out OUT.jsonl [--report R.jsonl]: generate, dedup, filter Q&A JSONL",
    load: () => import("./cli/datagen"),
  },
  train: {
    summary:
      "train --config FILE.json | --model M --data FILE --out DIR [--steps N] [--resume] [--lora r=8,alpha=16]: fine-tune, checkpoints, JSON summary",
    load: () => import("./cli/train"),
  },
  eval: {
    summary:
      "eval --model M [--adapter A] --data FILE|DATASET [--template T] [--limit N] [--max-new-tokens N] [--json]: EM, F1, accuracy, perplexity, errors",
    load: () => import("./cli/eval"),
  },
  merge: {
    summary: "merge --model M --adapter A --out DIR [--force] [--dtype F16]: merge a LoRA adapter into its base",
    load: () => import("./cli/merge"),
  },
  export: {
    summary:
      "export --engine hf --out DIR (--config FILE.json | train flags) [--gpu ID] [--gpus N] [--force]: the same job for transformers/PEFT + accelerate (+ axolotl), planned by the sizing calculator",
    load: () => import("./cli/export"),
  },
  bench: {
    summary:
      "bench [--json] [--mode full|lora|generate|load|all] [--model pythia-70m] [--iters N] [--warmup N] [--threads N] [--no-torch]: throughput, memory, load time, MFU vs PyTorch",
    load: () => import("./cli/bench"),
  },
  sizing: {
    summary:
      "sizing --model M | --params N [--job inference|train|lora|qlora] [--gpu ID] [--json] | --gpu ID --json: memory, time, largest model per GPU",
    load: () => import("./cli/sizing"),
  },
  params: { summary: "params MODEL [--json]: parameter count", load: () => import("./cli/params") },
  tokenize: { summary: "tokenize --tokenizer PATH_OR_ID [--json] [--] TEXT", load: () => import("./cli/tokenize") },
  generate: {
    summary: "generate --model M --prompt TEXT | --prompt-ids 1,2,3 [--max-new-tokens N] [--greedy] [--json]",
    load: () => import("./cli/generate"),
  },
  score: {
    summary: "score --model M --text TEXT | --ids 1,2,3 --json: loss and perplexity",
    load: () => import("./cli/score"),
  },
};

export function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    "usage: tunebook <command> [options]",
    "",
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    "",
    "Run `tunebook <command> --help` for a command's options.",
  ].join("\n");
}

/** Run the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`tunebook: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await cmd.load();
    return await mod.run(rest);
  } catch (e: any) {
    if (process.env.TUNEBOOK_DEBUG) console.error(e);
    const msg = e instanceof UsageError ? e.message : `tunebook ${name}: ${e?.message ?? e}`;
    console.error(msg);
    return e instanceof UsageError ? 2 : 1;
  }
}
