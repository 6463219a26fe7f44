// The course in a real browser (`npm run test:browser`, also run by .ci/run): every notebook in
// notebooks/ is opened in the classic Jupyter Notebook in headless Chromium, run with Cell → Run All, and
// checked (no error output, every chart drawn as SVG, every table shown, every cell executed); then the
// static site is rendered from those executed notebooks and checked in Chromium the same way; then
// `tunebook notebooks render` is run for real on a tiny course with a failing notebook; finally the
// Jupyter server is shown to go away on a normal stop and on a signal.
//
// The notebooks run from copies in .tunebook/browser-run/ (inside the project, so `import "tunebook"`
// resolves; Jupyter's autosave never touches notebooks/). Screenshots: $TUNEBOOK_ARTIFACTS or
// .tunebook/artifacts/browser/. Environment: TUNEBOOK_BROWSER_NOTEBOOKS="01 07" runs only those;
// TUNEBOOK_BROWSER_TIMEOUT_S (default 2400: notebook 04 takes about 20 minutes on 2 cores) bounds each notebook.
import { test, before, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { projectRoot, resolveNotebooks } from "../../src/tools/notebooks/paths";
import { notebookDirt, readNotebook, stripNotebook } from "../../src/tools/notebooks/strip";
import { renderSite } from "../../src/tools/site/render";
import { startJupyter, pidsMentioning, type JupyterServer } from "./helpers/jupyter-server";
import { launchChromium, artifactsDir, type Browser } from "./helpers/chromium";
import { runNotebookInUi, type UiRunResult } from "./helpers/notebook-ui";
import { checkSite } from "./helpers/site-check";

const ROOT = projectRoot();
const NOTEBOOKS = resolveNotebooks(
  (process.env.TUNEBOOK_BROWSER_NOTEBOOKS ?? "").split(/[\s,]+/).filter(Boolean),
  path.join(ROOT, "notebooks"),
);
const TIMEOUT_S = Number(process.env.TUNEBOOK_BROWSER_TIMEOUT_S || 2400);
const RUN_DIR = path.join(ROOT, ".tunebook", "browser-run", `${process.pid}-${Date.now().toString(36)}`);
const ARTIFACTS = artifactsDir("browser");
const META = readNotebook(path.join(ROOT, "notebooks", "01_task_definition.ipynb")).metadata;

// Sources that were clean (no outputs) at the start must still be clean: Jupyter never saved into them.
const cleanAtStart = NOTEBOOKS.filter((f) => notebookDirt(readNotebook(f)).length === 0);
const results: UiRunResult[] = [];
let server: JupyterServer | undefined;
let browser: Browser | undefined;

before(async () => {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  for (const f of NOTEBOOKS)
    fs.writeFileSync(path.join(RUN_DIR, path.basename(f)), JSON.stringify(stripNotebook(readNotebook(f)), null, 1));
  server = await startJupyter(RUN_DIR, { logFile: path.join(ARTIFACTS, "jupyter-server.log") });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
  fs.writeFileSync(path.join(ARTIFACTS, "notebooks.json"), JSON.stringify(results, null, 1));
  fs.rmSync(RUN_DIR, { recursive: true, force: true });
  if (!fs.readdirSync(path.dirname(RUN_DIR)).length) fs.rmdirSync(path.dirname(RUN_DIR));
});

for (const file of NOTEBOOKS) {
  const name = path.basename(file);
  test(`${name}: Run All in Jupyter (classic Notebook, headless Chromium)`, {
    timeout: (TIMEOUT_S + 120) * 1000,
  }, async (t) => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
    try {
      const r = await runNotebookInUi(page, server!, name, {
        timeoutMs: TIMEOUT_S * 1000,
        shots: artifactsDir("browser/jupyter"),
      });
      results.push(r);
      t.diagnostic(
        `${r.seconds.toFixed(0)}s, ${r.codeCells} code cells, ${r.plotsRendered}/${r.plotsExpected} charts, ${r.tablesRendered}/${r.tablesExpected} tables, screenshot ${r.screenshot}`,
      );
      for (const w of r.warnings) t.diagnostic(`stderr (not an error): ${w.slice(0, 300)}`);
      assert.deepEqual(r.errors, [], `${name} shows errors`);
      assert.equal(r.executed, r.codeCells, `${name}: only ${r.executed} of ${r.codeCells} code cells ran`);
      assert.ok(r.plotsRendered >= r.plotsExpected, `${name}: ${r.plotsRendered} of ${r.plotsExpected} charts drawn`);
      assert.equal(
        r.tablesRendered,
        r.tablesExpected,
        `${name}: ${r.tablesRendered} of ${r.tablesExpected} tables shown`,
      );
    } finally {
      await page.close();
    }
  });
}

test("no outputs were saved into the source notebooks", () => {
  assert.ok(cleanAtStart.length > 0, "some source notebooks were clean at the start");
  for (const f of cleanAtStart)
    assert.deepEqual(notebookDirt(readNotebook(f)), [], `${f} got outputs during the browser run`);
});

test("static site of the executed notebooks: charts drawn, tables shown, no console errors, chapters linked", {
  timeout: 300_000,
}, async (t) => {
  const executed = NOTEBOOKS.map((f) => path.join(RUN_DIR, path.basename(f)));
  const site = await renderSite({
    notebooks: executed,
    executed: true,
    outDir: path.join(ARTIFACTS, "site"),
    log: (l) => t.diagnostic(l),
  });
  const c = await checkSite(browser!, site, artifactsDir("browser/site-shots"));
  assert.deepEqual(
    c.indexLinks,
    site.pages.map((p) => path.basename(p.file)),
  );
  assert.deepEqual(c.navErrors, []);
  for (const p of c.pages) {
    const n = path.basename(p.file);
    t.diagnostic(`${n}: ${p.plotsRendered}/${p.plotsExpected} charts, ${p.tablesRendered}/${p.tablesExpected} tables`);
    assert.deepEqual(p.errors, [], `${n}: console errors`);
    assert.equal(p.plotsRendered, p.plotsExpected, `${n}: charts drawn`);
    assert.ok(p.tablesRendered >= p.tablesExpected, `${n}: ${p.tablesRendered} of ${p.tablesExpected} tables`);
  }
  const ui = new Map(results.map((r) => [path.basename(r.name, ".ipynb"), r]));
  for (const p of site.pages) {
    const r = ui.get(path.basename(p.file, ".html"));
    if (r) assert.equal(p.plots, r.plotsExpected, `${p.file}: the site has as many charts as the notebook`);
  }
  assert.deepEqual(
    c.walk,
    site.pages.map((p) => path.basename(p.file)),
    "next links walk the chapters in order",
  );
});

const code = (source: string) => ({ cell_type: "code", source, metadata: {}, outputs: [], execution_count: null });
const md = (source: string) => ({ cell_type: "markdown", source, metadata: {} });

test("tunebook notebooks render executes notebooks; a failing one is named with its cell and no site is written", {
  timeout: 600_000,
}, async (t) => {
  const dir = path.join(RUN_DIR, "render-case");
  fs.mkdirSync(dir, { recursive: true });
  const write = (n: string, cells: unknown[]) =>
    fs.writeFileSync(
      path.join(dir, n),
      JSON.stringify({ cells, metadata: META, nbformat: 4, nbformat_minor: 5 }, null, 1),
    );
  write("01_ok.ipynb", [
    md("# 01 · A chart and a table\n\nA tiny chapter."),
    code('import { show, table } from "tunebook";\nshow(table([{ step: 1, loss: 2.5 }, { step: 2, loss: 1.9 }]));'),
    code(
      'show({ data: [{ type: "scatter", x: [1, 2, 3], y: [2.5, 1.9, 1.6], name: "loss" }], layout: { title: { text: "loss" } } });',
    ),
  ]);
  write("02_bad.ipynb", [
    md("# 02 · Broken"),
    code("const ok = 1;"),
    code('throw new RangeError("deliberately broken cell");'),
    code("ok + 1;"),
  ]);
  const bin = path.join(ROOT, "bin", "tunebook.js");
  const out = path.join(RUN_DIR, "render-out");
  const env = { ...process.env, TUNEBOOK_BACKEND: process.env.TUNEBOOK_BACKEND || "wasm" };

  const bad = spawnSync(process.execPath, [bin, "notebooks", "render", "--dir", dir, "--out", out], {
    encoding: "utf8",
    env,
    timeout: 300_000,
  });
  t.diagnostic(
    bad.stderr
      .split("\n")
      .filter((l) => /FAILED|Error/.test(l))
      .join(" | "),
  );
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /02_bad\.ipynb FAILED at cell 3 \(code cell 2\)/);
  assert.match(bad.stderr, /RangeError: deliberately broken cell/);
  assert.ok(!fs.existsSync(out), "no site written");
  assert.deepEqual(
    fs.readdirSync(RUN_DIR).filter((e) => e.startsWith(".render-out")),
    [],
    "no temporary folder left",
  );

  const ok = spawnSync(process.execPath, [bin, "notebooks", "render", "01", "--dir", dir, "--out", out], {
    encoding: "utf8",
    env,
    timeout: 300_000,
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /1 chapter\(s\), 1 chart\(s\)/);
  const c = await checkSite(
    browser!,
    {
      outDir: out,
      index: path.join(out, "index.html"),
      pages: [{ notebook: "01_ok.ipynb", file: path.join(out, "01_ok.html"), title: "", plots: 1, tables: 1 }],
    },
    artifactsDir("browser/render-case"),
  );
  assert.deepEqual([...c.navErrors, ...c.pages[0].errors], []);
  assert.equal(c.pages[0].plotsRendered, 1);
  assert.equal(c.pages[0].tablesRendered, 1);
});

test("the Jupyter server and its kernels go away on stop and on a signal", { timeout: 180_000 }, async () => {
  const gone = async (url: string) => {
    try {
      await fetch(url, { signal: AbortSignal.timeout(3000) });
      return false;
    } catch {
      return true;
    }
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  // A normal stop (the one `after` does), with a kernel running.
  const s = await startJupyter(RUN_DIR);
  await s.api("POST", "/api/kernels", { name: "tslab" });
  assert.equal(pidsMentioning(s.runtime).length >= 1, true, "the kernel runs");
  await s.stop();
  assert.ok(await gone(s.url), "the server answers after stop");
  assert.equal(alive(s.pid), false, "server process alive after stop");
  assert.deepEqual(pidsMentioning(s.runtime), [], "kernel processes left after stop");

  // SIGTERM to a process that holds a server: its signal handler stops the server and the kernels.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "helpers", "server-child.ts"), RUN_DIR],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const info = await new Promise<{ url: string; pid: number; runtime: string }>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes("\n")) resolve(JSON.parse(stdout.split("\n")[0]));
    });
    child.on("exit", (code) => reject(new Error(`server child exited early (${code}): ${stderr}`)));
  });
  assert.ok(pidsMentioning(info.runtime).length >= 1, "the child's kernel runs");
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 143, stderr);
  assert.ok(await gone(info.url), "the server answers after SIGTERM");
  assert.equal(alive(info.pid), false, "server process alive after SIGTERM");
  assert.deepEqual(pidsMentioning(info.runtime), [], "kernel processes left after SIGTERM");
});
