/**
 * Device entry (bundled by scripts/device/pack-webgpu.sh): tunebook's own training step on a GPU through
 * WebGPU (Dawn → Vulkan), across Pythia sizes, written as a tunebook recording ("tunebook-scaling-record" v1).
 *
 * Usage: node tunebook-webgpu.js --out rec.json [--sizes 14m,31m,70m,160m] [--batch 8] [--seq 512]
 *        [--steps 3] [--budget-s 200] [--backend webgpu]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/runtime/backend";
import { measureScaling, type ScalingRow } from "../../src/scaling/measure";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

async function main(): Promise<void> {
  const out = arg("out", "");
  if (!out) throw new Error("--out FILE is required");
  const choice = await initBackend({ backend: arg("backend", "webgpu") });
  const sizes = arg("sizes", "14m,31m,70m,160m").split(",");
  const budget = Number(arg("budget-s", "200")) * 1000;
  const t0 = Date.now();
  const adapter = choice.reason;
  const rec: any = {
    format: "tunebook-scaling-record",
    version: 1,
    label: `tunebook (tfjs ${tf.version.tfjs}, ${choice.name}) on ${arg("gpu-name", "") || adapter.replace(/^.*adapter found:? ?/, "") || "GPU"}`,
    framework: "tunebook",
    date: new Date().toISOString(),
    machine: {
      gpu: arg("gpu-name", "") || adapter,
      adapter,
      cpu: os.cpus()[0]?.model ?? os.arch(),
      cpuCount: os.cpus().length,
    },
    software: {
      node: process.versions.node,
      tfjs: tf.version.tfjs,
      backend: choice.name,
      dawn: "webgpu npm package (dawn.node)",
    },
    method: "",
    rows: [] as unknown[],
  };
  for (const size of sizes) {
    const name = size.startsWith("pythia-") ? size : `pythia-${size}`;
    if (Date.now() - t0 > budget) {
      rec.rows.push({
        model: name,
        params: null,
        precision: "fp32",
        batch: Number(arg("batch", "8")),
        seq: Number(arg("seq", "512")),
        stepSeconds: null,
        tokensPerSecond: null,
        peakMemoryBytes: null,
        error: "time budget spent",
      });
      continue;
    }
    try {
      const r = await measureScaling({
        sizes: [size],
        batchSize: Number(arg("batch", "8")),
        seqLen: Number(arg("seq", "512")),
        warmupSteps: 1,
        timedSteps: Number(arg("steps", "3")),
        profileMemory: true,
        maxEstimatedBytes: 0,
        onProgress: (p) => console.log(JSON.stringify(p)),
      });
      rec.method = `tunebook measureScaling: random-init Pythia shapes, step method ${r.stepMethod} (${r.stepMethod === "async" ? "asyncTrainStep: the Trainer's stream, gradients, clip 1.0 and AdamW with one awaited read" : "Trainer.trainStep"}), fp32; ${r.options.warmupSteps} warm-up step, median of ${r.options.timedSteps}; peak = tf.profile peakBytes`;
      const row: ScalingRow = r.rows[0];
      rec.rows.push({
        model: row.model,
        params: row.params,
        precision: "fp32",
        batch: row.batchSize,
        seq: row.seqLen,
        stepSeconds: row.stepSeconds,
        stepSecondsAll: row.stepSecondsAll,
        tokensPerSecond: row.tokensPerSecond,
        peakMemoryBytes: row.peakBytes,
        firstLoss: row.firstLoss,
      });
    } catch (e: any) {
      rec.rows.push({
        model: name,
        params: null,
        precision: "fp32",
        batch: Number(arg("batch", "8")),
        seq: Number(arg("seq", "512")),
        stepSeconds: null,
        tokensPerSecond: null,
        peakMemoryBytes: null,
        error: String(e?.message ?? e).slice(0, 300),
      });
    }
    console.log(JSON.stringify(rec.rows[rec.rows.length - 1]));
    fs.writeFileSync(`${out}.tmp`, JSON.stringify(rec, null, 1));
    fs.renameSync(`${out}.tmp`, out);
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
