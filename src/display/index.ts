/** `tunebook/display`: rich notebook output (MIME bundles, tables, plotly figures, markdown, live progress and charts). */
export { show, table, markdown, html, toBundle, displayable, isDisplayable, DISPLAY } from "./show";
export type { Displayable } from "./show";
export { Figure } from "./figure";
export type { FigureOptions } from "./figure";
export { progress, liveChart } from "./live";
export type { Progress, ProgressExtra, ProgressOptions, LiveChart, LiveChartOptions } from "./live";
export { plotlyBundle, isPlotlyFigure } from "./plotly";
export type { PlotlyFigure, PlotlyTrace } from "./plotly";
export { tableBundle } from "./table";
export type { TableOptions } from "./table";
export { inKernel, sendBundle } from "./kernel";
export type { MimeBundle } from "./kernel";
