/**
 * Save a fine-tuned model as a folder that `loadModel(dir)` (and Hugging Face transformers) read back: the
 * weights and config (`saveModel`), the tokenizer files copied from the folder the base model came from, and
 * a `training.json` saying how it was made. Every file is written to a temp file in the same folder and
 * renamed into place, so an interrupted save never leaves a half-written file under the final name.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { saveModel, type SaveOptions } from "../model/load";

/** Tokenizer files copied when present (tokenizer.json is required). */
export const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] as const;

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

function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`,
  );
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
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
  for (const f of TOKENIZER_FILES) {
    const p = path.join(src, f);
    if (fs.existsSync(p)) writeAtomic(path.join(out, f), fs.readFileSync(p));
  }
  if (trainingJson !== undefined) writeAtomic(path.join(out, "training.json"), trainingJson);
  return fs
    .readdirSync(out)
    .filter((f) => !f.startsWith("."))
    .sort()
    .map((file) => ({ file, bytes: fs.statSync(path.join(out, file)).size }));
}
