import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  findJupyterPython,
  jupyterInstallHint,
  pythonCandidates,
  requireJupyterPython,
  JupyterMissingError,
} from "../../../src/tools/notebooks/jupyter";
import { run as start } from "../../../src/cli/start";
import { run as notebooks } from "../../../src/cli/notebooks";

async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const saved: Record<string, string | undefined> = {};
  for (const k of Object.keys(env)) (saved[k] = process.env[k]), (process.env[k] = env[k]);
  const errs: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => errs.push(a.join(" "));
  try {
    return { value: await fn(), stderr: errs.join("\n") };
  } finally {
    console.error = orig;
    for (const k of Object.keys(env)) saved[k] === undefined ? delete process.env[k] : (process.env[k] = saved[k]);
  }
}

test("TUNEBOOK_PYTHON alone is tried when set", () => {
  assert.deepEqual(pythonCandidates({ TUNEBOOK_PYTHON: "/opt/py" }), ["/opt/py"]);
  assert.deepEqual(pythonCandidates({}), ["/usr/bin/python3", "python3", "python"]);
});

test("a Python that does not exist, or lacks Jupyter, is not Jupyter", () => {
  assert.equal(findJupyterPython("start", { ...process.env, TUNEBOOK_PYTHON: "/nonexistent/python3" }), null);
  assert.equal(findJupyterPython("run", { ...process.env, TUNEBOOK_PYTHON: "/bin/false" }), null);
  assert.throws(() => requireJupyterPython("run", { TUNEBOOK_PYTHON: "/nonexistent/python3" }), JupyterMissingError);
});

test("the install hint names the apt, pip and conda commands", () => {
  const start = jupyterInstallHint("start", { TUNEBOOK_PYTHON: "/nope" });
  assert.ok(start.includes("sudo apt-get install jupyter-notebook python3-ipykernel"));
  assert.ok(start.includes("pip install notebook"));
  assert.ok(start.includes("conda install -c conda-forge notebook"));
  assert.ok(start.includes("Python tried: /nope"));
  const run = jupyterInstallHint("run", {});
  assert.ok(run.includes("sudo apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel"));
});

test("`tunebook start` and `notebooks run` without Jupyter print the hint and exit 1", async () => {
  const s = await withEnv({ TUNEBOOK_PYTHON: "/nonexistent/python3" }, () => start([]));
  assert.equal(s.value, 1);
  assert.ok(s.stderr.includes("pip install notebook") && s.stderr.includes("conda install"), s.stderr);
  const r = await withEnv({ TUNEBOOK_PYTHON: "/nonexistent/python3" }, () =>
    notebooks(["run", "01", "--out", "/tmp/tunebook-never"]),
  );
  assert.equal(r.value, 1);
  assert.ok(r.stderr.includes("pip install nbclient"), r.stderr);
});
