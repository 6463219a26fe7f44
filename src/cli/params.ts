/** `tunebook params MODEL [--json]`: the parameter count computed from the model's config (no weights loaded). */
import { parseArgs, bool, str, UsageError } from "./args";
import { loadConfig } from "../pipeline/pretrained";
import { countParameters } from "../model/presets";

const HELP = `usage: tunebook params MODEL [--json] [--revision REV]
  MODEL   a Pythia preset (pythia-70m, EleutherAI/pythia-1b, ...), "default" (the embedded model),
          a folder or config.json, or a Hugging Face repo id (only config.json is fetched)
  --json  {"total": N, "embedIn": ..., "layers": ..., "attention": ..., "mlp": ..., "norms": ..., "finalLayerNorm": ..., "embedOut": ...}`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ["json", "help"], values: ["revision"] }, "tunebook params");
  if (bool(p, "help")) return (console.log(HELP), 0);
  if (p.positional.length !== 1)
    throw new UsageError(`tunebook params: expected one MODEL, got ${p.positional.length}\n${HELP}`);
  const cfg = await loadConfig(p.positional[0], { revision: str(p, "revision") });
  const count = countParameters(cfg);
  if (bool(p, "json")) console.log(JSON.stringify(count));
  else console.log(String(count.total));
  return 0;
}
