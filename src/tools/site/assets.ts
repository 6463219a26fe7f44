/**
 * The static site's own files: `assets/site.css`, `assets/site.js` (draws every `.tb-plot` from its
 * inline JSON with the local plotly.js) and `assets/plotly.min.js` copied from the installed
 * `plotly.js-dist-min` — the site works from `file://` and without network.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Asset file names, relative to the site root. */
export const SITE_ASSETS = {
  css: "assets/site.css",
  js: "assets/site.js",
  plotly: "assets/plotly.min.js",
} as const;

/** The stylesheet. */
export const SITE_CSS = `:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-code: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header.site, footer.site { border-bottom: 1px solid var(--line); padding: 0.6rem 1.5rem; display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
footer.site { border-top: 1px solid var(--line); border-bottom: 0; margin-top: 3rem; }
header.site .brand { font-weight: 600; color: var(--fg); text-decoration: none; }
nav.chapters { display: flex; gap: 1rem; margin-left: auto; }
nav.chapters a, a { color: var(--accent); }
main { max-width: 980px; margin: 0 auto; padding: 1rem 1.5rem; }
h1, h2, h3 { line-height: 1.25; }
pre { overflow-x: auto; }
pre.code { background: var(--bg-code); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem; font: 13.5px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.cell.code { margin: 1.2rem 0; }
.outputs { border-left: 3px solid var(--line); padding-left: 0.8rem; margin-top: 0.4rem; }
.output { margin: 0.4rem 0; overflow-x: auto; }
pre.output { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0.4rem 0; white-space: pre-wrap; }
pre.output.stderr, pre.output.error { background: #fff1f0; }
.output table { border-collapse: collapse; font-size: 14px; }
.output th, .output td { border: 1px solid var(--line); padding: 0.25rem 0.5rem; vertical-align: top; }
.output th { background: var(--bg-code); }
.tb-plot { width: 100%; }
.tok-kw { color: #cf222e; } .tok-str { color: #0a3069; } .tok-com { color: #6e7781; font-style: italic; }
.tok-num, .tok-lit { color: #0550ae; } .tok-type { color: #953800; } .tok-fn { color: #8250df; }
ol.outline { padding-left: 0; list-style: none; }
ol.outline li { margin: 1.2rem 0; }
ol.outline .title { font-size: 1.2rem; font-weight: 600; }
ol.outline .summary { margin: 0.3rem 0 0; color: var(--muted); }
.missing-plotly { color: #cf222e; }
`;

/** The page script: draws the plots (plotly.js must be loaded before it). */
export const SITE_JS = `(function () {
  "use strict";
  function drawAll() {
    var plots = document.querySelectorAll(".tb-plot");
    for (var i = 0; i < plots.length; i++) {
      var el = plots[i];
      var src = document.getElementById(el.getAttribute("data-figure"));
      if (!src) continue;
      if (!window.Plotly) {
        el.className += " missing-plotly";
        el.textContent = "plotly.js did not load (assets/plotly.min.js is missing from this site)";
        continue;
      }
      var fig = JSON.parse(src.textContent);
      var config = Object.assign({ responsive: true, displaylogo: false }, fig.config || {});
      window.Plotly.newPlot(el, fig.data, fig.layout || {}, config);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
`;

/**
 * Write the assets into `siteDir` (plotly.js copied from the installed package).
 *
 * @example
 * writeSiteAssets("/tmp/site"); // assets/site.css, assets/site.js, assets/plotly.min.js
 */
export function writeSiteAssets(siteDir: string): void {
  let plotly: string;
  try {
    plotly = require.resolve("plotly.js-dist-min/plotly.min.js");
  } catch (e) {
    throw new Error(
      `the static site needs plotly.js-dist-min (a dependency of tunebook; run \`npm install\`): ${(e as Error).message}`,
    );
  }
  fs.mkdirSync(path.join(siteDir, "assets"), { recursive: true });
  fs.writeFileSync(path.join(siteDir, SITE_ASSETS.css), SITE_CSS);
  fs.writeFileSync(path.join(siteDir, SITE_ASSETS.js), SITE_JS);
  fs.copyFileSync(plotly, path.join(siteDir, SITE_ASSETS.plotly));
}
