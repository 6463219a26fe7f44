/**
 * Builds the model family's pretraining corpus offline, from text that installed Debian and npm packages ship
 * (scripts/corpus/sources.ts lists them with their licenses), and everything the GPU script needs:
 *
 *   node --import tsx scripts/corpus/build-corpus.ts [--out .tunebook/corpus] [--datasheet data/corpus/datasheet.md]
 *       [--sources kjv,gcide,...] [--skip ID,...] [--permissive-only] [--max-chars ID=N,...] [--vocab 8192]
 *       [--tokenizer-sample-chars 12000000] [--holdout-every 50] [--root /] [--data-dir data]
 *
 * Steps: read and clean each source → drop repeated paragraphs → drop paragraphs that contain a course test
 * answer (the contamination check) → hold out every 50th document per source → train the family's byte-level BPE
 * tokenizer on the training split → tokenize → write into --out (git-ignored):
 *   text/<source>.{train,heldout}.jsonl   the cleaned documents ({name, text} per line)
 *   device/                               what travels to the GPU: train.u16.gz, heldout.<source>.u16.gz,
 *                                         tokenizer.json, tokenizer_config.json, family.json, manifest.json
 *   stats.json, contamination.json        the counts, and every contaminated paragraph found
 * and the datasheet (committed) to --datasheet. A source whose package is missing stops the build with the
 * `apt-get install` line; `--skip ID` builds without it (the datasheet says so).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tokenizerFromJSON } from "../../src/tokenizer";
import { trainByteLevelBPE } from "../../src/tokenizer/train-bpe";
import { configToHF } from "../../src/model/config";
import { countParameters } from "../../src/model/presets";
import { FAMILY, FAMILY_CONTEXT, FAMILY_VOCAB_SIZE } from "../../src/model/family";
import { ContaminationIndex, DEFAULT_CONTAMINATION, readTestItems, removeContamination } from "./contamination";
import { dedupParagraphs } from "./dedup";
import { renderDatasheet, type CorpusStats, type SourceStats } from "./datasheet";
import { concatDocs, MANIFEST_FORMAT, MANIFEST_VERSION, sha256, writeIds, type CorpusManifest } from "./pack";
import { CorpusSourceError } from "./packages";
import { findSource, SOURCES, type Doc } from "./sources";

const ROOT = path.resolve(__dirname, "..", "..");

export interface BuildOptions {
  out: string;
  datasheet: string | null;
  sources: string[];
  skip: string[];
  permissiveOnly: boolean;
  maxChars: Record<string, number>;
  vocab: number;
  tokenizerSampleChars: number;
  minFrequency: number;
  holdoutEvery: number;
  root: string;
  dataDir: string;
  command: string;
  log: (line: string) => void;
}

export const DEFAULT_BUILD: BuildOptions = {
  out: path.join(ROOT, ".tunebook", "corpus"),
  datasheet: path.join(ROOT, "data", "corpus", "datasheet.md"),
  sources: SOURCES.map((s) => s.id),
  skip: [],
  permissiveOnly: false,
  maxChars: {},
  vocab: FAMILY_VOCAB_SIZE,
  tokenizerSampleChars: 12_000_000, // ≈ 14 % of the corpus: the merges settle well before, and training stays under a minute
  minFrequency: 2,
  holdoutEvery: 50, // 2 % held out: ≈ 0.4M tokens, enough for a stable loss per source
  root: "/",
  dataDir: path.join(ROOT, "data"),
  command: "node --import tsx scripts/corpus/build-corpus.ts",
  log: (l) => console.log(l),
};

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Held out: a hash of the name, so the choice does not move when other documents are added; ≥ 1 per source, and ≥ 1 left to train on. */
export function splitDocs(docs: Doc[], every: number): { train: Doc[]; heldOut: Doc[] } {
  const heldOut = docs.filter((d) => fnv(d.name) % every === 0);
  if (!heldOut.length && docs.length > 1) heldOut.push(docs[docs.length - 1]);
  if (heldOut.length === docs.length && docs.length > 1) heldOut.shift(); // a small source keeps one to train on
  const out = new Set(heldOut);
  const train = docs.filter((d) => !out.has(d));
  if (!train.length)
    throw new Error(`source ${docs[0]?.source}: only ${docs.length} document(s), none left to train on`);
  return { train, heldOut };
}

export async function buildCorpus(opts: BuildOptions): Promise<CorpusStats> {
  const t0 = Date.now();
  const log = opts.log;
  const wanted = opts.sources.filter((id) => !opts.skip.includes(id)).map(findSource);
  const skipped = opts.skip.map((id) => ({ id: findSource(id).id, reason: "--skip" }));
  const chosen = wanted.filter((s) => {
    if (opts.permissiveOnly && s.licenseClass === "copyleft") {
      skipped.push({ id: s.id, reason: "copyleft, --permissive-only" });
      return false;
    }
    return true;
  });
  if (!chosen.length) throw new Error("no corpus source left to read (check --sources, --skip, --permissive-only)");
  const tests = readTestItems(opts.dataDir);
  const index = new ContaminationIndex(tests, DEFAULT_CONTAMINATION);

  // 1. Read + clean, source by source (a missing package stops here, before any long work).
  const read = chosen.map((s) => {
    const t = Date.now();
    const r = s.read(opts.root);
    let docs = r.docs.filter((d) => d.text.trim());
    let cappedChars = 0;
    const cap = opts.maxChars[s.id];
    if (cap !== undefined) {
      let n = 0;
      const kept = docs.filter((d) => (n += d.text.length) <= cap);
      cappedChars = docs.reduce((a, d) => a + d.text.length, 0) - kept.reduce((a, d) => a + d.text.length, 0);
      docs = kept;
    }
    log(
      `${s.id}: ${docs.length} documents, ${(docs.reduce((a, d) => a + d.text.length, 0) / 1e6).toFixed(2)}M characters (${((Date.now() - t) / 1000).toFixed(1)} s)`,
    );
    return { source: s, packages: r.packages, rawChars: r.rawChars, cappedChars, docs };
  });

  // 2. Dedup across the whole corpus (sources in the datasheet's order), 3. the contamination check.
  const dd = dedupParagraphs(read.flatMap((r) => r.docs));
  const cc = removeContamination(dd.docs, index);
  log(
    `dedup: ${Object.values(dd.stats.removedParagraphs).reduce((a, b) => a + b, 0)} repeated paragraphs removed; contamination: ${cc.hits.length} paragraphs removed`,
  );

  // 4. Split per source.
  const bySource = new Map<string, Doc[]>();
  for (const d of cc.docs) bySource.set(d.source, [...(bySource.get(d.source) ?? []), d]);
  const splits = new Map([...bySource].map(([id, docs]) => [id, splitDocs(docs, opts.holdoutEvery)]));

  // 5. Tokenizer: every k-th training document, so each source contributes in proportion to its size.
  const trainAll = [...splits.values()].flatMap((s) => s.train);
  const trainChars = trainAll.reduce((a, d) => a + d.text.length, 0);
  const k = Math.max(1, Math.ceil(trainChars / opts.tokenizerSampleChars));
  const sample = trainAll.filter((_, i) => i % k === 0).map((d) => d.text);
  const sampleChars = sample.reduce((a, t) => a + t.length, 0);
  let t = Date.now();
  const tokJson = trainByteLevelBPE(sample, { vocabSize: opts.vocab, minFrequency: opts.minFrequency });
  const tokConfig = {
    tokenizer_class: "GPTNeoXTokenizer",
    bos_token: "<|endoftext|>",
    eos_token: "<|endoftext|>",
    unk_token: "<|endoftext|>",
    pad_token: "<|padding|>",
    model_max_length: FAMILY_CONTEXT,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
  };
  const tok = tokenizerFromJSON(tokJson, tokConfig);
  const eos = tok.eosTokenId ?? 0;
  log(
    `tokenizer: vocab ${tok.vocabSize} from ${(sampleChars / 1e6).toFixed(1)}M characters (${((Date.now() - t) / 1000).toFixed(1)} s)`,
  );

  // 6. Tokenize and write.
  const textDir = path.join(opts.out, "text");
  const devDir = path.join(opts.out, "device");
  fs.rmSync(opts.out, { recursive: true, force: true });
  fs.mkdirSync(textDir, { recursive: true });
  fs.mkdirSync(devDir, { recursive: true });
  t = Date.now();
  const trainIds: number[][] = [];
  const heldOut: CorpusManifest["heldOut"] = {};
  const trainTokensBySource: Record<string, number> = {};
  const stats: SourceStats[] = [];
  let totalTokens = 0;
  let totalChars = 0;
  for (const r of read) {
    const id = r.source.id;
    const sp = splits.get(id) ?? { train: [], heldOut: [] };
    const enc = (ds: Doc[]) => ds.map((d) => tok.encode(d.text));
    const tr = enc(sp.train);
    const ho = enc(sp.heldOut);
    trainIds.push(...tr);
    const trTokens = tr.reduce((a, x) => a + x.length + 1, 0);
    trainTokensBySource[id] = trTokens;
    if (ho.length) heldOut[id] = writeIds(devDir, `heldout.${id}.u16.gz`, concatDocs(ho, eos));
    for (const [which, ds] of [
      ["train", sp.train],
      ["heldout", sp.heldOut],
    ] as const) {
      fs.writeFileSync(
        path.join(textDir, `${id}.${which}.jsonl`),
        ds.map((d) => JSON.stringify({ name: d.name, text: d.text })).join("\n") + "\n",
      );
    }
    const chars = (ds: Doc[]) => ds.reduce((a, d) => a + d.text.length, 0);
    const s = r.source;
    stats.push({
      id,
      title: s.title,
      packages: r.packages,
      license: s.license,
      licenseClass: s.licenseClass,
      why: s.why,
      cleaning: s.cleaning,
      rawChars: r.rawChars,
      cappedChars: r.cappedChars,
      dedupParagraphs: dd.stats.removedParagraphs[id] ?? 0,
      dedupChars: dd.stats.removedChars[id] ?? 0,
      contaminatedParagraphs: cc.hits.filter((h) => h.source === id).length,
      trainDocs: sp.train.length,
      heldOutDocs: sp.heldOut.length,
      trainChars: chars(sp.train),
      heldOutChars: chars(sp.heldOut),
      trainTokens: trTokens,
      heldOutTokens: heldOut[id]?.tokens ?? 0,
    });
    totalTokens += trTokens + (heldOut[id]?.tokens ?? 0);
    totalChars += chars(sp.train) + chars(sp.heldOut);
    log(
      `  ${id}: ${trTokens.toLocaleString("en-US")} train tokens, ${(heldOut[id]?.tokens ?? 0).toLocaleString("en-US")} held out (${((Date.now() - t) / 1000).toFixed(0)} s so far)`,
    );
  }
  const train = writeIds(devDir, "train.u16.gz", concatDocs(trainIds, eos));
  const tokText = JSON.stringify(tokJson);
  fs.writeFileSync(path.join(devDir, "tokenizer.json"), tokText);
  fs.writeFileSync(path.join(devDir, "tokenizer_config.json"), JSON.stringify(tokConfig, null, 2) + "\n");
  const family = FAMILY.map((m) => {
    const config = { ...m.config, vocabSize: tok.vocabSize };
    return {
      name: m.name,
      why: m.why,
      lr: m.lr,
      batch: m.batch,
      seq: FAMILY_CONTEXT,
      parameters: countParameters(config).total,
      config: configToHF(config),
    };
  });
  fs.writeFileSync(path.join(devDir, "family.json"), JSON.stringify({ members: family }, null, 1) + "\n");
  const manifest: CorpusManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    builtBy: "scripts/corpus/build-corpus.ts",
    date: new Date().toISOString().slice(0, 10),
    dtype: "uint16-le",
    vocabSize: tok.vocabSize,
    eosTokenId: eos,
    padTokenId: tok.padTokenId ?? 1,
    tokenizer: { file: "tokenizer.json", sha256: sha256(tokText) },
    family: "family.json",
    train,
    heldOut,
    trainTokensBySource,
  };
  fs.writeFileSync(path.join(devDir, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
  const splitCounts: Record<string, number> = {};
  for (const it of tests) splitCounts[it.split] = (splitCounts[it.split] ?? 0) + 1;
  const result: CorpusStats = {
    command: opts.command,
    date: manifest.date,
    sources: stats,
    skipped,
    tokenizer: {
      vocabSize: tok.vocabSize,
      sampleChars,
      minFrequency: opts.minFrequency,
      charsPerToken: totalChars / Math.max(1, totalTokens),
    },
    holdoutEvery: opts.holdoutEvery,
    contamination: {
      options: index.opts,
      testItems: tests.length,
      splits: splitCounts,
      answersChecked: index.answersChecked,
      answersTooShort: index.answersTooShort,
      ngrams: index.ngrams,
      hits: cc.hits,
    },
    manifest,
    minutes: 0,
  };
  result.minutes = Math.round(((Date.now() - t0) / 60e3) * 10) / 10;
  fs.writeFileSync(
    path.join(opts.out, "stats.json"),
    JSON.stringify(
      { ...result, contamination: { ...result.contamination, hits: result.contamination.hits.length } },
      null,
      1,
    ) + "\n",
  );
  fs.writeFileSync(path.join(opts.out, "contamination.json"), JSON.stringify(cc.hits, null, 1) + "\n");
  if (opts.datasheet) {
    fs.mkdirSync(path.dirname(opts.datasheet), { recursive: true });
    fs.writeFileSync(opts.datasheet, renderDatasheet(result));
  }
  const mib = (Object.values(heldOut).reduce((a, f) => a + f.bytes, train.bytes) / 2 ** 20).toFixed(1);
  log(`wrote ${devDir}: ${train.tokens.toLocaleString("en-US")} train tokens, ${mib} MiB; ${result.minutes} minutes`);
  return result;
}

function parseArgs(argv: string[]): BuildOptions {
  const o: BuildOptions = {
    ...DEFAULT_BUILD,
    command: `${DEFAULT_BUILD.command}${argv.length ? " " + argv.join(" ") : ""}`,
  };
  const list = (v: string) =>
    v
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined || x.startsWith("--")) throw new Error(`${a} needs a value`);
      return x;
    };
    const num = (name: string, x: string) => {
      if (!/^\d+$/.test(x) || Number(x) <= 0)
        throw new Error(`${name} takes a positive whole number, got ${JSON.stringify(x)}`);
      return Number(x);
    };
    switch (a) {
      case "--out":
        o.out = path.resolve(v());
        break;
      case "--datasheet": {
        const x = v();
        o.datasheet = x === "none" ? null : path.resolve(x);
        break;
      }
      case "--sources":
        o.sources = list(v()).map((id) => findSource(id).id);
        break;
      case "--skip":
        o.skip = list(v()).map((id) => findSource(id).id);
        break;
      case "--permissive-only":
        o.permissiveOnly = true;
        break;
      case "--max-chars":
        for (const kv of list(v())) {
          const [id, n] = kv.split("=");
          o.maxChars[findSource(id).id] = num("--max-chars", n ?? "");
        }
        break;
      case "--vocab":
        o.vocab = num(a, v());
        break;
      case "--tokenizer-sample-chars":
        o.tokenizerSampleChars = num(a, v());
        break;
      case "--min-frequency":
        o.minFrequency = num(a, v());
        break;
      case "--holdout-every":
        o.holdoutEvery = num(a, v());
        break;
      case "--root":
        o.root = path.resolve(v());
        break;
      case "--data-dir":
        o.dataDir = path.resolve(v());
        break;
      default:
        throw new Error(`unknown option ${a} (see the comment at the top of scripts/corpus/build-corpus.ts)`);
    }
  }
  if (o.vocab > 65536) throw new Error(`--vocab ${o.vocab}: ids must fit uint16 (at most 65536)`);
  return o;
}

if (require.main === module) {
  buildCorpus(parseArgs(process.argv.slice(2))).catch((e) => {
    console.error(`build-corpus: ${e instanceof CorpusSourceError || e instanceof Error ? e.message : String(e)}`);
    if (process.env.TUNEBOOK_DEBUG) console.error(e);
    process.exit(1);
  });
}
