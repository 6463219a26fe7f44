/**
 * A family member (src/model/family.ts) pretrained on this machine's CPU with tunebook's own trainer, from what
 * scripts/corpus/build-corpus.ts writes (`<corpus>/device/`: the family tokenizer, train.u16.gz, one held-out
 * stream per source, manifest.json with SHA-256s). The GPU path is scripts/device/pretrain.py; this one exists so
 * that a small member can be rebuilt without a GPU (at far fewer tokens: the datasheet says how many), and it
 * writes the same folder: config.json, F16 safetensors (sharded with an index past --shard-mib), the tokenizer,
 * training.json, model-card.json and datasheet.md.
 *
 *   node --import tsx scripts/build-default-model.ts --family tunebook-2m --corpus .tunebook/corpus
 *       [--out .tunebook/family/tunebook-2m] [--steps 200] [--batch 16] [--seq 128] [--lr <member's>] [--seed 0]
 *       [--eval-windows 32] [--shard-mib 15]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readIds, sha256, MANIFEST_FORMAT, MANIFEST_VERSION, type CorpusManifest } from "../corpus/pack";
import { getFamilyMember } from "../../src/model/family";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import { configToHF, type GPTNeoXConfig } from "../../src/model/config";
import { countParameters } from "../../src/model/presets";
import { savedTensors } from "../../src/model/load";
import {
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  writeSafetensorsFile,
  type SafeTensor,
} from "../../src/model/safetensors";
import { generate } from "../../src/model/generate";
import { loadTokenizer } from "../../src/tokenizer";
import { Trainer } from "../../src/train/trainer";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Rng } from "../../src/runtime/seed";
import {
  CARD_FILE,
  CARD_FORMAT,
  CARD_VERSION,
  DATASHEET_FILE,
  renderCardBlock,
  validateModelCard,
  type ModelCard,
} from "../../src/model/card";

export interface FamilyBuildOptions {
  /** A member name from src/model/family.ts. */
  family: string;
  /** The corpus builder's --out folder (or its device/ subfolder). */
  corpus: string;
  out: string;
  steps: number;
  batch: number;
  seq: number;
  /** Peak learning rate; default: the member's (src/model/family.ts). */
  lr?: number;
  seed: number;
  /** Held-out windows of `seq` tokens per source. */
  evalWindows: number;
  /** Largest safetensors file; past it the weights are sharded with model.safetensors.index.json. */
  shardMiB: number;
  /** Shape overrides (tests train a tiny variant of a member). */
  configOverride?: Partial<GPTNeoXConfig>;
  command: string;
  log: (line: string) => void;
}

export const DEFAULT_FAMILY_BUILD: Omit<FamilyBuildOptions, "family" | "corpus" | "out"> = {
  steps: 200,
  batch: 16, // the embedded model's CPU setting: ≈ 1 s per step of 16 × 128 tokens on 2 cores at its size
  seq: 128,
  seed: 0,
  evalWindows: 32,
  shardMiB: 15, // what the device returns per file (16 MiB) with room for the header
  command: "node --import tsx scripts/build-default-model.ts",
  log: (l) => console.log(l),
};

/** The corpus's device folder and its manifest, every file checked against its SHA-256; errors name the file. */
export function readCorpusManifest(corpus: string): { dir: string; manifest: CorpusManifest } {
  const dir = fs.existsSync(path.join(corpus, "device", "manifest.json")) ? path.join(corpus, "device") : corpus;
  const file = path.join(dir, "manifest.json");
  if (!fs.existsSync(file))
    throw new Error(
      `${file} is missing: build the corpus first (node --import tsx scripts/corpus/build-corpus.ts --out ${corpus})`,
    );
  let m: CorpusManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e: any) {
    throw new Error(`${file}: not valid JSON (${String(e?.message ?? e).split("\n")[0]})`);
  }
  if (m.format !== MANIFEST_FORMAT || m.version !== MANIFEST_VERSION)
    throw new Error(`${file}: not a version-${MANIFEST_VERSION} ${MANIFEST_FORMAT} manifest`);
  for (const f of [m.tokenizer, m.train, ...Object.values(m.heldOut)]) {
    const p = path.join(dir, f.file);
    if (!fs.existsSync(p)) throw new Error(`${p} is missing (listed in ${file}); rebuild the corpus`);
    if (sha256(fs.readFileSync(p)) !== f.sha256)
      throw new Error(`${p} does not match its sha256 in ${file}: the copy is damaged or stale; rebuild the corpus`);
  }
  return { dir, manifest: m };
}

/** `n` windows of `len` tokens at seeded random offsets of `ids`. */
function randomWindows(ids: Uint16Array, len: number, n: number, rng: Rng): { inputIds: number[] }[] {
  const hi = ids.length - len;
  if (hi <= 0)
    throw new Error(`the training stream has ${ids.length} tokens, fewer than one window of ${len} (lower --seq)`);
  return Array.from({ length: n }, () => {
    const s = Math.floor(rng.next() * hi);
    return { inputIds: Array.from(ids.subarray(s, s + len)) };
  });
}

/** The first `n` non-overlapping windows of `ids`. */
function firstWindows(ids: Uint16Array, len: number, n: number): { inputIds: number[] }[] {
  const out: { inputIds: number[] }[] = [];
  for (let i = 0; i + len <= ids.length && out.length < n; i += len)
    out.push({ inputIds: Array.from(ids.subarray(i, i + len)) });
  return out;
}

/**
 * The model's F16 tensors as safetensors files of at most `shardBytes` each: one `model.safetensors`, or
 * `model-0000i-of-0000n.safetensors` with `model.safetensors.index.json` (transformers' sharded layout).
 * Returns the files written.
 */
export async function writeShardedModel(model: GPTNeoXForCausalLM, dir: string, shardBytes: number): Promise<string[]> {
  const tensors = savedTensors(model, "F16");
  const size = (t: SafeTensor) => t.shape.reduce((a, b) => a * b, 1) * (t.dtype === "F32" ? 4 : 2);
  const shards: Map<string, SafeTensor>[] = [new Map()];
  let used = 0;
  for (const [name, t] of tensors) {
    if (used > 0 && used + size(t) > shardBytes) {
      shards.push(new Map());
      used = 0;
    }
    shards[shards.length - 1].set(name, t);
    used += size(t);
  }
  if (shards.length === 1) {
    await writeSafetensorsFile(path.join(dir, SAFETENSORS_FILE), shards[0], { format: "pt" });
    return [SAFETENSORS_FILE];
  }
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const [i, sh] of shards.entries()) {
    const f = `model-${String(i + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`;
    await writeSafetensorsFile(path.join(dir, f), sh, { format: "pt" });
    for (const [name, t] of sh) {
      weightMap[name] = f;
      total += size(t);
    }
    files.push(f);
  }
  fs.writeFileSync(
    path.join(dir, SAFETENSORS_INDEX_FILE),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 1) + "\n",
  );
  return [...files, SAFETENSORS_INDEX_FILE];
}

export interface FamilyBuildResult {
  dir: string;
  card: ModelCard;
  files: string[];
  greedySample: string;
}

/** Pretrain one member on the CPU and write its folder (into a temp sibling, then renamed over `out`). */
export async function buildFamilyMember(o: FamilyBuildOptions): Promise<FamilyBuildResult> {
  const t0 = Date.now();
  const member = getFamilyMember(o.family);
  const { dir: dev, manifest } = readCorpusManifest(o.corpus);
  const tok = await loadTokenizer(dev);
  if (tok.vocabSize !== manifest.vocabSize)
    throw new Error(
      `${path.join(dev, manifest.tokenizer.file)}: vocabulary ${tok.vocabSize}, the manifest says ${manifest.vocabSize}`,
    );
  const config: GPTNeoXConfig = { ...member.config, vocabSize: manifest.vocabSize, ...o.configOverride };
  if (o.seq > config.maxPositionEmbeddings)
    throw new Error(`--seq ${o.seq} exceeds ${o.family}'s context of ${config.maxPositionEmbeddings}`);
  const lr = o.lr ?? member.lr;
  const train = readIds(path.join(dev, manifest.train.file));
  const params = countParameters(config).total;
  o.log(
    `${o.family}: ${params.toLocaleString("en-US")} parameters; ${o.steps} steps × ${o.batch} × ${o.seq} = ${((o.steps * o.batch * o.seq) / 1e6).toFixed(2)}M tokens of ${(train.length / 1e6).toFixed(1)}M (${((o.steps * o.batch * o.seq) / params).toFixed(2)} per parameter); lr ${lr}`,
  );

  const model = GPTNeoXForCausalLM.create(config, { seed: o.seed });
  const padId = manifest.padTokenId;
  const data = randomWindows(train, o.seq, o.steps * o.batch, new Rng(o.seed));
  const trainer = new Trainer(
    causalLMTrainable(model),
    data,
    {
      lr,
      numSteps: o.steps,
      batchSize: o.batch,
      maxLength: o.seq,
      warmupSteps: Math.max(1, Math.floor(o.steps / 50)),
      schedule: "cosine",
      weightDecay: 0.1,
      maxGradNorm: 1.0,
      seed: o.seed,
      padId,
      shuffle: false, // the windows are already random
    },
    {
      onStep: (s) => {
        if (!Number.isFinite(s.loss))
          throw new Error(`${o.family}: the loss is ${s.loss} at step ${s.step}; lower --lr`);
        if (s.step === 1 || s.step % Math.max(1, Math.floor(s.numSteps / 10)) === 0 || s.step === s.numSteps) {
          o.log(
            `  step ${s.step}/${s.numSteps} loss ${s.loss.toFixed(3)} lr ${s.lr.toExponential(2)} ${Math.round(s.tokensPerSec)} tok/s`,
          );
        }
      },
    },
  );
  try {
    const summary = await trainer.train();
    const heldOut: ModelCard["heldOut"] = {};
    for (const [src, f] of Object.entries(manifest.heldOut).sort(([a], [b]) => a.localeCompare(b))) {
      const w = firstWindows(readIds(path.join(dev, f.file)), o.seq, o.evalWindows);
      if (!w.length) continue; // a source whose held-out text is shorter than one window
      const ev = trainer.evaluate(w);
      heldOut[src] = { loss: ev.loss, tokens: ev.numTokens };
    }
    const seconds = (Date.now() - t0) / 1000;
    const date = new Date().toISOString().slice(0, 10);
    const card = validateModelCard(
      {
        format: CARD_FORMAT,
        version: CARD_VERSION,
        name: o.family,
        parameters: params,
        training: {
          builtBy: "scripts/build-default-model.ts --family (CPU)",
          device: `${tf.getBackend()} backend, CPU`,
          date,
          recipe: "AdamW, weight decay 0.1, warm-up 2 % then cosine, clip 1.0, fp32",
          steps: summary.step,
          tokens: summary.step * o.batch * o.seq,
          batch: o.batch,
          seq: o.seq,
          lr,
        },
        heldOut,
        recipes: {},
        notes: `Rebuilt on the CPU: ${((summary.step * o.batch * o.seq) / params).toFixed(2)} tokens per parameter, far fewer than the GPU run's (scripts/device/pretrain.py). No parity record: run scripts/device/parity.ts on this folder.`,
      },
      path.join(o.out, CARD_FILE),
    );

    const tmp = `${o.out}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const files = await writeShardedModel(model, tmp, o.shardMiB * 2 ** 20);
    fs.writeFileSync(
      path.join(tmp, "config.json"),
      JSON.stringify({ ...configToHF(config), torch_dtype: "float16" }, null, 2) + "\n",
    );
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) fs.copyFileSync(path.join(dev, f), path.join(tmp, f));
    const sample = await generate(model, tok.encode("The"), { maxNewTokens: 16, seed: 0 });
    const greedySample = "The" + tok.decode(sample);
    const training = {
      builtBy: "scripts/build-default-model.ts",
      command: o.command,
      date,
      seed: o.seed,
      family: o.family,
      config: configToHF(config),
      corpus: {
        manifestSha256: sha256(fs.readFileSync(path.join(dev, "manifest.json"))),
        trainTokens: manifest.train.tokens,
        date: manifest.date,
      },
      steps: summary.step,
      batch: o.batch,
      seq: o.seq,
      lr,
      seconds: Math.round(seconds),
      tokensPerSec: Math.round(summary.tokensPerSec),
      finalTrainLoss: summary.finalLoss,
      losses: summary.losses.filter((_, i) => i % 10 === 0),
      heldOut,
      uniformLoss: Math.log(manifest.vocabSize),
      greedySample,
    };
    fs.writeFileSync(path.join(tmp, "training.json"), JSON.stringify(training, null, 1) + "\n");
    fs.writeFileSync(path.join(tmp, CARD_FILE), JSON.stringify(card, null, 1) + "\n");
    fs.writeFileSync(path.join(tmp, DATASHEET_FILE), memberDatasheet(card, o, greedySample));
    const old = `${o.out}.old-${process.pid}`;
    if (fs.existsSync(o.out)) fs.renameSync(o.out, old);
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.renameSync(tmp, o.out);
    fs.rmSync(old, { recursive: true, force: true });
    o.log(
      `wrote ${o.out} (${files.join(", ")}): held-out loss ${Object.entries(heldOut)
        .map(([s, h]) => `${s} ${h.loss.toFixed(2)}`)
        .join(", ")}; greedy sample ${JSON.stringify(greedySample)}`,
    );
    return {
      dir: o.out,
      card,
      files: [
        ...files,
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "training.json",
        CARD_FILE,
        DATASHEET_FILE,
      ],
      greedySample,
    };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/** The member's datasheet: a short preface, then the block generated from its card (validateModelFolder checks it). */
export function memberDatasheet(
  card: ModelCard,
  o: Pick<FamilyBuildOptions, "command" | "family">,
  greedySample: string,
): string {
  return `# ${card.name}

A member of tunebook's model family (\`src/model/family.ts\`): GPT-NeoX with Pythia's architecture and the family's
own byte-level BPE tokenizer, pretrained on the corpus in \`data/corpus/datasheet.md\`. ${card.notes ?? ""}

Greedy continuation of "The": ${JSON.stringify(greedySample)}

Rebuild: \`${o.command}\`.

${renderCardBlock(card)}
`;
}

/** `--family` arguments of scripts/build-default-model.ts → options (unknown flags are errors). */
export function parseFamilyArgs(argv: string[]): FamilyBuildOptions {
  const o: Partial<FamilyBuildOptions> = {
    ...DEFAULT_FAMILY_BUILD,
    command: `${DEFAULT_FAMILY_BUILD.command} ${argv.join(" ")}`,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined || x.startsWith("--")) throw new Error(`${a} needs a value`);
      return x;
    };
    const num = (x: string, int: boolean) => {
      const n = Number(x);
      if (!(n > 0) || (int && !Number.isInteger(n)))
        throw new Error(`${a} takes a positive ${int ? "whole " : ""}number, got ${JSON.stringify(x)}`);
      return n;
    };
    switch (a) {
      case "--family":
        o.family = getFamilyMember(v()).name;
        break;
      case "--corpus":
        o.corpus = path.resolve(v());
        break;
      case "--out":
        o.out = path.resolve(v());
        break;
      case "--steps":
        o.steps = num(v(), true);
        break;
      case "--batch":
        o.batch = num(v(), true);
        break;
      case "--seq":
        o.seq = num(v(), true);
        break;
      case "--lr":
        o.lr = num(v(), false);
        break;
      case "--seed": {
        const x = v();
        if (!/^\d+$/.test(x)) throw new Error(`--seed takes a whole number ≥ 0, got ${JSON.stringify(x)}`);
        o.seed = Number(x);
        break;
      }
      case "--eval-windows":
        o.evalWindows = num(v(), true);
        break;
      case "--shard-mib":
        o.shardMiB = num(v(), false);
        break;
      default:
        throw new Error(`unknown option ${a} with --family (see scripts/lib/family-pretrain.ts)`);
    }
  }
  if (!o.corpus) throw new Error("--family needs --corpus DIR (the corpus builder's --out, e.g. .tunebook/corpus)");
  o.out ??= path.resolve(".tunebook", "family", o.family!);
  return o as FamilyBuildOptions;
}
