/**
 * The one plotly figure type: plain JSON `{data, layout?, config?}` as plotly.js takes it. Every figure the
 * library makes (evaluation, sizing, scaling, the course's charts, display's `Figure` builder) has this type,
 * and `show()` renders it. It sits at the bottom of the layers so that a layer below display can build a
 * figure without importing display.
 */

/** One plotly trace (`{type: "scatter", x, y, name, mode}` ...): see plotly.js' reference. */
export type PlotlyTrace = Record<string, unknown>;

/** A plotly figure: traces, a layout and a config. */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}
