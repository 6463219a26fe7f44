/** `tunebook generate --model M --prompt TEXT | --prompt-ids 1,2,3 [...]`: continue a prompt. */
import { parseArgs, bool, str, int, num, intList, UsageError } from "./args";
import { disposeModel, loadModelMaybeTokenizer } from "../pipeline";
import { generate } from "../model/generate";
import { initBackend } from "../runtime/backend";
import { textProgress } from "../hub";
import { loadAdapter } from "../lora/peft";

const HELP = `usage: tunebook generate --model M (--prompt TEXT | --prompt-ids 1,2,3) [options]
  --model M               "default" (embedded), a folder, or a repo id (EleutherAI/pythia-70m)
  --max-new-tokens N      default 32; at most the model's context (max_position_embeddings) minus the prompt
  --greedy                take the most likely token (default: sample with --temperature/--top-k/--top-p)
  --temperature T         default 0.8     --top-k K   default 50     --top-p P   default 0.95
  --repetition-penalty R  default 1 (off)  --seed S   default 0
  --stop STR              stop when the new text contains STR (repeatable)
  --revision REV          hub revision (e.g. step3000)
  --adapter DIR           a LoRA adapter (PEFT folder) to apply to the model
  --json                  {"ids": [...new ids], "text": "..."}; otherwise the text streams as it is generated`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    {
      booleans: ["json", "greedy", "help"],
      values: [
        "model",
        "adapter",
        "prompt",
        "prompt-ids",
        "max-new-tokens",
        "temperature",
        "top-k",
        "top-p",
        "repetition-penalty",
        "seed",
        "revision",
      ],
      repeat: ["stop"],
    },
    "tunebook generate",
  );
  if (bool(p, "help")) return (console.log(HELP), 0);
  const modelId = str(p, "model");
  if (!modelId) throw new UsageError(`tunebook generate: --model is required\n${HELP}`);
  const prompt = str(p, "prompt");
  const promptIds = intList(p, "prompt-ids");
  if ((prompt === undefined) === (promptIds === undefined))
    throw new UsageError("tunebook generate: give exactly one of --prompt TEXT or --prompt-ids 1,2,3");
  if (p.positional.length)
    throw new UsageError(
      `tunebook generate: unexpected argument ${JSON.stringify(p.positional[0])} (put the text in --prompt)`,
    );
  const json = bool(p, "json");
  const maxNewTokens = int(p, "max-new-tokens", 32)!;
  const sampling = {
    temperature: num(p, "temperature", 0.8, { min: 0, exclusiveMin: true })!,
    topK: int(p, "top-k", 50, 0)!,
    topP: num(p, "top-p", 0.95, { min: 0, exclusiveMin: true, max: 1 })!,
    repetitionPenalty: num(p, "repetition-penalty", 1, { min: 0, exclusiveMin: true })!,
    seed: int(p, "seed", 0, 0)!,
  };
  const stop = (p.flags.stop as string[] | undefined) ?? [];

  await initBackend({ verbose: false });
  const { model, tokenizer } = await loadModelMaybeTokenizer(modelId, {
    revision: str(p, "revision"),
    onProgress: textProgress(),
  });
  try {
    const adapter = str(p, "adapter");
    if (adapter) await loadAdapter(model, adapter);
    if (!tokenizer && (prompt !== undefined || stop.length))
      throw new UsageError(`tunebook generate: ${modelId} has no tokenizer.json; use --prompt-ids`);
    const decode = (x: number[]) => (tokenizer ? tokenizer.decode(x) : "");
    const ids = promptIds ?? tokenizer!.encode(prompt!);
    for (const id of ids)
      if (id >= model.config.vocabSize)
        throw new UsageError(`--prompt-ids: id ${id} is outside the model's vocabulary (${model.config.vocabSize})`);
    const ctx = model.config.maxPositionEmbeddings;
    const promptLength = Math.max(ids.length, 1); // an empty prompt starts from BOS
    if (promptLength + maxNewTokens > ctx) {
      const room = ctx - promptLength;
      throw new UsageError(
        room > 0
          ? `--max-new-tokens ${maxNewTokens} is over the limit of ${room}: ${modelId}'s context is ${ctx} tokens (max_position_embeddings) and the prompt has ${ids.length}`
          : `tunebook generate: the prompt has ${ids.length} tokens and fills ${modelId}'s context of ${ctx} (max_position_embeddings); shorten it`,
      );
    }
    const streamed: number[] = [];
    let printed = "";
    const out = await generate(model, ids, {
      maxNewTokens,
      doSample: !bool(p, "greedy"),
      ...sampling,
      stopStrings: stop.length ? stop : undefined,
      decode,
      onToken: json
        ? undefined
        : !tokenizer
          ? (id) => process.stdout.write(`${id} `)
          : (id) => {
              streamed.push(id);
              const text = decode(streamed);
              // print only complete characters: a multi-byte character may span tokens
              if (!text.endsWith("\uFFFD")) {
                process.stdout.write(text.slice(printed.length));
                printed = text;
              }
            },
    });
    const text = decode(out);
    if (json) console.log(JSON.stringify({ ids: out, text: tokenizer ? text : null }));
    else process.stdout.write((tokenizer ? text.slice(printed.length) : "") + "\n");
  } finally {
    disposeModel(model); // with an --adapter's variables, which are not the model's
  }
  return 0;
}
