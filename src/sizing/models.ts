/**
 * Where sizing gets a model's shape from: a `ModelShape`, a GPT-NeoX config, a Pythia preset name, a
 * named reference model (GPT-3 175B, Llama-2 7B/13B/70B, Mistral-7B — shapes from their papers and
 * config.json files), a bare parameter count ("7b"), or (async) a config.json file, a folder holding
 * one, "default" (the embedded model) or a Hugging Face repo id (only config.json is fetched).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { GPTNeoXConfig } from "../model/config";
import { findPreset, PRESET_NAMES } from "../model/presets";
import { makeShape, type ModelShape, shapeFromGPTNeoX, shapeFromHFConfig, shapeFromParams } from "./shape";
import { SizingError } from "./units";

const llama =
  (
    name: string,
    hidden: number,
    layers: number,
    heads: number,
    kvHeads: number,
    intermediate: number,
    vocab: number,
    maxContext: number,
  ) =>
  () =>
    makeShape({
      name,
      style: "llama",
      hidden,
      layers,
      heads,
      kvHeads,
      intermediate,
      vocab,
      maxContext,
      tiedEmbeddings: false,
    });

/**
 * Reference models by lowercase name. GPT-3 175B: Brown et al. 2020, Table 2.1 (96 layers, d 12288,
 * 96 heads, context 2048, vocab 50257, tied embeddings). Llama-2: the meta-llama config.json files
 * (70B uses 8 key/value heads). Mistral-7B: mistralai/Mistral-7B-v0.1 config.json.
 */
export const REFERENCE_MODELS: Readonly<Record<string, () => ModelShape>> = Object.freeze({
  "gpt3-175b": () =>
    makeShape({
      name: "GPT-3 175B",
      style: "gpt",
      layers: 96,
      hidden: 12288,
      heads: 96,
      vocab: 50257,
      maxContext: 2048,
      tiedEmbeddings: true,
    }),
  "llama-2-7b": llama("Llama-2-7B", 4096, 32, 32, 32, 11008, 32000, 4096),
  "llama-2-13b": llama("Llama-2-13B", 5120, 40, 40, 40, 13824, 32000, 4096),
  "llama-2-70b": llama("Llama-2-70B", 8192, 80, 64, 8, 28672, 32000, 4096),
  "mistral-7b": llama("Mistral-7B", 4096, 32, 32, 8, 14336, 32000, 32768),
});

/** Every name `modelShape` accepts besides a parameter count. */
export function knownModelNames(): string[] {
  return [...PRESET_NAMES, ...Object.keys(REFERENCE_MODELS)];
}

function isShape(x: unknown): x is ModelShape {
  return typeof x === "object" && x !== null && "linears" in x && "params" in x && "kvHeads" in x;
}

function isNeoXConfig(x: unknown): x is GPTNeoXConfig {
  return typeof x === "object" && x !== null && "hiddenSize" in x && "numHiddenLayers" in x;
}

/**
 * A shape from anything synchronous: a shape (returned as is), a GPT-NeoX config, a preset or reference
 * name, or a parameter count (number or "7b"-style string, shape assumed).
 *
 * @example
 * modelShape("pythia-1b").params;   // 1011781632
 * modelShape("llama-2-70b").kvHeads; // 8
 * modelShape("13b").family;          // "assumed"
 */
export function modelShape(x: ModelShape | GPTNeoXConfig | number | string): ModelShape {
  if (isShape(x)) return x;
  if (isNeoXConfig(x)) return shapeFromGPTNeoX(x);
  if (typeof x === "number") return shapeFromParams(x);
  if (typeof x !== "string")
    throw new SizingError(
      `model must be a preset name, a parameter count, a config or a ModelShape; got ${x === null ? "null" : typeof x}`,
    );
  const key = x.trim().toLowerCase();
  const ref = REFERENCE_MODELS[key];
  if (ref) return ref();
  const preset = findPreset(key);
  if (preset) return shapeFromGPTNeoX(preset, key.replace(/^eleutherai\//, ""));
  if (/^\s*[0-9.]/.test(key)) return shapeFromParams(x);
  throw new SizingError(
    `unknown model ${JSON.stringify(x)}; use a parameter count (e.g. 7b), a config.json path, or one of: ${knownModelNames().join(", ")}`,
  );
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e: any) {
    throw new SizingError(`${file}: ${e?.code === "ENOENT" ? "no such file" : `cannot read (${e?.message ?? e})`}`);
  }
  try {
    return JSON.parse(text);
  } catch (e: any) {
    throw new SizingError(`${file}: not valid JSON (${e?.message ?? e})`);
  }
}

/**
 * A shape from anything `modelShape` takes, or a config.json file, a folder with one, "default" (the
 * embedded model) or a Hugging Face repo id (`org/name`; only config.json is downloaded, offline from
 * the cache when HF_HUB_OFFLINE is set).
 *
 * @example
 * const shape = await loadModelShape("models/my-llama/config.json");
 */
export async function loadModelShape(
  x: string,
  opts: { revision?: string; offline?: boolean } = {},
): Promise<ModelShape> {
  const s = String(x ?? "").trim();
  if (!s)
    throw new SizingError("model is empty; give a preset name, a parameter count, a config.json path or a repo id");
  let file: string | undefined;
  if (s === "default") file = path.resolve(__dirname, "..", "..", "data", "default-model", "config.json");
  else if (fs.existsSync(s)) file = fs.statSync(s).isDirectory() ? path.join(s, "config.json") : s;
  if (file) return shapeFromHFConfig(readJson(file), file);
  const lower = s.toLowerCase();
  if (REFERENCE_MODELS[lower] || findPreset(lower) || /^[0-9.]/.test(lower)) return modelShape(s);
  if (/^[\w.-]+\/[\w.-]+$/.test(s) && !s.startsWith(".") && !s.startsWith("/")) {
    const { resolveRepoFiles } = await import("../hub");
    const r = await resolveRepoFiles(s, ["config.json"], { revision: opts.revision, offline: opts.offline });
    const shape = shapeFromHFConfig(readJson(r.files["config.json"]), `${s}/config.json`);
    shape.name = s;
    return shape;
  }
  return modelShape(s); // throws the "unknown model" error with the known names
}
