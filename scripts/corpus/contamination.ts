/**
 * The contamination check: no answer of a course test split may occur in the pretraining corpus, or the
 * "what model size buys" measurements would reward memorised test answers.
 *
 * Text is compared as sequences of normalised words (lower case, letters and digits only, so punctuation and
 * line breaks cannot hide a match). A paragraph of the corpus is dropped when it holds
 *   1. an *answer* of ≥ `minAnswerChars` characters and ≥ `minAnswerWords` words, word for word (answers longer
 *      than `n` words: any `n`-word run of it), or
 *   2. any `n`-word run (`n` = 13, as GPT-3's contamination study) of a test *input* — the e-mail, the header,
 *      the question — or of an answer of any length.
 * Shorter answers (spam's `ham`/`spam` labels, two-word subjects such as `Re: hello`) are too common as phrases to
 * be evidence of anything; their inputs are still checked by rule 2. Hashes are verified against the words, so a
 * hash collision cannot drop a paragraph.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface ContaminationOptions {
  minAnswerChars: number;
  minAnswerWords: number;
  n: number;
}

export const DEFAULT_CONTAMINATION: ContaminationOptions = {
  minAnswerChars: 20, // shorter answers are common phrases (`Re: your order`), not test items
  minAnswerWords: 3,
  n: 13, // Brown et al. 2020's n-gram length for their contamination analysis
};

export interface TestItem {
  split: string; // e.g. "docs-qa/test.jsonl"
  id: string;
  answer?: string;
  inputs: string[];
}

export interface ContaminationHit {
  source: string;
  doc: string;
  split: string;
  id: string;
  rule: "answer" | "n-gram";
  /** The matching words (at most 20). */
  words: string;
}

const WORD = /[\p{L}\p{N}]+/gu;
const words = (s: string): string[] => s.toLowerCase().match(WORD) ?? [];

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
const P = 140737488355213; // a prime below 2^47: h * 31 + 2^32 stays an exact double
const step = (h: number, w: number) => (h * 31 + w) % P;

/** Every test split's items: `answer` (or `label`) and the input fields, from `DIR/<task>/test.jsonl`. */
export function readTestItems(dataDir: string): TestItem[] {
  const items: TestItem[] = [];
  if (!fs.existsSync(dataDir))
    throw new Error(`contamination check: ${dataDir} does not exist (the course's datasets folder)`);
  for (const task of fs.readdirSync(dataDir).sort()) {
    const file = path.join(dataDir, task, "test.jsonl");
    if (!fs.existsSync(file)) continue;
    const split = `${task}/test.jsonl`;
    fs.readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (!line.trim()) return;
        let r: Record<string, unknown>;
        try {
          r = JSON.parse(line);
        } catch (e) {
          throw new Error(`contamination check: ${file}:${i + 1} is not JSON (${(e as Error).message})`);
        }
        const str = (k: string) => (typeof r[k] === "string" ? (r[k] as string) : undefined);
        const inputs = ["text", "question", "input", "instruction", "prompt"].map(str).filter((x): x is string => !!x);
        items.push({
          split,
          id: str("id") ?? `line ${i + 1}`,
          answer: str("answer") ?? str("output") ?? str("label"),
          inputs,
        });
      });
  }
  if (!items.length) throw new Error(`contamination check: no */test.jsonl under ${dataDir}`);
  return items;
}

interface Needle {
  item: TestItem;
  rule: "answer" | "n-gram";
  words: string[];
}

export class ContaminationIndex {
  /** hash of a word run → the runs with that hash, keyed by their length. */
  private readonly table = new Map<number, Needle[]>();
  readonly lengths: number[];
  readonly answersChecked: number;
  readonly answersTooShort: number;
  readonly ngrams: number;

  constructor(
    items: TestItem[],
    readonly opts: ContaminationOptions = DEFAULT_CONTAMINATION,
  ) {
    const lengths = new Set<number>();
    let answersChecked = 0;
    let answersTooShort = 0;
    let ngrams = 0;
    const add = (ws: string[], item: TestItem, rule: Needle["rule"]) => {
      let h = 0;
      for (const w of ws) h = step(h, fnv(w));
      const list = this.table.get(h) ?? [];
      list.push({ item, rule, words: ws });
      this.table.set(h, list);
      lengths.add(ws.length);
    };
    for (const item of items) {
      const texts = [...item.inputs];
      if (item.answer !== undefined) {
        const aw = words(item.answer);
        if (item.answer.trim().length >= opts.minAnswerChars && aw.length >= opts.minAnswerWords) {
          answersChecked++;
          if (aw.length <= opts.n) add(aw, item, "answer");
        } else answersTooShort++;
        texts.push(item.answer);
      }
      for (const t of texts) {
        const ws = words(t);
        for (let i = 0; i + opts.n <= ws.length; i++) {
          add(ws.slice(i, i + opts.n), item, "n-gram");
          ngrams++;
        }
      }
    }
    this.lengths = [...lengths].sort((a, b) => a - b);
    this.answersChecked = answersChecked;
    this.answersTooShort = answersTooShort;
    this.ngrams = ngrams;
  }

  /** The first test item a paragraph contains, or undefined. */
  find(paragraph: string): Needle | undefined {
    const ws = words(paragraph);
    const hs = ws.map(fnv);
    const maxLen = this.lengths[this.lengths.length - 1] ?? 0;
    const want = new Set(this.lengths);
    for (let i = 0; i < ws.length; i++) {
      let h = 0;
      for (let l = 1; l <= maxLen && i + l <= ws.length; l++) {
        h = step(h, hs[i + l - 1]);
        if (!want.has(l)) continue;
        const list = this.table.get(h);
        if (!list) continue;
        for (const nd of list) if (nd.words.length === l && nd.words.every((w, k) => w === ws[i + k])) return nd;
      }
    }
    return undefined;
  }
}

/** Docs with every contaminated paragraph dropped (docs left empty go), and the hits. */
export function removeContamination<D extends { source: string; name: string; text: string }>(
  docs: D[],
  index: ContaminationIndex,
): { docs: D[]; hits: ContaminationHit[] } {
  const hits: ContaminationHit[] = [];
  const out: D[] = [];
  for (const d of docs) {
    const kept: string[] = [];
    for (const p of d.text.split(/\n\n+/)) {
      const nd = index.find(p);
      if (nd) {
        hits.push({
          source: d.source,
          doc: d.name,
          split: nd.item.split,
          id: nd.item.id,
          rule: nd.rule,
          words: nd.words.slice(0, 20).join(" "),
        });
        continue;
      }
      kept.push(p);
    }
    const text = kept.join("\n\n").trim();
    if (text) out.push(text === d.text ? d : { ...d, text });
  }
  return { docs: out, hits };
}
