import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { trainByteLevelBPE } from "../../src/tokenizer/train-bpe";
import { byteLevelAlphabet, byteLevelPieces, byteLevelToText } from "../../src/tokenizer/byte-level";
import { loadTokenizer, tokenizerFromJSON, TokenizerError } from "../../src/tokenizer";
import { Rng } from "../../src/runtime/seed";

const WORDS =
  "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you".split(
    " ",
  );

function corpus(seed: number, lines: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: lines }, () => {
    const n = 3 + rng.int(10);
    const ws = Array.from({ length: n }, () =>
      rng.next() < 0.8 ? WORDS[rng.int(WORDS.length)] : rng.int(1e6).toString(36),
    );
    return ws.join(" ") + (rng.next() < 0.3 ? "! Über café.\n" : ".\n");
  });
}

/** Textbook BPE: recount every pair after every merge; most frequent first, ties to the smaller (a, b) ids. */
function naiveMerges(texts: string[], vocabSize: number, specials: string[], minFrequency: number): string[] {
  const symbols = [...specials, ...byteLevelAlphabet()];
  const idOf = new Map(symbols.map((s, i) => [s, i] as [string, number]));
  const words: number[][] = [];
  for (const t of texts)
    for (const p of byteLevelPieces(t.normalize("NFC"))) words.push([...p].map((c) => idOf.get(c)!));
  const merges: string[] = [];
  while (symbols.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const w of words)
      for (let i = 0; i + 1 < w.length; i++)
        counts.set(`${w[i]},${w[i + 1]}`, (counts.get(`${w[i]},${w[i + 1]}`) ?? 0) + 1);
    let best: [number, number] | null = null,
      bestC = 0;
    for (const [k, c] of counts) {
      const [a, b] = k.split(",").map(Number);
      if (c > bestC || (c === bestC && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestC = c;
      }
    }
    if (!best || bestC < minFrequency) break;
    const [a, b] = best;
    const tok = symbols[a] + symbols[b];
    merges.push(`${symbols[a]} ${symbols[b]}`);
    let id = idOf.get(tok);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(tok);
      idOf.set(tok, id);
    }
    for (let wi = 0; wi < words.length; wi++) {
      const w = words[wi],
        out: number[] = [];
      for (let i = 0; i < w.length; i++)
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(w[i]);
      words[wi] = out;
    }
  }
  return merges;
}

test("the incremental trainer makes exactly the merges of textbook BPE", () => {
  const texts = corpus(5, 150);
  const json: any = trainByteLevelBPE(texts, { vocabSize: 420, minFrequency: 2 });
  const want = naiveMerges(texts, 420, ["<|endoftext|>", "<|padding|>"], 2);
  assert.ok(want.length > 100);
  assert.deepEqual(json.model.merges, want);
  assert.equal(Object.keys(json.model.vocab).length, 258 + new Set(want.map((m) => m.replace(" ", ""))).size);
});

test("a trained tokenizer loads, knows its special tokens, and round-trips unseen text", () => {
  const tok = tokenizerFromJSON(trainByteLevelBPE(corpus(1, 2000), { vocabSize: 600 }));
  assert.equal(tok.vocabSize, 600);
  assert.equal(tok.eosTokenId, 0);
  assert.equal(tok.bosTokenId, 0);
  assert.equal(tok.padTokenId, 1);
  assert.equal(tok.idToToken(0), "<|endoftext|>");
  const unseen = [
    "Zebras quickly vexed 42 jumpy wizards",
    "naïve café — 東京 🤗\n\ttabs  and   spaces\r\n",
    "x<|endoftext|>y<|padding|>",
    " ",
    "'s 've",
  ];
  for (const t of unseen) assert.equal(tok.decode(tok.encode(t)), t.normalize("NFC"), JSON.stringify(t));
  assert.deepEqual(
    tok.encode("x<|endoftext|>y").filter((id) => id < 2),
    [0],
  );
  const frequent = [" the", " and", " that", " which"];
  for (const w of frequent) assert.equal(tok.encode(w).length, 1, `${JSON.stringify(w)} is one token`);
  assert.ok(tok.encode(" Zebras").length > 2, "a rare word stays split");
  const b = tok.encodeBatch(["the cat", "the"], { paddingSide: "left" });
  assert.deepEqual(
    b.attentionMask[1].slice(0, b.attentionMask[1].length - 1).every((m) => m === 0),
    true,
  );
});

test("training is deterministic and takes any iterable", () => {
  const texts = corpus(2, 500);
  const a = trainByteLevelBPE(texts, { vocabSize: 500 });
  const b = trainByteLevelBPE(
    (function* () {
      yield* texts;
    })(),
    { vocabSize: 500 },
  );
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  const c = trainByteLevelBPE(corpus(3, 500), { vocabSize: 500 });
  assert.notEqual(JSON.stringify(a), JSON.stringify(c));
  const few: any = trainByteLevelBPE(["ab ab ab", "cd"], { vocabSize: 1000, minFrequency: 3 });
  assert.deepEqual(few.model.merges, ["a b"]);
  assert.equal(few.model.merges.includes("c d"), false, "pairs below minFrequency are not merged");
});

test("a trained tokenizer.json in a folder loads with loadTokenizer", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tb-bpe-"));
  fs.writeFileSync(
    path.join(dir, "tokenizer.json"),
    JSON.stringify(trainByteLevelBPE(corpus(4, 300), { vocabSize: 400 })),
  );
  const tok = await loadTokenizer(dir);
  assert.equal(tok.decode(tok.encode("the end")), "the end");
  fs.rmSync(dir, { recursive: true });
});

test("bad options are clear errors", () => {
  const err = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: any) => e instanceof TokenizerError && re.test(e.message));
  err(
    () => trainByteLevelBPE(["a"], { vocabSize: 100 }),
    /vocabSize must be an integer from 258 \(specials \+ 256 bytes\)/,
  );
  err(() => trainByteLevelBPE(["a", 3 as any], { vocabSize: 300 }), /text 1 is number, expected a string/);
  err(
    () => trainByteLevelBPE(["a"], { vocabSize: 300, specialTokens: ["<s>", "<s>"] }),
    /specialTokens must be distinct/,
  );
});

test("byte-level alphabet: 256 distinct symbols, GPT-2's mapping, exact round trips", () => {
  const abc = byteLevelAlphabet();
  assert.equal(new Set(abc).size, 256);
  assert.equal(abc[32], "Ġ");
  assert.equal(abc[10], "Ċ");
  assert.equal(abc[65], "A");
  assert.deepEqual(byteLevelPieces("Hello world's 12 !!\n"), ["Hello", "Ġworld", "'s", "Ġ12", "Ġ!!", "Ċ"]);
  const t = "mixed 東京 🤗 \u0000 text";
  assert.equal(byteLevelToText(byteLevelPieces(t).join("")), t);
});
