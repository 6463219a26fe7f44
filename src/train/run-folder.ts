/**
 * A training run's folder (`tunebook train --out DIR`) and what keeps runs from destroying files: recognising
 * a tunebook run, refusing the model's own folder, the settings a `--resume` must keep, and cleaning what a
 * crashed save left behind.
 *
 * ```
 * OUT/
 *   tunebook_run.json    written at start: the settings a resume must match (RunRecord)
 *   tunebook_run.lock    while a run writes here (run-lock.ts)
 *   checkpoints/         step-NNNNNN/ + latest (checkpoint.ts)
 *   config.json, model.safetensors | adapter/, tokenizer files, train_summary.json   at the end
 * ```
 *
 * A folder is a tunebook run when it holds `tunebook_run.json` or the lock, or (runs from before the record
 * existed) `train_summary.json` or complete checkpoints.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fsyncPath } from "../runtime/atomic";
import { listCheckpoints } from "./checkpoint";
import { LOCK_FILE } from "./run-lock";

export const RUN_FILE = "tunebook_run.json";
export const RUN_FORMAT = "tunebook-run";
export const RUN_VERSION = 1;
export const SUMMARY_FILE = "train_summary.json";

/** A refused or unreadable run folder; the message names the folder or file and what was expected. */
export class RunFolderError extends Error {
  override name = "RunFolderError";
}

/** What a resumed run must share with the run it continues (compared field by field). */
export interface RunSettings {
  /** "default", a repo id, or the real path of a local model folder. */
  model: string;
  /** sha256 of the training records, one JSON line each (the hash export's job.json records). */
  data: string;
  /** Where the records came from and how many (shown in messages, not compared: the hash is). */
  dataSource: string;
  records: number;
  template: string;
  labels: string[] | null;
  maxLength: number;
  batchSize: number;
  gradAccumSteps: number;
  lr: number;
  schedule: string;
  warmupSteps: number;
  numSteps: number;
  numEpochs: number;
  optimizer: string;
  weightDecay: number;
  optimizerOptions: Record<string, unknown>;
  /** The resolved LoRA config as JSON, null for a full fine-tune. */
  lora: string | null;
}

/** `tunebook_run.json`. */
export interface RunRecord {
  format: typeof RUN_FORMAT;
  version: number;
  createdAt: string;
  updatedAt: string;
  settings: RunSettings;
  /** Resumes that changed settings under `--force`: when, and which fields. */
  forced?: { at: string; changed: string[] }[];
}

/** The flag (or config field) behind each compared setting, for messages. */
export const SETTING_FLAGS: Record<Exclude<keyof RunSettings, "dataSource" | "records">, string> = {
  model: "--model",
  data: "--data",
  template: "--template",
  labels: "--labels",
  maxLength: "--max-length",
  batchSize: "--batch-size",
  gradAccumSteps: "--grad-accum",
  lr: "--lr",
  schedule: "--schedule",
  warmupSteps: "--warmup",
  numSteps: "--steps",
  numEpochs: "--epochs",
  optimizer: "--optimizer",
  weightDecay: "--weight-decay",
  optimizerOptions: "optimizerOptions",
  lora: "--lora",
};

/**
 * The hash a run records for its training data.
 * @example
 * dataHash([{ question: "2+2?", answer: "4" }]); // 64 hex digits
 */
export function dataHash(records: readonly Record<string, unknown>[]): string {
  return crypto
    .createHash("sha256")
    .update(records.map((r) => JSON.stringify(r)).join("\n"))
    .digest("hex");
}

/** JSON with sorted keys, so that equal settings compare equal whatever order they were written in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

export interface SettingChange {
  field: keyof RunSettings;
  flag: string;
  before: unknown;
  now: unknown;
}

/**
 * The settings that differ between the run in a folder and the one resuming it. numSteps and numEpochs count
 * only when the schedule decays (with "constant", training longer changes no step already taken).
 * @example
 * compareRunSettings(record.settings, now).map((c) => c.flag); // ["--batch-size"]
 */
export function compareRunSettings(before: Partial<RunSettings>, now: RunSettings): SettingChange[] {
  const changes: SettingChange[] = [];
  const constant = before.schedule === "constant" && now.schedule === "constant";
  for (const [field, flag] of Object.entries(SETTING_FLAGS) as [keyof typeof SETTING_FLAGS, string][]) {
    if (constant && (field === "numSteps" || field === "numEpochs")) continue;
    if (!(field in before)) continue; // a record from an older tunebook that did not keep it
    if (canonical(before[field]) !== canonical(now[field]))
      changes.push({ field, flag, before: before[field], now: now[field] });
  }
  return changes;
}

const show = (v: unknown) => (typeof v === "string" ? v : canonical(v));

/** "--batch-size: 4 then, 8 now; --data: sha256 1a2b3c4d… of 24 records from a.jsonl then, …" */
export function describeChanges(changes: SettingChange[], before: Partial<RunSettings>, now: RunSettings): string {
  return changes
    .map((c) => {
      if (c.field === "data")
        return `${c.flag}: sha256 ${String(c.before).slice(0, 12)}… of ${before.records} records from ${before.dataSource} then, ${now.data.slice(0, 12)}… of ${now.records} records from ${now.dataSource} now`;
      if (c.field === "numSteps" || c.field === "numEpochs")
        return `${c.flag}: ${show(c.before)} then, ${show(c.now)} now (the ${now.schedule} schedule's decay depends on it)`;
      return `${c.flag}: ${show(c.before)} then, ${show(c.now)} now`;
    })
    .join("; ");
}

/**
 * Read `tunebook_run.json`; undefined when there is none. Throws a `RunFolderError` naming the file when it is
 * not a run record.
 */
export function readRunRecord(out: string): RunRecord | undefined {
  const file = path.join(out, RUN_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e: any) {
    if (e?.code === "ENOENT") return undefined;
    throw new RunFolderError(`${file}: cannot read it (${e?.code ?? e?.message ?? e})`);
  }
  let j: any;
  try {
    j = JSON.parse(text);
  } catch (e: any) {
    throw new RunFolderError(`${file}: not valid JSON (${e?.message ?? e}); expected a tunebook run record`);
  }
  if (j?.format !== RUN_FORMAT || !j.settings || typeof j.settings !== "object")
    throw new RunFolderError(`${file}: not a tunebook run record (expected "format": "${RUN_FORMAT}" and "settings")`);
  return j as RunRecord;
}

/** What is in a would-be run folder. */
export interface RunFolderState {
  exists: boolean;
  /** No entries at all (a missing folder counts as empty). */
  empty: boolean;
  isRun: boolean;
  record?: RunRecord;
  /** Steps of the complete checkpoints in the checkpoint folder. */
  checkpoints: number[];
  /** A final model, adapter or summary from an earlier run. */
  finished: boolean;
}

/**
 * Look at `out` (and its checkpoint folder) without changing anything.
 * @example
 * inspectRunFolder("runs/a", "runs/a/checkpoints"); // { exists: true, isRun: true, checkpoints: [2, 3], ... }
 */
export function inspectRunFolder(out: string, checkpointDir: string): RunFolderState {
  const st = fs.statSync(out, { throwIfNoEntry: false });
  if (!st) return { exists: false, empty: true, isRun: false, checkpoints: [], finished: false };
  if (!st.isDirectory()) throw new RunFolderError(`--out ${out}: is a file, expected a folder`);
  const entries = fs.readdirSync(out);
  const checkpoints = checkpointDir ? listCheckpoints(checkpointDir).map((c) => c.step) : [];
  const has = (n: string) => entries.includes(n);
  const finished = has(SUMMARY_FILE) || has("model.safetensors") || has("adapter");
  const record = readRunRecord(out);
  const isRun = Boolean(record) || has(LOCK_FILE) || has(SUMMARY_FILE) || checkpoints.length > 0;
  return { exists: true, empty: entries.length === 0, isRun, record, checkpoints, finished };
}

/** `p` with its longest existing prefix replaced by that prefix's real path (p need not exist). */
export function realPathLoose(p: string): string {
  let head = path.resolve(p);
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...tail);
    } catch {
      const up = path.dirname(head);
      if (up === head) return path.resolve(p);
      tail.unshift(path.basename(head));
      head = up;
    }
  }
}

const within = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
};

/**
 * Refuse a folder to write into (`--out`, the checkpoint folder) that is, lies inside, or contains the model's
 * folder or the real location of its weights (a hub snapshot's files are links into the cache's blobs).
 * `modelDir` is the local folder the model loads from; `cacheDir`, for a repo id, the hub cache as a whole.
 * @example
 * checkNotModelFolder([{ flag: "--out", dir: "models/base" }], { modelDir: "models/base" }); // throws
 */
export function checkNotModelFolder(
  targets: { flag: string; dir: string }[],
  model: { modelDir?: string; cacheDir?: string },
): void {
  const guarded: { what: string; real: string }[] = [];
  if (model.modelDir && fs.existsSync(model.modelDir)) {
    const real = fs.realpathSync(model.modelDir);
    guarded.push({ what: `the --model folder (${real})`, real });
    for (const f of fs.readdirSync(real)) {
      if (!/\.(safetensors|bin|json)$/.test(f)) continue;
      const dir = path.dirname(realPathLoose(path.join(real, f)));
      if (dir !== real && !guarded.some((g) => g.real === dir))
        guarded.push({ what: `the folder holding the --model weights (${dir})`, real: dir });
    }
  }
  if (model.cacheDir)
    guarded.push({
      what: `the Hugging Face cache (${realPathLoose(model.cacheDir)}), where the --model weights live`,
      real: realPathLoose(model.cacheDir),
    });
  for (const t of targets) {
    const real = realPathLoose(t.dir);
    for (const g of guarded) {
      const why =
        real === g.real
          ? [
              "is",
              "training writes model.safetensors, config.json and checkpoints there, over the weights it starts from",
            ]
          : within(real, g.real)
            ? ["is inside", "the run's files would be mixed into the model's"]
            : within(g.real, real)
              ? [
                  "contains",
                  "a run folder must not hold the model it starts from (starting over there deletes and replaces files)",
                ]
              : undefined;
      if (why)
        throw new RunFolderError(
          `${t.flag} ${t.dir} ${why[0]} ${g.what}: ${why[1]}; choose another ${t.flag} (--force does not change this)`,
        );
    }
  }
}

/** Temp names that tunebook's atomic writes use for the files a run writes into OUT. */
const OUT_NAMES = [
  "model.safetensors",
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  SUMMARY_FILE,
  RUN_FILE,
  "adapter",
  "final",
];
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const LEFTOVER = new RegExp(
  `^\\.(?:(?:${OUT_NAMES.map(escapeRegExp).join("|")})\\.(?:tmp|old)-\\d+-[0-9a-z]+` + // runtime/atomic's tempSibling
    `|model\\.safetensors\\.\\d+\\.[0-9a-z]+\\.tmp)$`, // writeSafetensorsFile's temp file
);

/**
 * Remove what an interrupted final save left in `out` (temp files and folders of the files a run writes);
 * returns their names. Only while holding the run lock: another run's save in progress looks the same.
 * @example
 * cleanRunLeftovers("runs/a"); // [".model.safetensors.4242.k3j2h1g0.tmp"]
 */
export function cleanRunLeftovers(out: string): string[] {
  if (!fs.existsSync(out)) return [];
  const removed = fs.readdirSync(out).filter((n) => LEFTOVER.test(n));
  for (const n of removed) fs.rmSync(path.join(out, n), { recursive: true, force: true });
  if (removed.length) fsyncPath(out);
  return removed;
}

/**
 * Refuse a folder path that cannot become a folder: an existing file, or a path below a file.
 * @example
 * checkFolderPath("--out", "notes.txt"); // throws "--out notes.txt: is a file, expected a folder"
 */
export function checkFolderPath(flag: string, dir: string): void {
  let p = path.resolve(dir);
  for (let first = true; ; first = false) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch {
      st = undefined; // missing, or below a file (ENOTDIR): look further up
    }
    if (st && !st.isDirectory())
      throw new RunFolderError(
        first
          ? `${flag} ${dir}: is a file, expected a folder`
          : `${flag} ${dir}: ${p} is a file, so no folder can be made below it`,
      );
    if (st) return;
    const up = path.dirname(p);
    if (up === p) return;
    p = up;
  }
}
