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
