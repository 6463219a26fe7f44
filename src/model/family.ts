/**
 * tunebook's own model family: GPT-NeoX models with Pythia's architecture (parallel residual, rotary on a
 * quarter of each head, exact GELU, untied output) and the family's own byte-level BPE tokenizer, pretrained on
 * the corpus that `scripts/corpus/build-corpus.ts` assembles from Debian and npm packages (data/corpus/datasheet.md)
 * by `scripts/device/pretrain.py` on a GPU. Three sizes spanning ≈ 10× in parameters, so that the course can show
 * what model size buys.
 *
 * Sizing: the corpus is ≈ 25M tokens (data/corpus/datasheet.md), so at most ≈ 4 passes give ≈ 100M training
 * tokens. At ≥ 10 tokens per parameter that trains up to ≈ 10M parameters; the largest member takes the same
 * ≈ 100M tokens (≈ 5 per parameter: data-limited, and its datasheet must say so). Reference: Biderman et al. 2023 (Pythia) for the shapes;
 * Hoffmann et al. 2022 (≈ 20 tokens/parameter is compute-optimal); Muennighoff et al. 2023 (up to ≈ 4 passes over
 * repeated data cost little against fresh data).
 */
import { DEFAULT_GPTNEOX_CONFIG, type GPTNeoXConfig } from "./config";
import { countParameters } from "./presets";

/** The family tokenizer's vocabulary: 8,192 ids (byte-level BPE; `<|endoftext|>` = 0, `<|padding|>` = 1). */
export const FAMILY_VOCAB_SIZE = 8192; // 2× the first embedded model's: the corpus has code and 25 times more tokens; a multiple of 128 for fast matmuls

/** Training context of every member. */
export const FAMILY_CONTEXT = 512; // long enough for a course prompt with its answer (spam prompts ≈ 200–330 tokens); attention stays cheap

export interface FamilyMember {
  /** Short name: the folder name and the `--members` value of the device script. */
  name: string;
  config: GPTNeoXConfig;
  /** Why this size is in the family. */
  why: string;
  /** Pretraining: peak learning rate (AdamW, warm-up + cosine); smaller models tolerate larger rates. */
  lr: number;
  /** Sequences of `FAMILY_CONTEXT` tokens per optimizer step. */
  batch: number;
}

function member(
  name: string,
  hiddenSize: number,
  numHiddenLayers: number,
  numAttentionHeads: number,
  lr: number,
  batch: number,
  why: string,
): FamilyMember {
  const config: GPTNeoXConfig = {
    ...DEFAULT_GPTNEOX_CONFIG,
    vocabSize: FAMILY_VOCAB_SIZE,
    hiddenSize,
    numHiddenLayers,
    numAttentionHeads,
    intermediateSize: 4 * hiddenSize, // Pythia's MLP ratio
    maxPositionEmbeddings: FAMILY_CONTEXT,
  };
  return { name, config, why, lr, batch };
}

/**
 * The members, smallest first (parameter totals from `countParameters`):
 * tunebook-2m 1,908,576 · tunebook-9m 8,933,376 · tunebook-20m 20,487,936.
 */
export const FAMILY: readonly FamilyMember[] = Object.freeze([
  member(
    "tunebook-2m",
    96,
    3,
    3,
    3e-3,
    64,
    "the floor of the size curve: 32-dim heads as pythia-14m, mostly embeddings (1.6M of 1.9M), 20 tokens/parameter in well under a pass",
  ),
  member(
    "tunebook-9m",
    256,
    6,
    4,
    2e-3,
    64,
    "the new default: pythia-31m's body (6 × 256) on an 8k vocabulary; 10 tokens/parameter in 3.6 passes; F16 17.9 MB fits the 25 MB default budget",
  ),
  member(
    "tunebook-20m",
    384,
    8,
    6,
    1e-3,
    128,
    "the top of the curve, 10.7× the smallest: the one larger member that may ship (F16 41 MB, sharded); data-limited at ≈ 5 tokens/parameter in 4 passes",
  ),
]);

/** Names accepted by `getFamilyMember`. */
export const FAMILY_NAMES: readonly string[] = FAMILY.map((m) => m.name);

/**
 * A family member by name, with a fresh config.
 * @example
 * countParameters(getFamilyMember("tunebook-9m").config).total; // 8933376
 */
export function getFamilyMember(name: string): FamilyMember {
  const m = FAMILY.find((x) => x.name === name);
  if (!m) throw new Error(`unknown family member ${JSON.stringify(name)}; known: ${FAMILY_NAMES.join(", ")}`);
  return { ...m, config: { ...m.config } };
}

/** Parameters of each member, from its config (the same count the Pythia presets use). */
export function familyParameterCounts(): Record<string, number> {
  return Object.fromEntries(FAMILY.map((m) => [m.name, countParameters(m.config).total]));
}
