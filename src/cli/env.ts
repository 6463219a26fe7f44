/** `tunebook env [--json] [--no-hub]`: backend, threads, versions, memory, hub reachability. */
import { parseArgs, bool } from "./args";
import { environmentReport, formatEnvironment } from "../hub/environment";

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { booleans: ["json", "no-hub", "help"] }, "tunebook env");
  if (bool(p, "help")) {
    console.log(
      "usage: tunebook env [--json] [--no-hub]\n  --json    one JSON object\n  --no-hub  do not probe the Hugging Face hub",
    );
    return 0;
  }
  const r = await environmentReport({ probeHub: !bool(p, "no-hub") });
  console.log(bool(p, "json") ? JSON.stringify(r, null, 2) : formatEnvironment(r));
  return 0;
}
