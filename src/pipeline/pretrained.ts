/**
 * One way to get a model and its tokenizer, whatever the source: the embedded default model shipped in
 * `data/default-model/` ("default"), a local folder, or a Hugging Face repo id (downloaded into the HF cache,
 * or read from it offline). `courseModelId()` is the notebooks' one switch: `EleutherAI/pythia-70m` when
 * the hub is reachable, the embedded default otherwise.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveModelDir, resolveRepoFiles, isHubReachable, isOffline, parseModelSource } from "../hub";
import { checkRevision } from "../hub/cache";
import type { ProgressCallback } from "../hub";
import { loadTokenizer, TOKENIZER_FILE, TOKENIZER_FILES } from "../tokenizer";
import type { Tokenizer } from "../tokenizer";
import { type GPTNeoXConfig, configFromHF } from "../model/config";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { findPreset } from "../model/presets";
import { loadPretrained } from "../model/load";
import { assertRegularFile, describeFileKind, FileAccessError, readRegularFileSync } from "../runtime/files";

/** Any tokenizer file the model folder holds must be a regular file (a FIFO would block the read). */
function checkTokenizerFiles(dir: string): void {
  for (const f of TOKENIZER_FILES) {
    const p = path.join(dir, f);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue; // absent: the tokenizer loader decides whether it needs it
    }
    if (!st.isFile()) assertRegularFile(p, `the tokenizer file ${f}`);
  }
}

/**
 * The name that selects the embedded default model (shipped in `data/default-model/`, works offline).
 *
 * @example
 * const { model, tokenizer } = await loadModel(DEFAULT_MODEL);
 */
export const DEFAULT_MODEL = "default";
/**
 * The course's real model, used when the hub is reachable.
 *
 * @example
 * const id = courseModelId();   // PYTHIA_70M when the hub answers, DEFAULT_MODEL offline
 */
export const PYTHIA_70M = "EleutherAI/pythia-70m";

/** `data/default-model/` inside the installed package (works from src/ under tsx and from dist/). */
export function defaultModelDir(): string {
  return path.resolve(__dirname, "..", "..", "data", "default-model");
}

export interface LoadModelOptions {
  /** Hub revision (branch, tag or commit), e.g. Pythia's `step3000`. */
  revision?: string;
  /** Download progress (e.g. `textProgress()` in a terminal, `progress()` in a notebook). */
  onProgress?: ProgressCallback;
  /** Never touch the network. Default: `HF_HUB_OFFLINE`. */
  offline?: boolean;
}

/** Local folder holding config.json, tokenizer.json and the weights for a model name, path or repo id. */
export async function resolveModel(idOrPath: string, opts: LoadModelOptions = {}): Promise<string> {
  if (idOrPath === DEFAULT_MODEL) {
    const dir = defaultModelDir();
    if (!fs.existsSync(path.join(dir, "config.json"))) {
      throw new Error(
        `the embedded default model is missing from ${dir}; rebuild it with \`npm run build:default-model\``,
      );
    }
    return dir;
  }
  const st = fs.statSync(idOrPath, { throwIfNoEntry: false });
  if (st && !st.isDirectory() && !st.isFile())
    throw new Error(`${idOrPath}: is a ${describeFileKind(st)}, expected a model folder`);
  if (st?.isDirectory()) {
    // a local folder is used as it is; the loaders name whatever is missing (tokenizer.json is optional here)
    if (!fs.existsSync(path.join(idOrPath, "config.json")))
      throw new Error(`local folder ${idOrPath} has no config.json`);
    return idOrPath;
  }
  return resolveModelDir(idOrPath, { revision: opts.revision, onProgress: opts.onProgress, offline: opts.offline });
}

export interface LoadedModel {
  model: GPTNeoXForCausalLM;
  tokenizer: Tokenizer;
  /** Where the files were read from. */
  dir: string;
  /** What was asked for ("default", a path or a repo id). */
  name: string;
}

/**
 * Load a model and its tokenizer.
 *
 * @example
 * const { model, tokenizer } = await loadModel("EleutherAI/pythia-70m");   // hub (cached after the first time)
 * const local = await loadModel("default");                                 // the embedded default, offline
 */
export async function loadModel(idOrPath: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const dir = await resolveModel(idOrPath, opts);
  checkTokenizerFiles(dir);
  const tokenizer = await loadTokenizer(dir);
  const model = await loadPretrained(dir);
  return { model, tokenizer, dir, name: idOrPath };
}

/**
 * Like `loadModel`, but the tokenizer is optional: a local folder with weights and config.json but no
 * tokenizer.json (e.g. a bare checkpoint) loads with `tokenizer` undefined. For id-based CLI use.
 */
export async function loadModelMaybeTokenizer(
  idOrPath: string,
  opts: LoadModelOptions = {},
): Promise<Omit<LoadedModel, "tokenizer"> & { tokenizer?: Tokenizer }> {
  const dir = await resolveModel(idOrPath, opts);
  checkTokenizerFiles(dir);
  const tokenizer = fs.existsSync(path.join(dir, TOKENIZER_FILE)) ? await loadTokenizer(dir) : undefined;
  const model = await loadPretrained(dir);
  return { model, tokenizer, dir, name: idOrPath };
}

/**
 * Load only a tokenizer: a tokenizer.json file, a folder, "default", or a repo id.
 *
 * @example
 * const tok = await loadTokenizerFrom("default");   // or "EleutherAI/pythia-70m" (downloaded once, then cached)
 * tok.encode("Hello world");                         // token ids
 */
export async function loadTokenizerFrom(idOrPath: string, opts: LoadModelOptions = {}): Promise<Tokenizer> {
  if (idOrPath === DEFAULT_MODEL) return loadTokenizer(defaultModelDir());
  if (fs.existsSync(idOrPath)) {
    if (fs.statSync(idOrPath).isDirectory()) checkTokenizerFiles(idOrPath);
    else assertRegularFile(idOrPath, "the tokenizer file");
    return loadTokenizer(idOrPath);
  }
  const src = parseModelSource(idOrPath);
  if (src.kind === "local") return loadTokenizer(src.dir);
  const r = await resolveRepoFiles(idOrPath, [TOKENIZER_FILE], {
    revision: opts.revision,
    optional: TOKENIZER_FILES.slice(1),
    onProgress: opts.onProgress,
    offline: opts.offline,
  });
  return loadTokenizer(r.dir);
}

/**
 * A model's config without its weights: a Pythia preset name (`pythia-70m`, `EleutherAI/pythia-70m`),
 * "default", a config.json file, a folder, or another repo id (only config.json is fetched).
 */
export async function loadConfig(idOrPath: string, opts: LoadModelOptions = {}): Promise<GPTNeoXConfig> {
  // checked even when a preset answers without the hub, so a bad --revision is never silently ignored
  if (opts.revision !== undefined) checkRevision(opts.revision, "--revision");
  const preset = fs.existsSync(idOrPath) ? undefined : findPreset(idOrPath);
  if (preset) return preset;
  let file: string;
  if (idOrPath === DEFAULT_MODEL) file = path.join(defaultModelDir(), "config.json");
  else if (fs.existsSync(idOrPath))
    file = fs.statSync(idOrPath).isDirectory() ? path.join(idOrPath, "config.json") : idOrPath;
  else {
    const src = parseModelSource(idOrPath);
    if (src.kind === "local") file = path.join(src.dir, "config.json");
    else
      file = (await resolveRepoFiles(idOrPath, ["config.json"], { revision: opts.revision, offline: opts.offline }))
        .files["config.json"];
  }
  let json: unknown;
  try {
    json = JSON.parse(readRegularFileSync(file, "the model config").toString("utf8"));
  } catch (e: any) {
    if (e instanceof FileAccessError) throw new Error(e.kind === "missing" ? `${file}: no such file` : e.message);
    throw new Error(`${file}: not valid JSON (${e.message})`);
  }
  return configFromHF(json, file);
}

/**
 * The notebooks' switch: the real `EleutherAI/pythia-70m` when the hub is reachable (or already cached),
 * else the embedded default. Returns the id and a sentence saying why.
 *
 * @example
 * const { id, reason } = await courseModelId();   // e.g. { id: "default", reason: "offline (HF_HUB_OFFLINE=1): ..." }
 */
export async function courseModelId(prefer: string = PYTHIA_70M): Promise<{ id: string; reason: string }> {
  if (prefer === DEFAULT_MODEL) return { id: DEFAULT_MODEL, reason: "the embedded default model was asked for" };
  if (isOffline()) {
    try {
      await resolveModelDir(prefer, { offline: true });
      return { id: prefer, reason: `offline, but ${prefer} is in the Hugging Face cache` };
    } catch {
      return {
        id: DEFAULT_MODEL,
        reason: `offline (HF_HUB_OFFLINE is set) and ${prefer} is not cached: using the embedded default model`,
      };
    }
  }
  if (await isHubReachable({ timeoutMs: 3000 })) return { id: prefer, reason: `the hub is reachable: using ${prefer}` };
  try {
    await resolveModelDir(prefer, { offline: true });
    return { id: prefer, reason: `the hub is unreachable, but ${prefer} is in the Hugging Face cache` };
  } catch {
    return {
      id: DEFAULT_MODEL,
      reason: `the hub is unreachable and ${prefer} is not cached: using the embedded default model`,
    };
  }
}
