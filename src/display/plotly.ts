/**
 * Plotly figures as notebook output that renders offline everywhere:
 * - `application/vnd.plotly.v1+json` (JupyterLab with the plotly extension, VS Code's built-in renderer),
 * - `text/html`: a `<div>` plus a script that draws it with `window.Plotly` once that exists (classic
 *   Notebook, trusted JupyterLab, nbconvert's HTML),
 * - `text/plain`: a one-line summary (plain node, text-only front ends).
 * plotly.js itself comes from the installed `plotly.js-dist-min` (no CDN) and is sent ONCE per kernel
 * session, as its own output before the first plot (`plotlyLoaderHtml`); every later plot's HTML waits
 * for it. This mirrors plotly.py's offline `init_notebook_mode`.
 */
import * as fs from "node:fs";
import { escapeHtml, scriptJson, scriptSource } from "./escape";
import type { MimeBundle } from "./kernel";

import type { PlotlyFigure } from "../types/figure";

export type { PlotlyFigure, PlotlyTrace } from "../types/figure";

export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** Defaults for the HTML rendering. */
export const DEFAULT_PLOT_HTML = {
  /** Height in CSS pixels when the layout gives none. */
  height: 420,
  /** Milliseconds the HTML waits for plotly.js before showing a hint. */
  waitMs: 30000,
};

/**
 * True for objects shaped like a plotly figure (`data` is an array of objects).
 *
 * @example
 * isPlotlyFigure({ data: [{ x: [1, 2], y: [3, 4] }] }); // true
 */
export function isPlotlyFigure(x: unknown): x is PlotlyFigure {
  if (!x || typeof x !== "object") return false;
  const d = (x as { data?: unknown }).data;
  return Array.isArray(d) && d.every((t) => t !== null && typeof t === "object" && !Array.isArray(t));
}

/** Deep copy into plain JSON: typed arrays become arrays, non-finite numbers become null. */
function toPlain(x: unknown): unknown {
  if (ArrayBuffer.isView(x) && !(x instanceof DataView))
    return Array.from(x as unknown as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : null));
  if (Array.isArray(x)) return x.map(toPlain);
  if (x instanceof Date) return x.toISOString();
  if (typeof x === "number") return Number.isFinite(x) ? x : null;
  if (typeof x === "bigint") return Number(x);
  if (x && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined && typeof v !== "function") out[k] = toPlain(v);
    return out;
  }
  return x;
}

function titleOf(layout: Record<string, unknown> | undefined): string | undefined {
  const t = layout?.title;
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string")
    return (t as { text: string }).text;
  return undefined;
}

/** A one-line text summary of a figure. */
export function plotlyText(fig: PlotlyFigure): string {
  const title = titleOf(fig.layout);
  const traces = fig.data.map((t, i) => {
    const name = typeof t.name === "string" ? t.name : `trace ${i}`;
    const n =
      Array.isArray(t.y) || ArrayBuffer.isView(t.y)
        ? (t.y as ArrayLike<unknown>).length
        : Array.isArray(t.x)
          ? (t.x as unknown[]).length
          : undefined;
    return `${name} (${typeof t.type === "string" ? t.type : "scatter"}${n !== undefined ? `, ${n} points` : ""})`;
  });
  return `Plotly figure${title ? ` "${title}"` : ""}: ${traces.length ? traces.join(", ") : "no traces"}`;
}

let counter = 0;

/**
 * The MIME bundle of a figure (pure: no kernel needed). `divId` defaults to a fresh unique id.
 *
 * @example
 * const b = plotlyBundle({ data: [{ x: [1, 2, 3], y: [2, 1, 3], type: "scatter" }], layout: { title: "loss" } });
 * Object.keys(b); // ["application/vnd.plotly.v1+json", "text/html", "text/plain"]
 */
export function plotlyBundle(
  fig: PlotlyFigure,
  opts: { divId?: string; height?: number; waitMs?: number } = {},
): MimeBundle {
  if (!isPlotlyFigure(fig))
    throw new TypeError("plotlyBundle: expected a figure {data: [trace objects], layout?}, got " + typeof fig);
  const o = { ...DEFAULT_PLOT_HTML, ...opts };
  const plain = toPlain({
    data: fig.data,
    layout: fig.layout ?? {},
    config: fig.config ?? {},
  }) as Required<PlotlyFigure>;
  const layoutHeight = typeof plain.layout.height === "number" ? plain.layout.height : undefined;
  const height = layoutHeight ?? o.height;
  const id = opts.divId ?? `tunebook-plot-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  const config = { responsive: true, displaylogo: false, ...plain.config };
  const html =
    `<div id="${escapeHtml(id)}" class="tunebook-plot" style="width:100%;height:${height}px;"></div>\n` +
    `<script type="text/javascript">\n(function () {\n` +
    `  var id = ${scriptJson(id)}, fig = ${scriptJson({ data: plain.data, layout: plain.layout, config })};\n` +
    `  var t0 = Date.now();\n` +
    `  function draw() {\n` +
    `    var el = document.getElementById(id);\n` +
    `    if (!el) return;\n` +
    `    if (window.Plotly) { window.Plotly.newPlot(el, fig.data, fig.layout, fig.config); return; }\n` +
    `    if (Date.now() - t0 < ${Math.max(0, Math.floor(o.waitMs))}) { setTimeout(draw, 50); return; }\n` +
    `    el.textContent = "plotly.js is not loaded on this page: run the notebook's first plotting cell (it carries plotly.js once per kernel session), or trust the notebook.";\n` +
    `  }\n` +
    `  draw();\n})();\n</script>`;
  return {
    [PLOTLY_MIME]: { data: plain.data, layout: plain.layout, config: plain.config },
    "text/html": html,
    "text/plain": plotlyText(fig),
  };
}

let loaderHtml: string | undefined;

/** The installed plotly.js version (from plotly.js-dist-min). */
export function plotlyVersion(): string {
  const pkg = require.resolve("plotly.js-dist-min/package.json");
  return JSON.parse(fs.readFileSync(pkg, "utf8")).version;
}

/**
 * HTML that defines `window.Plotly` from the installed plotly.js (inline, offline). The bundle is run
 * with `module`, `exports` and `define` shadowed so that require.js (classic Notebook) and CommonJS
 * detection do not capture it.
 *
 * @example
 * plotlyLoaderHtml().startsWith("<script"); // true; about 4.7 MB
 */
export function plotlyLoaderHtml(): string {
  if (loaderHtml === undefined) {
    let src: string;
    try {
      src = fs.readFileSync(require.resolve("plotly.js-dist-min/plotly.min.js"), "utf8");
    } catch (e) {
      throw new Error(`plotly.js-dist-min is not installed (needed to show plots offline): ${(e as Error).message}`);
    }
    loaderHtml =
      `<script type="text/javascript">\nif (!window.Plotly) {\n(function (module, exports, define) {\n` +
      scriptSource(src) +
      `\n}).call(window, undefined, undefined, undefined);\n}\n</script>`;
  }
  return loaderHtml;
}

/** The bundle of the one-per-session output that carries plotly.js. */
export function plotlyLoaderBundle(): MimeBundle {
  return {
    "text/html": plotlyLoaderHtml(),
    "text/plain": `(plotly.js ${plotlyVersion()} loaded for this notebook's plots)`,
  };
}
