/** `tunebook tokenize --tokenizer PATH_OR_ID [--json] [--] TEXT`: token ids of a text. */
import { parseArgs, bool, str, UsageError } from "./args";
import { loadTokenizerFrom } from "../pipeline/pretrained";
import { textProgress } from "../hub";

const HELP = `usage: tunebook tokenize --tokenizer PATH_OR_ID [--json] [--no-special] [--] TEXT
  --tokenizer  a tokenizer.json file, a model folder, "default", or a repo id (EleutherAI/pythia-70m)
  --json       {"ids": [...], "tokens": [...]}
  TEXT after -- is taken verbatim (leading spaces and dashes kept); several words are joined by one space.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { booleans: ["json", "help", "no-special"], values: ["tokenizer", "revision"] },
    "tunebook tokenize",
  );
  if (bool(p, "help")) return (console.log(HELP), 0);
  const id = str(p, "tokenizer");
  if (!id) throw new UsageError(`tunebook tokenize: --tokenizer is required\n${HELP}`);
  if (p.positional.length === 0) throw new UsageError(`tunebook tokenize: no TEXT given\n${HELP}`);
  const text = p.positional.join(" ");
  const tok = await loadTokenizerFrom(id, { revision: str(p, "revision"), onProgress: textProgress() });
  const ids = tok.encode(text, { addSpecialTokens: !bool(p, "no-special") });
  if (bool(p, "json")) {
    const tokens = ids.map((i) => tok.idToToken(i) ?? null);
    console.log(JSON.stringify({ ids, tokens }));
  } else console.log(ids.join(" "));
  return 0;
}
