/**
 * Run a notebook the way a learner does: open it in the classic Notebook UI, wait for the tslab kernel,
 * choose Cell → Run All from the menu, wait until no cell is running and the kernel is idle, then read
 * what the page shows — error outputs, stderr, rendered plotly charts (their SVG) and tables — save the
 * notebook (its outputs are then on disk for the static site) and take a screenshot.
 */
import * as path from "node:path";
import type { Page } from "./chromium";
import type { JupyterServer } from "./jupyter-server";
import { looksLikeError } from "../../../src/tools/site/notebook";

export interface UiRunResult {
  name: string;
  seconds: number;
  codeCells: number;
  /** Code cells with source that got an execution count. */
  executed: number;
  /** Error outputs, and stderr that reads like an error (cell number + text). */
  errors: string[];
  /** Other stderr (warnings). */
  warnings: string[];
  plotsExpected: number;
  plotsRendered: number;
  tablesExpected: number;
  tablesRendered: number;
  screenshot: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the page says about its cells (evaluated in the browser). */
interface PageState {
  running: number;
  busy: boolean;
  connected: boolean;
  /** Kernel restarts/deaths seen since Run All (the Notebook then silently drops the queued cells). */
  kernelEvents: string[];
}

async function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => {
    const J = (window as any).Jupyter;
    const nb = J?.notebook;
    return {
      running: document.querySelectorAll(".code_cell.running").length,
      busy: !!nb?.kernel_busy,
      connected: !!nb?.kernel?.is_connected(),
      kernelEvents: ((window as any).__tunebookKernelEvents ?? []) as string[],
    };
  });
}

/**
 * Open `name` (a file in the server's root), run all cells through the UI and check the result.
 *
 * @example
 * const r = await runNotebookInUi(page, server, "01_task_definition.ipynb", { timeoutMs: 15 * 60_000, shots });
 */
export async function runNotebookInUi(
  page: Page,
  server: JupyterServer,
  name: string,
  opts: { timeoutMs: number; shots: string },
): Promise<UiRunResult> {
  const t0 = Date.now();
  await page.goto(`${server.url}/notebooks/${encodeURIComponent(name)}?token=${server.token}`, {
    waitUntil: "load",
    timeout: 60000,
  });
  await page
    .waitForFunction(
      () => {
        const nb = (window as any).Jupyter?.notebook;
        return !!(nb?._fully_loaded && nb.kernel?.is_connected() && !nb.kernel_busy);
      },
      null,
      { timeout: 120000, polling: 250 },
    )
    .catch((e: Error) => {
      throw new Error(
        `${name}: the notebook did not open with a connected, idle tslab kernel within 120s (${e.message.split("\n")[0]}); server log:\n${server.log().slice(-2000)}`,
      );
    });
  // A kernel that dies mid-run is restarted by Jupyter; the page then clears the queued cells without an
  // error. Record it, so the failure names the cause (the server log has the kernel's last words).
  await page.evaluate(() => {
    const w = window as any;
    w.__tunebookKernelEvents = [];
    for (const ev of ["kernel_restarting.Kernel", "kernel_dead.Kernel"])
      w.Jupyter.notebook.events.on(ev, () => w.__tunebookKernelEvents.push(ev));
  });
  // Cell → Run All, through the menu.
  await page.click("#celllink");
  await page.click("#run_all_cells > a");

  // Done when no cell is running and the kernel is idle, three polls in a row.
  let quiet = 0;
  let started = false;
  for (;;) {
    const s = await pageState(page);
    if (s.kernelEvents.length)
      throw new Error(
        `${name}: the kernel died while running (${s.kernelEvents.join(", ")}); Jupyter restarted it and the queued cells never ran; server log:\n${server.log().slice(-3000)}`,
      );
    if (s.running > 0 || s.busy) started = true;
    quiet = started && s.running === 0 && !s.busy ? quiet + 1 : 0;
    if (quiet >= 3) break;
    if (!s.connected && started)
      throw new Error(
        `${name}: the kernel disconnected (died?) while running; server log:\n${server.log().slice(-2000)}`,
      );
    if (Date.now() - t0 > opts.timeoutMs)
      throw new Error(
        `${name}: cells still running after ${opts.timeoutMs / 1000}s (running: ${s.running}, kernel busy: ${s.busy})`,
      );
    await sleep(500);
  }

  const expect = await page.evaluate(() => {
    const cells = (window as any).Jupyter.notebook.get_cells() as any[];
    let plots = 0;
    let tables = 0;
    let codeCells = 0;
    let executed = 0;
    for (const c of cells) {
      if (c.cell_type !== "code") continue;
      codeCells++;
      if (c.get_text().trim() && typeof c.input_prompt_number === "number") executed++;
      else if (!c.get_text().trim()) executed++;
      for (const o of c.output_area.outputs as any[]) {
        const d = o.data || {};
        if (d["application/vnd.plotly.v1+json"] !== undefined) plots++;
        const html = Array.isArray(d["text/html"]) ? d["text/html"].join("") : d["text/html"] || "";
        if (/<table[\s>]/i.test(html)) tables++;
      }
    }
    return { plots, tables, codeCells, executed };
  });
  // Charts draw once plotly.js (sent by the first plotting cell) is there: give them a moment.
  const countPlots = () =>
    page.evaluate(
      () =>
        Array.from(document.querySelectorAll(".js-plotly-plot")).filter((el) => el.querySelector(".main-svg")).length,
    );
  let plotsRendered = await countPlots();
  for (let i = 0; i < 60 && plotsRendered < expect.plots; i++) {
    await sleep(500);
    plotsRendered = await countPlots();
  }
  // (No named functions inside evaluate callbacks: tsx's esbuild would wrap them in a `__name` helper
  // that does not exist in the page.)
  const seen = await page.evaluate(() => {
    const cells = Array.from(document.querySelectorAll("#notebook-container > .cell"));
    const out: Record<"errors" | "stderr", { cell: number; text: string }[]> = { errors: [], stderr: [] };
    for (const [key, selector] of [
      ["errors", ".output_error"],
      ["stderr", ".output_stderr"],
    ] as const)
      for (const el of Array.from(document.querySelectorAll(selector)))
        out[key].push({ cell: cells.indexOf(el.closest(".cell") as Element) + 1, text: (el.textContent || "").trim() });
    return {
      ...out,
      tables: Array.from(document.querySelectorAll(".output_html")).filter((el) => el.querySelector("table")).length,
    };
  });
  const errors = seen.errors.map((e) => `cell ${e.cell}: ${e.text.slice(0, 2000)}`);
  const warnings: string[] = [];
  for (const e of seen.stderr)
    (looksLikeError(e.text) ? errors : warnings).push(`cell ${e.cell} (stderr): ${e.text.slice(0, 2000)}`);

  // Save: the outputs go to the copy on disk (the static site renders from it).
  await page.evaluate(() => (window as any).Jupyter.notebook.save_notebook());
  await page
    .waitForFunction(() => !(window as any).Jupyter.notebook.dirty, null, { timeout: 60000 })
    .catch(() => undefined);

  const firstPlot = page.locator(".js-plotly-plot").first();
  if (plotsRendered > 0) await firstPlot.scrollIntoViewIfNeeded().catch(() => undefined);
  const screenshot = path.join(opts.shots, `${path.basename(name, ".ipynb")}.png`);
  await page.screenshot({ path: screenshot });
  return {
    name,
    seconds: (Date.now() - t0) / 1000,
    codeCells: expect.codeCells,
    executed: expect.executed,
    errors,
    warnings,
    plotsExpected: expect.plots,
    plotsRendered,
    tablesExpected: expect.tables,
    tablesRendered: seen.tables,
    screenshot,
  };
}
