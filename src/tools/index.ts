/** `tunebook/tools`: the notebook runner, the static site and the bench harness (tools above the library). */
export { runNotebook, runNotebooks, formatFailure } from "./notebooks/runner";
export type { NotebookResult, RunOptions } from "./notebooks/runner";
export { renderSite, DEFAULT_SITE_OPTIONS, SiteRenderError } from "./site/render";
export type { SiteOptions, SiteResult } from "./site/render";
export { runBench, DEFAULT_BENCH } from "./bench/run";
export { runWorkload, DEFAULT_WORKLOAD, BENCH_MODES } from "./bench/workloads";
export { benchLines, formatTable, METRICS } from "./bench/report";
export { machinePeak } from "./bench/peak";
