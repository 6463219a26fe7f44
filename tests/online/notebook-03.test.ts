// Notebook 03 on its pythia-70m branch: real Jupyter (nbclient + tslab) with HF_ENDPOINT on the local
// pythia-70m hub, so `courseModelId(PYTHIA_70M)` picks the hub model and the notebook downloads, fine-tunes and
// saves it with the settings it ships. The notebook imports the built library (dist/), as a learner's does:
// `npm test` builds it first; run `npm run build` before running this file alone.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatFailure, runNotebook } from "../../src/tools/notebooks/runner";
import { findJupyterPython } from "../../src/tools/notebooks/jupyter";
import { projectRoot } from "../../src/tools/notebooks/paths";
import { PYTHIA_REPO, startPythiaHub } from "../helpers/pythia-hub";

const NOTEBOOK = path.join(projectRoot(), "notebooks", "03_small_model_cpu.ipynb");

/** Every text a code cell printed or displayed, in order. */
function outputsText(nb: any): string {
  const parts: string[] = [];
  for (const cell of nb.cells) {
    for (const o of cell.outputs ?? []) {
      if (o.text) parts.push([].concat(o.text).join(""));
      for (const [mime, v] of Object.entries(o.data ?? {}))
        if (mime.startsWith("text/")) parts.push([].concat(v as any).join(""));
    }
  }
  return parts.join("\n");
}

const jupyter = findJupyterPython("run");

test("notebook 03 runs top to bottom on EleutherAI/pythia-70m from the (local) hub and names it", {
  skip: jupyter ? false : "Jupyter (nbclient) is not installed",
  timeout: 60 * 60_000,
}, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-nb03-pythia-"));
  const hub = await startPythiaHub({ dir: path.join(work, "repo") });
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: path.join(work, "hf-cache"),
      TMPDIR: path.join(work, "tmp"), // the notebook saves its fine-tuned model under os.tmpdir()
      TUNEBOOK_BACKEND: process.env.TUNEBOOK_BACKEND || "wasm",
    };
    // the unit runner sets HF_HUB_OFFLINE=1 for every test; this one is the online path
    delete env.HF_HUB_OFFLINE;
    delete env.TRANSFORMERS_OFFLINE;
    fs.mkdirSync(env.TMPDIR!);
    const lines: string[] = [];
    const r = await runNotebook(NOTEBOOK, {
      outDir: path.join(work, "executed"),
      env,
      timeoutS: 1800,
      python: jupyter!.python,
      log: (l) => lines.push(l),
    });
    assert.ok(r.ok, formatFailure(r) + "\n" + lines.slice(-20).join("\n"));
    console.log(`# notebook 03 on ${PYTHIA_REPO}: ${r.seconds.toFixed(0)} s`);

    const text = outputsText(JSON.parse(fs.readFileSync(r.out, "utf8")));
    // what the README quotes: the backend and the fine-tuning time
    for (const line of text.split("\n")) if (/backend|updates\*\* of/.test(line)) console.log(`# ${line.trim()}`);
    assert.match(
      text,
      new RegExp(`\\*\\*Model:\\*\\* \`${PYTHIA_REPO}\` \\(the hub is reachable: using ${PYTHIA_REPO}\\)`),
    );
    assert.match(text, /EleutherAI\/pythia-70m: 70,426,624 parameters/);
    assert.match(text, /\*\*40 updates\*\* of 4 examples/);
    assert.match(text, /answers the first two prompts the same way: \*\*true\*\*/);
    // downloaded once into the test's cache
    assert.deepEqual(Object.values(hub.bodyFetches()), [1, 1, 1, 1, 1], JSON.stringify(hub.bodyFetches()));
    assert.ok(fs.existsSync(path.join(env.HF_HUB_CACHE!, "models--EleutherAI--pythia-70m", "refs", "main")));
  } finally {
    await hub.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
