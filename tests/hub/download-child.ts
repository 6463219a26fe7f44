// Child process for the concurrent-download test (not a test file): waits for a barrier file so that both
// children start their download within milliseconds, then resolves one file and prints one JSON line.
import * as fs from "node:fs";
import { resolveRepoFiles } from "../../src/hub/resolve";

async function main(): Promise<void> {
  const [repo, file, endpoint, cacheDir, barrier] = process.argv.slice(2);
  process.stdout.write("ready\n");
  while (!fs.existsSync(barrier)) await new Promise((r) => setTimeout(r, 5));
  let waitedFor: string | undefined;
  try {
    const r = await resolveRepoFiles(repo, [file], {
      endpoint,
      cacheDir,
      offline: false,
      onProgress: (p) => {
        if (p.waitingFor) waitedFor = p.waitingFor;
      },
    });
    process.stdout.write(`${JSON.stringify({ ok: true, pid: process.pid, path: r.files[file], waitedFor })}\n`);
  } catch (e: any) {
    process.stdout.write(`${JSON.stringify({ ok: false, pid: process.pid, code: e?.code, message: e?.message })}\n`);
    process.exitCode = 1;
  }
}
void main();
