/**
 * Weights in and out of GPT-NeoX: HF tensor names ↔ variables, a strict check of names and shapes (one error
 * listing every problem), legacy buffers ignored, and saving as a folder transformers can load (`config.json` +
 * `model.safetensors`, written atomically). The model class builds itself from what this file reads
 * (`GPTNeoXForCausalLM.fromPretrained`); load.ts offers the same as functions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { ConfigError, configFromHF, configToHF, type GPTNeoXConfig } from "./config";
import { parameterShapes } from "./parameters";
import { FLOAT_DTYPES } from "./dtype";
import {
  checkpointParts,
  readFloat32Into,
  type SafeTensor,
  SAFETENSORS_FILE,
  writeSafetensorsFile,
  type SafeTensorInfo,
  type SafetensorsDType,
} from "./safetensors";
import { fillableTensor, readSync } from "../kernels";
import { writeFileAtomic } from "../runtime/atomic";
import { FileAccessError, readRegularFileSync } from "../runtime/files";

/** Buffers older transformers saved next to the weights; they are recomputed, so loading skips them. */
export const LEGACY_BUFFER_SUFFIXES = [".attention.bias", ".attention.masked_bias", ".attention.rotary_emb.inv_freq"];

/** A checkpoint whose tensors do not fit the config; `problems` has one line per tensor. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
  constructor(
    message: string,
    readonly source: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}

function isLegacy(name: string): boolean {
  return LEGACY_BUFFER_SUFFIXES.some((s) => name.endsWith(s));
}

/**
 * The expected parameter shapes, after checking names, shapes and dtypes of `tensors` (data or header entries);
 * every problem goes into one CheckpointError naming `source`.
 */
function checkTensors<T extends { dtype: SafetensorsDType; shape: number[] }>(
  config: GPTNeoXConfig,
  tensors: Map<string, T>,
  source: string,
  isFloatData: (t: T) => boolean = () => true,
): Map<string, number[]> {
  const expected = parameterShapes(config);
  const problems: string[] = [];
  const fmt = (s: number[]) => `[${s.join(", ")}]`;
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) problems.push(`${name}: missing (expected ${fmt(shape)})`);
    else if (t.shape.join(",") !== shape.join(","))
      problems.push(`${name}: expected ${fmt(shape)}, found ${fmt(t.shape)}`);
    else if (!FLOAT_DTYPES.has(t.dtype) || !isFloatData(t))
      problems.push(`${name}: dtype ${t.dtype}, expected a float tensor (F32, F16, BF16 or F64)`);
  }
  for (const [name, t] of tensors) {
    if (expected.has(name) || isLegacy(name)) continue;
    if (name === "embed_out.weight" && config.tieWordEmbeddings) continue; // tied: the input embedding is used
    problems.push(`${name}: unexpected (found ${fmt(t.shape)})`);
  }
  if (problems.length) {
    const n = problems.length;
    throw new CheckpointError(
      `${source}: ${n} tensor${n > 1 ? "s do" : " does"} not match the GPT-NeoX config:\n  ${problems.join("\n  ")}`,
      source,
      problems,
    );
  }
  return expected;
}

/**
 * Read the weights of a checkpoint (`checkpointParts`) into variables keyed by HF name: headers first (so a
 * mismatch is reported before any data is read), then each tensor streamed from the file into its final buffer.
 * Fresh memory is the largest cost of a load on some machines (each new page faults once), so only the final
 * buffers and one read chunk are touched, not float32 copies of the file.
 */
async function paramsFromCheckpoint(config: GPTNeoXConfig, dirOrFile: string): Promise<Map<string, tf.Variable>> {
  const parts = await checkpointParts(dirOrFile);
  const infos = new Map<string, SafeTensorInfo>();
  for (const part of parts) for (const name of part.names) infos.set(name, part.header.tensors.get(name)!);
  const expected = checkTensors(config, infos, dirOrFile);
  const pending = new Map<string, ReturnType<typeof fillableTensor>>();
  const params = new Map<string, tf.Variable>();
  try {
    for (const part of parts) {
      await readFloat32Into(part.file, part.header, (name) => {
        const shape = expected.get(name);
        if (!shape || !part.names.has(name)) return null; // legacy buffers, a tied embed_out, another shard's share
        const t = fillableTensor(shape);
        pending.set(name, t);
        return t.view;
      });
    }
    for (const name of expected.keys()) {
      const t = pending.get(name)!.finish();
      pending.delete(name);
      params.set(name, tf.variable(t, true)); // shares t's buffer
      t.dispose();
    }
  } catch (e) {
    for (const p of pending.values()) p.dispose();
    for (const v of params.values()) v.dispose();
    throw e;
  }
  return params;
}

/**
 * Variables keyed by HF name from HF-named tensors (e.g. from `loadCheckpointTensors`). Every expected tensor must be present
 * with its shape and a float dtype (F16/BF16/F64 are held as float32); any missing, unexpected or mis-shaped
 * tensor is reported, all together, in one CheckpointError naming `source`.
 *
 * @example
 * const params = paramsFromTensors(cfg, (await readSafetensorsFile("A/model.safetensors")).tensors, "A/model.safetensors");
 */
export function paramsFromTensors(
  config: GPTNeoXConfig,
  tensors: Map<string, SafeTensor>,
  source = "checkpoint",
): Map<string, tf.Variable> {
  const expected = checkTensors(config, tensors, source, (t) => t.data instanceof Float32Array);
  const params = new Map<string, tf.Variable>();
  try {
    for (const [name, shape] of expected) {
      const t = tensors.get(name)!;
      params.set(
        name,
        tf.tidy(() => tf.variable(tf.tensor(t.data as Float32Array, shape, "float32"), true)),
      );
    }
  } catch (e) {
    for (const v of params.values()) v.dispose();
    throw e;
  }
  return params;
}

/**
 * Read and map a `config.json`; errors name the file.
 *
 * @example
 * const cfg = readConfigFile("pythia-70m/config.json");
 */
export function readConfigFile(file: string): GPTNeoXConfig {
  let text: string;
  try {
    text = readRegularFileSync(file, "the model config").toString("utf8");
  } catch (e: any) {
    if (e instanceof FileAccessError && e.kind === "missing")
      throw new ConfigError(`${file}: cannot read the model config (no such file)`);
    throw new ConfigError(e?.message ?? String(e));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: any) {
    throw new ConfigError(`${file}: not valid JSON (${e?.message ?? e})`);
  }
  return configFromHF(json, file);
}

/**
 * The config and the weights (variables keyed by HF name) of a local folder (`config.json` + `model.safetensors`,
 * or a sharded `model.safetensors.index.json`) or of a `.safetensors` file next to its `config.json`.
 *
 * @example
 * const { config, params } = await readPretrained("/path/to/pythia-70m");
 */
export async function readPretrained(
  dirOrFile: string,
): Promise<{ config: GPTNeoXConfig; params: Map<string, tf.Variable> }> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(dirOrFile);
  } catch {
    throw new Error(`${dirOrFile}: no such model folder or file`);
  }
  const dir = st.isDirectory() ? dirOrFile : path.dirname(dirOrFile);
  const config = readConfigFile(path.join(dir, "config.json"));
  return { config, params: await paramsFromCheckpoint(config, dirOrFile) };
}

/** What saving reads from a model: its config and its variables keyed by HF name. */
export interface ModelWeights {
  readonly config: GPTNeoXConfig;
  parameters(): Map<string, tf.Variable>;
}

/** Where a set of weights first holds NaN or ±Infinity. */
export interface NonFiniteWeight {
  name: string;
  /** Flat index of the first bad value, and the value. */
  index: number;
  value: number;
}

/**
 * The first tensor, in the order given, with a NaN or ±Infinity value (or undefined when every value is finite).
 * One tensor is read at a time, so the check needs no more memory than the largest tensor.
 *
 * @example
 * const bad = findNonFinite(model.parameters());
 * if (bad) throw new Error(`${dir}: ${bad.name} holds ${bad.value} at index ${bad.index}`);
 */
export function findNonFinite(tensors: Iterable<[string, tf.Tensor]>): NonFiniteWeight | undefined {
  for (const [name, t] of tensors) {
    const data = readSync(t, "findNonFinite", "a check on `await t.data()`") as Float32Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v - v !== 0) return { name, index: i, value: v }; // NaN - NaN and Inf - Inf are NaN
    }
  }
  return undefined;
}

/**
 * The model's weights as F32 safetensors entries keyed by HF name (copies; tied `embed_out` not repeated).
 *
 * @example
 * await writeSafetensorsFile("out/model.safetensors", modelStateDict(model));
 */
export function modelStateDict(model: ModelWeights): Map<string, SafeTensor> {
  const out = new Map<string, SafeTensor>();
  for (const [name, v] of model.parameters()) {
    const data = readSync(v, "modelStateDict", "await modelStateDictAsync(model)") as Float32Array;
    out.set(name, { dtype: "F32", shape: [...v.shape], data: Float32Array.from(data) });
  }
  return out;
}

/**
 * `modelStateDict` with awaited reads (every backend, webgpu in Node included); what `saveModel` uses.
 *
 * @example
 * await writeSafetensorsFile("out/model.safetensors", await modelStateDictAsync(model));
 */
export async function modelStateDictAsync(model: ModelWeights): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const [name, v] of model.parameters()) {
    out.set(name, { dtype: "F32", shape: [...v.shape], data: Float32Array.from((await v.data()) as Float32Array) });
  }
  return out;
}

/** Options of `saveModel`. */
export interface SaveOptions {
  /** On-disk float type of the weights (default F32; F16 halves the size, as the Hub's Pythia files). */
  dtype?: "F32" | "F16" | "BF16";
}

/**
 * The rotary `inv_freq` buffer of one attention block, `1 / base^(arange(0, rotaryNdims, 2) / rotaryNdims)`,
 * as transformers computes it (f32 arithmetic, `rotaryNdims = int(headDim · rotaryPct)`).
 *
 * @example
 * rotaryInvFreq(getPreset("pythia-70m")); // Float32Array(8) [1, 0.3162…, 0.1, …]
 */
export function rotaryInvFreq(config: GPTNeoXConfig): Float32Array {
  const headDim = config.hiddenSize / config.numAttentionHeads;
  const ndims = Math.floor(headDim * config.rotaryPct);
  const out = new Float32Array(Math.ceil(ndims / 2));
  // torch: arange(0, dim, 2).float() / dim, then base ** that (f32), then 1.0 / it (f32).
  for (let i = 0; i < out.length; i++) {
    const exponent = Math.fround(Math.fround(2 * i) / ndims);
    out[i] = Math.fround(1 / Math.fround(config.rotaryEmbBase ** exponent));
  }
  return out;
}

/**
 * What `saveModel` writes: the weights in `dtype`, plus `gpt_neox.layers.N.attention.rotary_emb.inv_freq` in F32.
 * transformers 4.31 registers inv_freq as a persistent buffer, so a checkpoint without it loads with the warning
 * that the model is "newly initialized … TRAIN this model"; 4.32–4.47 keep a per-layer non-persistent buffer
 * (and drop checkpoint keys matching a buffer), and ≥ 4.48 moved rotary to the model and drops every
 * `rotary_emb.inv_freq` key of an old checkpoint without a word. So writing it is silent everywhere, and
 * omitting it is not. F32 even in an F16 file: the value is used as stored, and F16 would move the angles.
 */
export function savedTensors(model: ModelWeights, dtype: "F32" | "F16" | "BF16" = "F32"): Map<string, SafeTensor> {
  return withInvFreq(model, modelStateDict(model), dtype);
}

/** `savedTensors` with awaited reads (every backend); what `saveModel` writes. */
async function savedTensorsAsync(model: ModelWeights, dtype: "F32" | "F16" | "BF16"): Promise<Map<string, SafeTensor>> {
  return withInvFreq(model, await modelStateDictAsync(model), dtype);
}

function withInvFreq(
  model: ModelWeights,
  out: Map<string, SafeTensor>,
  dtype: "F32" | "F16" | "BF16",
): Map<string, SafeTensor> {
  for (const t of out.values()) t.dtype = dtype;
  const invFreq = rotaryInvFreq(model.config);
  for (let i = 0; i < model.config.numHiddenLayers; i++) {
    out.set(`gpt_neox.layers.${i}.attention.rotary_emb.inv_freq`, {
      dtype: "F32",
      shape: [invFreq.length],
      data: invFreq.slice(),
    });
  }
  return out;
}

/**
 * Save as a folder transformers and `loadPretrained` read: `config.json` and `model.safetensors` (each written
 * to a temp file and renamed into place). The file carries the rotary `inv_freq` buffers the way transformers
 * 4.31 saves them (see `savedTensors`), so every transformers release loads it without a warning.
 *
 * @example
 * await saveModel(model, "out/my-model", { dtype: "F16" });
 */
export async function saveModel(model: ModelWeights, dir: string, opts: SaveOptions = {}): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const dtype = opts.dtype ?? "F32";
  await writeSafetensorsFile(path.join(dir, SAFETENSORS_FILE), await savedTensorsAsync(model, dtype), {
    format: "pt",
  });
  const torchDtype = { F32: "float32", F16: "float16", BF16: "bfloat16" }[dtype];
  writeFileAtomic(
    path.join(dir, "config.json"),
    JSON.stringify({ ...configToHF(model.config), torch_dtype: torchDtype }, null, 2) + "\n",
  );
}
