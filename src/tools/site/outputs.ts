/**
 * Code-cell outputs → static HTML. For each output the richest form the site can show offline:
 * - `application/vnd.plotly.v1+json` → a `<div class="tb-plot">` with the figure as inline JSON; the
 *   site's script draws it with the `plotly.min.js` copied into the site (interactive, no CDN);
 * - the output that carried plotly.js into the notebook (4.7 MB of inline script) is dropped: the site
 *   loads plotly.js once from its own file;
 * - `text/html` (tables, markdown, progress) as is: the course's display code already escaped any text
 *   inside it; only its links to course notebooks (`href="03_small_model_cpu.ipynb"`) become page links; `text/markdown` through marked; PNG/JPEG/SVG images; `text/plain` and streams escaped.
 * Outputs of kinds the site cannot show are skipped, never half-shown.
 */
import { escapeHtml, scriptJson } from "../../display/escape";
import { PLOTLY_MIME } from "../../display/plotly";
import { type NbOutput, joinText, stripAnsi } from "./notebook";
import type { SiteMarkdown } from "./markdown";

/** What a page's outputs contain (the browser test compares these counts with what the page draws). */
export interface OutputCounts {
  plots: number;
  tables: number;
}

/**
 * True for the output that carries plotly.js itself (sent once per kernel session before the first
 * plot by the display code).
 *
 * @example
 * isPlotlyLoader({ output_type: "display_data", data: plotlyLoaderBundle() }); // true
 */
export function isPlotlyLoader(o: NbOutput): boolean {
  const d = o.data;
  if (!d || d[PLOTLY_MIME] !== undefined) return false;
  const html = joinText(d["text/html"]);
  const plain = joinText(d["text/plain"]);
  return /^\(plotly\.js [^)]* loaded/.test(plain) || (html.length > 100_000 && html.includes("if (!window.Plotly)"));
}

function plotlyFigure(
  v: unknown,
): { data: unknown[]; layout: Record<string, unknown>; config: Record<string, unknown> } | null {
  let fig = v;
  if (typeof fig === "string") {
    try {
      fig = JSON.parse(fig);
    } catch {
      return null;
    }
  }
  if (!fig || typeof fig !== "object" || !Array.isArray((fig as { data?: unknown }).data)) return null;
  const f = fig as { data: unknown[]; layout?: unknown; config?: unknown };
  const obj = (x: unknown) => (x && typeof x === "object" && !Array.isArray(x) ? (x as Record<string, unknown>) : {});
  return { data: f.data, layout: obj(f.layout), config: obj(f.config) };
}

/** Render one output; `counts` is incremented for plots and tables written. */
export function renderOutput(o: NbOutput, md: SiteMarkdown, counts: OutputCounts, id: string): string {
  if (o.output_type === "stream") {
    const text = stripAnsi(joinText(o.text));
    if (!text) return "";
    const name = o.name === "stderr" ? "stderr" : "stdout";
    return `<pre class="output stream ${name}">${escapeHtml(text)}</pre>\n`;
  }
  if (o.output_type === "error") {
    const tb = (o.traceback ?? []).map(stripAnsi).join("\n") || `${o.ename ?? "Error"}: ${o.evalue ?? ""}`;
    return `<pre class="output error">${escapeHtml(tb)}</pre>\n`;
  }
  const d = o.data;
  if (!d || isPlotlyLoader(o)) return "";
  const fig = d[PLOTLY_MIME] !== undefined ? plotlyFigure(d[PLOTLY_MIME]) : null;
  if (fig) {
    counts.plots++;
    const h = typeof fig.layout.height === "number" && fig.layout.height > 0 ? fig.layout.height : 420;
    return (
      `<div class="output plot"><div class="tb-plot" id="${escapeHtml(id)}" style="height:${h}px" data-figure="${escapeHtml(id)}-fig"></div>` +
      `<script type="application/json" id="${escapeHtml(id)}-fig">${scriptJson(fig)}</script></div>\n`
    );
  }
  const html = joinText(d["text/html"]);
  if (html) {
    if (/<table[\s>]/i.test(html)) counts.tables++;
    const linked = html.replace(
      /(<a\s[^>]*?href=")([^"]*)"/gi,
      (_m, head: string, href: string) => `${head}${md.href(href)}"`,
    );
    return `<div class="output html">${linked}</div>\n`;
  }
  const markdown = joinText(d["text/markdown"]);
  if (markdown) return `<div class="output markdown">${md.block(markdown)}</div>\n`;
  for (const mime of ["image/png", "image/jpeg", "image/gif"]) {
    const b64 = joinText(d[mime]).replace(/\s+/g, "");
    if (b64 && /^[A-Za-z0-9+/=]+$/.test(b64))
      return `<div class="output image"><img alt="figure" src="data:${mime};base64,${b64}"></div>\n`;
  }
  const svg = joinText(d["image/svg+xml"]);
  if (svg)
    return `<div class="output image"><img alt="figure" src="data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}"></div>\n`;
  const plain = joinText(d["text/plain"]);
  if (plain) return `<pre class="output text">${escapeHtml(stripAnsi(plain))}</pre>\n`;
  return "";
}

/**
 * Render all outputs of a cell; ids are `${idPrefix}-${i}`.
 *
 * @example
 * const counts = { plots: 0, tables: 0 };
 * renderOutputs(cell.outputs ?? [], siteMarkdown(), counts, "c3");
 */
export function renderOutputs(outputs: NbOutput[], md: SiteMarkdown, counts: OutputCounts, idPrefix: string): string {
  return outputs.map((o, i) => renderOutput(o, md, counts, `${idPrefix}-${i}`)).join("");
}
