// The WebGPU backend end to end, on Mesa's lavapipe (a Vulkan driver on the CPU) in a child process: what
// initBackend() picks by itself there (wasm: WebGPU is opt-in), then fineTune, checkpoint + resume,
// evaluateModel and generation on webgpu, compared with the same run on wasm here. Skips, saying why, without the
// driver (scripts/install-lavapipe.sh); CI installs it and sets TUNEBOOK_REQUIRE_WEBGPU=1.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { useTestBackend } from "../helpers/backend";
import { childResult, runChild, skipWebgpuTests, softwareWebgpu } from "../helpers/webgpu";
import { type ScenarioResult, SCENARIO_STEPS, runScenario } from "../helpers/webgpu-scenario";
import { makeTinyTask, type TinyTask } from "../eval/helpers/tiny-task";

interface ChildResult {
  auto: { name: string; line: string };
  forced: { name: string; line: string };
  syncError: string;
  leakedBySyncError: number;
  scenario: ScenarioResult;
}

/** Float32 arithmetic in another order (GPU reductions) over 5 updates: far below any real difference. */
const LOSS_TOL = 1e-4;

let task: TinyTask;
let work: string;
let child: Promise<ChildResult & { seconds: number }> | undefined;
let wasm: Promise<ScenarioResult> | undefined;

/** The child's run on webgpu (started once, shared by the tests below). */
function onWebgpu(env: Record<string, string>): Promise<ChildResult & { seconds: number }> {
  child ??= (async () => {
    const dir = path.join(work, "webgpu");
    fs.mkdirSync(dir, { recursive: true });
    const r = await runChild(path.join("tests", "helpers", "webgpu-child.ts"), [task.modelDir, dir], env);
    return { ...childResult<ChildResult>(r.stdout, "WEBGPU-RESULT"), seconds: r.seconds };
  })();
  return child;
}

function onWasm(): Promise<ScenarioResult> {
  wasm ??= (async () => {
    const dir = path.join(work, "wasm");
    fs.mkdirSync(dir, { recursive: true });
    return runScenario(task.modelDir, dir);
  })();
  return wasm;
}

function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i])));
}

const sw = softwareWebgpu();
if ("skip" in sw) {
  skipWebgpuTests(
    "WebGPU end to end on a software Vulkan driver (backend choice, fineTune, resume, evaluation)",
    sw.skip,
  );
} else {
  before(async () => {
    await useTestBackend();
    task = await makeTinyTask(1);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-webgpu-"));
  });
  after(() => {
    task?.model.dispose();
    fs.rmSync(task.dir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  test("initBackend() keeps wasm by itself and says why; TUNEBOOK_BACKEND=webgpu takes the software adapter", async () => {
    const r = await onWebgpu(sw.env);
    assert.equal(r.auto.name, "wasm", r.auto.line);
    assert.match(r.auto.line, /webgpu \(opt-in: TUNEBOOK_BACKEND=webgpu/);
    assert.equal(r.forced.name, "webgpu", r.forced.line);
    assert.match(r.forced.line, /forced by option; software \(CPU\) WebGPU adapter found: .*llvmpipe/);
  });

  test("on webgpu a synchronous trainer step says to await trainStepAsync, and leaks nothing", async (t: TestContext) => {
    const r = await onWebgpu(sw.env);
    assert.match(r.syncError, /^SyncReadError: Trainer\.trainStep reads the device synchronously.*trainStepAsync/);
    assert.equal(r.leakedBySyncError, 0);
  });

  test("fineTune on webgpu gives the wasm losses within float32 tolerance, and the same held-out loss", async (t: TestContext) => {
    const r = await onWebgpu(sw.env);
    const g = r.scenario;
    const w = await onWasm();
    assert.equal(g.backend, "webgpu");
    assert.equal(w.backend, "wasm");
    assert.equal(g.losses.length, SCENARIO_STEPS);
    const d = maxDiff(g.losses, w.losses);
    t.diagnostic(
      `losses webgpu ${g.losses.map((x) => x.toFixed(6))} wasm ${w.losses.map((x) => x.toFixed(6))}: max |Δ| ${d.toExponential(2)}`,
    );
    t.diagnostic(
      `eval loss webgpu ${g.evalLoss} wasm ${w.evalLoss}; child ${r.seconds.toFixed(1)} s (scenario ${g.seconds.toFixed(1)} s), wasm scenario ${w.seconds.toFixed(1)} s`,
    );
    assert.ok(d < LOSS_TOL, `losses differ by ${d}`);
    assert.ok(g.losses[SCENARIO_STEPS - 1] < g.losses[0], `the loss falls: ${g.losses}`);
    assert.ok(Math.abs(g.evalLoss - w.evalLoss) < LOSS_TOL, `eval loss ${g.evalLoss} vs ${w.evalLoss}`);
  });

  test("on webgpu a run stopped at a checkpoint and resumed gives the straight run's losses", async (t: TestContext) => {
    const r = await onWebgpu(sw.env);
    const g = r.scenario;
    assert.equal(g.resumedFrom, path.join("ckpt", "step-000003"));
    const d = maxDiff(g.resumedLosses, g.losses);
    t.diagnostic(`resumed vs straight on webgpu: max |Δ| ${d}`);
    assert.ok(d < 1e-6, `resumed ${g.resumedLosses} vs straight ${g.losses}`);
    assert.ok(maxDiff(g.resumedLosses, (await onWasm()).resumedLosses) < LOSS_TOL);
  });

  test("evaluateModel and generate on webgpu give wasm's predictions, labels and perplexity", async (t: TestContext) => {
    const r = await onWebgpu(sw.env);
    const g = r.scenario;
    const w = await onWasm();
    assert.deepEqual(g.generated, w.generated);
    assert.deepEqual(g.qa.predictions, w.qa.predictions);
    assert.deepEqual(g.cls.likelihoodLabels, w.cls.likelihoodLabels);
    assert.deepEqual(g.cls.generated, w.cls.generated);
    assert.equal(g.cls.accuracy, w.cls.accuracy);
    assert.ok(
      Math.abs(g.qa.evalLoss - w.qa.evalLoss) < LOSS_TOL,
      `perplexity's log ${g.qa.evalLoss} vs ${w.qa.evalLoss}`,
    );
    assert.ok(g.generated.every((ids) => ids.length > 0));
  });

  test("LoRA (with dropout) trains on webgpu with wasm's losses, and its adapter saves", async () => {
    const g = (await onWebgpu(sw.env)).scenario;
    const w = await onWasm();
    assert.equal(g.loraLosses.length, 3);
    assert.ok(maxDiff(g.loraLosses, w.loraLosses) < LOSS_TOL, `LoRA losses ${g.loraLosses} vs ${w.loraLosses}`);
    assert.deepEqual(g.loraSaved, w.loraSaved);
    assert.ok(g.loraSaved.includes("adapter_model.safetensors"), String(g.loraSaved));
  });

  test("on webgpu cloneModel copies on the device, and a tuned model saved and loaded again scores the same", async () => {
    const g = (await onWebgpu(sw.env)).scenario;
    assert.equal(g.baseKept, true, "training the copy left the original alone");
    assert.equal(g.savedReloadMaxDiff, 0);
  });

  test("on webgpu training steps, evaluation and generation leak no tensor", async (t: TestContext) => {
    const r = await onWebgpu(sw.env);
    const { afterOne, afterMore, afterEvalAndGenerate } = r.scenario.tensors;
    assert.equal(afterMore, afterOne);
    assert.equal(afterEvalAndGenerate, afterOne);
  });
}
