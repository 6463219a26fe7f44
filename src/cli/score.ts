/** `tunebook score --model M --text TEXT | --ids 1,2,3 [--json]`: loss and perplexity of a sequence. */
import { parseArgs, bool, str, intList, UsageError } from "./args";
import { assertFiniteWeights } from "./common";
import { disposeModel, loadModelMaybeTokenizer } from "../pipeline";
import { scoreSequence } from "../model/score";
import { initBackend } from "../runtime/backend";
import { textProgress } from "../hub";
import { loadAdapter } from "../lora/peft";

const HELP = `usage: tunebook score --model M (--text TEXT | --ids 1,2,3) [--adapter DIR] [--json]
  Next-token loss of the sequence as Hugging Face computes it with labels=input_ids: the mean cross-entropy
  of tokens 2..n given the ones before; perplexity = exp(loss).
  --adapter DIR  a LoRA adapter (PEFT folder) to apply to the model
  --json  {"loss": x, "perplexity": y, "tokens": n, "scoredTokens": n-1}`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { booleans: ["json", "help"], values: ["model", "adapter", "text", "ids", "revision"] },
    "tunebook score",
  );
  if (bool(p, "help")) return (console.log(HELP), 0);
  const modelId = str(p, "model");
  if (!modelId) throw new UsageError(`tunebook score: --model is required\n${HELP}`);
  const text = str(p, "text");
  const givenIds = intList(p, "ids");
  if ((text === undefined) === (givenIds === undefined))
    throw new UsageError("tunebook score: give exactly one of --text TEXT or --ids 1,2,3");
  await initBackend({ verbose: false });
  const { model, tokenizer, dir } = await loadModelMaybeTokenizer(modelId, {
    revision: str(p, "revision"),
    onProgress: textProgress(),
  });
  try {
    const adapter = str(p, "adapter");
    if (adapter) await loadAdapter(model, adapter);
    assertFiniteWeights(model, dir, adapter);
    if (!tokenizer && text !== undefined)
      throw new UsageError(`tunebook score: ${modelId} has no tokenizer.json; use --ids`);
    const ids = givenIds ?? tokenizer!.encode(text!);
    const r = scoreSequence(model, ids);
    if (!Number.isFinite(r.loss))
      throw new Error(
        `${dir}: the loss of this sequence is ${r.loss} although every weight is finite (the activations overflowed)`,
      );
    if (bool(p, "json")) console.log(JSON.stringify(r));
    else console.log(`loss ${r.loss.toFixed(4)}  perplexity ${r.perplexity.toFixed(2)}  tokens ${r.tokens}`);
  } finally {
    disposeModel(model); // with an --adapter's variables, which are not the model's
  }
  return 0;
}
