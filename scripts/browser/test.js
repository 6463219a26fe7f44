#!/usr/bin/env node
// `npm run test:browser`: build (the notebooks import the built library), then run the browser test —
// every notebook through the classic Jupyter Notebook UI in headless Chromium, the static site, the
// render command and the server's shutdown (tests/browser/course.browser.ts). Needs Debian's
// `chromium` (or TUNEBOOK_CHROMIUM) and `jupyter-notebook`; artifacts in $TUNEBOOK_ARTIFACTS or
// .tunebook/artifacts/browser/. Extra args are passed to node's test runner (e.g. --test-name-pattern).

const path = require("node:path");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..", "..");
function run(argv, env) {
  const r = spawnSync(process.execPath, argv, { stdio: "inherit", cwd: root, env: env || process.env });
  if (r.error) throw r.error;
  return r.status === null ? 1 : r.status;
}

let status = run([path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);
if (status !== 0) {
  console.error("test:browser: the TypeScript build failed");
  process.exit(status);
}
status = run(
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=1",
    "--test-reporter=spec",
    ...process.argv.slice(2),
    path.join("tests", "browser", "course.browser.ts"),
  ],
  { ...process.env, TUNEBOOK_BACKEND: process.env.TUNEBOOK_BACKEND || "wasm", HF_HUB_OFFLINE: "1" },
);
process.exit(status);
