/**
 * Markdown cells → HTML for the static site, through `marked` (GFM). The notebooks' markdown is the
 * course's own hand-written prose, so raw HTML in it passes through (as Jupyter shows it). Two site
 * specifics: links to another chapter (`02_data_generation.ipynb`, `./03_x.ipynb#part`) point to its
 * page (`02_data_generation.html`), and fenced TypeScript/JavaScript blocks are highlighted like code
 * cells.
 */
import { escapeHtml } from "../../display/escape";
import { highlightTs } from "./highlight";

type MarkedModule = typeof import("marked");

/** Options of the site's markdown renderer. */
export interface SiteMarkdownOptions {
  /** Notebook base names (without `.ipynb`) that have a page; links to them are rewritten to `.html`. */
  pages: string[];
}

export const DEFAULT_SITE_MARKDOWN_OPTIONS: SiteMarkdownOptions = { pages: [] };

/** Renders markdown (block and inline) to HTML. */
export interface SiteMarkdown {
  block(src: string): string;
  inline(src: string): string;
  /** A link to a course notebook as its page's link (`chapterHref` over this site's pages); others unchanged. */
  href(href: string): string;
}

function loadMarked(): MarkedModule {
  try {
    // marked is an ES module; Node >= 20.19 can require() it (the display code does the same).
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require("marked") as MarkedModule;
  } catch (e) {
    throw new Error(
      `the static site needs the 'marked' package (a dependency of tunebook; run \`npm install\`): ${(e as Error).message}`,
    );
  }
}

const HIGHLIGHTED = new Set(["ts", "typescript", "js", "javascript", "tsx", "jsx"]);

/**
 * Rewrite an href to a course notebook into its page's href; others are returned unchanged.
 *
 * @example
 * chapterHref("./02_data_generation.ipynb#dedup", ["02_data_generation"]); // "02_data_generation.html#dedup"
 */
export function chapterHref(href: string, pages: string[]): string {
  const m = href.match(/^(?:\.\/)?([^/?#]+)\.ipynb(#.*)?$/);
  if (!m) return href;
  let name: string;
  try {
    name = decodeURIComponent(m[1]);
  } catch {
    return href;
  }
  return pages.includes(name) ? `${encodeURIComponent(name)}.html${m[2] ?? ""}` : href;
}

/**
 * A markdown renderer for the site's pages.
 *
 * @example
 * const md = siteMarkdown({ pages: ["02_data_generation"] });
 * md.block("Next: [notebook 02](02_data_generation.ipynb)"); // '<p>Next: <a href="02_data_generation.html">notebook 02</a></p>\n'
 */
export function siteMarkdown(opts: Partial<SiteMarkdownOptions> = {}): SiteMarkdown {
  const o: SiteMarkdownOptions = { ...DEFAULT_SITE_MARKDOWN_OPTIONS, ...opts };
  const { Marked } = loadMarked();
  const marked = new Marked({
    gfm: true,
    walkTokens(token) {
      if (token.type === "link" && typeof token.href === "string") token.href = chapterHref(token.href, o.pages);
    },
    renderer: {
      code({ text, lang }) {
        const l = (lang ?? "").trim().split(/\s+/)[0].toLowerCase();
        const body = HIGHLIGHTED.has(l) ? highlightTs(text) : escapeHtml(text);
        return `<pre class="code"><code${l ? ` class="language-${escapeHtml(l)}"` : ""}>${body}</code></pre>\n`;
      },
    },
  });
  return {
    block: (src) => marked.parse(src, { async: false }) as string,
    inline: (src) => marked.parseInline(src, { async: false }) as string,
    href: (href) => chapterHref(href, o.pages),
  };
}
