// scripts/build-default-model.ts --family: a family member pretrained on the CPU from the corpus builder's token
// packs (scripts/lib/family-pretrain.ts), on a synthetic corpus at a tiny scale. The folder it writes loads with
// loadModel and generates; its card and datasheet validate; a sharded folder with a missing, truncated or
// garbled shard fails to load with one line naming that shard.
import { test, before, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { buildCorpus, DEFAULT_BUILD } from "../../scripts/corpus/build-corpus";
import {
  buildFamilyMember,
  DEFAULT_FAMILY_BUILD,
  parseFamilyArgs,
  type FamilyBuildResult,
} from "../../scripts/lib/family-pretrain";
import { loadModel } from "../../src/pipeline/pretrained";
import { generate } from "../../src/model/generate";
import { validateModelFolder } from "../../src/model/card";
import { FAKE_SOURCES, makeFakeRoot } from "../corpus/helpers/fake-root";

let dir = "";
let built: FamilyBuildResult;
const TINY = {
  hiddenSize: 32,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 128,
  maxPositionEmbeddings: 64,
};

before(async () => {
  await useTestBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-family-"));
  makeFakeRoot(path.join(dir, "root"), path.join(dir, "data"));
  await buildCorpus({
    ...DEFAULT_BUILD,
    root: path.join(dir, "root"),
    dataDir: path.join(dir, "data"),
    out: path.join(dir, "corpus"),
    datasheet: null,
    sources: FAKE_SOURCES,
    vocab: 400,
    holdoutEvery: 3,
    log: () => {},
  });
  // shardMiB 0.02: the ~60 kB tiny model is written as several shards with an index, as the larger members are
  built = await buildFamilyMember({
    ...DEFAULT_FAMILY_BUILD,
    family: "tunebook-2m",
    corpus: path.join(dir, "corpus"),
    out: path.join(dir, "out", "tunebook-2m"),
    steps: 3,
    batch: 2,
    seq: 32,
    evalWindows: 2,
    shardMiB: 0.02,
    configOverride: TINY,
    log: () => {},
  });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("--family: the member's folder loads with loadModel, generates, and carries a valid card and datasheet", async () => {
  const out = built.dir;
  assert.ok(
    built.files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length >= 2,
    `sharded: ${built.files.join(", ")}`,
  );
  for (const f of built.files) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.ok(
    !fs.readdirSync(path.dirname(out)).some((f) => f.includes(".tmp-") || f.includes(".old-")),
    "no temp folder left",
  );
  const before = tf.memory().numTensors;
  const { model, tokenizer } = await loadModel(out);
  assert.equal(model.config.vocabSize, 400);
  assert.equal(model.config.hiddenSize, 32);
  const ids = await generate(model, tokenizer.encode("The river"), { maxNewTokens: 5 });
  assert.equal(ids.length, 5);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
  const card = validateModelFolder(out);
  assert.deepEqual(
    Object.keys(card.heldOut!).sort(),
    [...FAKE_SOURCES].sort(),
    "a held-out loss for every corpus source",
  );
  for (const h of Object.values(card.heldOut!)) assert.ok(h.loss > 0 && h.loss < 2 * Math.log(400) && h.tokens > 0);
  assert.equal(card.training!.steps, 3);
  assert.equal(card.training!.tokens, 3 * 2 * 32);
  assert.equal(card.parity, undefined, "no parity record is invented");
  assert.throws(
    () => validateModelFolder(out, { shipped: true }),
    /model-card\.json: parity: expected present \(a shipped model's card is complete\)/,
  );
  const training = JSON.parse(fs.readFileSync(path.join(out, "training.json"), "utf8"));
  assert.equal(training.config.vocab_size, 400);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8")).torch_dtype, "float16");
});

test("a sharded model with a missing, truncated or garbled shard: one error naming the shard", async () => {
  const shard = built.files.find((f) => f.startsWith("model-00002-of-"))!;
  assert.ok(shard, built.files.join(", "));
  const copy = (name: string) => {
    const d = path.join(dir, name);
    fs.cpSync(built.dir, d, { recursive: true });
    return [d, path.join(d, shard)] as const;
  };
  const [missing, m] = copy("missing");
  fs.rmSync(m);
  await assert.rejects(
    loadModel(missing),
    (e: Error) => (
      assert.match(
        e.message,
        new RegExp(
          `^${m.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: shard listed in .*model\\.safetensors\\.index\\.json .* is missing$`,
        ),
      ),
      true
    ),
  );
  const [truncated, tr] = copy("truncated");
  const bytes = fs.readFileSync(tr);
  fs.writeFileSync(tr, bytes.subarray(0, bytes.length - 16));
  await assert.rejects(
    loadModel(truncated),
    (e: Error) => (assert.ok(e.message.startsWith(`${tr}: `) && /truncated/.test(e.message), e.message), true),
  );
  const [garbled, g] = copy("garbled");
  const b = fs.readFileSync(g);
  b.fill(0x01, 8, 16); // control characters inside the JSON header
  fs.writeFileSync(g, b);
  await assert.rejects(
    loadModel(garbled),
    (e: Error) => (assert.ok(e.message.startsWith(`${g}: header`), e.message), true),
  );
});

test("--family options: a corpus that is missing or damaged is named; unknown members and flags are refused", async () => {
  assert.throws(
    () => parseFamilyArgs(["--family", "tunebook-1b", "--corpus", "x"]),
    /unknown family member "tunebook-1b"; known: tunebook-2m/,
  );
  assert.throws(() => parseFamilyArgs(["--family", "tunebook-2m"]), /--family needs --corpus DIR/);
  assert.throws(
    () => parseFamilyArgs(["--family", "tunebook-2m", "--corpus", "x", "--minutes", "3"]),
    /unknown option --minutes with --family/,
  );
  const o = parseFamilyArgs(["--family", "tunebook-2m", "--corpus", "c", "--steps", "5"]);
  assert.deepEqual([o.steps, o.batch, o.seq, o.out], [5, 16, 128, path.resolve(".tunebook", "family", "tunebook-2m")]);
  const base = {
    ...DEFAULT_FAMILY_BUILD,
    family: "tunebook-2m",
    out: path.join(dir, "never"),
    steps: 1,
    batch: 1,
    seq: 16,
    configOverride: TINY,
    log: () => {},
  };
  await assert.rejects(
    buildFamilyMember({ ...base, corpus: path.join(dir, "nowhere") }),
    /nowhere\/manifest\.json is missing: build the corpus first/,
  );
  const damaged = path.join(dir, "damaged");
  fs.cpSync(path.join(dir, "corpus"), damaged, { recursive: true });
  fs.appendFileSync(path.join(damaged, "device", "heldout.kjv.u16.gz"), "x");
  await assert.rejects(
    buildFamilyMember({ ...base, corpus: damaged }),
    /device\/heldout\.kjv\.u16\.gz does not match its sha256 in .*manifest\.json: the copy is damaged or stale/,
  );
  assert.ok(!fs.existsSync(path.join(dir, "never")), "nothing written");
});
