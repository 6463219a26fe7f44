// The PEFT LoRA fixture on model A (FIXTURES/neox-tiny/A/lora; see its README): paths and parsed cases.
import * as fs from "node:fs";
import * as path from "node:path";
import { FIXTURES } from "../../helpers/backend";

export const MODEL_A = path.join(FIXTURES, "neox-tiny", "A");
export const LORA_A = path.join(MODEL_A, "lora");

export interface FixtureTensor {
  shape: number[];
  data: Float32Array;
}

function tensorOf(t: { shape: number[]; data: number[] }): FixtureTensor {
  return { shape: t.shape, data: Float32Array.from(t.data, (x) => Math.fround(x)) };
}

export interface LoraCases {
  scaling: number;
  r: number;
  active: { inputIds: number[][]; labels: number[][]; loss: number; logits: FixtureTensor };
  merged: { inputIds: number[][]; loss: number; logits: FixtureTensor; qkv0: FixtureTensor };
}

export function loadLoraCases(): LoraCases {
  const j = JSON.parse(fs.readFileSync(path.join(LORA_A, "cases.json"), "utf8"));
  return {
    scaling: j.lora_config.scaling,
    r: j.lora_config.r,
    active: {
      inputIds: j.adapter_active.input_ids,
      labels: j.adapter_active.labels,
      loss: j.adapter_active.loss,
      logits: tensorOf(j.adapter_active.logits),
    },
    merged: {
      inputIds: j.merged.input_ids,
      loss: j.merged.loss,
      logits: tensorOf(j.merged.logits),
      qkv0: tensorOf(j.merged["gpt_neox.layers.0.attention.query_key_value.weight"]),
    },
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Copy the fixture adapter into `dir` so a test can break one file. */
export function copyAdapter(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ["adapter_config.json", "adapter_model.safetensors"])
    fs.copyFileSync(path.join(LORA_A, f), path.join(dir, f));
}
