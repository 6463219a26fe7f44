/**
 * `show(x)`: one call that puts anything worth looking at into the notebook as a full MIME bundle.
 * - objects with a `[Symbol.for("Jupyter.display")]()` method returning a MIME bundle (the Deno
 *   convention; `table()`, `markdown()`, `html()` and `Figure` return such objects),
 * - plotly figures `{data, layout}` (plotly.js is sent once per kernel session before the first plot),
 * - danfojs DataFrames / Series and arrays of records (tables),
 * - anything else as text.
 * Outside a kernel (plain node, the CLI) `show` prints the `text/plain` form.
 */
import { inspect } from "node:util";
import { sendBundle, type MimeBundle, type SendOptions, inKernel, DISPLAY } from "./kernel";
import { isPlotlyFigure, plotlyBundle, plotlyLoaderBundle, PLOTLY_MIME } from "./plotly";
import { isFrameLike, isRecordArray, tableBundle, type TableOptions } from "./table";
import { markdownBundle, type MarkdownOptions } from "./markdown";

export { DISPLAY };

/** Anything that knows its own MIME bundle. */
export interface Displayable {
  [DISPLAY](): MimeBundle;
}

/** True when `x` has a `[Symbol.for("Jupyter.display")]` method. */
export function isDisplayable(x: unknown): x is Displayable {
  return (
    (typeof x === "object" || typeof x === "function") &&
    x !== null &&
    typeof (x as Record<symbol, unknown>)[DISPLAY] === "function"
  );
}

/** Wrap a bundle so that `show()` sends it and `console.log` prints its text. */
export function displayable(bundle: MimeBundle): Displayable {
  return {
    [DISPLAY]: () => bundle,
    [inspect.custom]: () => String(bundle["text/plain"] ?? ""),
    toString: () => String(bundle["text/plain"] ?? ""),
  } as Displayable;
}

function checkBundle(b: unknown, what: string): MimeBundle {
  if (!b || typeof b !== "object" || Array.isArray(b))
    throw new TypeError(
      `show: ${what}[Symbol.for("Jupyter.display")]() must return a MIME bundle object, got ${Array.isArray(b) ? "an array" : typeof b}`,
    );
  const bad = Object.keys(b).filter((k) => !/^[\w.+-]+\/[\w.+-]+$/.test(k));
  if (bad.length || !Object.keys(b).length)
    throw new TypeError(
      `show: ${what} bundle keys must be MIME types like "text/html"; got ${JSON.stringify(Object.keys(b))}`,
    );
  return b as MimeBundle;
}

/**
 * The MIME bundle `show(x)` would send (pure).
 *
 * @example
 * Object.keys(toBundle([{ a: 1 }])); // ["text/html", "text/plain"]
 */
export function toBundle(x: unknown): MimeBundle {
  if (isDisplayable(x)) {
    const name = (x as object).constructor?.name;
    return checkBundle(x[DISPLAY](), name && name !== "Object" ? name : "object");
  }
  if (isPlotlyFigure(x)) return plotlyBundle(x);
  if (isFrameLike(x) || isRecordArray(x)) return tableBundle(x);
  if (typeof x === "string") return { "text/plain": x };
  return { "text/plain": inspect(x, { depth: 4, colors: false }) };
}

let plotlyLoaded = false;

/**
 * Send a bundle (used by `show` and the live displays): sends plotly.js first when the bundle holds
 * the first plot of this kernel session; prints `text/plain` outside a kernel.
 */
export function emit(bundle: MimeBundle, opts: SendOptions = {}): void {
  if (!inKernel()) {
    if (!opts.update) console.log(String(bundle["text/plain"] ?? ""));
    return;
  }
  if (bundle[PLOTLY_MIME] !== undefined && !plotlyLoaded) {
    sendBundle(plotlyLoaderBundle());
    plotlyLoaded = true;
  }
  sendBundle(bundle, opts);
}

/**
 * Show anything in the notebook (or print its text outside one).
 *
 * @example
 * show({ data: [{ x: [1, 2, 3], y: [3, 1, 2] }], layout: { title: "a plot" } });
 * show(df);                          // danfojs DataFrame → HTML table
 * show([{ task: "classify", kind: "reading" }]);
 * show(markdown("**done**"));
 */
export function show(x: unknown): void {
  emit(toBundle(x));
}

/**
 * A table from records, a DataFrame/Series or a `{key: value}` object (`show(table(rows))`).
 *
 * @example
 * show(table([{ input: "2+2", output: "4" }], { caption: "pairs" }));
 */
export function table(x: unknown, opts: Partial<TableOptions> = {}): Displayable {
  return displayable(tableBundle(x, opts));
}

/**
 * Markdown rendered with marked (`show(markdown(text))`).
 *
 * @example
 * show(markdown("## Results\n- accuracy **0.91**"));
 */
export function markdown(text: string, opts: Partial<MarkdownOptions> = {}): Displayable {
  return displayable(markdownBundle(text, opts));
}

/**
 * Raw HTML you trust, with a text fallback (`show(html("<b>hi</b>", "hi"))`).
 *
 * @example
 * show(html("<em>note</em>", "note"));
 */
export function html(markup: string, text = markup.replace(/<[^>]*>/g, "")): Displayable {
  return displayable({ "text/html": markup, "text/plain": text });
}

/** Forget that plotly.js was sent (tests; or after clearing the output that carried it). */
export function resetPlotlyLoader(): void {
  plotlyLoaded = false;
}
