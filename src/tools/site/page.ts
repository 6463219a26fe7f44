/**
 * The static site's pages: one per chapter (markdown cells as prose, code cells highlighted with their
 * outputs, previous/next links) and the index (the course outline: each chapter's title and first
 * paragraph). Pure functions from notebooks to HTML strings; `render.ts` writes them.
 */
import { escapeHtml } from "../../display/escape";
import { highlightTs } from "./highlight";
import type { SiteMarkdown } from "./markdown";
import { type OutputCounts, renderOutputs } from "./outputs";
import { type ChapterOutline, type SiteNotebook, joinText } from "./notebook";
import { SITE_ASSETS } from "./assets";

/** One chapter of the course as the pages see it. */
export interface Chapter extends ChapterOutline {
  /** Notebook base name (`01_task_definition`); the page is `${name}.html`. */
  name: string;
  nb: SiteNotebook;
}

/** A rendered page. */
export interface RenderedPage extends OutputCounts {
  file: string;
  html: string;
}

/** Plain text of inline markdown (for `<title>`). */
function plainText(md: SiteMarkdown, src: string): string {
  return md
    .inline(src)
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

function layout(p: { title: string; siteTitle: string; body: string; nav: string; plots: boolean }): string {
  const scripts = p.plots
    ? `<script src="${SITE_ASSETS.plotly}"></script>\n<script src="${SITE_ASSETS.js}"></script>\n`
    : "";
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${escapeHtml(p.title)}</title>\n<link rel="stylesheet" href="${SITE_ASSETS.css}">\n</head>\n<body>\n` +
    `<header class="site"><a class="brand" href="index.html">${escapeHtml(p.siteTitle)}</a>${p.nav}</header>\n` +
    `<main>\n${p.body}</main>\n<footer class="site">${p.nav}</footer>\n${scripts}</body>\n</html>\n`
  );
}

function chapterNav(md: SiteMarkdown, prev: Chapter | undefined, next: Chapter | undefined): string {
  const link = (c: Chapter | undefined, rel: "prev" | "next") =>
    c
      ? `<a rel="${rel}" class="${rel}" href="${encodeURIComponent(c.name)}.html">${rel === "prev" ? "← " : ""}${md.inline(c.title)}${rel === "next" ? " →" : ""}</a>`
      : "";
  return `<nav class="chapters">${link(prev, "prev")}<a class="up" href="index.html">Contents</a>${link(next, "next")}</nav>`;
}

/**
 * A chapter's page.
 *
 * @example
 * const page = renderChapterPage(chapters[1], chapters[0], chapters[2], md, "tunebook");
 * fs.writeFileSync(page.file, page.html);
 */
export function renderChapterPage(
  ch: Chapter,
  prev: Chapter | undefined,
  next: Chapter | undefined,
  md: SiteMarkdown,
  siteTitle: string,
): RenderedPage {
  const counts: OutputCounts = { plots: 0, tables: 0 };
  const parts: string[] = [];
  ch.nb.cells.forEach((c, i) => {
    const src = joinText(c.source);
    if (c.cell_type === "markdown") {
      if (src.trim()) parts.push(`<section class="cell markdown">\n${md.block(src)}</section>\n`);
    } else if (c.cell_type === "code") {
      if (!src.trim() && !(c.outputs ?? []).length) return;
      const outputs = renderOutputs(c.outputs ?? [], md, counts, `cell${i + 1}`);
      parts.push(
        `<section class="cell code" id="cell-${i + 1}">\n<pre class="code"><code class="language-typescript">${highlightTs(src)}</code></pre>\n` +
          (outputs ? `<div class="outputs">\n${outputs}</div>\n` : "") +
          `</section>\n`,
      );
    } else if (src.trim()) {
      parts.push(`<section class="cell raw"><pre>${escapeHtml(src)}</pre></section>\n`);
    }
  });
  const html = layout({
    title: `${plainText(md, ch.title)} · ${siteTitle}`,
    siteTitle,
    body: `<article>\n${parts.join("")}</article>\n`,
    nav: chapterNav(md, prev, next),
    plots: counts.plots > 0,
  });
  return { file: `${ch.name}.html`, html, ...counts };
}

/**
 * The index page: the course outline.
 *
 * @example
 * renderIndexPage(chapters, md, "tunebook").html.includes("01_task_definition.html"); // true
 */
export function renderIndexPage(chapters: Chapter[], md: SiteMarkdown, siteTitle: string, intro = ""): RenderedPage {
  const items = chapters
    .map(
      (c) =>
        `<li><a class="title" href="${encodeURIComponent(c.name)}.html">${md.inline(c.title)}</a>` +
        (c.summary ? `<div class="summary">${md.block(c.summary)}</div>` : "") +
        `</li>`,
    )
    .join("\n");
  const body = `<h1>${escapeHtml(siteTitle)}</h1>\n${intro ? md.block(intro) : ""}<ol class="outline">\n${items}\n</ol>\n`;
  const nav = chapters.length
    ? `<nav class="chapters"><a rel="next" class="next" href="${encodeURIComponent(chapters[0].name)}.html">Start →</a></nav>`
    : "";
  return {
    file: "index.html",
    html: layout({ title: siteTitle, siteTitle, body, nav, plots: false }),
    plots: 0,
    tables: 0,
  };
}
