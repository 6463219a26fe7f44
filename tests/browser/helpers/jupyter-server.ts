/**
 * A private classic Jupyter Notebook server for the browser test: 127.0.0.1, a free port, a random
 * token, no browser, the project-local tslab kernelspec (JUPYTER_PATH) and private config/runtime
 * folders (the user's own Jupyter setup plays no part). `stop()` shuts the kernels down through the
 * REST API, stops the server's process group (SIGTERM, then SIGKILL), and kills any kernel that is
 * still alive — found by the private runtime folder in its command line, by pid. Stop is registered on
 * process exit and on SIGINT/SIGTERM/SIGHUP, so the server goes away on every exit path.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { requireJupyterPython } from "../../../src/tools/notebooks/jupyter";
import { localJupyterDir, writeKernelSpec } from "../../../src/tools/notebooks/kernelspec";

export interface JupyterServer {
  url: string;
  /** The server process (leader of its own process group). */
  pid: number;
  /** The private runtime folder (connection files); kernels' command lines mention it. */
  runtime: string;
  token: string;
  port: number;
  /** The folder the server serves. */
  root: string;
  /** Last lines the server printed (for failure messages). */
  log(): string;
  /** Authenticated JSON request to the REST API. */
  api(method: string, p: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of processes whose command line mentions `marker` (Linux /proc; [] elsewhere). */
export function pidsMentioning(marker: string): number[] {
  if (!fs.existsSync("/proc")) return [];
  const out: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(marker)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Start the server on `root` and wait until its API answers.
 *
 * @example
 * const server = await startJupyter(runDir);
 * try { ... } finally { await server.stop(); }
 */
export async function startJupyter(
  root: string,
  opts: { env?: NodeJS.ProcessEnv; startupMs?: number; logFile?: string } = {},
): Promise<JupyterServer> {
  const baseEnv = opts.env ?? process.env;
  const found = requireJupyterPython("start", baseEnv);
  if (!found.modules.notebook)
    throw new Error(
      `the browser test drives the classic Jupyter Notebook, which ${found.python} does not have: sudo apt-get install jupyter-notebook (or pip install "notebook<7")`,
    );
  const python = found.python;
  const jupyterDir = localJupyterDir();
  writeKernelSpec(jupyterDir);
  const priv = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-jupyter-"));
  const runtime = path.join(priv, "runtime");
  const port = await freePort();
  const token = randomBytes(24).toString("hex");
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    JUPYTER_PATH: [jupyterDir, baseEnv.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    JUPYTER_CONFIG_DIR: path.join(priv, "config"),
    JUPYTER_RUNTIME_DIR: runtime,
    JUPYTER_DATA_DIR: path.join(priv, "data"),
    IPYTHONDIR: path.join(priv, "ipython"),
    PYTHONUNBUFFERED: "1",
  };
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0 ? ["--allow-root"] : [];
  const args = [
    "-m",
    "notebook",
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--port-retries=0",
    `--NotebookApp.token=${token}`,
    "--NotebookApp.password=",
    `--notebook-dir=${root}`,
    "--NotebookApp.open_browser=False",
    ...asRoot,
  ];
  const child: ChildProcess = spawn(python, args, {
    cwd: root,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logText = "";
  // The whole log (kernel restarts, a kernel's own stderr) also goes to opts.logFile when given.
  if (opts.logFile) fs.writeFileSync(opts.logFile, "");
  const onData = (d: Buffer) => {
    logText = (logText + d.toString("utf8")).slice(-8000);
    if (opts.logFile) fs.appendFileSync(opts.logFile, d);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  let exited = false;
  child.on("exit", () => (exited = true));
  const url = `http://127.0.0.1:${port}`;

  let stopping: Promise<void> | undefined;
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const killKernels = () => {
    for (const pid of pidsMentioning(runtime)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  };
  const onExit = () => {
    killGroup("SIGKILL");
    killKernels();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    void server.stop().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("exit", onExit);
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);

  const api = async (method: string, p: string, body?: unknown): Promise<unknown> => {
    const r = await fetch(`${url}${p}`, {
      method,
      headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30000),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`Jupyter API ${method} ${p}: HTTP ${r.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };

  const server: JupyterServer = {
    url,
    pid: child.pid ?? -1,
    runtime,
    token,
    port,
    root,
    log: () => logText,
    api,
    stop() {
      stopping ??= (async () => {
        try {
          if (!exited) {
            const kernels = (await api("GET", "/api/kernels").catch(() => [])) as { id: string }[];
            await Promise.all(kernels.map((k) => api("DELETE", `/api/kernels/${k.id}`).catch(() => undefined)));
          }
        } finally {
          killGroup("SIGTERM");
          for (let i = 0; i < 100 && !exited; i++) await sleep(100);
          if (!exited) killGroup("SIGKILL");
          for (let i = 0; i < 20 && child.pid && alive(child.pid); i++) await sleep(100);
          killKernels();
          process.removeListener("exit", onExit);
          for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeListener(s, onSignal);
          fs.rmSync(priv, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };

  const deadline = Date.now() + (opts.startupMs ?? 60000);
  try {
    for (;;) {
      if (exited) throw new Error(`the Jupyter server exited during start-up:\n${logText}`);
      try {
        await api("GET", "/api/status");
        return server;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(
            `the Jupyter server did not answer on ${url} within ${(opts.startupMs ?? 60000) / 1000}s (${(e as Error).message}):\n${logText}`,
          );
        await sleep(250);
      }
    }
  } catch (e) {
    await server.stop();
    throw e;
  }
}
