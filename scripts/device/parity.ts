/**
 * The parity record of a pretrained family member: tunebook's logits against transformers' on the same ids
 * (fixed sentences from the course's domains, tokenized by the member's own tokenizer), written as parity.json
 * into the member's folder. Run it here, after unpacking what scripts/device/pretrain.py brought back:
 *
 *   export PYTHONPATH=$(../shared/hf-python/setup.sh)
 *   node --import tsx scripts/device/parity.ts .tunebook/family/tunebook-2m .tunebook/family/tunebook-9m ...
 *
 * Fails (exit 1, one line) when a member's difference exceeds 1e-4.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadModel } from "../../src/pipeline/pretrained";
import type { ParitySummary } from "../../src/model/card";

export const PARITY_TOLERANCE = 1e-4;
export const PARITY_TEXTS = [
  "In the beginning God created the heaven and the earth.",
  "Subject: Re: [zzzzteana] Moscow bomber",
  "The sqlite3_step() function evaluates a prepared statement.",
  "Whale, n. A large marine mammal of the order Cetacea.",
];
const HF_TOOL = path.join(__dirname, "..", "..", "tests", "interop", "hf_tool.py");

/** A member's parity record: the card's parity summary plus the token ids it was measured on. */
export interface ParityRecord extends ParitySummary {
  ids: number[][];
}

/** Compares the member in `dir` with transformers (python3 with the Hugging Face stack on PYTHONPATH). */
export async function parityRecord(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
  python = "/usr/bin/python3",
): Promise<ParityRecord> {
  const { model, tokenizer } = await loadModel(dir);
  try {
    const enc = PARITY_TEXTS.map((t) => tokenizer.encode(t));
    const n = Math.min(16, ...enc.map((e) => e.length));
    const ids = enc.map((e) => e.slice(0, n));
    const ours = tf.tidy(() => model.forward(ids).logits.dataSync() as Float32Array);
    const r = spawnSync(python, [HF_TOOL, "model", dir, JSON.stringify(ids)], {
      encoding: "utf8",
      env: { ...env, HF_HUB_OFFLINE: "1" },
      maxBuffer: 1 << 30,
    });
    if (r.status !== 0)
      throw new Error(`transformers could not load ${dir}: ${(r.stderr || "").trim().split("\n").pop()}`);
    const json = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const theirs: number[] = json.logits.data;
    if (theirs.length !== ours.length)
      throw new Error(`${dir}: transformers gave ${theirs.length} logits, tunebook ${ours.length}`);
    let d = 0;
    for (let i = 0; i < ours.length; i++) {
      const x = Math.abs(theirs[i] - ours[i]);
      if (!(x <= d)) d = x; // NaN propagates
    }
    return {
      ids,
      maxAbsDiff: d,
      tolerance: PARITY_TOLERANCE,
      transformers: json.versions.transformers,
      torch: json.versions.torch,
      tunebookBackend: tf.getBackend(),
      date: new Date().toISOString().slice(0, 10),
    };
  } finally {
    model.dispose();
  }
}

async function main(dirs: string[]): Promise<void> {
  if (!dirs.length)
    throw new Error("usage: parity.ts MEMBER_DIR... (folders unpacked from pretrain.py's NAME.tar parts)");
  const { initBackend } = await import("../../src/runtime/backend");
  await initBackend();
  for (const dir of dirs) {
    const rec = await parityRecord(dir);
    fs.writeFileSync(path.join(dir, "parity.json"), JSON.stringify(rec, null, 1) + "\n");
    console.log(
      `${path.basename(dir)}: max |logits tunebook − transformers ${rec.transformers}| = ${rec.maxAbsDiff.toExponential(2)} on ${rec.ids.length}×${rec.ids[0].length} ids`,
    );
    if (!(rec.maxAbsDiff <= PARITY_TOLERANCE))
      throw new Error(`${dir}: max |Δlogits| ${rec.maxAbsDiff} exceeds ${PARITY_TOLERANCE}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`parity: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
