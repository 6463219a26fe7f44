// scripts/device/pretrain.py end to end at a tiny scale on the CPU (Debian's torch + transformers 4.31 from
// ../shared/hf-python): a synthetic corpus built by scripts/corpus/build-corpus.ts → a few training steps → F16
// safetensors shards, config and tokenizer packed as NAME.tar parts. The result loads in tunebook
// (`loadModel(folder)`) with transformers' logits on the same ids (≤ 1e-4), through scripts/device/parity.ts: the
// mechanism of the family's parity record. In CI a missing torch fails; elsewhere the test is skipped with the reason.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useTestBackend } from "../helpers/backend";
import { hfStack, runPython } from "../interop/helpers";
import { parityRecord } from "../../scripts/device/parity";
import { buildCorpus, DEFAULT_BUILD } from "../../scripts/corpus/build-corpus";
import { FAKE_SOURCES, makeFakeRoot } from "../corpus/helpers/fake-root";

const SCRIPT = path.join(__dirname, "..", "..", "scripts", "device", "pretrain.py");

test("pretrain.py --tiny trains, shards, packs; tunebook loads the result with transformers' logits (≤ 1e-4)", async (t) => {
  const hf = hfStack(t);
  if (!hf) return;
  await useTestBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-pretrain-"));
  try {
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
    const out = path.join(dir, "out");
    // --shard-mib 0.03: the ~100 kB tiny model is written as several shards with an index, as the real members are.
    const r = runPython(
      hf,
      [
        SCRIPT,
        "--corpus",
        path.join(dir, "corpus", "device"),
        "--out",
        out,
        "--work",
        path.join(dir, "work"),
        "--tiny",
        "--shard-mib",
        "0.03",
        "--device",
        "cpu",
      ],
      { timeoutMs: 300_000 },
    );
    assert.equal(r.status, 0, `pretrain.py failed:\n${r.stderr.slice(-3000)}`);
    const parts = fs
      .readdirSync(out)
      .filter((f) => f.startsWith("tunebook-2m-tiny.tar.part-"))
      .sort();
    assert.ok(parts.length >= 1 && fs.existsSync(path.join(out, "pretrain-log.json")));
    const unpacked = path.join(dir, "family");
    fs.mkdirSync(unpacked);
    const tar = spawnSync("tar", ["-x", "-C", unpacked], {
      input: Buffer.concat(parts.map((p) => fs.readFileSync(path.join(out, p)))),
    });
    assert.equal(tar.status, 0, String(tar.stderr));

    const log = JSON.parse(fs.readFileSync(path.join(out, "pretrain-log.json"), "utf8"));
    const m = log.members[0];
    assert.equal(log.format, "tunebook-pretrain-log");
    assert.equal(m.name, "tunebook-2m-tiny");
    assert.equal(m.steps, 3);
    assert.deepEqual(Object.keys(m.heldOut).sort(), [...FAKE_SOURCES].sort(), "a held-out loss for every source");
    for (const v of Object.values(m.heldOut) as { loss: number }[]) assert.ok(v.loss > 0 && v.loss < 2 * m.uniformLoss);
    assert.ok(m.reloadCheck.maxAbsDiff <= 1e-4, "transformers' from_pretrained read the folder back");
    const folder = path.join(unpacked, m.name);
    assert.ok(fs.existsSync(path.join(folder, "model.safetensors.index.json")), "sharded, with an index");

    // The parity record's mechanism (scripts/device/parity.ts): tunebook's loadModel(folder) vs transformers.
    const rec = await parityRecord(folder, hf.env);
    t.diagnostic(
      `max |logits tunebook − transformers ${rec.transformers}| = ${rec.maxAbsDiff.toExponential(2)} on ${rec.ids.length}×${rec.ids[0].length} ids`,
    );
    assert.ok(rec.ids.length === 4 && rec.ids[0].length >= 4, "fixed sentences, tokenized by the member's tokenizer");
    assert.ok(rec.maxAbsDiff <= 1e-4, `max |Δlogits| = ${rec.maxAbsDiff}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("pretrain.py refuses a damaged corpus copy, naming the file", async (t) => {
  const hf = hfStack(t);
  if (!hf) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-pretrain-"));
  try {
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
    const dev = path.join(dir, "corpus", "device");
    fs.appendFileSync(path.join(dev, "heldout.kjv.u16.gz"), "x");
    const r = runPython(hf, [SCRIPT, "--corpus", dev, "--out", path.join(dir, "out"), "--tiny", "--device", "cpu"]);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr.trim(),
      /^pretrain\.py: .*heldout\.kjv\.u16\.gz does not match its sha256 in .*manifest\.json: the copy is damaged or stale; rebuild or re-carry the corpus$/,
    );
    fs.rmSync(path.join(dev, "manifest.json"));
    const r2 = runPython(hf, [SCRIPT, "--corpus", dev, "--out", path.join(dir, "out"), "--tiny", "--device", "cpu"]);
    assert.match(r2.stderr.trim(), /manifest\.json is missing: build the corpus first/);
  } finally {
    fs.rmSync(path.join(dir), { recursive: true, force: true });
  }
});
