// The README's screenshots, from a rendered static course (headless Chromium, file://):
//   docs/screenshots/course-index.png   the index (course outline)
//   docs/screenshots/chart.png          one interactive chart of a chapter
// Usage: node --import tsx scripts/browser/screenshots.ts [SITE_DIR] [--page NAME] [--plot N]
//   SITE_DIR defaults to .tunebook/site (made by `tunebook notebooks render`); NAME is the chapter's
//   file name without .html (default: the first chapter with a chart); N is the chart's index (default 0).
// Each PNG must stay under 200 KB (they are committed); the script fails otherwise.
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { projectRoot } from "../../src/tools/notebooks/paths";
import { launchChromium } from "../../tests/browser/helpers/chromium";

const MAX_BYTES = 200 * 1024;

async function main(argv: string[]): Promise<number> {
  const root = projectRoot();
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv.splice(i, 2)[1] : undefined;
  };
  const pageName = flag("page");
  const plotIndex = Number(flag("plot") ?? 0);
  const site = path.resolve(argv[0] ?? path.join(root, ".tunebook", "site"));
  const index = path.join(site, "index.html");
  if (!fs.existsSync(index)) {
    console.error(`no site at ${site}: run \`npx tunebook notebooks render\` first (or pass the site folder)`);
    return 1;
  }
  const outDir = path.join(root, "docs", "screenshots");
  fs.mkdirSync(outDir, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 590 } });
    await page.goto(pathToFileURL(index).href);
    const indexPng = path.join(outDir, "course-index.png");
    await page.screenshot({ path: indexPng });

    const chapters = fs
      .readdirSync(site)
      .filter((f) => f.endsWith(".html") && f !== "index.html")
      .sort();
    const candidates = pageName ? [`${pageName}.html`] : chapters;
    let chartPng = "";
    for (const c of candidates) {
      await page.goto(pathToFileURL(path.join(site, c)).href);
      const plots = page.locator(".tb-plot");
      if ((await plots.count()) <= plotIndex) continue;
      const plot = plots.nth(plotIndex);
      await plot.locator(".main-svg").first().waitFor({ timeout: 20000 });
      chartPng = path.join(outDir, "chart.png");
      await plot.screenshot({ path: chartPng });
      console.log(`chart: ${c}, chart #${plotIndex}`);
      break;
    }
    if (!chartPng) {
      console.error(`no chart #${plotIndex} in ${candidates.join(", ")}`);
      return 1;
    }
    for (const f of [indexPng, chartPng]) {
      const size = fs.statSync(f).size;
      console.log(`${path.relative(root, f)}: ${(size / 1024).toFixed(0)} KB`);
      if (size > MAX_BYTES) {
        console.error(`${f} is over ${MAX_BYTES / 1024} KB`);
        return 1;
      }
    }
    return 0;
  } finally {
    await browser.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
