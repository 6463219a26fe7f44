/**
 * The pieces notebook 06 runs: full fine-tuning vs LoRA on the same data from the same base, the merge check,
 * and the "one customer, one adapter" demo (two adapters trained on different answers to the same questions,
 * asked the same question on one shared base).
 */
import * as tf from "@tensorflow/tfjs";
import type { GPTNeoXForCausalLM } from "../../model/gptneox";
import { Linear } from "../../model/layers";
import { loadPretrained } from "../../model/load";
import type { Tokenizer } from "../../tokenizer";
import { causalLMTrainable } from "../../train/causal-lm";
import type { TrainConfig, TrainSummary } from "../../train/config";
import { train } from "../../train/trainer";
import type { TokenizedExample } from "../../types/example";
import { type LoraConfig, LoraError } from "../../lora/config";
import { type AdapterSelection, LoraModel } from "../../lora/model";
import { generateWithAdapter } from "../../lora/serve";
import { loraTrainable } from "../../lora/trainable";

/** Two customers' question/answer pairs: the same questions, each customer's own answers. */
export const CUSTOMER_DEMO: Readonly<Record<string, readonly { q: string; a: string }[]>> = Object.freeze({
  acmeBikes: [
    { q: "What are your opening hours?", a: "Monday to Friday, nine to six." },
    { q: "Where are you?", a: "At 12 Harbour Street, next to the ferry." },
    { q: "What do you sell?", a: "Bicycles, helmets and repairs." },
    { q: "Can I pay by card?", a: "Yes, every card is welcome." },
  ],
  zenTea: [
    { q: "What are your opening hours?", a: "Every day from noon until midnight." },
    { q: "Where are you?", a: "Up the hill, in the old mill." },
    { q: "What do you sell?", a: "Green tea, black tea and cakes." },
    { q: "Can I pay by card?", a: "Sorry, cash only." },
  ],
});

/** The topic of each demo question, in `CUSTOMER_DEMO`'s order (the same four for every customer). */
export const CUSTOMER_TOPICS = Object.freeze(["hours", "where", "sell", "card"] as const);
export type CustomerTopic = (typeof CUSTOMER_TOPICS)[number];

/**
 * Reworded questions that are NOT in the adapters' training data, two per topic: what a customer might type
 * instead of the trained wording. Used only to ask the trained adapters (`askHeldOut`).
 */
export const CUSTOMER_HELD_OUT: readonly { q: string; topic: CustomerTopic }[] = Object.freeze([
  { q: "When are you open?", topic: "hours" },
  { q: "What time do you close today?", topic: "hours" },
  { q: "What is your address?", topic: "where" },
  { q: "How do I find your shop?", topic: "where" },
  { q: "What can I buy from you?", topic: "sell" },
  { q: "What products do you have?", topic: "sell" },
  { q: "Do you take credit cards?", topic: "card" },
  { q: "Can I pay with my bank card?", topic: "card" },
]);

/** How an adapter's answer to a held-out question relates to the customers' trained answers. */
export type HeldOutVerdict = "right fact" | "own customer, other topic" | "other customer's answer" | "new text";

/** One held-out question asked with one adapter. */
export interface HeldOutRow {
  question: string;
  topic: CustomerTopic;
  adapter: string;
  answer: string;
  verdict: HeldOutVerdict;
  /** The answer is this adapter's customer's answer for the question's topic. */
  right: boolean;
}

const norm = (t: string) =>
  t
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();

/**
 * Judge an answer against the customers' trained answers: the asking customer's answer for the topic (right),
 * another of its answers (wrong topic), another customer's answer (the adapters are mixed up), or none of them.
 * Answers match after lower-casing and dropping punctuation.
 *
 * @example
 * heldOutVerdict("Monday to Friday, nine to six.", "acmeBikes", "hours"); // "right fact"
 */
export function heldOutVerdict(
  answer: string,
  customer: string,
  topic: CustomerTopic,
  demo: Readonly<Record<string, readonly { q: string; a: string }[]>> = CUSTOMER_DEMO,
): HeldOutVerdict {
  const own = demo[customer];
  if (!own) throw new LoraError(`heldOutVerdict: no customer named ${JSON.stringify(customer)} in the demo`);
  const t = CUSTOMER_TOPICS.indexOf(topic);
  if (t < 0) throw new LoraError(`heldOutVerdict: topic must be one of ${CUSTOMER_TOPICS.join(", ")}`);
  const a = norm(answer);
  if (a === norm(own[t].a)) return "right fact";
  if (own.some((p) => norm(p.a) === a)) return "own customer, other topic";
  if (Object.entries(demo).some(([c, ps]) => c !== customer && ps.some((p) => norm(p.a) === a)))
    return "other customer's answer";
  return "new text";
}

/**
 * Ask every held-out question with each customer's adapter (greedy) and judge each answer.
 *
 * @example
 * const rows = await askHeldOut(model, tokenizer, ["acmeBikes", "zenTea"]);
 * rows.filter((r) => r.right).length; // how many reworded questions got the right customer's fact
 */
export async function askHeldOut(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  adapters: readonly string[],
  questions: readonly { q: string; topic: CustomerTopic }[] = CUSTOMER_HELD_OUT,
): Promise<HeldOutRow[]> {
  const rows: HeldOutRow[] = [];
  for (const { q, topic } of questions) {
    for (const adapter of adapters) {
      const [{ answer }] = await askEachAdapter(model, tokenizer, q, [adapter]);
      const verdict = heldOutVerdict(answer, adapter, topic);
      rows.push({ question: q, topic, adapter, answer, verdict, right: verdict === "right fact" });
    }
  }
  return rows;
}

/**
 * Per adapter: how many held-out questions got its customer's right fact, and how the rest went.
 *
 * @example
 * show(table(heldOutScore(rows)));
 */
export function heldOutScore(rows: readonly HeldOutRow[]): Record<string, string | number>[] {
  const adapters = [...new Set(rows.map((r) => r.adapter))];
  return adapters.map((adapter) => {
    const rs = rows.filter((r) => r.adapter === adapter);
    const count = (v: HeldOutVerdict) => rs.filter((r) => r.verdict === v).length;
    return {
      adapter,
      asked: rs.length,
      "right fact": count("right fact"),
      "own customer, other topic": count("own customer, other topic"),
      "other customer's answer": count("other customer's answer"),
      "new text": count("new text"),
    };
  });
}

/**
 * The held-out result in words: per adapter, right facts on the trained wording vs on the reworded questions,
 * and which reworded questions carried over (numbers from the rows).
 *
 * @example
 * show(markdown(heldOutSummary(trainedRows, heldOutRows)));
 */
export function heldOutSummary(trained: readonly HeldOutRow[], reworded: readonly HeldOutRow[]): string {
  const adapters = [...new Set(reworded.map((r) => r.adapter))];
  const part = (rows: readonly HeldOutRow[], a: string) => {
    const rs = rows.filter((r) => r.adapter === a);
    return `${rs.filter((r) => r.right).length} of ${rs.length}`;
  };
  const lines = adapters.map(
    (a) =>
      `- **${a}**: its own customer's fact for ${part(trained, a)} trained questions and ${part(reworded, a)} reworded ones.`,
  );
  const carried = [...new Set(reworded.filter((r) => r.right).map((r) => `"${r.question}"`))];
  const mixed = reworded.filter((r) => r.verdict === "other customer's answer").length;
  const wrongTopic = reworded.filter((r) => r.verdict === "own customer, other topic").length;
  return [
    ...lines,
    "",
    carried.length
      ? `Reworded questions answered right by at least one adapter: ${carried.join(", ")}.`
      : "No reworded question got its customer's right fact.",
    `Of the ${reworded.length} reworded answers, ${wrongTopic} were the right customer's answer to another question and ` +
      `${mixed} were the other customer's answer.`,
  ].join("\n");
}

/** The prompt the demo's pairs use. */
export function qaPrompt(q: string): string {
  return `Q: ${q}\nA:`;
}

/**
 * Tokenize question/answer pairs for training: prompt tokens masked (-100), answer + EOS scored.
 *
 * @example
 * const examples = qaExamples(tokenizer, CUSTOMER_DEMO.acmeBikes);
 */
export function qaExamples(
  tokenizer: Tokenizer,
  pairs: readonly { q: string; a: string }[],
  repeat = 1,
): TokenizedExample[] {
  const eos = tokenizer.eosTokenId;
  if (eos === undefined) throw new LoraError("qaExamples: the tokenizer has no EOS token to end the answers with");
  const out: TokenizedExample[] = [];
  for (let k = 0; k < repeat; k++) {
    for (const { q, a } of pairs) {
      const p = tokenizer.encode(qaPrompt(q));
      const ans = [...tokenizer.encode(` ${a}`), eos];
      out.push({ inputIds: [...p, ...ans], labels: [...p.map(() => -100), ...ans] });
    }
  }
  return out;
}

/**
 * Ask one question with each adapter (null: the base alone) on the same model, greedy; one row per adapter.
 *
 * @example
 * show(table(await askEachAdapter(model, tokenizer, "What are your opening hours?", [null, "acmeBikes", "zenTea"])));
 */
export async function askEachAdapter(
  model: GPTNeoXForCausalLM,
  tokenizer: Tokenizer,
  question: string,
  adapters: readonly AdapterSelection[],
  maxNewTokens = 20,
): Promise<{ adapter: string; answer: string }[]> {
  const ids = tokenizer.encode(qaPrompt(question));
  const rows: { adapter: string; answer: string }[] = [];
  for (const a of adapters) {
    const out = await generateWithAdapter(model, ids, {
      adapter: a,
      maxNewTokens,
      doSample: false,
      eosTokenId: tokenizer.eosTokenId ?? null,
      stopStrings: ["\n"],
      decode: (x) => tokenizer.decode(x),
    });
    rows.push({
      adapter:
        a === null
          ? "(base model)"
          : typeof a === "string"
            ? a
            : Object.entries(a)
                .map(([n, w]) => `${w}·${n}`)
                .join(" + "),
      answer: tokenizer.decode(out, { skipSpecialTokens: true }).trim(),
    });
  }
  return rows;
}

/** One run of `fullVsLora`. */
export interface RunResult {
  losses: number[];
  trainableParams: number;
  seconds: number;
  tokensPerSec: number;
}

/**
 * Train the same base twice on the same data — every weight, then a LoRA adapter — and return both loss
 * curves (each run loads its own copy of the model from `modelDir`).
 *
 * @example
 * const r = await fullVsLora(dir, examples, { numSteps: 30, batchSize: 4 }, { lr: 1e-4 }, { lr: 3e-3 }, { r: 8 });
 * show(lossCurvesChart({ full: r.full.losses, lora: r.lora.losses }));
 */
export async function fullVsLora(
  modelDir: string,
  examples: readonly TokenizedExample[],
  common: Partial<TrainConfig>,
  fullOpts: Partial<TrainConfig>,
  loraOpts: Partial<TrainConfig>,
  lora: Partial<LoraConfig> = {},
): Promise<{ full: RunResult; lora: RunResult }> {
  const summarize = (s: TrainSummary, n: number): RunResult => ({
    losses: s.losses,
    trainableParams: n,
    seconds: s.elapsed,
    tokensPerSec: s.tokensPerSec,
  });
  const m1 = await loadPretrained(modelDir);
  let full: RunResult;
  try {
    full = summarize(await train(causalLMTrainable(m1), examples, { ...common, ...fullOpts }), m1.numParameters());
  } finally {
    m1.dispose();
  }
  const m2 = await loadPretrained(modelDir);
  try {
    const info = LoraModel.of(m2).addAdapter("default", lora);
    return {
      full,
      lora: summarize(
        await train(loraTrainable(m2, "default"), examples, { ...common, ...loraOpts }),
        info.trainableParams,
      ),
    };
  } finally {
    m2.dispose();
  }
}

/** What `verifyMerge` measured. */
export interface MergeCheck {
  /** max |logits merged − logits unmerged|. */
  maxLogitDiff: number;
  /** max |W after unmerge − W before merge| over the wrapped layers. */
  maxUnmergeDiff: number;
  /** max |W merged − (W + scaling·B·A)|: merge is exactly one deltaWeight. */
  maxDeltaDiff: number;
  /** max |logits with adapter − logits of the base|: the adapter does something. */
  adapterEffect: number;
}

/**
 * Check that merging is exact on real inputs: logits before/after merge, W restored by unmerge.
 *
 * @example
 * show(table([await verifyMerge(model, "acmeBikes", [tokenizer.encode("Q: Where are you?\nA:")])]));
 */
export function verifyMerge(model: GPTNeoXForCausalLM, adapter: string, inputIds: number[][]): MergeCheck {
  const lora = LoraModel.find(model);
  if (!lora?.has(adapter)) throw new LoraError(`verifyMerge: no adapter named ${JSON.stringify(adapter)}`);
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };
  const logits = () => tf.tidy(() => model.forward(inputIds).logits.dataSync().slice());
  const mods = lora.targetModules(adapter);
  const weights = () => mods.map((m) => lora.layer(m).base.weight.dataSync().slice());
  return lora.withActiveSync([adapter], () => {
    const base = lora.withActiveSync([], logits);
    const unmerged = logits();
    const w0 = weights();
    const expected = mods.map((m, i) =>
      tf.tidy(() =>
        tf
          .add(tf.tensor(w0[i], lora.layer(m).base.weight.shape), lora.deltaWeight(adapter, m))
          .dataSync()
          .slice(),
      ),
    );
    lora.merge(adapter);
    let merged: Float32Array;
    let maxDeltaDiff = 0;
    try {
      merged = logits() as Float32Array;
      weights().forEach((w, i) => (maxDeltaDiff = Math.max(maxDeltaDiff, maxDiff(w, expected[i]))));
    } finally {
      lora.unmerge(adapter);
    }
    let maxUnmergeDiff = 0;
    weights().forEach((w, i) => (maxUnmergeDiff = Math.max(maxUnmergeDiff, maxDiff(w, w0[i]))));
    return {
      maxLogitDiff: maxDiff(merged, unmerged),
      maxUnmergeDiff,
      maxDeltaDiff,
      adapterEffect: maxDiff(unmerged, base),
    };
  });
}

/** Is every dense layer of the model a plain `Linear` again (no LoRA left)? */
export function isPlainModel(model: GPTNeoXForCausalLM): boolean {
  return model.linearNames().every((n) => model.getLinear(n) instanceof Linear);
}
