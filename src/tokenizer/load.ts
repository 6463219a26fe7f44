/**
 * Loading a tokenizer from disk: a `tokenizer.json` file, or a folder (a hub snapshot, the embedded default
 * model in `data/`) holding `tokenizer.json` and, when present, `tokenizer_config.json` and
 * `special_tokens_map.json` for the special tokens and padding side. Downloading is `src/hub/`'s job: it
 * hands this a local path.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type HFTokenizer, tokenizerFromJSON, type TokenizerConfig } from "./hf";
import { TokenizerError } from "./types";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
export const SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json";
/** Every file of a model folder's tokenizer, the required one first (the others are read when present). */
export const TOKENIZER_FILES = [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE] as const;

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, "utf8");
  } catch (e: any) {
    throw new TokenizerError(`${file}: cannot read ${what} (${e?.code ?? e?.message ?? e})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e: any) {
    throw new TokenizerError(`${file}: ${what} is not valid JSON (${e?.message ?? e})`, file);
  }
}

const exists = (p: string) =>
  fs.promises.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

/**
 * Load a tokenizer from a `tokenizer.json` file or a folder containing one. Special tokens come from
 * `tokenizer_config.json` (then `special_tokens_map.json`) next to it, else from the added tokens
 * (`<|endoftext|>` → eos and bos, `<|padding|>` → pad for Pythia).
 * @example
 * const tok = await loadTokenizer("data/default-model");
 * tok.decode(tok.encode("Once upon a time")); // "Once upon a time"
 */
export async function loadTokenizer(pathOrDir: string): Promise<HFTokenizer> {
  const st = await fs.promises.stat(pathOrDir).catch(() => null);
  if (!st) throw new TokenizerError(`${pathOrDir}: no such tokenizer file or folder`, pathOrDir);
  let file = pathOrDir;
  if (st.isDirectory()) {
    file = path.join(pathOrDir, TOKENIZER_FILE);
    if (!(await exists(file))) {
      const names = await fs.promises.readdir(pathOrDir);
      const slow =
        names.includes("vocab.json") || names.includes("merges.txt") || names.some((n) => n.endsWith(".model"));
      throw new TokenizerError(
        `${pathOrDir}: no ${TOKENIZER_FILE} in this folder` +
          (slow
            ? ` (it has ${names.filter((n) => /vocab\.json|merges\.txt|\.model$/.test(n)).join(", ")}; only the fast tokenizer.json format is supported)`
            : ""),
        pathOrDir,
      );
    }
  }
  const json = await readJson(file, "the tokenizer");
  const dir = path.dirname(file);
  let config: TokenizerConfig = {};
  for (const name of [SPECIAL_TOKENS_MAP_FILE, TOKENIZER_CONFIG_FILE]) {
    const p = path.join(dir, name);
    if (!(await exists(p))) continue;
    const c = await readJson(p, name);
    if (typeof c !== "object" || c === null || Array.isArray(c))
      throw new TokenizerError(`${p}: expected a JSON object`, p);
    config = { ...config, ...(c as TokenizerConfig) }; // tokenizer_config.json wins over special_tokens_map.json
  }
  return tokenizerFromJSON(json as object, config, file);
}
