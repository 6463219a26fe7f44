/**
 * Check a rendered static course in headless Chromium, from `file://` as a reader opens it: the index
 * links every chapter; each chapter page loads without console errors, draws every chart (plotly's
 * SVG in the page) and shows every table; "next" links walk the chapters in order; screenshots of the
 * index and of every chapter (scrolled to its first chart) go to the artifact folder.
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "./chromium";
import { collectPageErrors } from "./chromium";
import type { SiteResult } from "../../../src/tools/site/render";

export interface SitePageCheck {
  file: string;
  errors: string[];
  plotsExpected: number;
  plotsRendered: number;
  tablesExpected: number;
  tablesRendered: number;
  /** href of the page's rel=next link ("" on the last). */
  next: string;
  screenshot: string;
}

export interface SiteCheck {
  indexLinks: string[];
  /** Console errors on the index and while walking the "next" links. */
  navErrors: string[];
  indexShot: string;
  pages: SitePageCheck[];
  /** Pages reached by clicking "next" from the index, in order. */
  walk: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Open every page of `site` and report what the browser shows.
 *
 * @example
 * const c = await checkSite(browser, result, artifactsDir("site"));
 */
export async function checkSite(browser: Browser, site: SiteResult, shots: string): Promise<SiteCheck> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  try {
    let errors = collectPageErrors(page);
    await page.goto(pathToFileURL(site.index).href, { waitUntil: "load" });
    const indexLinks = await page.evaluate(() =>
      Array.from(document.querySelectorAll("ol.outline a.title")).map((a) => a.getAttribute("href") || ""),
    );
    const indexShot = path.join(shots, "index.png");
    await page.screenshot({ path: indexShot });
    const navErrors = errors.slice();

    const pages: SitePageCheck[] = [];
    for (const p of site.pages) {
      const pageErrors = collectPageErrors(page);
      await page.goto(pathToFileURL(p.file).href, { waitUntil: "load" });
      const count = () =>
        page.evaluate(
          () =>
            Array.from(document.querySelectorAll(".js-plotly-plot")).filter((el) => el.querySelector(".main-svg"))
              .length,
        );
      let plotsRendered = await count();
      for (let i = 0; i < 40 && plotsRendered < p.plots; i++) {
        await sleep(250);
        plotsRendered = await count();
      }
      const info = await page.evaluate(() => ({
        tables: document.querySelectorAll(".output table").length,
        next: document.querySelector("header a[rel=next]")?.getAttribute("href") || "",
      }));
      if (plotsRendered)
        await page
          .locator(".js-plotly-plot")
          .first()
          .scrollIntoViewIfNeeded()
          .catch(() => undefined);
      const screenshot = path.join(shots, path.basename(p.file, ".html") + ".png");
      await page.screenshot({ path: screenshot });
      page.removeAllListeners("console");
      page.removeAllListeners("pageerror");
      pages.push({
        file: p.file,
        errors: pageErrors,
        plotsExpected: p.plots,
        plotsRendered,
        tablesExpected: p.tables,
        tablesRendered: info.tables,
        next: info.next,
        screenshot,
      });
    }

    // Walk the course with the "next" links, as a reader would.
    errors = collectPageErrors(page);
    const walk: string[] = [];
    await page.goto(pathToFileURL(site.index).href);
    for (let i = 0; i <= site.pages.length; i++) {
      const next = page.locator("header a[rel=next]");
      if ((await next.count()) === 0) break;
      const from = page.url();
      await Promise.all([page.waitForURL((u) => u.href !== from), next.first().click()]);
      walk.push(path.basename(decodeURIComponent(new URL(page.url()).pathname)));
    }
    return { indexLinks, navErrors: [...navErrors, ...errors], indexShot, pages, walk };
  } finally {
    await page.close();
  }
}
