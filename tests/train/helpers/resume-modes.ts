// The four training modes whose resume must be exact (full fine-tune, LoRA with dropout, gradient accumulation,
// Adafactor), each on a tiny GPT-NeoX, built from an init seed so a resumed run can start from other weights
// and must get everything from the checkpoint. Shared by resume-modes.test.ts and the child it kills.
import { GPTNeoXForCausalLM } from "../../../src/model/gptneox";
import { makeConfig } from "../../../src/model/config";
import { causalLMTrainable } from "../../../src/train/causal-lm";
import { LoraModel } from "../../../src/lora/model";
import { loraTrainable } from "../../../src/lora/trainable";
import type { TrainConfig } from "../../../src/train/config";
import type { TrainableModel } from "../../../src/train/types";

export const NEOX = makeConfig({
  hiddenSize: 16,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  intermediateSize: 32,
  vocabSize: 40,
  maxPositionEmbeddings: 32,
});

/** 12 examples of 5..8 tokens, some with a masked prompt. */
export const DATA = Array.from({ length: 12 }, (_, i) => {
  const inputIds = Array.from({ length: 5 + (i % 4) }, (_, t) => (3 + i * 7 + t * (1 + (i % 3))) % 40);
  return i % 3 === 0 ? { inputIds, labels: inputIds.map((id, t) => (t < 2 ? -100 : id)) } : { inputIds };
});

const COMMON: Partial<TrainConfig> = {
  lr: 1e-2,
  numSteps: 6,
  batchSize: 2,
  maxLength: 8,
  warmupSteps: 2,
  schedule: "cosine",
  weightDecay: 0.01,
  maxGradNorm: 1,
  seed: 5,
};

export interface Built {
  trainable: TrainableModel;
  /** Every weight of the model (base and adapters), copied. */
  weights(): Map<string, Float32Array>;
  dispose(): void;
}

export interface Mode {
  name: string;
  config: Partial<TrainConfig>;
  build(initSeed: number): Built;
}

function full(initSeed: number): Built {
  const model = GPTNeoXForCausalLM.create(NEOX, { seed: initSeed });
  return {
    trainable: causalLMTrainable(model),
    weights: () => new Map([...model.parameters()].map(([k, v]) => [k, v.dataSync().slice() as Float32Array])),
    dispose: () => model.dispose(),
  };
}

/** LoRA with dropout 0.3: the base is the same for every init seed (a checkpoint holds the adapter only). */
export function loraDropout(initSeed: number, dropout = 0.3): Built {
  const model = GPTNeoXForCausalLM.create(NEOX, { seed: 7 });
  const lora = LoraModel.of(model);
  lora.addAdapter(
    "default",
    { r: 4, alpha: 8, dropout, targetModules: ["query_key_value", "dense_h_to_4h"] },
    { seed: initSeed },
  );
  return {
    trainable: loraTrainable(model, "default"),
    weights: () =>
      new Map([
        ...[...model.parameters()].map(([k, v]) => [k, v.dataSync().slice() as Float32Array] as const),
        ...[...lora.adapterVariables("default")].map(([k, v]) => [k, v.dataSync().slice() as Float32Array] as const),
      ]),
    dispose: () => {
      lora.deleteAdapter("default");
      model.dispose();
    },
  };
}

export const MODES: Mode[] = [
  { name: "full fine-tune", config: COMMON, build: full },
  { name: "LoRA with dropout", config: COMMON, build: (s) => loraDropout(s) },
  { name: "gradient accumulation", config: { ...COMMON, gradAccumSteps: 3 }, build: full },
  { name: "Adafactor", config: { ...COMMON, optimizer: "adafactor", optimizerOptions: { beta1: 0.9 } }, build: full },
];

export const modeNamed = (name: string): Mode => MODES.find((m) => m.name === name)!;

/** Whether two float arrays hold the same bits (NaN-safe, ±0 distinguished). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  );
}
