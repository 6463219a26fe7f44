/**
 * `LoraModel`: named LoRA adapters on one frozen GPT-NeoX — PEFT's `PeftModel` API for the course's model.
 * Add, list, activate (`setAdapter`, optionally several with weights), disable, delete, merge/unmerge, and
 * `mergeAndUnload` back to a plain model. Adapters live in `LoraLinear` wrappers put in place of the targeted
 * dense layers through `model.setLinear`; the base weights are the model's own and are never copied.
 *
 * One model has at most one `LoraModel` (`LoraModel.of(model)` finds or creates it). Requests that pick an
 * adapter (`withAdapter`, `generateWithAdapter`) are served one at a time, so two concurrent generations for
 * different customers never see each other's adapter.
 */
import * as tf from "@tensorflow/tfjs";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import { Linear } from "../model/layers";
import { type LoraConfig, LoraError, resolveLoraConfig, selectTargets } from "./config";
import { LoraLinear } from "./layer";

/** What `listAdapters` says about one adapter. */
export interface AdapterInfo {
  name: string;
  config: LoraConfig;
  /** HF module names it wraps. */
  modules: string[];
  /** Values in its A and B matrices. */
  trainableParams: number;
  active: boolean;
  merged: boolean;
}

/** Which adapters a request uses: one by name, none (null), or a weighted combination `{ name: weight }`. */
export type AdapterSelection = string | null | Record<string, number>;

/** Options of `addAdapter`. */
export interface AddAdapterOptions {
  /** Seed of A's Kaiming-uniform draw and of the dropout masks (default 0). */
  seed?: number;
  /** Make it the active adapter (default true, as PEFT's `get_peft_model`). */
  activate?: boolean;
}

const REGISTRY = new WeakMap<GPTNeoXForCausalLM, LoraModel>();

/**
 * Named adapters on one base model.
 *
 * @example
 * const lora = LoraModel.of(model);
 * lora.addAdapter("customerA", { r: 8, alpha: 16 });
 * lora.addAdapter("customerB", { r: 8, alpha: 16 });
 * lora.setAdapter("customerB");            // requests now use B
 * lora.listAdapters().map((a) => a.name);  // ["customerA", "customerB"]
 */
export class LoraModel {
  private readonly configs = new Map<string, LoraConfig>();
  private readonly modules = new Map<string, string[]>();
  private active: { name: string; weight: number }[] = [];
  private disabled = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly model: GPTNeoXForCausalLM) {}

  /** The adapters of `model` (created empty the first time). */
  static of(model: GPTNeoXForCausalLM): LoraModel {
    let m = REGISTRY.get(model);
    if (!m) {
      m = new LoraModel(model);
      REGISTRY.set(model, m);
    }
    return m;
  }

  /** The adapters of `model` if it has any wrapper, else undefined. */
  static find(model: GPTNeoXForCausalLM): LoraModel | undefined {
    return REGISTRY.get(model);
  }

  /** Add an adapter on the layers its config targets (A Kaiming-uniform, B zero: the model's outputs do not change). */
  addAdapter(name: string, opts: Partial<LoraConfig> = {}, add: AddAdapterOptions = {}): AdapterInfo {
    if (typeof name !== "string" || !name || /[\s/]/.test(name))
      throw new LoraError(
        `adapter name must be a non-empty string without spaces or slashes, got ${JSON.stringify(name)}`,
      );
    if (this.configs.has(name))
      throw new LoraError(
        `an adapter named ${JSON.stringify(name)} already exists; delete it first or pick another name`,
      );
    const cfg = resolveLoraConfig(opts, `adapter ${JSON.stringify(name)}`);
    const targets = selectTargets(this.model.linearNames(), cfg);
    const seed = add.seed ?? 0;
    targets.forEach((mod, i) => this.wrapper(mod).addAdapter(name, cfg, (seed * 1_000_003 + i * 7919) >>> 0));
    this.configs.set(name, cfg);
    this.modules.set(name, targets);
    if (add.activate ?? true) this.setAdapter(name);
    return this.info(name);
  }

  /** Every adapter, in the order added. */
  listAdapters(): AdapterInfo[] {
    return [...this.configs.keys()].map((n) => this.info(n));
  }

  has(name: string): boolean {
    return this.configs.has(name);
  }

  /** An adapter's settings. */
  config(name: string): LoraConfig {
    return { ...this.need(name) };
  }

  /** HF module names an adapter wraps. */
  targetModules(name: string): string[] {
    this.need(name);
    return [...this.modules.get(name)!];
  }

  /**
   * Activate one adapter, or several combined with weights (`y = Wx + Σ wᵢ·sᵢ·BᵢAᵢx`); enables adapters.
   *
   * @example
   * lora.setAdapter("customerA");
   * lora.setAdapter(["customerA", "customerB"], [0.5, 0.5]);   // a weighted combination
   */
  setAdapter(names: string | readonly string[], weights?: readonly number[]): void {
    const list = typeof names === "string" ? [names] : [...names];
    for (const n of list) this.need(n);
    if (new Set(list).size !== list.length)
      throw new LoraError(`setAdapter: ${JSON.stringify(list)} names an adapter twice`);
    if (weights && (weights.length !== list.length || !weights.every((w) => Number.isFinite(w)))) {
      throw new LoraError(
        `setAdapter: give one finite weight per adapter (${list.length}), got ${JSON.stringify(weights)}`,
      );
    }
    this.active = list.map((name, i) => ({ name, weight: weights ? weights[i] : 1 }));
    this.disabled = false;
    this.apply();
  }

  /** Active adapters and their weights (empty while disabled). */
  activeAdapters(): { name: string; weight: number }[] {
    return this.disabled ? [] : this.active.map((a) => ({ ...a }));
  }

  /** Run the base model alone (merged adapters stay merged) until `enableAdapters` or `setAdapter`. */
  disableAdapters(): void {
    this.disabled = true;
    this.apply();
  }

  enableAdapters(): void {
    this.disabled = false;
    this.apply();
  }

  /** Remove an adapter (unmerging it first if merged) and free its variables. */
  deleteAdapter(name: string): void {
    this.need(name);
    for (const mod of this.modules.get(name)!) this.wrapperAt(mod).deleteAdapter(name);
    this.configs.delete(name);
    this.modules.delete(name);
    this.active = this.active.filter((a) => a.name !== name);
    this.apply();
  }

  /**
   * Merge an adapter into the base weights (`W += scaling·B·A` in every wrapped layer): same outputs, no
   * per-token cost. Non-finite merged weights are refused naming the adapter (nothing is changed then).
   */
  merge(name: string = this.singleActive("merge")): void {
    this.need(name);
    const mods = this.modules.get(name)!;
    const done: LoraLinear[] = [];
    try {
      for (const mod of mods) {
        const w = this.wrapperAt(mod);
        w.merge(name);
        done.push(w);
      }
    } catch (e) {
      for (const w of done) w.unmerge(name); // all or nothing
      throw e;
    }
  }

  /** Undo `merge` (W restored up to float rounding). */
  unmerge(name: string = this.singleActive("unmerge")): void {
    this.need(name);
    for (const mod of this.modules.get(name)!) this.wrapperAt(mod).unmerge(name);
  }

  /** Is the adapter merged into the base weights? */
  isMerged(name: string): boolean {
    this.need(name);
    const mods = this.modules.get(name)!;
    return mods.length > 0 && this.wrapperAt(mods[0]).mergedAdapters().includes(name);
  }

  /** `scaling·B·A` of one wrapped layer (a new tensor for the caller). */
  deltaWeight(name: string, module: string): tf.Tensor2D {
    this.need(name);
    if (!this.modules.get(name)!.includes(module))
      throw new LoraError(
        `adapter ${JSON.stringify(name)} does not wrap ${module}; it wraps ${this.modules.get(name)!.join(", ")}`,
      );
    return this.wrapperAt(module).deltaWeight(name);
  }

  /**
   * Merge the named adapters (default: the active ones, with their weights) into the base, drop every wrapper
   * and adapter, and return the plain model — it saves with `saveModel` and loads without any LoRA code.
   */
  mergeAndUnload(names?: readonly string[]): GPTNeoXForCausalLM {
    const terms = names ? names.map((n) => ({ name: n, weight: 1 })) : this.activeAdapters();
    for (const t of terms) this.need(t.name);
    if (terms.some((t) => t.weight !== 1)) {
      // a weighted combination: merge each delta times its weight
      for (const t of terms)
        for (const mod of this.modules.get(t.name)!) mergeScaled(this.wrapperAt(mod), t.name, t.weight);
    } else for (const t of terms) if (!this.isMerged(t.name)) this.merge(t.name);
    return this.unload();
  }

  /** Drop every wrapper and adapter without merging (merged adapters stay in W); returns the plain model. */
  unload(): GPTNeoXForCausalLM {
    for (const mod of this.model.linearNames()) {
      const l = this.model.getLinear(mod);
      if (l instanceof LoraLinear) {
        this.model.setLinear(mod, l.base);
        l.dispose();
      }
    }
    this.configs.clear();
    this.modules.clear();
    this.active = [];
    REGISTRY.delete(this.model);
    return this.model;
  }

  /** The variables of one adapter keyed by PEFT's file names (`base_model.model.<module>.lora_A.weight`). */
  adapterVariables(name: string): Map<string, tf.Variable> {
    this.need(name);
    const out = new Map<string, tf.Variable>();
    for (const mod of this.modules.get(name)!) {
      const ad = this.wrapperAt(mod).get(name);
      out.set(`base_model.model.${mod}.lora_A.weight`, ad.A);
      out.set(`base_model.model.${mod}.lora_B.weight`, ad.B);
    }
    return out;
  }

  /** The wrapper at a module (for tests and tools). */
  layer(module: string): LoraLinear {
    return this.wrapperAt(module);
  }

  /** Turn dropout on (training) or off in every wrapper. */
  setTraining(on: boolean): void {
    for (const mod of this.model.linearNames()) {
      const l = this.model.getLinear(mod);
      if (l instanceof LoraLinear) l.training = on;
    }
  }

  /**
   * Run `fn` with one adapter active (null: the base alone; `{a: 0.5, b: 0.5}`: a weighted combination), then
   * restore the previous state. Calls are queued, so concurrent requests never share an adapter.
   *
   * @example
   * const a = await lora.withAdapter("customerA", () => generate(model, ids, { maxNewTokens: 20 }));
   */
  withAdapter<T>(selection: AdapterSelection, fn: () => T | Promise<T>): Promise<T> {
    const names = selection === null ? [] : typeof selection === "string" ? [selection] : Object.keys(selection);
    const weights = selection !== null && typeof selection === "object" ? Object.values(selection) : undefined;
    for (const n of names) this.need(n);
    const run = async () => {
      const saved = { active: this.active, disabled: this.disabled };
      try {
        if (names.length === 0) this.disableAdapters();
        else this.setAdapter(names, weights);
        return await fn();
      } finally {
        this.active = saved.active;
        this.disabled = saved.disabled;
        this.apply();
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Run `fn` synchronously with these adapters active (used inside a training step). */
  withActiveSync<T>(names: readonly string[], fn: () => T): T {
    const saved = { active: this.active, disabled: this.disabled };
    try {
      this.setAdapter(names);
      return fn();
    } finally {
      this.active = saved.active;
      this.disabled = saved.disabled;
      this.apply();
    }
  }

  private info(name: string): AdapterInfo {
    const mods = this.modules.get(name)!;
    let trainable = 0;
    for (const mod of mods) {
      const ad = this.wrapperAt(mod).get(name);
      trainable += ad.A.size + ad.B.size;
    }
    return {
      name,
      config: { ...this.configs.get(name)! },
      modules: [...mods],
      trainableParams: trainable,
      active: !this.disabled && this.active.some((a) => a.name === name),
      merged: this.isMerged(name),
    };
  }

  private need(name: string): LoraConfig {
    const c = this.configs.get(name);
    if (!c)
      throw new LoraError(
        `no adapter named ${JSON.stringify(name)}; loaded: ${[...this.configs.keys()].join(", ") || "none"}`,
      );
    return c;
  }

  private singleActive(what: string): string {
    const a = this.activeAdapters();
    if (a.length !== 1)
      throw new LoraError(`${what}: name the adapter (active: ${a.map((x) => x.name).join(", ") || "none"})`);
    return a[0].name;
  }

  /** Push the active set down to every wrapper. */
  private apply(): void {
    const act = this.disabled ? [] : this.active;
    for (const mod of this.model.linearNames()) {
      const l = this.model.getLinear(mod);
      if (!(l instanceof LoraLinear)) continue;
      const here = act.filter((a) => l.has(a.name));
      l.setActive(
        here.map((a) => a.name),
        here.map((a) => a.weight),
      );
    }
  }

  private wrapperAt(module: string): LoraLinear {
    const l = this.model.getLinear(module);
    if (!(l instanceof LoraLinear)) throw new LoraError(`${module} has no LoRA wrapper`);
    return l;
  }

  /** The wrapper at a module, created around its `Linear` the first time. */
  private wrapper(module: string): LoraLinear {
    const l = this.model.getLinear(module);
    if (l instanceof LoraLinear) return l;
    if (!(l instanceof Linear))
      throw new LoraError(
        `${module} is not a plain dense layer (it is a ${l?.constructor?.name ?? typeof l}); LoRA wraps a Linear`,
      );
    const w = new LoraLinear(l);
    this.model.setLinear(module, w);
    return w;
  }
}

/** W += weight·Δ for one layer, refusing non-finite results (for weighted merges into an unloaded model). */
function mergeScaled(l: LoraLinear, name: string, weight: number): void {
  const w = l.base.weight;
  const next = tf.tidy(() => tf.add(w, l.deltaWeight(name, weight)));
  const ok = tf.tidy(() => tf.all(tf.isFinite(next)).dataSync()[0] === 1);
  if (!ok) {
    next.dispose();
    throw new LoraError(
      `cannot merge adapter ${JSON.stringify(name)} into ${l.name}: the merged weights are not finite`,
    );
  }
  w.assign(next);
  next.dispose();
}
