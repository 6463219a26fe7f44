/**
 * `tunebook merge --model M --adapter A --out DIR [--force] [--dtype F32|F16|BF16]`: merge a LoRA adapter
 * (PEFT folder) into its base and write a plain checkpoint (config.json + model.safetensors + the base's
 * tokenizer files) that loads anywhere without LoRA code. The folder is built under a temporary name next to
 * DIR and renamed into place, so DIR is either complete or untouched; an existing non-empty DIR is refused
 * unless --force.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs, bool, str, UsageError } from "./args";
import { copyTokenizerFiles, disposeModel, loadModelMaybeTokenizer, TOKENIZER_FILES } from "../pipeline";
import { saveModel } from "../model/load";
import { initBackend } from "../runtime/backend";
import { textProgress } from "../hub";
import { loadAdapter } from "../lora/peft";
import { LoraModel } from "../lora/model";
import { replaceDir } from "../runtime/atomic";

const HELP = `usage: tunebook merge --model M --adapter A --out DIR [--force] [--dtype F32|F16|BF16] [--json]
  Merge a LoRA adapter into its base model: W + (alpha/r)·B·A in every adapted layer.
  --model M     the base: "default", a folder, or a repo id
  --adapter A   a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)
  --out DIR     where the merged model goes (refused if it exists and is not empty, unless --force)
  --dtype D     on-disk float type (default F32)`;

/** Copied from the base model's folder when present. */
const COPIED_FILES = [...TOKENIZER_FILES, "generation_config.json"];

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(
    argv,
    { booleans: ["force", "json", "help"], values: ["model", "adapter", "out", "dtype", "revision"] },
    "tunebook merge",
  );
  if (bool(p, "help")) return (console.log(HELP), 0);
  const modelId = str(p, "model");
  const adapter = str(p, "adapter");
  const out = str(p, "out");
  if (!modelId || !adapter || !out)
    throw new UsageError(`tunebook merge: --model, --adapter and --out are required\n${HELP}`);
  if (p.positional.length)
    throw new UsageError(`tunebook merge: unexpected argument ${JSON.stringify(p.positional[0])}`);
  const dtype = (str(p, "dtype") ?? "F32").toUpperCase();
  if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16")
    throw new UsageError(`tunebook merge: --dtype must be F32, F16 or BF16, got ${JSON.stringify(str(p, "dtype"))}`);
  const force = bool(p, "force");
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory())
      throw new UsageError(`tunebook merge: --out ${out} exists and is not a folder`);
    if (fs.readdirSync(out).length > 0 && !force)
      throw new UsageError(`tunebook merge: --out ${out} exists and is not empty; pass --force to replace it`);
  }
  await initBackend({ verbose: false });
  const loaded = await loadModelMaybeTokenizer(modelId, { revision: str(p, "revision"), onProgress: textProgress() });
  const model = loaded.model;
  try {
    await loadAdapter(model, adapter, { name: "merge" });
    const lora = LoraModel.of(model);
    const info = lora.listAdapters()[0];
    lora.mergeAndUnload(["merge"]);
    const parent = path.dirname(path.resolve(out));
    fs.mkdirSync(parent, { recursive: true });
    const tmp = path.join(parent, `.${path.basename(out)}.merge-${process.pid}-${Date.now()}`);
    try {
      await saveModel(model, tmp, { dtype });
      const copied = copyTokenizerFiles(loaded.dir, tmp, undefined, COPIED_FILES);
      replaceDir(tmp, out);
      const summary = {
        model: modelId,
        adapter,
        out,
        r: info.config.r,
        alpha: info.config.alpha,
        modules: info.modules.length,
        dtype,
        files: ["config.json", "model.safetensors", ...copied],
      };
      if (bool(p, "json")) console.log(JSON.stringify(summary));
      else
        console.log(
          `merged ${adapter} (r=${summary.r}, alpha=${summary.alpha}, ${summary.modules} layers) into ${modelId} → ${out}`,
        );
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  } finally {
    disposeModel(model); // with the adapter, still there when the merge failed half-way
  }
  return 0;
}
