/**
 * Record the training step of notebook 05 on this CPU at the GPU recordings' batch shape (issue 18, part 5):
 * one AdamW update of random-init Pythia shapes through the course's Trainer (`measureScaling`), 1 warm-up step
 * and 3 timed steps per row, every timed step and the 1-minute load average at each step kept. Each row runs in a
 * child process of its own (a fresh wasm heap per row; a row that runs out of memory or time becomes a row with
 * an `error`, never a lost file). Writes docs/recorded/cpu-scaling/<date>-<label>.json in the format of
 * src/scaling/cpu-records.ts (docs/recorded/cpu-scaling/README.md), rewriting it after every row.
 *
 *   nice -n 5 node --import tsx scripts/record/cpu-scaling.ts [--label epyc-zen5-wasm] [--budget-s 1500]
 *       [--sweep 14m,31m,70m,160m] [--shape 8x512] [--ladder-model 14m] [--ladder 2x32,4x128,8x128,2x512]
 *       [--timed 3] [--notes "..."] [--resume FILE]
 *
 * --resume FILE keeps FILE's measured rows (and its date and starting load), runs only the jobs it lacks or that
 * failed there, and rewrites FILE: for finishing a record when the machine is less busy.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs";
import { measureScaling } from "../../src/scaling/measure";
import { flopParamCount } from "../../src/scaling/throughput";
import { getPreset } from "../../src/model/presets";
import { matmulEngine } from "../../src/kernels/native-blas";
import { describeCpu, machineCpu } from "../../src/tools/bench/limits";
import {
  CPU_RECORD_FORMAT,
  CPU_RECORD_VERSION,
  validateCpuRecord,
  type CpuRecord,
  type CpuRecordRow,
} from "../../src/scaling/cpu-records";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}
const shapeOf = (s: string) => {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m)
    throw new Error(`cpu-scaling: a shape must look like 8x512 (batch x sequence length), got ${JSON.stringify(s)}`);
  return { batch: Number(m[1]), seq: Number(m[2]) };
};
const load1 = () => Math.round(os.loadavg()[0] * 100) / 100;

/** Child: measure one (size, shape) and print the row as one `ROW {...}` line. */
async function one(size: string, batch: number, seq: number, timed: number): Promise<void> {
  const loads: number[] = [];
  const r = await measureScaling({
    sizes: [size],
    batchSize: batch,
    seqLen: seq,
    warmupSteps: 1,
    timedSteps: timed,
    profileMemory: false,
    maxEstimatedBytes: 0, // try every row; running out of memory is recorded as the row's error
    onProgress: (p) => {
      if (p.phase === "step") loads.push(load1());
      if (p.seconds !== undefined)
        process.stderr.write(`${size} ${batch}x${seq} ${p.phase} ${p.seconds.toFixed(2)} s\n`);
    },
  });
  const row = r.rows[0];
  const out: CpuRecordRow = {
    model: row.model,
    params: row.params,
    flopParams: flopParamCount(getPreset(size)),
    batch,
    seq,
    warmupSteps: 1,
    stepSecondsAll: row.stepSecondsAll,
    loadAverage1m: loads,
    firstLoss: row.firstLoss,
  };
  const env = { backend: r.backend, matmul: matmulEngine(), tfjs: tf.version.tfjs, rss: process.memoryUsage().rss };
  process.stdout.write(`ROW ${JSON.stringify({ row: out, env })}\n`);
}

async function main(): Promise<void> {
  if (process.argv[2] === "--one") {
    const [size, b, t, timed] = process.argv.slice(3);
    await one(size, Number(b), Number(t), Number(timed));
    return;
  }
  const resume = arg("resume", "");
  const old: CpuRecord | undefined = resume
    ? validateCpuRecord(JSON.parse(fs.readFileSync(resume, "utf8")), resume)
    : undefined;
  const date = old?.date ?? new Date().toISOString();
  const label = arg("label", "epyc-zen5-wasm");
  const budget = Number(arg("budget-s", "1500"));
  const timed = Number(arg("timed", "3"));
  const shape = shapeOf(arg("shape", "8x512"));
  const ladderModel = arg("ladder-model", "14m");
  const jobs = [
    ...arg("ladder", "2x32,4x128,8x128,2x512")
      .split(",")
      .filter(Boolean)
      .map((s) => ({ size: ladderModel, ...shapeOf(s) })),
    ...arg("sweep", "14m,31m,70m,160m")
      .split(",")
      .map((size) => ({ size, ...shape })),
  ];
  const file = resume || path.join("docs", "recorded", "cpu-scaling", `${date.slice(0, 10)}-${label}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const cpu = machineCpu();
  const loadBefore = old?.loadAverage.before ?? os.loadavg().map((x) => Math.round(x * 100) / 100);
  const rows: CpuRecordRow[] = old ? old.rows.filter((r) => r.error === undefined) : [];
  let env: { backend: string; matmul: string; tfjs: string } | undefined = old
    ? { backend: old.backend, matmul: old.matmul, tfjs: old.software.tfjs }
    : undefined;
  const started = Date.now();
  const baseNotes =
    arg("notes", "") ||
    old?.notes?.replace(/ Load average \(1 min\) during the timed steps:.*$/, "") ||
    "Recorded on a 2-core machine shared with other jobs: the 1-minute load average at every timed step is kept per row (2.0 = both cores busy). Other jobs slow some steps and speed up none; the minimum of the timed steps is the least disturbed estimate.";
  const write = () => {
    const loads = rows.flatMap((r) => r.loadAverage1m);
    const loadNote = loads.length
      ? ` Load average (1 min) during the timed steps: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} on ${cpu.cpus} CPUs.`
      : "";
    const rec: CpuRecord = {
      format: CPU_RECORD_FORMAT,
      version: CPU_RECORD_VERSION,
      label: `tunebook on ${cpu.model}${cpu.microarch ? ` (${cpu.microarch})` : ""}, ${cpu.cpus} cores, ${env?.backend ?? "wasm"}`,
      date,
      machine: {
        cpu: describeCpu(cpu),
        cores: cpu.cpus,
        memoryBytes: os.totalmem(),
        platform: `${os.type()} ${os.release()} ${os.arch()}`,
      },
      backend: env?.backend ?? "unknown",
      matmul: env?.matmul ?? "unknown",
      precision: "fp32",
      software: { node: process.versions.node, tfjs: env?.tfjs ?? tf.version.tfjs, tunebook: "0.1.0" },
      method:
        "scripts/record/cpu-scaling.ts: measureScaling (Trainer.trainStep: forward, loss, backward, clip 1.0, AdamW, one read) on random-init Pythia shapes and random tokens; one child process per row; 1 warm-up step, then every timed step kept",
      loadAverage: { before: loadBefore, after: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      notes: baseNotes + loadNote,
      rows,
    };
    validateCpuRecord(rec, file);
    fs.writeFileSync(file, `${JSON.stringify(rec, null, 1)}\n`);
  };
  for (const j of jobs) {
    if (rows.some((r) => r.model === `pythia-${j.size}` && r.batch === j.batch && r.seq === j.seq)) continue;
    const left = budget - (Date.now() - started) / 1000;
    const base = { model: `pythia-${j.size}`, params: 0, flopParams: flopParamCount(getPreset(j.size)), ...j };
    const cfgParams = (await import("../../src/model/presets")).countParameters(getPreset(j.size)).total;
    if (left < 30) {
      rows.push({
        ...base,
        params: cfgParams,
        warmupSteps: 1,
        stepSecondsAll: [],
        loadAverage1m: [],
        firstLoss: null,
        error: "not run: the recorder's time budget was spent",
      });
      write();
      continue;
    }
    process.stderr.write(`== ${j.size} ${j.batch}x${j.seq} (${Math.round(left)} s of budget left)\n`);
    const res = spawnSync(
      process.execPath,
      ["--import", "tsx", __filename, "--one", j.size, String(j.batch), String(j.seq), String(timed)],
      { encoding: "utf8", timeout: left * 1000, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 },
    );
    const line = (res.stdout ?? "").split("\n").find((l) => l.startsWith("ROW "));
    if (line) {
      const got = JSON.parse(line.slice(4));
      rows.push(got.row);
      env = got.env;
    } else {
      const why = res.error?.message.includes("ETIMEDOUT")
        ? `not finished within the recorder's budget (${Math.round(left)} s left)`
        : `the child process failed (exit ${res.status}, signal ${res.signal}); the wasm heap is 4 GiB at most`;
      rows.push({
        ...base,
        params: cfgParams,
        warmupSteps: 1,
        stepSecondsAll: [],
        loadAverage1m: [],
        firstLoss: null,
        error: why,
      });
    }
    write();
  }
  process.stderr.write(`wrote ${file} in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
