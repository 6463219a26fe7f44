/**
 * Adapters in Hugging Face PEFT's file format, so an adapter trained here loads in PEFT (and vLLM) and one
 * trained there loads here:
 * - `adapter_config.json`: the fields PEFT 0.5 writes for a `LoraConfig`, keys sorted, 2-space indent
 *   (`json.dumps(..., indent=2, sort_keys=True)`), `use_rslora` added only when on (newer PEFT's field);
 * - `adapter_model.safetensors`: F32 tensors `base_model.model.<module>.lora_A.weight` `[r, in]` and
 *   `...lora_B.weight` `[out, r]`, metadata `{"format": "pt"}`.
 * - `README.md`: what the adapter is and which PEFT release loads it (≥ 0.8 for rsLoRA: older releases ignore
 *   `use_rslora` and scale by `alpha / r` without a word).
 * A regular-expression target is saved as the explicit list of the wrapped modules' full names: PEFT matches a
 * regex against every module (dropout and activation included) and refuses the non-Linear ones, while a full
 * name in a list matches exactly that module in every PEFT release.
 * Loading checks everything before touching the model: a field PEFT has but this code cannot honour, a
 * target module the model lacks, a missing or unexpected tensor, a rank that differs from `r`, or a shape
 * that does not fit the base layer is a `LoraError` naming the file and the field or tensor.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readRegularFileSync } from "../runtime/files";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { readSafetensorsFile, type SafeTensor, writeSafetensorsFile } from "../model/safetensors";
import { type LoraConfig, LoraError, loraScaling, resolveLoraConfig, selectTargets } from "./config";
import { LoraModel } from "./model";
import { writeFileAtomic } from "../runtime/atomic";

export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";
export const ADAPTER_README_FILE = "README.md";

/** The oldest PEFT release that loads an adapter with this config as tunebook computes it. */
export function peftFloor(c: Pick<LoraConfig, "useRslora">): string {
  return c.useRslora ? "0.8" : "0.5"; // use_rslora arrived in PEFT 0.8.0; 0.5 is what the fixtures were made with
}

/**
 * The adapter folder's README.md: base model, settings, the scaling rule, and the PEFT floor.
 *
 * @example
 * adapterReadme(resolveLoraConfig({ r: 8, alpha: 16, useRslora: true })); // "… needs PEFT ≥ 0.8 …"
 */
export function adapterReadme(c: LoraConfig): string {
  const floor = peftFloor(c);
  const targets = Array.isArray(c.targetModules) ? c.targetModules : [c.targetModules];
  return [
    "---",
    "library_name: peft",
    ...(c.baseModelNameOrPath ? [`base_model: ${JSON.stringify(c.baseModelNameOrPath)}`] : []),
    "---",
    "",
    "# LoRA adapter (saved by tunebook)",
    "",
    `A PEFT LoRA adapter: r=${c.r}, lora_alpha=${c.alpha}, ${c.useRslora ? `rsLoRA scaling lora_alpha/sqrt(r) = ${loraScaling(c)}` : `scaling lora_alpha/r = ${loraScaling(c)}`}, on ${targets.length} module(s): ${targets.map((t) => "`" + t + "`").join(", ")}.`,
    "",
    `**Requires PEFT >= ${floor}** (\`pip install "peft>=${floor}"\`).` +
      (c.useRslora
        ? " PEFT before 0.8 ignores `use_rslora` and loads this adapter with lora_alpha/r scaling: no error, wrong outputs."
        : ""),
    "",
    "```python",
    "from transformers import AutoModelForCausalLM",
    "from peft import PeftModel",
    `model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(${JSON.stringify(c.baseModelNameOrPath ?? "BASE_MODEL")}), "path/to/this/folder")`,
    "```",
    "",
  ].join("\n");
}
const PREFIX = "base_model.model.";

/**
 * `adapter_config.json`'s object for a config (PEFT 0.5's fields and defaults).
 *
 * @example
 * toPeftConfig(resolveLoraConfig({ r: 4, alpha: 8 })).lora_alpha; // 8
 */
export function toPeftConfig(c: LoraConfig, opts: { inferenceMode?: boolean } = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {
    auto_mapping: null,
    base_model_name_or_path: c.baseModelNameOrPath,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: opts.inferenceMode ?? true,
    init_lora_weights: c.initLoraWeights,
    layers_pattern: null,
    layers_to_transform: c.layersToTransform ? [...c.layersToTransform] : null,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    modules_to_save: null,
    peft_type: "LORA",
    r: c.r,
    revision: null,
    target_modules: Array.isArray(c.targetModules) ? [...c.targetModules] : c.targetModules,
    task_type: "CAUSAL_LM",
  };
  if (c.useRslora) o.use_rslora = true;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

/** The text PEFT writes: sorted keys, indent 2, `lora_dropout` as a Python float (`0.0`, `0.05`). */
export function peftConfigText(c: LoraConfig, opts: { inferenceMode?: boolean } = {}): string {
  return JSON.stringify(toPeftConfig(c, opts), null, 2).replace(/("lora_dropout": )(-?\d+)(,?)$/m, "$1$2.0$3");
}

/**
 * A `LoraConfig` from a parsed `adapter_config.json`; fields this code cannot honour are errors.
 *
 * @example
 * fromPeftConfig(JSON.parse(fs.readFileSync("A/adapter_config.json", "utf8"))).r; // 4
 */
export function fromPeftConfig(json: unknown, source = ADAPTER_CONFIG_FILE): LoraConfig {
  if (!json || typeof json !== "object" || Array.isArray(json))
    throw new LoraError(`${source}: expected a JSON object`);
  const j = json as Record<string, any>;
  const need = (k: string) => {
    if (!(k in j)) throw new LoraError(`${source}: missing field "${k}"`);
    return j[k];
  };
  if (need("peft_type") !== "LORA")
    throw new LoraError(`${source}: peft_type is ${JSON.stringify(j.peft_type)}; only "LORA" adapters are supported`);
  if (j.task_type != null && j.task_type !== "CAUSAL_LM")
    throw new LoraError(
      `${source}: task_type is ${JSON.stringify(j.task_type)}; this model is a causal LM ("CAUSAL_LM")`,
    );
  if (j.bias != null && j.bias !== "none")
    throw new LoraError(
      `${source}: bias ${JSON.stringify(j.bias)} is not supported (only "none": biases are not trained)`,
    );
  if (j.fan_in_fan_out)
    throw new LoraError(
      `${source}: fan_in_fan_out is true, but GPT-NeoX's dense layers are [out, in] (it must be false)`,
    );
  if (Array.isArray(j.modules_to_save) ? j.modules_to_save.length : j.modules_to_save != null)
    throw new LoraError(
      `${source}: modules_to_save ${JSON.stringify(j.modules_to_save)} is not supported (only LoRA matrices are loaded)`,
    );
  for (const k of ["rank_pattern", "alpha_pattern"]) {
    if (j[k] && typeof j[k] === "object" && Object.keys(j[k]).length)
      throw new LoraError(`${source}: ${k} (per-module ranks/alphas) is not supported`);
  }
  if (j.use_dora) throw new LoraError(`${source}: use_dora is true; DoRA adapters are not supported`);
  if (typeof j.init_lora_weights === "string")
    throw new LoraError(
      `${source}: init_lora_weights ${JSON.stringify(j.init_lora_weights)} is not supported (true or false)`,
    );
  let layers = j.layers_to_transform ?? null;
  if (typeof layers === "number") layers = [layers];
  if (
    j.layers_pattern != null &&
    j.layers_pattern !== "layers" &&
    !(Array.isArray(j.layers_pattern) && j.layers_pattern.includes("layers"))
  ) {
    throw new LoraError(
      `${source}: layers_pattern ${JSON.stringify(j.layers_pattern)} does not name GPT-NeoX's "layers"`,
    );
  }
  const targets = need("target_modules");
  return resolveLoraConfig(
    {
      r: need("r"),
      alpha: j.lora_alpha ?? 8,
      dropout: j.lora_dropout ?? 0,
      targetModules: targets,
      useRslora: j.use_rslora ?? false,
      layersToTransform: layers,
      initLoraWeights: j.init_lora_weights ?? true,
      baseModelNameOrPath: j.base_model_name_or_path ?? null,
    },
    source,
  );
}

/**
 * Save one adapter as PEFT does (`adapter_config.json` + `adapter_model.safetensors`, both atomic).
 *
 * @example
 * await saveAdapter(model, "out/customerA", "customerA");
 */
export async function saveAdapter(
  model: GPTNeoXForCausalLM,
  dir: string,
  name = "default",
  opts: { baseModelNameOrPath?: string } = {},
): Promise<void> {
  const lora = LoraModel.find(model);
  if (!lora?.has(name)) throw new LoraError(`saveAdapter: the model has no adapter named ${JSON.stringify(name)}`);
  if (lora.isMerged(name))
    throw new LoraError(`saveAdapter: adapter ${JSON.stringify(name)} is merged into the base; unmerge it first`);
  const cfg = lora.config(name);
  if (opts.baseModelNameOrPath !== undefined) cfg.baseModelNameOrPath = opts.baseModelNameOrPath;
  if (typeof cfg.targetModules === "string") {
    // The modules the pattern picked, by full name: what PEFT matches exactly (and layers are then implied).
    cfg.targetModules = lora.targetModules(name);
    cfg.layersToTransform = null;
  }
  const tensors = new Map<string, SafeTensor>();
  for (const [key, v] of lora.adapterVariables(name))
    tensors.set(key, { dtype: "F32", shape: [...v.shape], data: Float32Array.from((await v.data()) as Float32Array) });
  fs.mkdirSync(dir, { recursive: true });
  await writeSafetensorsFile(path.join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: "pt" }, { dtype: "F32" });
  writeFileAtomic(path.join(dir, ADAPTER_CONFIG_FILE), peftConfigText(cfg));
  writeFileAtomic(path.join(dir, ADAPTER_README_FILE), adapterReadme(cfg));
}

/** Options of `loadAdapter`. */
export interface LoadAdapterOptions {
  /** Name to give it in the model (default "default", as PEFT). */
  name?: string;
  /** Make it the active adapter (default true). */
  activate?: boolean;
}

/**
 * Load a PEFT LoRA adapter folder onto a model (wrapping the targeted layers); returns the adapter's name.
 *
 * @example
 * await loadAdapter(model, "fixtures/neox-tiny/A/lora", { name: "customerA" });
 * LoraModel.of(model).setAdapter("customerA");
 */
export async function loadAdapter(
  model: GPTNeoXForCausalLM,
  dir: string,
  opts: LoadAdapterOptions = {},
): Promise<string> {
  const name = opts.name ?? "default";
  const cfgFile = path.join(dir, ADAPTER_CONFIG_FILE);
  const wFile = path.join(dir, ADAPTER_WEIGHTS_FILE);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new LoraError(`${dir}: no such adapter folder`);
  if (!fs.existsSync(cfgFile))
    throw new LoraError(
      `${dir}: no ${ADAPTER_CONFIG_FILE} (a PEFT adapter folder has ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE})`,
    );
  if (!fs.existsSync(wFile)) {
    const bin = fs.existsSync(path.join(dir, "adapter_model.bin"))
      ? " (adapter_model.bin is a pickle: re-save it with safe_serialization=True)"
      : "";
    throw new LoraError(`${dir}: no ${ADAPTER_WEIGHTS_FILE}${bin}`);
  }
  let text: string;
  try {
    text = readRegularFileSync(cfgFile, "the adapter config").toString("utf8");
  } catch (e: any) {
    throw new LoraError(e.message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: any) {
    throw new LoraError(`${cfgFile}: not valid JSON (${e.message})`);
  }
  const cfg = fromPeftConfig(json, cfgFile);
  let targets: string[];
  try {
    targets = selectTargets(model.linearNames(), cfg);
  } catch (e: any) {
    throw new LoraError(`${cfgFile}: ${e.message}`);
  }
  const { tensors } = await readSafetensorsFile(wFile);
  const weights = checkAdapterTensors(model, tensors, targets, cfg, wFile);
  const lora = LoraModel.of(model);
  lora.addAdapter(name, cfg, { activate: false });
  for (const [mod, w] of weights)
    lora
      .layer(mod)
      .setWeights(
        name,
        w.a.data as Float32Array,
        w.a.shape,
        w.b.data as Float32Array,
        w.b.shape,
        `${wFile}: ${PREFIX}${mod}`,
      );
  if (opts.activate ?? true) lora.setAdapter(name);
  return name;
}

/** Check every tensor against the config and the base layers; returns A and B per module. */
function checkAdapterTensors(
  model: GPTNeoXForCausalLM,
  tensors: Map<string, SafeTensor>,
  targets: string[],
  cfg: LoraConfig,
  file: string,
): Map<string, { a: SafeTensor; b: SafeTensor }> {
  const out = new Map<string, { a: SafeTensor; b: SafeTensor }>();
  const expected = new Set<string>();
  const missing: string[] = [];
  for (const mod of targets) {
    const ka = `${PREFIX}${mod}.lora_A.weight`;
    const kb = `${PREFIX}${mod}.lora_B.weight`;
    expected.add(ka).add(kb);
    const a = tensors.get(ka);
    const b = tensors.get(kb);
    if (!a) missing.push(ka);
    if (!b) missing.push(kb);
    if (!a || !b) continue;
    const base = model.getLinear(mod) as {
      inFeatures?: number;
      outFeatures?: number;
      base?: { inFeatures: number; outFeatures: number };
    };
    const inF = base.base?.inFeatures ?? base.inFeatures!;
    const outF = base.base?.outFeatures ?? base.outFeatures!;
    if (a.shape.length !== 2 || b.shape.length !== 2)
      throw new LoraError(
        `${file}: ${a.shape.length !== 2 ? ka : kb} must be 2-D, got shape [${(a.shape.length !== 2 ? a : b).shape}]`,
      );
    if (a.shape[0] !== cfg.r)
      throw new LoraError(
        `${file}: ${ka} has rank ${a.shape[0]} (shape [${a.shape}]) but adapter_config.json says r=${cfg.r}`,
      );
    if (b.shape[1] !== cfg.r)
      throw new LoraError(
        `${file}: ${kb} has rank ${b.shape[1]} (shape [${b.shape}]) but adapter_config.json says r=${cfg.r}`,
      );
    if (a.shape[1] !== inF)
      throw new LoraError(
        `${file}: ${ka} has shape [${a.shape}], but the base layer ${mod} takes ${inF} inputs (expected [${cfg.r}, ${inF}]): is this adapter for another base model?`,
      );
    if (b.shape[0] !== outF)
      throw new LoraError(
        `${file}: ${kb} has shape [${b.shape}], but the base layer ${mod} has ${outF} outputs (expected [${outF}, ${cfg.r}]): is this adapter for another base model?`,
      );
    for (const [k, t] of [
      [ka, a],
      [kb, b],
    ] as const) {
      if (!(t.data instanceof Float32Array))
        throw new LoraError(`${file}: ${k} has dtype ${t.dtype}; LoRA weights must be floating point`);
    }
    out.set(mod, { a, b });
  }
  if (missing.length)
    throw new LoraError(
      `${file}: missing tensor${missing.length > 1 ? "s" : ""} ${missing.slice(0, 4).join(", ")}${missing.length > 4 ? ` and ${missing.length - 4} more` : ""} (adapter_config.json targets ${targets.length} modules)`,
    );
  const extra = [...tensors.keys()].filter((k) => !expected.has(k));
  if (extra.length)
    throw new LoraError(
      `${file}: unexpected tensor${extra.length > 1 ? "s" : ""} ${extra.slice(0, 4).join(", ")}${extra.length > 4 ? ` and ${extra.length - 4} more` : ""} (not a lora_A/lora_B of a module adapter_config.json targets)`,
    );
  return out;
}
