#!/usr/bin/env node
// Runs after `npm install`: builds the library (dist/) when TypeScript is present and links
// node_modules/tunebook -> the package root so that notebooks (tslab, rootDir = notebooks/) can
// `import { ... } from "tunebook"`. Never fails the install: problems are printed, not thrown.

const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const link = path.join(root, "node_modules", "tunebook");
try {
  fs.mkdirSync(path.dirname(link), { recursive: true });
  let ok = false;
  try {
    ok = fs.realpathSync(link) === fs.realpathSync(root);
  } catch {}
  if (!ok) {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync("..", link, "dir");
  }
} catch (e) {
  console.warn(`tunebook postinstall: could not link node_modules/tunebook (${e.message})`);
}

const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
if (fs.existsSync(tsc) && fs.existsSync(path.join(root, "src"))) {
  const r = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.json")], { stdio: "inherit" });
  if (r.status !== 0) console.warn("tunebook postinstall: `npm run build` failed; see the errors above.");
}
