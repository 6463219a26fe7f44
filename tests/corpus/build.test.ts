// The corpus builder end to end on a synthetic root: cleaning, dedup, the contamination check, the split, the
// tokenizer, the packed ids with their manifest, the datasheet; and one clear error for a missing package.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildCorpus, DEFAULT_BUILD, type BuildOptions } from "../../scripts/corpus/build-corpus";
import { readIds, sha256 } from "../../scripts/corpus/pack";
import { loadTokenizer } from "../../src/tokenizer";
import { FAKE_SOURCES, makeFakeRoot, PLANTED_ANSWER } from "./helpers/fake-root";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-corpus-"));

export function fakeBuild(dir: string, extra: Partial<BuildOptions> = {}): BuildOptions {
  return {
    ...DEFAULT_BUILD,
    root: path.join(dir, "root"),
    dataDir: path.join(dir, "data"),
    out: path.join(dir, "corpus"),
    datasheet: path.join(dir, "datasheet.md"),
    sources: FAKE_SOURCES,
    vocab: 400,
    holdoutEvery: 3,
    log: () => {},
    ...extra,
  };
}

test("a synthetic corpus builds: contamination removed and reported, split per source, ids round-trip, datasheet from the counts", async () => {
  const dir = tmp();
  try {
    makeFakeRoot(path.join(dir, "root"), path.join(dir, "data"));
    const stats = await buildCorpus(fakeBuild(dir));
    assert.deepEqual(
      stats.sources.map((s) => s.id),
      FAKE_SOURCES,
    );
    // The planted answer: found once, in WordNet, and gone from the written text.
    assert.deepEqual(
      stats.contamination.hits.map((h) => [h.source, h.id, h.rule]),
      [["wordnet", "q1", "answer"]],
    );
    const text = fs
      .readdirSync(path.join(dir, "corpus", "text"))
      .map((f) => fs.readFileSync(path.join(dir, "corpus", "text", f), "utf8"))
      .join("\n");
    assert.ok(!text.includes(PLANTED_ANSWER));
    assert.ok(text.includes("the river example") || text.includes("example"), "the rest of the glosses stayed");
    assert.ok(
      !text.includes("the concatenation, skipped") && !text.includes("Princeton"),
      "all.md and the licence header are skipped",
    );
    assert.ok(!/\\f|^\.SH|<!--|\[`/m.test(text), "markup is stripped");
    // Every source has training and held-out documents; the manifest's files match their hashes and counts.
    const dev = path.join(dir, "corpus", "device");
    const manifest = JSON.parse(fs.readFileSync(path.join(dev, "manifest.json"), "utf8"));
    for (const s of stats.sources) {
      assert.ok(s.trainDocs > 0 && s.heldOutDocs > 0, s.id);
      assert.equal(manifest.heldOut[s.id].tokens, s.heldOutTokens, s.id);
    }
    for (const f of [manifest.train, ...(Object.values(manifest.heldOut) as any[])]) {
      const file = path.join(dev, f.file);
      assert.equal(sha256(fs.readFileSync(file)), f.sha256, f.file);
      assert.equal(readIds(file).length, f.tokens, f.file);
    }
    // The packed training stream is exactly the training documents, tokenized, each followed by <|endoftext|>.
    const tok = await loadTokenizer(dev);
    const expected: number[] = [];
    for (const id of FAKE_SOURCES) {
      for (const line of fs
        .readFileSync(path.join(dir, "corpus", "text", `${id}.train.jsonl`), "utf8")
        .split("\n")
        .filter(Boolean)) {
        expected.push(...tok.encode(JSON.parse(line).text), 0);
      }
    }
    assert.deepEqual([...readIds(path.join(dev, "train.u16.gz"))], expected);
    assert.equal(manifest.vocabSize, tok.vocabSize);
    const family = JSON.parse(fs.readFileSync(path.join(dev, "family.json"), "utf8")).members;
    assert.deepEqual(
      family.map((m: any) => m.name),
      ["tunebook-2m", "tunebook-9m", "tunebook-20m"],
    );
    assert.ok(family.every((m: any) => m.config.vocab_size === tok.vocabSize && m.config.model_type === "gpt_neox"));
    // The datasheet is rendered from the same counts.
    const sheet = fs.readFileSync(path.join(dir, "datasheet.md"), "utf8");
    for (const s of stats.sources)
      assert.ok(sheet.includes(`| \`${s.id}\` |`) && sheet.includes(s.trainTokens.toLocaleString("en-US")), s.id);
    assert.match(
      sheet,
      /Found and removed: \*\*1\s+paragraphs\*\* \(1 by an answer, 0 by a 13-word run; qa\/test\.jsonl 1\)/,
    );
    assert.match(sheet, /`wordnet-base` 1:3\.0-37/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing package stops the build with one line naming it and the apt-get command; --skip builds without it", async () => {
  const dir = tmp();
  try {
    makeFakeRoot(path.join(dir, "root"), path.join(dir, "data"), ["wordnet-base"]);
    await assert.rejects(buildCorpus(fakeBuild(dir)), (e: Error) => {
      assert.equal(
        e.message,
        'corpus source "wordnet" needs the Debian package wordnet-base, which is not installed: run `apt-get install wordnet-base` (or leave the source out with --skip wordnet)',
      );
      return true;
    });
    assert.ok(!fs.existsSync(path.join(dir, "corpus")), "nothing is written before every source has been read");
    const stats = await buildCorpus(fakeBuild(dir, { skip: ["wordnet"] }));
    assert.deepEqual(stats.skipped, [{ id: "wordnet", reason: "--skip" }]);
    assert.match(
      fs.readFileSync(path.join(dir, "datasheet.md"), "utf8"),
      /Left out of this build: `wordnet` \(--skip\)/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("--permissive-only leaves the copyleft sources out", async () => {
  const dir = tmp();
  try {
    makeFakeRoot(path.join(dir, "root"), path.join(dir, "data"));
    const stats = await buildCorpus(fakeBuild(dir, { permissiveOnly: true, datasheet: null }));
    assert.deepEqual(
      stats.sources.map((s) => s.id),
      ["kjv", "wordnet", "nodejs-docs"],
    );
    assert.deepEqual(
      stats.skipped.map((s) => s.id),
      ["debian-reference", "manpages"],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
