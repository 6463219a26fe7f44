/**
 * `renderSite()`: the course as a static website. It executes the notebooks in real Jupyter (the
 * headless runner) or takes executed copies from a folder, checks every copy is complete and
 * error-free, and writes `index.html` (the outline), one page per notebook and the assets (plotly.js
 * included, so plots stay interactive offline and from `file://`).
 *
 * All or nothing: the site is built in a temporary folder beside the target and renamed over it only
 * when every page rendered; a failing notebook names itself and its cell and leaves the target as it
 * was. An existing target is replaced only when it is empty or an earlier tunebook site (it carries a
 * `.tunebook-site` marker), so a mistyped `--out` never deletes someone's folder.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../notebooks/paths";
import { runNotebooks, formatFailure, type RunOptions } from "../notebooks/runner";
import { readSiteNotebook, executedProblem, notebookOutline, type SiteNotebook } from "./notebook";
import { siteMarkdown } from "./markdown";
import { writeSiteAssets } from "./assets";
import { type Chapter, renderChapterPage, renderIndexPage } from "./page";

/** The marker file that says a folder is a tunebook site (safe to replace). */
export const SITE_MARKER = ".tunebook-site";

export interface SiteOptions {
  /** The site folder (replaced as a whole). */
  outDir: string;
  /** The notebooks to publish, in order (source notebooks, or executed copies with `executed: true`). */
  notebooks: string[];
  /** True: `notebooks` are executed copies, rendered as they are; false: execute them first. */
  executed: boolean;
  /** Options for executing (timeouts, env, log); `outDir` is a private temporary folder. */
  run: Partial<Omit<RunOptions, "outDir">>;
  /** The site's name (header, index heading). */
  title: string;
  /** Markdown shown under the index heading. */
  intro: string;
  /** Progress lines. */
  log: (line: string) => void;
}

export const DEFAULT_SITE_OPTIONS: SiteOptions = {
  outDir: path.join(".tunebook", "site"),
  notebooks: [],
  executed: false,
  run: {},
  title: "tunebook — fine-tuning language models, in TypeScript",
  intro:
    "The course notebooks, executed, with their outputs. Every chapter runs on its own in Jupyter with the " +
    "`tslab` kernel (`npm start`); this site is the read-only version, made by `tunebook notebooks render`.",
  log: (line) => process.stderr.write(line + "\n"),
};

/** A notebook that cannot be published (the message names it and the cell). */
export class SiteRenderError extends Error {
  override name = "SiteRenderError";
}

/** What was written. */
export interface SiteResult {
  outDir: string;
  index: string;
  pages: { notebook: string; file: string; title: string; plots: number; tables: number }[];
}

/** Refuse a target that exists and is not an earlier site (or empty folder). */
function checkTarget(target: string): void {
  if (!fs.existsSync(target)) return;
  const st = fs.lstatSync(target);
  if (!st.isDirectory()) throw new SiteRenderError(`--out ${target} exists and is not a folder; choose another --out`);
  const entries = fs.readdirSync(target);
  if (entries.length && !entries.includes(SITE_MARKER))
    throw new SiteRenderError(
      `--out ${target} is a folder that is not a tunebook site (no ${SITE_MARKER} in it): refusing to replace it; choose another --out or remove it`,
    );
}

/** Move `built` over `target` (both in the same parent folder). */
function swapIn(built: string, target: string): void {
  const old = path.join(
    path.dirname(target),
    `.${path.basename(target)}.old-${process.pid}-${Date.now().toString(36)}`,
  );
  const had = fs.existsSync(target);
  if (had) fs.renameSync(target, old);
  try {
    fs.renameSync(built, target);
  } catch (e) {
    if (had) fs.renameSync(old, target);
    throw e;
  }
  if (had) fs.rmSync(old, { recursive: true, force: true });
}

/** Execute the notebooks into a temporary folder; returns the executed copies (or throws, naming the cell). */
async function execute(files: string[], o: SiteOptions, tmp: string): Promise<string[]> {
  const results = await runNotebooks(files, { ...o.run, outDir: tmp, log: o.run.log ?? o.log });
  const failed = results.find((r) => !r.ok);
  if (failed)
    throw new SiteRenderError(
      `cannot render the site: ${formatFailure(failed).replace(/\n\(the executed copy up to that cell is in [^\n]*\)$/, "")}`,
    );
  return results.map((r) => r.out);
}

/**
 * Build the static course site.
 *
 * @example
 * await renderSite({ notebooks: resolveNotebooks([], "notebooks"), outDir: ".tunebook/site" });
 * // then open .tunebook/site/index.html in a browser
 */
export async function renderSite(opts: Partial<SiteOptions> = {}): Promise<SiteResult> {
  const o: SiteOptions = { ...DEFAULT_SITE_OPTIONS, ...opts };
  if (!o.notebooks.length) throw new SiteRenderError("no notebooks to render");
  // A given outDir is relative to the working folder; the default lives in the project (gitignored).
  const target = opts.outDir ? path.resolve(opts.outDir) : path.join(projectRoot(), DEFAULT_SITE_OPTIONS.outDir);
  checkTarget(target);
  const names = o.notebooks.map((f) => path.basename(f, ".ipynb"));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new SiteRenderError(`two notebooks are named ${dup}.ipynb; the site has one page per name`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-render-"));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const built = path.join(
    path.dirname(target),
    `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`,
  );
  try {
    const copies = o.executed ? o.notebooks : await execute(o.notebooks, o, work);
    const chapters: Chapter[] = copies.map((file, i) => {
      let nb: SiteNotebook;
      try {
        nb = readSiteNotebook(file);
      } catch (e) {
        throw new SiteRenderError(`cannot render the site: ${(e as Error).message}`);
      }
      const problem = executedProblem(nb);
      if (problem) {
        const head = problem.source
          .split("\n")
          .slice(0, 6)
          .map((l) => "  " + l)
          .join("\n");
        throw new SiteRenderError(
          `cannot render the site: notebook ${o.notebooks[i]} FAILED at cell ${problem.cell} (code cell ${problem.codeCell})\n` +
            `--- cell source ---\n${head}\n--- error ---\n${problem.message
              .split("\n")
              .slice(0, 30)
              .map((l) => "  " + l)
              .join("\n")}`,
        );
      }
      return { name: names[i], nb, ...notebookOutline(nb, file) };
    });
    const md = siteMarkdown({ pages: names });
    fs.mkdirSync(built);
    writeSiteAssets(built);
    const pages: SiteResult["pages"] = [];
    chapters.forEach((ch, i) => {
      const page = renderChapterPage(ch, chapters[i - 1], chapters[i + 1], md, o.title);
      fs.writeFileSync(path.join(built, page.file), page.html);
      pages.push({
        notebook: o.notebooks[i],
        file: path.join(target, page.file),
        title: ch.title,
        plots: page.plots,
        tables: page.tables,
      });
    });
    const index = renderIndexPage(chapters, md, o.title, o.intro);
    fs.writeFileSync(path.join(built, index.file), index.html);
    fs.writeFileSync(
      path.join(built, SITE_MARKER),
      `made by tunebook notebooks render at ${new Date().toISOString()}\n`,
    );
    swapIn(built, target);
    o.log(`site: ${pages.length} chapter(s) → ${path.join(target, "index.html")}`);
    return { outDir: target, index: path.join(target, "index.html"), pages };
  } finally {
    fs.rmSync(built, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}
