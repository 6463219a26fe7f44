/**
 * Generation latency of the same model three ways: the base alone, with an unmerged adapter (two extra small
 * matmuls per wrapped layer and token), and with the adapter merged (the base's cost: merging is free at
 * inference). A benchmark, not a test: `tunebook bench` and notebook 06 call it and report the numbers.
 */
import * as tf from "@tensorflow/tfjs";
import type { GPTNeoXForCausalLM } from "../../model/gptneox";
import { generate } from "../../model/generate";
import type { LoraConfig } from "../../lora/config";
import { LoraModel } from "../../lora/model";

export interface LoraLatencyOptions {
  promptIds: number[];
  maxNewTokens: number;
  /** Timed generations per variant (the median is reported); one untimed warm-up each. */
  repeats: number;
  /** The adapter to time (B is filled with small random values so it is not a no-op). */
  lora: Partial<LoraConfig>;
}

export const DEFAULT_LORA_LATENCY: LoraLatencyOptions = {
  promptIds: [1, 2, 3, 4],
  maxNewTokens: 16,
  repeats: 3,
  lora: { r: 8 },
};

export interface LoraLatency {
  /** Median milliseconds per generated token. */
  baseMsPerToken: number;
  unmergedMsPerToken: number;
  mergedMsPerToken: number;
  /** unmerged / base − 1. */
  unmergedOverhead: number;
  /** merged / base − 1 (≈ 0 within noise). */
  mergedOverhead: number;
  maxNewTokens: number;
  repeats: number;
  backend: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Time greedy generation for base, unmerged and merged (a temporary adapter, removed afterwards; the base
 * weights are restored by unmerging).
 *
 * @example
 * const r = await benchLoraLatency(model, { maxNewTokens: 32, lora: { r: 8 } });
 * console.log(r.baseMsPerToken, r.unmergedMsPerToken, r.mergedMsPerToken);
 */
export async function benchLoraLatency(
  model: GPTNeoXForCausalLM,
  opts: Partial<LoraLatencyOptions> = {},
): Promise<LoraLatency> {
  const o = { ...DEFAULT_LORA_LATENCY, ...opts };
  const lora = LoraModel.of(model);
  const name = "__latency_probe";
  const prevActive = lora.activeAdapters();
  lora.addAdapter(name, o.lora, { seed: 1, activate: false });
  let k = 0;
  for (const [key, v] of lora.adapterVariables(name))
    if (key.endsWith("lora_B.weight")) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.01, "float32", k++)));
  const time = async (): Promise<number> => {
    await generate(model, o.promptIds, { maxNewTokens: o.maxNewTokens, doSample: false }); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < o.repeats; i++) {
      const t0 = performance.now();
      await generate(model, o.promptIds, { maxNewTokens: o.maxNewTokens, doSample: false });
      ms.push((performance.now() - t0) / o.maxNewTokens);
    }
    return median(ms);
  };
  try {
    lora.disableAdapters();
    const base = await time();
    lora.setAdapter(name);
    const unmerged = await time();
    lora.merge(name);
    const merged = await time();
    lora.unmerge(name);
    return {
      baseMsPerToken: base,
      unmergedMsPerToken: unmerged,
      mergedMsPerToken: merged,
      unmergedOverhead: unmerged / base - 1,
      mergedOverhead: merged / base - 1,
      maxNewTokens: o.maxNewTokens,
      repeats: o.repeats,
      backend: tf.getBackend(),
    };
  } finally {
    if (lora.isMerged(name)) lora.unmerge(name);
    lora.deleteAdapter(name);
    if (prevActive.length)
      lora.setAdapter(
        prevActive.map((a) => a.name),
        prevActive.map((a) => a.weight),
      );
    else if (lora.listAdapters().length === 0) lora.unload();
    else lora.disableAdapters();
  }
}
