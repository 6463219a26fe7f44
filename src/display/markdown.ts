/**
 * Markdown as notebook output, rendered with `marked`: `text/html` (rendered) and `text/plain` (the
 * source). Raw HTML inside the markdown is escaped by default, so text that came from a model or a
 * dataset cannot inject markup or scripts; pass `{allowHtml: true}` for trusted, hand-written markdown
 * (then `text/markdown` is sent too, for front ends that render markdown themselves).
 */
import { escapeHtml } from "./escape";
import type { MimeBundle } from "./kernel";

export interface MarkdownOptions {
  /** Pass raw HTML in the markdown through unchanged (default false: it is shown escaped). */
  allowHtml: boolean;
}

export const DEFAULT_MARKDOWN_OPTIONS: MarkdownOptions = { allowHtml: false };

type MarkedModule = typeof import("marked");
let marked: MarkedModule | undefined;

function loadMarked(): MarkedModule {
  if (!marked) {
    try {
      // marked is an ES module; Node >= 20.19 can require() it.
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      marked = require("marked") as MarkedModule;
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new Error(
        code === "ERR_REQUIRE_ESM"
          ? `markdown: the 'marked' package is an ES module and this Node (${process.version}) cannot require() it; use Node >= 20.19`
          : `markdown: cannot load the 'marked' package: ${(e as Error).message}`,
      );
    }
  }
  return marked;
}

/**
 * Render markdown to HTML.
 *
 * @example
 * renderMarkdown("**bold** <b>x</b>"); // "<p><strong>bold</strong> &lt;b&gt;x&lt;/b&gt;</p>\n"
 */
export function renderMarkdown(text: string, opts: Partial<MarkdownOptions> = {}): string {
  if (typeof text !== "string")
    throw new TypeError(`markdown: expected a string, got ${text === null ? "null" : typeof text}`);
  const o = { ...DEFAULT_MARKDOWN_OPTIONS, ...opts };
  const { Marked } = loadMarked();
  const m = o.allowHtml
    ? new Marked()
    : new Marked({ renderer: { html: (token: { text: string }) => escapeHtml(token.text) } });
  return m.parse(text, { async: false }) as string;
}

/**
 * The MIME bundle of a markdown text (pure).
 *
 * @example
 * Object.keys(markdownBundle("# Title")); // ["text/markdown", "text/html", "text/plain"]
 */
export function markdownBundle(text: string, opts: Partial<MarkdownOptions> = {}): MimeBundle {
  const html = renderMarkdown(text, opts);
  const o = { ...DEFAULT_MARKDOWN_OPTIONS, ...opts };
  // text/markdown is rendered by the front end itself (with its own sanitiser); when raw HTML must stay
  // escaped, send only the HTML we rendered.
  return o.allowHtml
    ? { "text/markdown": text, "text/html": html, "text/plain": text }
    : { "text/html": html, "text/plain": text };
}
