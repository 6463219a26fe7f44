// Child process for the shutdown test: starts a Jupyter server on the folder in argv[2], starts a kernel,
// prints one JSON line {url, pid, runtime, kernel} and waits to be killed by a signal.
import { startJupyter } from "./jupyter-server";

(async () => {
  const server = await startJupyter(process.argv[2]);
  const kernel = (await server.api("POST", "/api/kernels", { name: "tslab" })) as { id: string };
  process.stdout.write(
    JSON.stringify({ url: server.url, pid: server.pid, runtime: server.runtime, kernel: kernel.id }) + "\n",
  );
  setInterval(() => undefined, 1 << 30);
})().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + "\n");
  process.exit(1);
});
