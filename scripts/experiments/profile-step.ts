// One full training step of a seeded random pythia-70m at batch 8 x 128 under tf.profile: kernel time by
// kernel name (ms), the profiled step's wall time, and the wall time of unprofiled steps around it.
// Usage: node --import tsx scripts/experiments/profile-step.ts [--warmup N] [--steps N] [--json]
// Quick A/B tool for issue 20 (not a benchmark: see src/tools/bench for the protocol).
import * as tf from "@tensorflow/tfjs";
import * as os from "node:os";
import { initBackend } from "../../src/runtime/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { getPreset } from "../../src/model/presets";
import { Rng } from "../../src/runtime/seed";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Trainer } from "../../src/train/trainer";
import { wasmMemory } from "../../src/kernels/wasm-heap";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const stepsArg = argv.indexOf("--steps");
  const timed = stepsArg >= 0 ? Number(argv[stepsArg + 1]) : 3;
  const warmArg = argv.indexOf("--warmup");
  const warmup = warmArg >= 0 ? Number(argv[warmArg + 1]) : 2; // the first steps grow the heap (first-touch page faults)
  await initBackend({ backend: "wasm", verbose: !argv.includes("--json") });
  const cfg = getPreset("pythia-70m");
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 0 });
  const rng = new Rng(1);
  const [B, T] = [8, 128];
  const steps = warmup + 1 + timed;
  const examples = Array.from({ length: B * steps }, () => ({
    inputIds: Array.from({ length: T }, () => Math.floor(rng.next() * cfg.vocabSize)),
  }));
  const trainer = new Trainer(causalLMTrainable(model), examples, {
    lr: 1e-4,
    weightDecay: 0.01,
    maxGradNorm: 0,
    batchSize: B,
    maxLength: T,
    numSteps: steps,
    shuffle: false,
    warmupSteps: 0,
    schedule: "constant",
    logEvery: steps,
  });
  const losses: number[] = [];
  for (let i = 0; i < warmup; i++) losses.push(trainer.trainStep().loss);
  const byKernel = new Map<string, { calls: number; ms: number }>();
  let wallProfiled = 0;
  const info = await tf.profile(() => {
    const t0 = performance.now();
    losses.push(trainer.trainStep().loss);
    wallProfiled = performance.now() - t0;
  });
  for (const k of info.kernels) {
    const e = byKernel.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += Number(k.kernelTimeMs) || 0;
    byKernel.set(k.name, e);
  }
  const walls: number[] = [];
  for (let i = 0; i < timed; i++) {
    const t0 = performance.now();
    losses.push(trainer.trainStep().loss);
    walls.push(performance.now() - t0);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const out = {
    load: os.loadavg().map((x) => +x.toFixed(2)),
    wallProfiledMs: Math.round(wallProfiled),
    wallMs: walls.map(Math.round),
    losses: losses.map((l) => +l.toFixed(6)),
    heapMiB: Math.round((wasmMemory()?.buffer.byteLength ?? 0) / 2 ** 20),
    kernels: Object.fromEntries(rows.map(([n, e]) => [n, { calls: e.calls, ms: +e.ms.toFixed(1) }])),
  };
  if (argv.includes("--json")) console.log(JSON.stringify(out));
  else {
    console.log(
      `load ${out.load.join(" ")}; profiled step ${out.wallProfiledMs} ms; steps ${out.wallMs.join(", ")} ms`,
    );
    for (const [n, e] of rows)
      console.log(`${n.padEnd(28)} ${String(e.calls).padStart(5)} ${e.ms.toFixed(1).padStart(9)}`);
    console.log(`losses ${out.losses.join(", ")}; wasm heap ${out.heapMiB} MiB`);
  }
  trainer.dispose();
  model.dispose();
}
void main();
