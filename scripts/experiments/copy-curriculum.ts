/**
 * Experiment (not part of the build): teach the embedded model to copy, i.e. grow induction heads, by continued
 * pretraining on sequences that repeat a span of random tokens, mixed with plain text. Issue 5: without copying,
 * fine-tuning cannot teach the embedded model to extract an e-mail's subject line. docs/embedded-model.md has
 * the measured curves and what to do with a model that copies.
 *
 *   npx tsx scripts/experiments/copy-curriculum.ts [--steps 2400] [--lr 1e-3] [--batch 32] [--repeats 4]
 *       [--min-span 6] [--max-span 12] [--text-fraction 0.2] [--eval-every 100] [--seed 0]
 *       [--out .tunebook/experiments/copy-curriculum] [--resume]
 *
 * Each training sequence is, with probability 1 − text-fraction, a random span R of min..max token ids repeated
 * `repeats` times (loss on every repetition after the first: only copying can predict them), otherwise a
 * 32-token window of the book/speech training text (plain LM loss, so the model keeps its English).
 * "copy loss" = mean loss on the second repetition of 16 held-out random spans; chance ≈ ln(4000) = 8.29.
 * Checkpoints (atomic, resumable with --resume) go to --out/checkpoints; the curve to --out/curve.json; the
 * final model (F32) to --out/model.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { initBackend } from "../../src/runtime/backend";
import { loadModel } from "../../src/pipeline/pretrained";
import { saveModel } from "../../src/model/load";
import { Trainer } from "../../src/train/trainer";
import { causalLMTrainable } from "../../src/train/causal-lm";
import type { TokenizedExample } from "../../src/types/example";
import { Rng } from "../../src/runtime/seed";
import { writeFileAtomic } from "../../src/runtime/atomic";
import { readCorpus } from "../lib/corpus";
import { RANDOM_IDS, repeatedSpan } from "../lib/induction";

const args = process.argv.slice(2);
const num = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name}: expected a number, found ${JSON.stringify(args[i + 1])}`);
  return v;
};
let STEPS = 0,
  LR = 0,
  BATCH = 0,
  REPEATS = 0,
  MIN_SPAN = 0,
  MAX_SPAN = 0,
  TEXT_FRACTION = 0,
  EVAL_EVERY = 0,
  SEED = 0;
let OUT = "";
let RESUME = false;
/** Reads the flags (inside main, so a bad value is reported as one line). */
function parseFlags(): void {
  STEPS = num("steps", 2400);
  LR = num("lr", 1e-3);
  BATCH = num("batch", 32);
  REPEATS = num("repeats", 4);
  MIN_SPAN = num("min-span", 6);
  MAX_SPAN = num("max-span", 12);
  TEXT_FRACTION = num("text-fraction", 0.2);
  EVAL_EVERY = num("eval-every", 100);
  SEED = num("seed", 0);
  const outIdx = args.indexOf("--out");
  OUT = path.resolve(outIdx >= 0 ? args[outIdx + 1] : ".tunebook/experiments/copy-curriculum");
  RESUME = args.includes("--resume");
  if (REPEATS < 2 || MIN_SPAN < 2 || MAX_SPAN < MIN_SPAN)
    throw new Error("need --repeats ≥ 2 and 2 ≤ --min-span ≤ --max-span");
}
const TEXT_WINDOW = 32;
const HOLDOUT_EVERY = 40; // as scripts/build-default-model.ts: every 40th document is held out

async function main(): Promise<void> {
  parseFlags();
  await initBackend();
  const { model, tokenizer } = await loadModel("default");
  const docs = readCorpus().filter((_, i) => i % HOLDOUT_EVERY !== HOLDOUT_EVERY - 1);
  const ids = docs.flatMap((d) => [...tokenizer.encode(d.text), tokenizer.eosTokenId ?? 0]);
  const rng = new Rng(SEED + 1);
  const train: TokenizedExample[] = [];
  for (let i = 0; i < STEPS * BATCH; i++) {
    if (rng.next() >= TEXT_FRACTION) train.push(repeatedSpan(rng, REPEATS, MIN_SPAN, MAX_SPAN));
    else {
      const s = Math.floor(rng.next() * (ids.length - TEXT_WINDOW));
      train.push({ inputIds: ids.slice(s, s + TEXT_WINDOW) });
    }
  }
  const evalRng = new Rng(SEED + 7);
  const evalData = Array.from({ length: 16 }, () => repeatedSpan(evalRng, 2, MIN_SPAN, MAX_SPAN, true));
  fs.mkdirSync(OUT, { recursive: true });
  const curve: { step: number; copyLoss: number }[] = [];
  const trainer = new Trainer(
    causalLMTrainable(model),
    train,
    {
      lr: LR,
      numSteps: STEPS,
      batchSize: BATCH,
      maxLength: REPEATS * MAX_SPAN,
      warmupSteps: 20,
      schedule: "constant",
      weightDecay: 0.1,
      maxGradNorm: 1,
      seed: SEED,
      evalData,
      evalEvery: EVAL_EVERY,
      padId: tokenizer.padTokenId ?? 1,
      checkpointDir: path.join(OUT, "checkpoints"),
      checkpointEvery: 100,
      keepCheckpoints: 1,
      resume: RESUME,
    },
    {
      onStep: (s) => {
        if (s.step % 25 === 0)
          console.log(`step ${s.step}/${s.numSteps} loss ${s.loss.toFixed(3)} ${s.tokensPerSec.toFixed(0)} tok/s`);
      },
      onEval: (e) => {
        curve.push({ step: e.step, copyLoss: e.evalLoss });
        console.log(`  step ${e.step}: copy loss ${e.evalLoss.toFixed(3)} (chance ${Math.log(RANDOM_IDS).toFixed(2)})`);
        writeFileAtomic(
          path.join(OUT, "curve.json"),
          JSON.stringify(
            { settings: { STEPS, LR, BATCH, REPEATS, MIN_SPAN, MAX_SPAN, TEXT_FRACTION, SEED }, curve },
            null,
            1,
          ) + "\n",
        );
      },
    },
  );
  await trainer.train();
  trainer.dispose();
  await saveModel(model, path.join(OUT, "model"));
  console.log(`wrote ${path.join(OUT, "model")} and ${path.join(OUT, "curve.json")}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
