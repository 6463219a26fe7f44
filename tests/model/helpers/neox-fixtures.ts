// Shared readers for the Hugging Face reference fixtures in FIXTURES/neox-tiny (see its README.md).
// Numbers are the shortest decimals that round-trip to float32: parse as f64, then Math.fround.
import * as fs from "node:fs";
import * as path from "node:path";
import { FIXTURES } from "../../helpers/backend";

export interface FixtureTensor {
  shape: number[];
  data: Float32Array;
}

export interface FixtureCase {
  name: string;
  input_ids: number[][];
  attention_mask: number[][] | null;
  position_ids: number[][] | null;
  labels: number[][];
  loss: number;
  logits: FixtureTensor;
}

export interface NeoxCases {
  config: Record<string, unknown>;
  cases: FixtureCase[];
  grads: { case: string; loss: number; [name: string]: unknown };
  generation: {
    prompt_ids: number[][];
    max_new_tokens: number;
    use_cache_true: number[][];
    use_cache_false: number[][];
  };
  f16?: FixtureCase & { weights_file: string };
}

export const NEOX_DIR = path.join(FIXTURES, "neox-tiny");

export function modelDir(name: "A" | "B"): string {
  return path.join(NEOX_DIR, name);
}

export function tensorOf(v: any): FixtureTensor {
  return { shape: v.shape, data: Float32Array.from(v.data as number[], (x) => Math.fround(x)) };
}

export function loadCases(name: "A" | "B"): NeoxCases {
  const raw = JSON.parse(fs.readFileSync(path.join(modelDir(name), "cases.json"), "utf8"));
  const fixCase = (c: any): FixtureCase => ({ ...c, loss: Math.fround(c.loss), logits: tensorOf(c.logits) });
  return {
    ...raw,
    cases: raw.cases.map(fixCase),
    grads: raw.grads,
    f16: raw.f16 ? fixCase(raw.f16) : undefined,
  };
}

/** Largest |a − b| over entries where `keep(i)` (default all); throws on a size mismatch. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, keep?: (i: number) => boolean): number {
  if (a.length !== b.length) throw new Error(`size mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (keep && !keep(i)) continue;
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as NaN
  }
  return m;
}
