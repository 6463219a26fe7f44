/**
 * `tunebook train --config FILE.json` (or flags): fine-tune with the library's trainer. A progress bar
 * (loss, tokens/s, ETA) on stderr, checkpoints in OUT/checkpoints, `--resume` to continue from the newest,
 * the final model folder in OUT (config.json, model.safetensors, the tokenizer files) and a JSON summary on
 * stdout (also written to OUT/train_summary.json). The job (config file + flags) is resolved in train-job.ts.
 *
 * The run folder is guarded (src/train/run-folder.ts, run-lock.ts): OUT must be new, empty or a tunebook run
 * (a non-empty other folder needs --force; the model's own folder is always refused); a fresh run does not
 * replace an earlier run's results without --force; `--resume` refuses changed data or hyper-parameters
 * without --force; one run at a time holds OUT/tunebook_run.lock, and only the lock holder cleans what a
 * crashed save left behind.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "./args";
import { HELP, recipeLine, resolveTrainJob, type TrainJob } from "./train-job";

export { readTrainConfigFile, recipeLine, resolveTrainJob, type TrainJob } from "./train-job";
import { STD_IO, type CliIO } from "./common";
import { writeFileAtomic } from "../runtime/atomic";
import { hubCacheDir, textProgress } from "../hub";
import {
  attachLora,
  copyTokenizerFiles,
  DEFAULT_MODEL,
  defaultModelDir,
  disposeModel,
  fineTune,
  loadModel,
  loadTask,
  parseLoraOption,
  SaveWriteError,
  saveTrained,
} from "../pipeline";
import { initBackend } from "../runtime/backend";
import { resolveTrainConfig, type StepInfo } from "../train/config";
import type { GPTNeoXForCausalLM } from "../model/gptneox";
import {
  CheckpointWriteError,
  cleanCheckpointLeftovers,
  findLatestCheckpoint,
  fsErrorCode,
  fsErrorText,
  removeAllCheckpoints,
} from "../train/checkpoint";
import { acquireRunLock, type RunLock } from "../train/run-lock";
import {
  RUN_FILE,
  RUN_FORMAT,
  RUN_VERSION,
  SUMMARY_FILE,
  checkFolderPath,
  checkNotModelFolder,
  cleanRunLeftovers,
  compareRunSettings,
  dataHash,
  describeChanges,
  inspectRunFolder,
  realPathLoose,
  type RunRecord,
  type RunSettings,
} from "../train/run-folder";

const clock = (s: number) => {
  if (!Number.isFinite(s)) return "?";
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
};

/**
 * One progress line.
 * @example
 * formatProgress({ step: 5, numSteps: 10, loss: 2.5, lr: 1e-3, tokensPerSec: 800, eta: 12, ... });
 * // "step 5/10 [##########----------]  50% loss 2.5000 lr 1.00e-3 800 tok/s ETA 0:12"
 */
export function formatProgress(s: StepInfo, width = 20): string {
  const done = Math.round((width * s.step) / s.numSteps);
  const pct = `${Math.floor((100 * s.step) / s.numSteps)}%`.padStart(4);
  return `step ${s.step}/${s.numSteps} [${"#".repeat(done)}${"-".repeat(width - done)}] ${pct} loss ${s.loss.toFixed(4)} lr ${s.lr.toExponential(2)} ${Math.round(s.tokensPerSec)} tok/s ETA ${clock(s.eta)}`;
}

/** Where the model's weights live, to keep --out away from them; and the model's identity for the run record. */
function modelLocation(model: string): { id: string; modelDir?: string; cacheDir?: string } {
  if (model === DEFAULT_MODEL) return { id: DEFAULT_MODEL, modelDir: defaultModelDir() };
  if (fs.statSync(model, { throwIfNoEntry: false })?.isDirectory())
    return { id: fs.realpathSync(model), modelDir: model };
  return { id: model, cacheDir: hubCacheDir() }; // a repo id: its weights are (or will be) in the hub cache
}

function runSettings(
  job: TrainJob,
  modelId: string,
  source: string,
  template: string,
  labels: string[] | undefined,
  records: readonly Record<string, unknown>[],
): RunSettings {
  const c = resolveTrainConfig({ ...job.train, evalData: [], evalEvery: 0 });
  return {
    model: modelId,
    data: dataHash(records),
    dataSource: source,
    records: records.length,
    template,
    labels: labels ?? null,
    maxLength: c.maxLength,
    batchSize: c.batchSize,
    gradAccumSteps: c.gradAccumSteps,
    lr: c.lr,
    schedule: c.schedule,
    warmupSteps: c.warmupSteps,
    numSteps: c.numSteps,
    numEpochs: c.numEpochs,
    optimizer: c.optimizer,
    weightDecay: c.weightDecay,
    optimizerOptions: c.optimizerOptions,
    lora: job.lora ? JSON.stringify(parseLoraOption(job.lora)) : null,
  };
}

/**
 * Under the lock: clean what a crashed save left, then decide whether this run may write here (fresh vs
 * resume, --force) and record its settings. Returns notes for stderr.
 */
function prepareRunFolder(job: TrainJob, settings: RunSettings): string[] {
  const notes: string[] = [];
  const ckptDir = job.train.checkpointDir ?? "";
  const cleaned = [
    ...cleanRunLeftovers(job.out),
    ...(ckptDir ? cleanCheckpointLeftovers(ckptDir).map((n) => path.join(path.relative(job.out, ckptDir), n)) : []),
  ];
  if (cleaned.length) notes.push(`${job.out}: removed what an interrupted save left behind (${cleaned.join(", ")})`);
  const state = inspectRunFolder(job.out, ckptDir);
  const now = new Date().toISOString();
  let record: RunRecord = { format: RUN_FORMAT, version: RUN_VERSION, createdAt: now, updatedAt: now, settings };
  if (job.train.resume) {
    if (job.train.resume === true && !fs.existsSync(ckptDir))
      throw new UsageError(`tunebook train: --resume but ${ckptDir} does not exist`);
    if (!state.record) {
      notes.push(
        `${job.out}: no ${RUN_FILE} (a run from an older tunebook): its data and settings cannot be checked; recording this run's now`,
      );
    } else {
      const before = state.record.settings;
      const changes = compareRunSettings(before, settings);
      if (changes.length && !job.force)
        throw new UsageError(
          `tunebook train --resume: ${job.out} was trained with other settings (${describeChanges(changes, before, settings)}); use the run's values, or --force to continue with the new ones`,
        );
      record = { ...state.record, updatedAt: now, settings };
      if (changes.length) {
        record.forced = [...(state.record.forced ?? []), { at: now, changed: changes.map((c) => c.field) }];
        notes.push(
          `${job.out}: --force: resuming with changed settings (${describeChanges(changes, before, settings)})`,
        );
      }
    }
  } else if (state.checkpoints.length || state.finished) {
    const what = [
      state.checkpoints.length && `checkpoints up to step ${state.checkpoints[state.checkpoints.length - 1]}`,
      state.finished && "a finished model",
    ]
      .filter(Boolean)
      .join(" and ");
    if (!job.force)
      throw new UsageError(
        `tunebook train: ${job.out} holds a tunebook run (${what}): continue it with --resume, or start over with --force (its checkpoints are deleted)`,
      );
    if (ckptDir) removeAllCheckpoints(ckptDir);
    fs.rmSync(path.join(job.out, SUMMARY_FILE), { force: true });
    notes.push(`${job.out}: --force: starting over (the earlier run's checkpoints and summary were deleted)`);
  }
  const file = path.join(job.out, RUN_FILE);
  try {
    writeFileAtomic(file, JSON.stringify(record, null, 2) + "\n");
  } catch (e) {
    const code = fsErrorCode(e);
    throw code ? new Error(`cannot write ${file}: ${fsErrorText(code)}`) : e;
  }
  return notes;
}

/** A failed write of the final files: one line naming the file, and where the trained weights are safe. */
function finalWriteError(e: unknown, file: string, ckptDir: string): Error {
  const code = fsErrorCode(e);
  if (!code) return e as Error;
  const intact = ckptDir ? findLatestCheckpoint(ckptDir) : undefined;
  return new Error(
    `cannot write ${file}: ${fsErrorText(code)}; ` +
      (intact
        ? `the trained weights are in the newest intact checkpoint ${intact}: free some space, then run the same command with --resume to write the final files`
        : "no checkpoint holds the trained weights (checkpoints are off)"),
  );
}

export async function run(argv: string[], io: CliIO = STD_IO): Promise<number> {
  const job = resolveTrainJob(argv);
  if (job === "help") return (io.out(HELP + "\n"), 0);
  const quiet = job.quiet;
  const ckptDir = job.train.checkpointDir ?? "";
  // Paths first: nothing is read or loaded for a run that could not write its results.
  const where = modelLocation(job.model);
  const rel = path.relative(realPathLoose(job.out), realPathLoose(ckptDir));
  const ckptOutside = ckptDir !== "" && (rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
  const targets = [{ flag: "--out", dir: job.out }, ...(ckptOutside ? [{ flag: "checkpointDir", dir: ckptDir }] : [])]; // each gets checked and locked
  for (const t of targets) checkFolderPath(t.flag, t.dir);
  checkNotModelFolder(targets, where);
  const trainTask = await loadTask({ data: job.data, template: job.template, labels: job.labels, split: "train" });
  const evalTask = job.evalData
    ? await loadTask({
        data: job.evalData,
        template: job.template ?? trainTask.dataset,
        labels: trainTask.labels,
        split: "test",
      })
    : undefined;
  const records = job.limit ? trainTask.records.slice(0, job.limit) : trainTask.records;
  const settings = runSettings(job, where.id, trainTask.file, trainTask.template.name, trainTask.labels, records);
  const first = inspectRunFolder(job.out, ckptDir);
  if (!first.isRun && !first.empty && !job.force)
    throw new UsageError(
      `tunebook train: --out ${job.out} is not empty and is not a tunebook run folder (no ${RUN_FILE}): choose a new folder, or --force to write into it`,
    );
  if (job.train.resume === true && !fs.existsSync(ckptDir))
    throw new UsageError(`tunebook train: --resume but ${ckptDir} does not exist`);
  // the first line of a run that can go ahead (bad input gets its one error line alone), so a learner sees which
  // lr, steps and batch run and why
  if (job.recipe && !quiet) io.err(recipeLine(job.recipe) + "\n");

  const locks: RunLock[] = [];
  const release = () =>
    locks
      .splice(0)
      .reverse()
      .forEach((l) => l.release());
  let stopper: (() => void) | undefined;
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopper && !stopping) {
      stopping = true;
      return stopper();
    }
    release(); // a second signal, or one before training started: leave now, folder unlocked
    io.err(`\n${sig}: stopped${stopper ? " without a final checkpoint" : ""}\n`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let model: GPTNeoXForCausalLM | undefined;
  try {
    const note = (line: string) => io.err(line + "\n");
    for (const t of targets) locks.push(acquireRunLock(t.dir, { onStale: note }));
    prepareRunFolder(job, settings).forEach(note);

    await initBackend({ verbose: false });
    const loaded = await loadModel(job.model, { onProgress: textProgress() });
    model = loaded.model;
    const tokenizer = loaded.tokenizer;
    const tty = !quiet && io === STD_IO && Boolean(process.stderr.isTTY); // redraw one line in a terminal
    let lastLine = 0;
    const lora = job.lora
      ? await attachLora(model, parseLoraOption(job.lora), { baseModelNameOrPath: job.model })
      : undefined;
    let result: Awaited<ReturnType<typeof fineTune>>;
    try {
      result = await fineTune(model, tokenizer, trainTask.template, records, job.train, {
        evalRecords: evalTask?.records,
        trainable: lora?.trainable,
        onTrainer: (t) =>
          (stopper = () => (
            io.err("\nstopping after this step (a checkpoint is saved; signal again to quit now)…\n"), t.stop()
          )),
        callbacks: quiet
          ? {}
          : {
              onStep: (s) => {
                const every = Math.max(1, Math.floor(s.numSteps / 20));
                if (tty) io.err(`\r${formatProgress(s)}${s.step === s.numSteps ? "\n" : ""}`);
                else if (s.step % every === 0 || s.step === s.numSteps || s.step - lastLine >= every) {
                  io.err(formatProgress(s) + "\n");
                  lastLine = s.step;
                }
              },
              onEval: (e) =>
                io.err(
                  `${tty ? "\n" : ""}eval at step ${e.step}: loss ${e.evalLoss.toFixed(4)} (${e.numTokens} tokens)\n`,
                ),
              onCheckpoint: (c) => io.err(`${tty ? "\n" : ""}checkpoint: ${c.path}\n`),
            },
      });
    } catch (e) {
      if (e instanceof CheckpointWriteError && e.intact)
        throw new Error(`${e.message} (free some space, then continue from it with --resume)`);
      throw e;
    }
    if (!quiet && result.evalLoss !== undefined)
      io.err(`eval loss after step ${result.summary.step}: ${result.evalLoss.toFixed(4)}\n`);
    let files: string[];
    try {
      files = await saveTrained(model, job.out, { adapter: lora, dtype: job.dtype });
    } catch (e) {
      throw e instanceof SaveWriteError ? finalWriteError(e.error, e.file, ckptDir) : e;
    }
    let writing = job.out;
    try {
      files.push(...copyTokenizerFiles(loaded.dir, job.out, (f) => (writing = f)));
      const s = result.summary;
      const summary = {
        model: job.model,
        data: trainTask.file,
        evalData: evalTask?.file ?? null,
        template: trainTask.template.name,
        out: job.out,
        step: s.step,
        stepsRun: s.stepsRun,
        finalLoss: s.finalLoss,
        evalLoss: result.evalLoss ?? null,
        firstLoss: s.losses[0] ?? null,
        tokensPerSec: s.tokensPerSec,
        tokens: s.tokens,
        elapsed: s.elapsed,
        trainExamples: result.trainStats.count,
        droppedExamples: s.droppedExamples,
        stopped: s.stopped,
        resumedFrom: s.resumedFrom ?? null,
        lastCheckpoint: s.lastCheckpoint ?? null,
        checkpointDir: result.config.checkpointDir || null,
        files,
        losses: s.losses,
      };
      const text = JSON.stringify(summary, null, 2) + "\n";
      writing = path.join(job.out, SUMMARY_FILE);
      writeFileAtomic(writing, text);
      io.out(text);
    } catch (e) {
      throw finalWriteError(e, writing, ckptDir);
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    release();
    if (model) disposeModel(model); // with the LoRA adapters, variables of their own
  }
  return 0;
}
