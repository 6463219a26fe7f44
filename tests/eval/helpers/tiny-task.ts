import { useTestBackend } from "../../helpers/backend";
import { before, after } from "node:test";
// A tiny model folder (random GPT-NeoX + a byte-level BPE trained on the task's own text) and tiny JSONL
// tasks in a temp dir, for evaluation, sweep and CLI tests that must run in seconds.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GPTNeoXForCausalLM } from "../../../src/model/gptneox";
import { makeConfig } from "../../../src/model/config";
import { saveModel } from "../../../src/model/load";
import { loadTokenizer } from "../../../src/tokenizer";
import type { Tokenizer } from "../../../src/tokenizer/types";
import { trainByteLevelBPE } from "../../../src/tokenizer/train-bpe";
import { QA_TEMPLATE } from "../../../src/data/templates";

const COLORS = ["red", "blue", "green", "black", "white", "gold"];
const THINGS = ["apple", "sky", "grass", "coal", "snow", "sun", "car", "door", "cup", "hat", "box", "pen"];

/** QA records: "What color is the X?" → a color (deterministic). */
export function qaRecords(n: number, offset = 0): { question: string; answer: string; id: string }[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return {
      id: `q${i}`,
      question: `What color is the ${THINGS[i % THINGS.length]} number ${i}?`,
      answer: COLORS[(i * 7) % COLORS.length],
    };
  });
}

/** Classification records: texts about good or bad things → "good" | "bad". */
export function classRecords(n: number): { text: string; label: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    text: `The ${THINGS[i % THINGS.length]} was ${i % 3 === 0 ? "awful and broken" : "lovely and fine"}.`,
    label: i % 3 === 0 ? "bad" : "good",
  }));
}

export function writeJsonlFile(file: string, records: unknown[]): string {
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return file;
}

export interface TinyTask {
  dir: string;
  modelDir: string;
  trainFile: string;
  testFile: string;
  classFile: string;
  model: GPTNeoXForCausalLM;
  tokenizer: Tokenizer;
}

/** Temp dir with model/ (config.json, model.safetensors, tokenizer.json), train.jsonl, test.jsonl, class.jsonl. */
export async function makeTinyTask(seed = 1): Promise<TinyTask> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-eval-"));
  const train = qaRecords(24);
  const test = qaRecords(6, 100);
  const cls = classRecords(12);
  const texts = [...train, ...test].map((r) => QA_TEMPLATE.render(r)).map((x) => x.prompt + x.completion);
  texts.push(
    ...cls.map(
      (r) =>
        `### Text:\n${r.text}\n\n### Question:\nWhich label fits? Answer with one of: bad, good.\n\n### Answer:\n${r.label}`,
    ),
  );
  const modelDir = path.join(dir, "model");
  fs.mkdirSync(modelDir);
  fs.writeFileSync(path.join(modelDir, "tokenizer.json"), JSON.stringify(trainByteLevelBPE(texts, { vocabSize: 320 })));
  const tokenizer = await loadTokenizer(modelDir);
  const config = makeConfig({
    vocabSize: 320,
    hiddenSize: 32,
    numHiddenLayers: 1,
    numAttentionHeads: 2,
    intermediateSize: 64,
    maxPositionEmbeddings: 128,
  });
  const model = GPTNeoXForCausalLM.create(config, { seed });
  await saveModel(model, modelDir);
  return {
    dir,
    modelDir,
    model,
    tokenizer,
    trainFile: writeJsonlFile(path.join(dir, "train.jsonl"), train),
    testFile: writeJsonlFile(path.join(dir, "test.jsonl"), test),
    classFile: writeJsonlFile(path.join(dir, "class.jsonl"), cls),
  };
}

/** Collects what a CLI command writes. */
export function captureIO(): {
  out: (t: string) => void;
  err: (t: string) => void;
  stdout: () => string;
  stderr: () => string;
} {
  let o = "";
  let e = "";
  return { out: (t) => void (o += t), err: (t) => void (e += t), stdout: () => o, stderr: () => e };
}

/**
 * Registers this test file's before/after hooks: the test backend and one tiny task, disposed and deleted after
 * the file's tests. Returns the task object, filled in once `before` has run.
 */
export function useTinyTask(seed = 1): TinyTask {
  const task = {} as TinyTask;
  before(async () => {
    await useTestBackend();
    Object.assign(task, await makeTinyTask(seed));
  });
  after(() => {
    task.model.dispose();
    fs.rmSync(task.dir, { recursive: true, force: true });
  });
  return task;
}
