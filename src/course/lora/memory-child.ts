/**
 * Child process of `measureStepMemoryInChild`: `node memory-child.js '<ChildSpec JSON>'` prints one JSON line
 * (a `StepMemory` with the process's peak RSS). Not for direct use.
 */
import { initBackend } from "../../runtime/backend";
import { runChild, type ChildSpec } from "./memory";

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as ChildSpec;
  await initBackend({ backend: spec.backend ?? process.env.TUNEBOOK_BACKEND ?? "wasm", verbose: false });
  const r = await runChild(spec);
  process.stdout.write(JSON.stringify(r) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e?.message ?? e}\n`);
  process.exit(1);
});
