// Synthetic executed notebooks for the site's unit tests (the shapes nbclient and Jupyter write).
import * as fs from "node:fs";
import * as path from "node:path";
import type { NbCell, NbOutput, SiteNotebook } from "../../../src/tools/site/notebook";

export const md = (source: string): NbCell => ({ cell_type: "markdown", source, metadata: {} });

export const code = (source: string, outputs: NbOutput[] = [], execution_count: number | null = 1): NbCell => ({
  cell_type: "code",
  source,
  outputs,
  execution_count,
  metadata: {},
});

export const plotOut = (title: string): NbOutput => ({
  output_type: "display_data",
  data: {
    "application/vnd.plotly.v1+json": {
      data: [{ type: "scatter", x: [1, 2, 3], y: [3, 1, 2], name: "loss" }],
      layout: { title: { text: title }, height: 300 },
      config: {},
    },
    "text/html": ['<div class="tunebook-plot"></div>\n', "<script>draw()</script>"],
    "text/plain": ["Plotly figure"],
  },
  metadata: {},
});

export const tableOut = (cell: string): NbOutput => ({
  output_type: "display_data",
  data: {
    "text/html": [
      `<div class="tunebook-table"><table class="dataframe"><thead><tr><th>a</th></tr></thead>`,
      `<tbody><tr><td>${cell}</td></tr></tbody></table></div>`,
    ],
    "text/plain": [cell],
  },
  metadata: {},
});

export const loaderOut = (): NbOutput => ({
  output_type: "display_data",
  data: {
    "text/html": '<script type="text/javascript">\nif (!window.Plotly) {\n/* plotly.js */\n}\n</script>',
    "text/plain": "(plotly.js 3.1.0 loaded for this notebook's plots)",
  },
  metadata: {},
});

export const stream = (name: "stdout" | "stderr", text: string): NbOutput => ({ output_type: "stream", name, text });

export function notebook(cells: NbCell[]): SiteNotebook {
  return { cells, metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } } };
}

export function writeNb(dir: string, name: string, nb: SiteNotebook): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ ...nb, nbformat: 4, nbformat_minor: 5 }, null, 1));
  return file;
}

/** A small executed course: three chapters, plots and tables, a link from 01 to 02. */
export function writeCourse(dir: string): string[] {
  return [
    writeNb(
      dir,
      "01_first.ipynb",
      notebook([
        md("# 01 · First steps\n\nThe *first* chapter: see [the next one](02_second.ipynb)."),
        code('import { show } from "tunebook";\nconsole.log("hello");', [stream("stdout", "hello\n")], 1),
        code("show(fig);", [loaderOut(), plotOut("loss curve")], 2),
      ]),
    ),
    writeNb(
      dir,
      "02_second.ipynb",
      notebook([
        md("# 02 · Second\n\n## Part\n\nSecond chapter's summary."),
        code("show(table(rows));", [tableOut("x < y & z")], 1),
      ]),
    ),
    writeNb(
      dir,
      "03_third.ipynb",
      notebook([
        md("# 03 · Third\n\nThe end."),
        code("show(a); show(b);", [plotOut("a"), plotOut("b"), tableOut("t")], 1),
      ]),
    ),
  ];
}
