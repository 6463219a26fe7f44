import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FIXTURES } from "../helpers/backend";
import { loadTokenizer, tokenizerFromJSON, TokenizerError } from "../../src/tokenizer";

const TOKENIZER = path.join(FIXTURES, "pythia", "20B_tokenizer.json");
const CASES = JSON.parse(fs.readFileSync(path.join(FIXTURES, "pythia", "tokenizer_cases.json"), "utf8")).cases as {
  text: string;
  ids: number[];
  tokens: string[];
}[];
const pythia = loadTokenizer(TOKENIZER);

test("the real Pythia tokenizer matches every fixture case: ids and tokens", async () => {
  const tok = await pythia;
  assert.equal(CASES.length, 20);
  for (const c of CASES) {
    assert.deepEqual(tok.encode(c.text), c.ids, JSON.stringify(c.text));
    assert.deepEqual(tok.tokenize(c.text), c.tokens, JSON.stringify(c.text));
    assert.deepEqual(
      c.tokens.map((t) => tok.tokenToId(t)),
      c.ids,
    );
    assert.deepEqual(
      c.ids.map((id) => tok.idToToken(id)),
      c.tokens,
    );
  }
  assert.deepEqual(tok.encode("Hi, how are you?"), [12764, 13, 849, 403, 368, 32]);
  assert.deepEqual(tok.encode("a  b"), [66, 50276, 67]);
  assert.deepEqual(tok.encode(""), []);
});

test("decode(encode(t)) is NFC(t) for every case; special tokens can be skipped", async () => {
  const tok = await pythia;
  for (const c of CASES) assert.equal(tok.decode(tok.encode(c.text)), c.text.normalize("NFC"), JSON.stringify(c.text));
  assert.equal(tok.decode([]), "");
  assert.equal(tok.decode([0, 12764, 13, 1]), "<|endoftext|>Hi,<|padding|>");
  assert.equal(tok.decode([0, 12764, 13, 1], { skipSpecialTokens: true }), "Hi,");
  assert.equal(tok.decode([1, 1], { skipSpecialTokens: true }), "");
  assert.throws(
    () => tok.decode([12764, 50277]),
    (e: any) =>
      e instanceof TokenizerError && /id 50277 at index 1 is not in the vocabulary \(0\.\.50276\)/.test(e.message),
  );
  assert.throws(() => tok.decode([1.5]), /id 1.5 at index 0/);
});

test("special ids and sizes come from the added tokens when there is no config", async () => {
  const tok = await pythia;
  assert.equal(tok.vocabSize, 50277);
  assert.equal(tok.eosTokenId, 0);
  assert.equal(tok.bosTokenId, 0);
  assert.equal(tok.padTokenId, 1);
  assert.equal(tok.paddingSide, "right");
  assert.deepEqual(tok.encode("<|endoftext|>x<|padding|>"), [0, 89, 1]);
});

test("encodeBatch pads and truncates on either side", async () => {
  const tok = await pythia;
  const texts = ["Hi, how are you?", "Hi", "a  b"];
  const ids = texts.map((t) => tok.encode(t));
  const right = tok.encodeBatch(texts);
  assert.deepEqual(
    right.inputIds,
    ids.map((s) => [...s, ...Array(6 - s.length).fill(1)]),
  );
  assert.deepEqual(
    right.attentionMask,
    ids.map((s) => [...s.map(() => 1), ...Array(6 - s.length).fill(0)]),
  );
  const left = tok.encodeBatch(texts, { paddingSide: "left", truncation: true, maxLength: 4, truncationSide: "left" });
  assert.deepEqual(left.inputIds, [
    [849, 403, 368, 32],
    [1, 1, 1, 12764],
    [1, 66, 50276, 67],
  ]);
  assert.deepEqual(left.attentionMask, [
    [1, 1, 1, 1],
    [0, 0, 0, 1],
    [0, 1, 1, 1],
  ]);
  const fixed = tok.encodeBatch(texts, { padding: "max_length", maxLength: 3, truncation: true, padTokenId: 0 });
  assert.deepEqual(fixed.inputIds, [
    [12764, 13, 849],
    [12764, 0, 0],
    [66, 50276, 67],
  ]);
  tok.paddingSide = "left";
  assert.deepEqual(tok.encodeBatch(["Hi", "Hi,"]).inputIds, [
    [1, 12764],
    [12764, 13],
  ]);
  tok.paddingSide = "right";
});

test("loadTokenizer reads a folder with tokenizer_config.json for special tokens and sides", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tb-tok-"));
  fs.copyFileSync(TOKENIZER, path.join(dir, "tokenizer.json"));
  fs.writeFileSync(
    path.join(dir, "special_tokens_map.json"),
    JSON.stringify({ pad_token: "<|padding|>", eos_token: "<|padding|>" }),
  );
  fs.writeFileSync(
    path.join(dir, "tokenizer_config.json"),
    JSON.stringify({
      eos_token: { content: "<|endoftext|>", __type: "AddedToken" },
      pad_token: "<|endoftext|>",
      padding_side: "left",
      model_max_length: 2048,
    }),
  );
  const tok = await loadTokenizer(dir);
  assert.equal(tok.padTokenId, 0);
  assert.equal(tok.eosTokenId, 0);
  assert.equal(tok.paddingSide, "left");
  assert.equal(tok.modelMaxLength, 2048);
  assert.deepEqual(tok.encodeBatch(["Hi,", "Hi"]).inputIds, [
    [12764, 13],
    [0, 12764],
  ]);
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ pad_token: "<pad>" }));
  await assert.rejects(loadTokenizer(dir), /tokenizer_config\.json pad_token "<pad>" is not in the vocabulary/);
  fs.rmSync(dir, { recursive: true });
});

test("clear errors: missing file, folder without tokenizer.json, bad JSON, unsupported model type", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tb-tok-"));
  const rejects = (p: Promise<unknown>, re: RegExp) =>
    assert.rejects(p, (e: any) => e instanceof TokenizerError && re.test(e.message));
  await rejects(loadTokenizer(path.join(dir, "nope.json")), /nope\.json: no such tokenizer file or folder/);
  fs.writeFileSync(path.join(dir, "vocab.json"), "{}");
  await rejects(
    loadTokenizer(dir),
    /no tokenizer\.json in this folder \(it has vocab\.json; only the fast tokenizer\.json format is supported\)/,
  );
  fs.writeFileSync(path.join(dir, "tokenizer.json"), "{oops");
  await rejects(
    loadTokenizer(dir),
    new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/tokenizer\\.json: the tokenizer is not valid JSON`),
  );
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify({ model: { type: "WordLevel", vocab: {} } }));
  await rejects(
    loadTokenizer(dir),
    /tokenizer model type "WordLevel" is not supported \(supported: BPE, WordPiece, Unigram\)/,
  );
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify({ version: "1.0" }));
  await rejects(loadTokenizer(dir), /not a Hugging Face tokenizer\.json \(no "model" object\)/);
  assert.throws(() => tokenizerFromJSON("[1]"), /must be a JSON object/);
  fs.rmSync(dir, { recursive: true });
});
