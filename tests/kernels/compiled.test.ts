// The compiled library (dist/, what the CLI, the bench and the notebooks load) runs the same fast kernels as the
// TypeScript sources the other tests import through tsx: a training step of a tiny GPT-NeoX in a plain `node`
// process on dist/ names every fused kernel in its profile. (A local variable called `exports` once shadowed
// CommonJS's `exports` in tsc's output only: every WebAssembly module failed to build in dist/ while the tests,
// compiled by esbuild, passed.) `npm test` builds dist/ first; run `npm run build` before this file alone.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const DIST = path.resolve(__dirname, "..", "..", "dist");

const SCRIPT = `
const tf = require("@tensorflow/tfjs");
const dist = process.argv[1];
const { initBackend } = require(dist + "/runtime/backend");
const { GPTNeoXForCausalLM } = require(dist + "/model/gptneox");
const { makeConfig } = require(dist + "/model/config");
const { causalLMTrainable } = require(dist + "/train/causal-lm");
const { Trainer } = require(dist + "/train/trainer");
(async () => {
  await initBackend({ backend: "wasm", verbose: false });
  const cfg = makeConfig({ vocabSize: 64, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 2304 });
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 1 });
  const data = Array.from({ length: 4 }, (_, i) => ({ inputIds: Array.from({ length: 16 }, (_, j) => (i * 7 + j * 3) % 64) }));
  const trainer = new Trainer(causalLMTrainable(model), data, { lr: 1e-3, batchSize: 2, maxLength: 16, numSteps: 2, maxGradNorm: 0 });
  const info = await tf.profile(() => { trainer.trainStep(); });
  const shared = typeof SharedArrayBuffer !== "undefined" && require(dist + "/kernels/wasm-heap").sharedHeap();
  console.log(JSON.stringify({ shared, names: [...new Set(info.kernels.map((k) => k.name))] }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

test("the compiled library's training step runs the fused kernels (GELU, LayerNorm, loss, AdamW, q/k/v)", () => {
  assert.ok(fs.existsSync(path.join(DIST, "runtime", "backend.js")), `no ${DIST}: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, ["-e", SCRIPT, DIST], {
    cwd: path.resolve(__dirname, "..", ".."),
    encoding: "utf8",
    env: { ...process.env, HF_HUB_OFFLINE: "1" },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `the child failed: ${r.stderr.slice(-2000)}`);
  const { shared, names } = JSON.parse(r.stdout.trim().split("\n").pop()!) as { shared: boolean; names: string[] };
  const want = ["QkvHeadsRotary", "QkvHeadsRotaryGrad"];
  // the WebAssembly modules run on the threaded build's shared heap (the single-threaded build keeps tfjs's ops)
  if (shared)
    want.push(
      "GeluExact",
      "GeluExactGrad",
      "LayerNormFused",
      "LayerNormFusedGrad",
      "SoftmaxCrossEntropy",
      "FusedAdamW",
    );
  for (const k of want) assert.ok(names.includes(k), `${k} did not run in dist/: ${names.join(", ")}`);
});
