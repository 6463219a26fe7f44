/**
 * Save a fine-tuned model as a folder that `loadModel(dir)` (and Hugging Face transformers) read back: the
 * weights and config (`saveModel`), the tokenizer files copied from the folder the base model came from, and
 * a `training.json` saying how it was made. Every file is written atomically (src/runtime/atomic.ts: a temp
 * file in the same folder, renamed into place), so an interrupted save never leaves a half-written file under
 * the final name. `tunebook train` saves its final folder with the same pieces.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { saveModel, type SaveOptions } from "../model/load";
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from "../lora/peft";
import { fsyncPath, replaceDir, tempSibling, writeFileAtomic } from "../runtime/atomic";
import { TOKENIZER_FILES } from "../tokenizer";

/** The tokenizer files copied when present (tokenizer.json is required by `saveFineTuned`). */
export { TOKENIZER_FILES };

/** Options of `saveFineTuned`. */
export interface SaveFineTunedOptions extends SaveOptions {
  /** Written as `training.json` (JSON-serialisable: base model, dataset, config, losses...). */
  training?: Record<string, unknown>;
}

/** One file of the saved folder. */
export interface SavedFile {
  file: string;
  bytes: number;
}

/**
 * Copy the tokenizer files that exist in `fromDir` into `toDir`, each written atomically; `onFile` hears each
 * target path before it is written (so a caller can name the file a failed write was on); `files` are the names
 * to look for. Returns the names copied. `toDir` must not be `fromDir`.
 * @example
 * copyTokenizerFiles(loaded.dir, "runs/my-run"); // ["tokenizer.json", "tokenizer_config.json", ...]
 */
export function copyTokenizerFiles(
  fromDir: string,
  toDir: string,
  onFile?: (file: string) => void,
  files: readonly string[] = TOKENIZER_FILES,
): string[] {
  const copied: string[] = [];
  for (const f of files) {
    const src = path.join(fromDir, f);
    if (!fs.existsSync(src)) continue;
    onFile?.(path.join(toDir, f));
    writeFileAtomic(path.join(toDir, f), fs.readFileSync(src));
    copied.push(f);
  }
  return copied;
}

/**
 * Save the model with the tokenizer of `tokenizerDir` (e.g. `loadModel(...).dir`) into `outDir`.
 * Returns the folder's files with their sizes.
 * @example
 * const { model, tokenizer, dir } = await loadModel("default");
 * // ... fine-tune ...
 * show(table(await saveFineTuned(model, dir, path.join(os.tmpdir(), "my-run"), { dtype: "F16" })));
 * const again = await loadModel(path.join(os.tmpdir(), "my-run"));
 */
export async function saveFineTuned(
  model: GPTNeoXForCausalLM,
  tokenizerDir: string,
  outDir: string,
  options: SaveFineTunedOptions = {},
): Promise<SavedFile[]> {
  const src = path.resolve(tokenizerDir);
  const out = path.resolve(outDir);
  if (!fs.existsSync(path.join(src, "tokenizer.json")))
    throw new Error(
      `saveFineTuned: ${src} has no tokenizer.json to copy (pass the folder the base model was loaded from, e.g. loadModel(...).dir)`,
    );
  if (src === out)
    throw new Error(
      `saveFineTuned: the output folder ${out} is the base model's folder; choose another one so the base model stays intact`,
    );
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory())
    throw new Error(`saveFineTuned: ${out} exists and is not a folder`);
  const { training, ...saveOpts } = options;
  let trainingJson: string | undefined;
  if (training !== undefined) {
    try {
      trainingJson = JSON.stringify(training, null, 1) + "\n";
    } catch (e: any) {
      throw new Error(`saveFineTuned: options.training is not JSON-serialisable (${e?.message ?? e})`);
    }
  }
  await saveModel(model, out, saveOpts);
  copyTokenizerFiles(src, out);
  if (trainingJson !== undefined) writeFileAtomic(path.join(out, "training.json"), trainingJson);
  return fs
    .readdirSync(out)
    .filter((f) => !f.startsWith("."))
    .sort()
    .map((file) => ({ file, bytes: fs.statSync(path.join(out, file)).size }));
}

/** A failed write of `saveTrained`: the file it was on, and the error itself. */
export class SaveWriteError extends Error {
  override name = "SaveWriteError";
  constructor(
    readonly file: string,
    readonly error: unknown,
  ) {
    super(`cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The first of `files` that a failed save had not finished in `dir` (the savers write them in this order). */
const unfinished = (dir: string, files: string[]) =>
  files.find((f) => !fs.existsSync(path.join(dir, f))) ?? files[files.length - 1];

/**
 * Save what a run trained into its folder `outDir`, built in a hidden sibling first: a full model's weights and
 * config are renamed into `outDir`; an adapter (PEFT layout, `attachLora(...).save`) replaces `outDir/adapter`
 * whole, so a crash never leaves new weights next to an old run's config. A failed write throws a
 * `SaveWriteError` naming the file. Returns the names written into `outDir`.
 * @example
 * await saveTrained(model, "runs/spam", { dtype: "F16" }); // ["model.safetensors", "config.json"]
 * await saveTrained(model, "runs/spam-lora", { adapter: lora }); // ["adapter"]
 */
export async function saveTrained(
  model: GPTNeoXForCausalLM,
  outDir: string,
  opts: { adapter?: { save(dir: string): Promise<void> }; dtype?: SaveOptions["dtype"] } = {},
): Promise<string[]> {
  const { adapter } = opts;
  const target = adapter ? path.join(outDir, "adapter") : outDir;
  const names = adapter ? [ADAPTER_WEIGHTS_FILE, ADAPTER_CONFIG_FILE] : ["model.safetensors", "config.json"]; // the order the savers write in
  const tmp = tempSibling(path.join(outDir, adapter ? "adapter" : "final"));
  try {
    if (adapter) {
      await adapter.save(tmp);
      replaceDir(tmp, target);
    } else {
      await saveModel(model, tmp, { dtype: opts.dtype });
      for (const f of names) fs.renameSync(path.join(tmp, f), path.join(outDir, f));
      fs.rmSync(tmp, { recursive: true, force: true });
      fsyncPath(outDir);
    }
  } catch (e) {
    const file = path.join(target, unfinished(tmp, names));
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new SaveWriteError(file, e);
  }
  return adapter ? ["adapter"] : names;
}
