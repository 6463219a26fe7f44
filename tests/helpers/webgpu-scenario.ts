// One short fine-tune, end to end, on whatever backend is active: fineTune with its held-out loss, a run stopped
// at a checkpoint and resumed, evaluation (generation, likelihood labels, perplexity), generation, and a leak
// count. The WebGPU tests run it in a child process on the software Vulkan driver (webgpu-child.ts) and compare
// it with the same run on wasm in the test process.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { QA_TEMPLATE, classificationTemplate } from "../../src/data/templates";
import { tokenizeDataset } from "../../src/data/prepare";
import { evaluateModel } from "../../src/eval/run";
import { generate } from "../../src/model/generate";
import { scoreExamplesAsync } from "../../src/eval/likelihood";
import { loadPretrained, saveModel } from "../../src/model/load";
import { applyLora, disposeModel } from "../../src/pipeline/adapters";
import { cloneModel, fineTune } from "../../src/pipeline/finetune";
import { loadModel } from "../../src/pipeline/pretrained";
import { causalLMTrainable } from "../../src/train/causal-lm";
import { Trainer } from "../../src/train/trainer";
import type { Trainer as TrainerType } from "../../src/train/trainer";
import { classRecords, qaRecords } from "../eval/helpers/tiny-task";

/** The same config on both backends: tiny and short (lavapipe on 2 busy cores is slow). */
export const SCENARIO_TRAIN = { lr: 5e-3, batchSize: 4, seed: 0, maxLength: 64, logEvery: 1 } as const;
export const SCENARIO_STEPS = 5;
const STOP_AT = 3;

export interface ScenarioResult {
  backend: string;
  /** fineTune, 5 steps straight. */
  losses: number[];
  /** Its held-out loss. */
  evalLoss: number;
  /** The same 5-step run stopped after step 3 (a checkpoint is saved), then a new run resumed from it. */
  resumedLosses: number[];
  resumedFrom: string;
  /** evaluateModel on the tuned model: QA (generation, perplexity) and classification (likelihood labels). */
  qa: { predictions: string[]; f1: number; evalLoss: number };
  cls: { likelihoodLabels: string[]; generated: string[]; accuracy: number };
  /** Greedy ids for two prompts. */
  generated: number[][];
  /** A LoRA fine-tune (r 4, dropout 0.1, 3 steps) and the files its saved adapter holds. */
  loraLosses: number[];
  loraSaved: string[];
  /** The model cloneModel copied is untouched by the copy's training. */
  baseKept: boolean;
  /** max |Δ log p| between the tuned model and the same model saved (saveModel) and loaded again. */
  savedReloadMaxDiff: number;
  /** tf.memory().numTensors after one trainStepAsync, after four more, and after an evaluateAsync + a generation. */
  tensors: { afterOne: number; afterMore: number; afterEvalAndGenerate: number };
  seconds: number;
}

export async function runScenario(modelDir: string, workDir: string): Promise<ScenarioResult> {
  const t0 = performance.now();
  const train = qaRecords(16);
  const test = qaRecords(4, 100);
  const config = { ...SCENARIO_TRAIN, numSteps: SCENARIO_STEPS };

  const base = await loadModel(modelDir);
  const tuned = { model: cloneModel(base.model), tokenizer: base.tokenizer }; // a copy made on the device
  const straight = await fineTune(tuned.model, tuned.tokenizer, QA_TEMPLATE, train, config, { evalRecords: test });
  const baseUnchanged = (await base.model.parameters().get("gpt_neox.embed_in.weight")!.data())[0];
  const baseAgain = await loadModel(modelDir);
  const baseKept = baseUnchanged === (await baseAgain.model.parameters().get("gpt_neox.embed_in.weight")!.data())[0];
  base.model.dispose();
  baseAgain.model.dispose();

  const checkpointDir = path.join(workDir, "ckpt");
  fs.rmSync(checkpointDir, { recursive: true, force: true });
  const a = await loadModel(modelDir);
  let trainer: TrainerType | undefined;
  const part = await fineTune(
    a.model,
    a.tokenizer,
    QA_TEMPLATE,
    train,
    { ...config, checkpointDir, checkpointEvery: 0 },
    {
      onTrainer: (t) => void (trainer = t),
      callbacks: { onStep: (s) => void (s.step === STOP_AT && trainer?.stop()) },
    },
  );
  a.model.dispose();
  if (part.summary.step !== STOP_AT || !part.summary.stopped)
    throw new Error(`the stopped run ended at step ${part.summary.step}`);
  const b = await loadModel(modelDir);
  const resumed = await fineTune(b.model, b.tokenizer, QA_TEMPLATE, train, { ...config, checkpointDir, resume: true });
  b.model.dispose();

  // LoRA (with dropout) on a fresh copy, its adapter saved with awaited reads
  const l = await loadModel(modelDir);
  const lora = applyLora(l.model, { r: 4, alpha: 8, dropout: 0.1 }, { seed: 1 });
  const loraRun = await fineTune(
    l.model,
    l.tokenizer,
    QA_TEMPLATE,
    train,
    { ...config, numSteps: 3 },
    {
      trainable: lora.trainable,
    },
  );
  await lora.save(path.join(workDir, "adapter"));
  const loraSaved = fs.readdirSync(path.join(workDir, "adapter")).sort();
  disposeModel(l.model);

  const { model, tokenizer } = tuned;
  const qa = await evaluateModel(model, tokenizer, QA_TEMPLATE, test, { maxNewTokens: 6, batchSize: 4 });
  const labels = ["bad", "good"];
  const cls = await evaluateModel(model, tokenizer, classificationTemplate(labels), classRecords(6), {
    maxNewTokens: 3,
    batchSize: 4,
    labels,
    perplexity: false,
  });
  const prompts = [tokenizer.encode("### Question:\nWhat color is the sky?"), tokenizer.encode("The")];
  const generated = (await generate(model, prompts, { maxNewTokens: 6 })) as number[][];

  // the tuned model saved (awaited reads) and loaded again scores the same
  const savedDir = path.join(workDir, "saved");
  await saveModel(model, savedDir);
  const reloaded = await loadPretrained(savedDir);
  const probe = tokenizeDataset(QA_TEMPLATE, tokenizer, test, { maxLength: 64 }).examples;
  const [before, after] = [await scoreExamplesAsync(model, probe), await scoreExamplesAsync(reloaded, probe)];
  reloaded.dispose();
  const savedReloadMaxDiff = Math.max(...before.map((b, i) => Math.abs(b.logProb - after[i].logProb)));

  // leaks: a trainer's steps, its evaluation and a generation leave the tensor count where it was
  const examples = tokenizeDataset(QA_TEMPLATE, tokenizer, train, { maxLength: 64 }).examples;
  const t = new Trainer(causalLMTrainable(model), examples, { ...config, numSteps: 10 });
  await t.trainStepAsync();
  const afterOne = tf.memory().numTensors;
  for (let i = 0; i < 4; i++) await t.trainStepAsync();
  const afterMore = tf.memory().numTensors;
  await t.evaluateAsync(examples.slice(0, 3));
  await generate(model, prompts, { maxNewTokens: 3 });
  const afterEvalAndGenerate = tf.memory().numTensors;
  t.dispose();
  model.dispose();

  return {
    backend: tf.getBackend(),
    losses: straight.summary.losses,
    evalLoss: straight.evalLoss ?? Number.NaN,
    resumedLosses: resumed.summary.losses,
    resumedFrom: path.relative(workDir, resumed.summary.resumedFrom ?? ""),
    qa: {
      predictions: qa.records.map((r) => r.prediction),
      f1: qa.metrics.f1,
      evalLoss: qa.metrics.evalLoss ?? Number.NaN,
    },
    cls: {
      likelihoodLabels: cls.records.map((r) => r.likelihoodLabel ?? ""),
      generated: cls.records.map((r) => r.prediction),
      accuracy: cls.metrics.accuracy ?? Number.NaN,
    },
    generated,
    baseKept,
    savedReloadMaxDiff,
    loraLosses: loraRun.summary.losses,
    loraSaved,
    tensors: { afterOne, afterMore, afterEvalAndGenerate },
    seconds: (performance.now() - t0) / 1000,
  };
}
