/**
 * `Figure`: a small builder for plotly figures, so that notebooks and callbacks configure plots
 * without writing plotly JSON by hand. It is a plain `{data, layout, config}` underneath, so
 * `show(fig)` and `show(fig.toJSON())` are the same.
 */
import type { PlotlyFigure, PlotlyTrace } from "../types/figure";
import { plotlyBundle } from "./plotly";
import { DISPLAY, type MimeBundle } from "./kernel";

export interface FigureOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis. */
  logY?: boolean;
  /** Height in pixels. */
  height?: number;
  /** Extra plotly layout merged last. */
  layout?: Record<string, unknown>;
}

export const DEFAULT_FIGURE_OPTIONS: FigureOptions = { height: 400 };

type XY = ArrayLike<number | string> | (number | string)[];

/**
 * A plotly figure under construction.
 *
 * @example
 * const fig = new Figure({ title: "loss", xLabel: "step", yLabel: "loss" })
 *   .line([0, 1, 2], [2.3, 1.9, 1.7], { name: "train" })
 *   .bar(["a", "b"], [3, 5], { name: "counts" });
 * show(fig);
 */
export class Figure implements PlotlyFigure {
  data: PlotlyTrace[] = [];
  layout: Record<string, unknown>;
  config: Record<string, unknown> = {};

  constructor(opts: FigureOptions = {}) {
    const o = { ...DEFAULT_FIGURE_OPTIONS, ...opts };
    this.layout = {
      ...(o.title ? { title: { text: o.title } } : {}),
      xaxis: { title: { text: o.xLabel ?? "" } },
      yaxis: { title: { text: o.yLabel ?? "" }, ...(o.logY ? { type: "log" } : {}) },
      ...(o.height ? { height: o.height } : {}),
      margin: { t: o.title ? 50 : 20, r: 20, b: 50, l: 60 },
      ...(o.layout ?? {}),
    };
  }

  /** Add any plotly trace. */
  add(trace: PlotlyTrace): this {
    if (!trace || typeof trace !== "object")
      throw new TypeError("Figure.add: a trace must be an object like {type, x, y}");
    this.data.push(trace);
    return this;
  }

  /** A line (with markers when `markers`). */
  line(x: XY, y: XY, opts: { name?: string; markers?: boolean } & PlotlyTrace = {}): this {
    const { markers, ...rest } = opts;
    checkXY("line", x, y);
    return this.add({
      type: "scatter",
      mode: markers ? "lines+markers" : "lines",
      x: Array.from(x),
      y: Array.from(y),
      ...rest,
    });
  }

  /** Points only. */
  scatter(x: XY, y: XY, opts: { name?: string } & PlotlyTrace = {}): this {
    checkXY("scatter", x, y);
    return this.add({ type: "scatter", mode: "markers", x: Array.from(x), y: Array.from(y), ...opts });
  }

  /** Bars. */
  bar(x: XY, y: XY, opts: { name?: string } & PlotlyTrace = {}): this {
    checkXY("bar", x, y);
    return this.add({ type: "bar", x: Array.from(x), y: Array.from(y), ...opts });
  }

  /** The plain figure object. */
  toJSON(): PlotlyFigure {
    return { data: this.data, layout: this.layout, config: this.config };
  }

  [DISPLAY](): MimeBundle {
    return plotlyBundle(this.toJSON());
  }
}

function checkXY(kind: string, x: XY, y: XY): void {
  if (x == null || y == null || typeof x.length !== "number" || typeof y.length !== "number")
    throw new TypeError(`Figure.${kind}: x and y must be arrays`);
  if (x.length !== y.length) throw new RangeError(`Figure.${kind}: x has ${x.length} values but y has ${y.length}`);
}
