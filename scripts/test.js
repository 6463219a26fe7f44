#!/usr/bin/env node
// `npm test`: build, run the unit tests (node's test runner, TypeScript through tsx), then execute
// every notebook in notebooks/ through real Jupyter (nbclient + the tslab kernel).
//   --unit        unit tests only        --notebooks   notebooks only
//   any other args are test files / name filters passed to the unit run.

const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const onlyUnit = args.includes("--unit");
const onlyNb = args.includes("--notebooks");
const rest = args.filter((a) => !a.startsWith("--"));

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: "inherit", cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function findTests(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(p));
    else if (e.name.endsWith(".test.ts")) out.push(path.relative(root, p));
  }
  return out.sort();
}

let status = run(process.execPath, [
  path.join(root, "node_modules", "typescript", "bin", "tsc"),
  "-p",
  "tsconfig.json",
]);
if (status !== 0) {
  console.error("npm test: the TypeScript build failed");
  process.exit(status);
}
if (!onlyNb) {
  const files = rest.length ? rest : findTests(path.join(root, "tests"));
  status = run(
    process.execPath,
    ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
    {
      env: { ...process.env, TUNEBOOK_BACKEND: process.env.TUNEBOOK_BACKEND || "wasm", HF_HUB_OFFLINE: "1" },
    },
  );
  if (status !== 0) process.exit(status);
}
if (!onlyUnit && !rest.length) {
  status = run(
    process.execPath,
    [path.join(root, "bin", "tunebook.js"), "notebooks", "run", "--out", path.join(root, "notebooks", "executed")],
    {
      env: { ...process.env, TUNEBOOK_BACKEND: process.env.TUNEBOOK_BACKEND || "wasm", HF_HUB_OFFLINE: "1" },
    },
  );
  process.exit(status);
}
