/**
 * `resolveModelDir`: everything a causal LM needs from a repo or folder — config.json, tokenizer.json (+ the
 * optional tokenizer_config.json and special_tokens_map.json) and the weights, either one `model.safetensors`
 * or `model.safetensors.index.json` and the shards its `weight_map` names — all from one commit.
 *
 * tunebook reads only safetensors. A revision with only PyTorch pickles (`pytorch_model.bin`, as some older
 * checkpoints have) is named as such, with the one-line conversion, instead of failing later in the loader.
 */
import * as fs from "node:fs";
import { checkRepoFilename } from "./cache";
import { hubEndpoint, hubToken, isOffline } from "./env";
import { HubError } from "./errors";
import { fetchFileMetadata, HubUnreachable } from "./http";
import { parseModelSource, type ResolvedFiles, resolveRepoFiles, type ResolveOptions } from "./resolve";

export const MODEL_REQUIRED_FILES = ["config.json", "tokenizer.json"];
export const MODEL_OPTIONAL_FILES = ["tokenizer_config.json", "special_tokens_map.json"];
export const SAFETENSORS_FILE = "model.safetensors";
export const SAFETENSORS_INDEX_FILE = "model.safetensors.index.json";
const PICKLE_FILES = ["pytorch_model.bin", "pytorch_model.bin.index.json"];

export type ResolveModelOptions = Omit<ResolveOptions, "optional">;

/** The shard file names of a `model.safetensors.index.json`, checked; errors name the file and the field. */
export function readShardNames(indexPath: string): string[] {
  let index: any;
  try {
    index = JSON.parse(fs.readFileSync(indexPath, "utf8"));
  } catch (e: any) {
    throw new HubError("http", `${indexPath} is not valid JSON: ${e?.message ?? e}`);
  }
  const map = index?.weight_map;
  if (!map || typeof map !== "object" || Array.isArray(map) || Object.keys(map).length === 0) {
    throw new HubError(
      "http",
      `${indexPath}: expected "weight_map" to be a non-empty object of tensor name -> shard file`,
    );
  }
  const shards = new Set<string>();
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== "string")
      throw new HubError(
        "http",
        `${indexPath}: weight_map["${name}"] should be a file name, got ${JSON.stringify(file)}`,
      );
    checkRepoFilename(file, `shard name in ${indexPath}`);
    shards.add(file);
  }
  return [...shards].sort();
}

async function hasPickleWeights(idOrPath: string, r: ResolvedFiles, opts: ResolveModelOptions): Promise<boolean> {
  const src = parseModelSource(idOrPath);
  if (src.kind === "local") return PICKLE_FILES.some((f) => fs.existsSync(`${src.dir}/${f}`));
  if (!r.commit) return false;
  for (const f of PICKLE_FILES) {
    try {
      const m = await fetchFileMetadata(hubEndpoint(opts.endpoint), src.repoId, r.commit, f, hubToken(opts.token));
      if (m.kind === "found") return true;
    } catch (e) {
      if (e instanceof HubUnreachable) return false;
      throw e;
    }
  }
  return false;
}

function noSafetensors(idOrPath: string, revision: string, pickle: boolean): HubError {
  const src = parseModelSource(idOrPath);
  const what = src.kind === "local" ? `local folder ${src.dir}` : `${src.repoId} at revision ${revision}`;
  if (!pickle) {
    return new HubError(
      "no-safetensors",
      `${what} has no ${SAFETENSORS_FILE} nor ${SAFETENSORS_INDEX_FILE}: tunebook reads safetensors weights only`,
    );
  }
  const from = src.kind === "local" ? `'${src.dir}'` : `'${src.repoId}', revision='${revision}'`;
  const out = src.kind === "local" ? `${src.dir}-safetensors` : `${src.repoId.split("/")[1]}-${revision}`;
  return new HubError(
    "no-safetensors",
    `${what} has only pytorch_model.bin (a PyTorch pickle); tunebook reads safetensors. Convert it once with Python:\n` +
      `  python -c "from transformers import AutoModelForCausalLM as M, AutoTokenizer as T; ` +
      `M.from_pretrained(${from}).save_pretrained('${out}', safe_serialization=True); T.from_pretrained(${from}).save_pretrained('${out}')"\n` +
      `then pass the folder ${out} instead` +
      (src.kind === "repo"
        ? `, or pick a revision that has ${SAFETENSORS_FILE} (the repo's main branch usually does).`
        : "."),
  );
}

/**
 * Fetch (or find) a model's config, tokenizer and safetensors weights; returns the folder holding them: the
 * local folder, or the cache snapshot `.../models--org--name/snapshots/{commit}`.
 *
 * @example
 * const dir = await resolveModelDir("EleutherAI/pythia-70m", { onProgress: textProgress() });
 * const model = await GPTNeoXForCausalLM.fromPretrained(dir);
 */
export async function resolveModelDir(idOrPath: string, opts: ResolveModelOptions = {}): Promise<string> {
  const revision = opts.revision || "main";
  let base: ResolvedFiles;
  try {
    base = await resolveRepoFiles(idOrPath, MODEL_REQUIRED_FILES, {
      ...opts,
      optional: [...MODEL_OPTIONAL_FILES, SAFETENSORS_FILE],
    });
  } catch (e) {
    if (e instanceof HubError && e.code === "offline-missing") {
      throw new HubError(
        e.code,
        `${e.message}\nThe weights are needed too: ${SAFETENSORS_FILE} (or ${SAFETENSORS_INDEX_FILE} and its shards), so add ${SAFETENSORS_FILE} to that download.`,
      );
    }
    throw e;
  }
  if (base.files[SAFETENSORS_FILE]) return base.dir;

  // Same folder / same commit from here on, so every file comes from one snapshot.
  const pinned: ResolveOptions = { ...opts, revision: base.commit ?? revision };
  const indexed = await resolveRepoFiles(idOrPath, [], { ...pinned, optional: [SAFETENSORS_INDEX_FILE] });
  const indexPath = indexed.files[SAFETENSORS_INDEX_FILE];
  if (indexPath) {
    const shards = readShardNames(indexPath);
    await resolveRepoFiles(idOrPath, shards, pinned);
    return base.dir;
  }
  if (base.source !== "local" && (base.offline || indexed.offline || (opts.offline ?? isOffline()))) {
    const src = parseModelSource(idOrPath);
    const name = src.kind === "repo" ? src.repoId : idOrPath;
    throw new HubError(
      "offline-missing",
      `cannot load ${name} (revision ${revision}) without the network: ${base.offline ?? indexed.offline ?? "offline"}.\n` +
        `Missing from the cache: the weights (${SAFETENSORS_FILE}, or ${SAFETENSORS_INDEX_FILE} and its shards)\n` +
        `Looked in: ${base.dir}\n` +
        `To get them: run once with network access, or\n` +
        `  huggingface-cli download ${name} ${SAFETENSORS_FILE}${revision === "main" ? "" : ` --revision ${revision}`}, or\n` +
        `  pass a local folder that holds config.json, tokenizer.json and ${SAFETENSORS_FILE}.`,
    );
  }
  throw noSafetensors(idOrPath, revision, await hasPickleWeights(idOrPath, base, opts));
}
