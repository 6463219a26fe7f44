/**
 * Multi-threaded WebAssembly for TensorFlow.js in Node.
 *
 * `@tensorflow/tfjs-backend-wasm` ships a threaded+SIMD build (XNNPACK on a pthreads pool) but never uses it
 * in Node, for three reasons (tfjs issue 3830), each of which is worked around here while the backend starts:
 *
 * 1. Its `WASM_HAS_MULTITHREAD_SUPPORT` flag is hard-wired to false in Node → we set the flag to true.
 * 2. Emscripten's pthread workers are created from `blob:` URLs (the worker script and the main script are
 *    strings inside the bundle, wrapped in `Blob`s), which Node's `worker_threads` cannot load → while the
 *    backend initialises, `Blob` and `URL.createObjectURL` are wrapped so that both scripts are written to
 *    files (a per-version folder in the OS temp dir, written atomically) and the workers start from those
 *    files. The main script is prefixed with the few bundle-level names it refers to (`require$$0`...,
 *    `commonjsGlobal` and three array helpers), which a separate file does not otherwise have.
 * 3. The backend sizes its XNNPACK pool as `min(requested, logicalCores / 2)` — 1 on a 2-core machine → during
 *    initialisation `os.cpus()` reports twice the requested count.
 *
 * After start-up the idle pool workers Emscripten pre-spawns (8) are terminated and the running ones
 * `unref`'d, so the process exits normally. Any failure leaves the globals restored and reports why; the
 * caller then falls back to the single-threaded build.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { backendInternals } from "./tfjs-internals";

/** Environment variable: number of XNNPACK threads on the wasm backend (1 = single-threaded). */
export const WASM_THREADS_ENV = "TUNEBOOK_WASM_THREADS";

/** Threads used by default: every core the OS reports, at most 8 (the size of Emscripten's pool). */
export function defaultWasmThreads(): number {
  const env = process.env[WASM_THREADS_ENV];
  if (env !== undefined && env.trim() !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${WASM_THREADS_ENV}=${JSON.stringify(env)}: expected an integer ≥ 1`);
    return Math.min(n, 8);
  }
  return Math.max(1, Math.min(os.cpus().length, 8));
}

const MAIN_MARKER = "var WasmBackendModuleThreadedSimd = ";
const WORKER_MARKER = "WasmBackendModuleThreadedSimd(Module)";

/** Names the extracted main script uses from the bundle's scope, defined for a stand-alone file. */
function mainPrelude(file: string): string {
  return [
    `var require$$0 = require("fs"), require$$1 = require("path"), require$$3 = require("perf_hooks"), require$$4 = require("os");`,
    `var commonjsGlobal = globalThis;`,
    `var _scriptDir = ${JSON.stringify(file)};`,
    `function __values(o) { return o[Symbol.iterator](); }`,
    `function __read(o, n) { var a = []; for (var x of o) { if (n !== undefined && a.length >= n) break; a.push(x); } return a; }`,
    `function __spreadArray(to, from) { return to.concat(Array.from(from)); }`,
    "",
  ].join("\n");
}

/** The worker reads the main script from `urlOrBlob`; point it at the file instead of the (unloadable) Blob. */
function workerPrelude(mainFile: string): string {
  return [
    `"use strict";`,
    `var __tunebookMain = ${JSON.stringify(mainFile)};`,
    `var __tunebookPort = require("worker_threads").parentPort;`,
    `var __tunebookOn = __tunebookPort.on.bind(__tunebookPort);`,
    `__tunebookPort.on = function (ev, fn) { return __tunebookOn(ev, ev !== "message" ? fn : function (d) { if (d && d.cmd === "load") d.urlOrBlob = __tunebookMain; fn(d); }); };`,
    "",
  ].join("\n");
}

/** Write `text` to `file` atomically unless an identical file is already there. */
function writeOnce(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, "utf8") === text) return;
  } catch {
    /* absent */
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export interface ThreadedWasmResult {
  ok: boolean;
  /** Threads XNNPACK actually uses (1 when `ok` is false). */
  threads: number;
  why: string;
}

/**
 * Activate the wasm backend with `threads` XNNPACK threads. Must run before the wasm backend is first
 * initialised in this process. Never throws: `ok: false` with the reason when the threaded build did not start
 * (the wasm backend is then not active and the caller should start the single-threaded one).
 *
 * @example
 * const r = await startThreadedWasm(2); // { ok: true, threads: 2, why: "..." }
 */
export async function startThreadedWasm(threads: number): Promise<ThreadedWasmResult> {
  let wasmMod: any;
  try {
    wasmMod = require("@tensorflow/tfjs-backend-wasm");
  } catch (e: any) {
    return { ok: false, threads: 1, why: `@tensorflow/tfjs-backend-wasm did not load: ${e?.message ?? e}` };
  }
  if (typeof SharedArrayBuffer === "undefined")
    return { ok: false, threads: 1, why: "SharedArrayBuffer is unavailable" };
  const g = globalThis as any;
  const OrigBlob = g.Blob;
  const origCreate = URL.createObjectURL;
  const osModule: typeof os = require("node:os"); // the module object itself (a namespace import is read-only)
  const origCpus = osModule.cpus;
  const dir = path.join(os.tmpdir(), `tunebook-wasm-threads-${wasmMod.version_wasm ?? "x"}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e: any) {
    return { ok: false, threads: 1, why: `cannot write the worker scripts to ${dir}: ${e?.code ?? e?.message ?? e}` };
  }
  const texts = new WeakMap<object, string>();
  let mainFile: string | undefined;
  let workerFile: string | undefined;
  const hash = (s: string) => crypto.createHash("sha256").update(s).digest("hex").slice(0, 12);
  g.Blob = class extends OrigBlob {
    constructor(parts: unknown[], opts?: unknown) {
      super(parts, opts);
      if (Array.isArray(parts) && parts.every((p) => typeof p === "string")) {
        const text = parts.join("");
        texts.set(this, text);
        if (text.startsWith(MAIN_MARKER)) {
          mainFile = path.join(dir, `threaded-simd-${hash(text)}.js`);
          writeOnce(mainFile, mainPrelude(mainFile) + text + "\n");
        }
      }
    }
  };
  (URL as any).createObjectURL = (obj: any) => {
    const text = texts.get(obj);
    if (text?.includes(WORKER_MARKER) && mainFile) {
      const body = workerPrelude(mainFile) + text;
      workerFile = path.join(dir, `worker-${hash(body)}.js`);
      writeOnce(workerFile, body);
      return workerFile;
    }
    return origCreate(obj);
  };
  (osModule as any).cpus = () => {
    const cpus = origCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  };
  try {
    wasmMod.setThreadsCount(threads);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    const ok = await tf.setBackend("wasm");
    if (!ok) throw new Error("the threaded wasm backend failed to start");
    await tf.ready();
    const pthread = backendInternals().wasm?.PThread;
    if (!pthread || !mainFile || !workerFile) throw new Error("the threaded build was not used");
    for (const w of pthread.unusedWorkers.splice(0)) w.terminate(); // idle pre-spawned workers: memory only
    for (const w of pthread.runningWorkers) w.unref(); // XNNPACK's pool must not keep the process alive
    const n = wasmMod.getThreadsCount();
    return { ok: true, threads: n, why: `${n} threads` };
  } catch (e: any) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false); // the caller retries with the single-threaded build
    return { ok: false, threads: 1, why: `threaded wasm failed: ${String(e?.message ?? e).split("\n")[0]}` };
  } finally {
    g.Blob = OrigBlob;
    (URL as any).createObjectURL = origCreate;
    (osModule as any).cpus = origCpus;
  }
}
