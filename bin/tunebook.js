#!/usr/bin/env node
// The `tunebook` command: runs the compiled library (dist/). `npm install` builds it; after editing
// src/, run `npm run build`.

const path = require("node:path");
const fs = require("node:fs");
const cli = path.join(__dirname, "..", "dist", "cli.js");
if (!fs.existsSync(cli)) {
  console.error("tunebook: dist/ is missing; run `npm run build` (npm install does it) first.");
  process.exit(1);
}
require(cli)
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (e) => {
      console.error(`tunebook: ${e?.message ? e.message : e}`);
      process.exit(1);
    },
  );
