import { test } from "node:test";
import * as assert from "node:assert/strict";
import { isPlotlyLoader, renderOutput, renderOutputs } from "../../../src/tools/site/outputs";
import { siteMarkdown } from "../../../src/tools/site/markdown";
import { plotlyLoaderBundle, plotlyBundle } from "../../../src/display/plotly";
import { loaderOut, plotOut, stream, tableOut } from "./helpers";

const md = siteMarkdown();

test("the output that carried plotly.js is dropped; the real loader is recognised", () => {
  assert.equal(isPlotlyLoader(loaderOut()), true);
  assert.equal(isPlotlyLoader({ output_type: "display_data", data: plotlyLoaderBundle() }), true);
  assert.equal(isPlotlyLoader(plotOut("x")), false);
  assert.equal(isPlotlyLoader(tableOut("x")), false);
  const counts = { plots: 0, tables: 0 };
  assert.equal(renderOutput(loaderOut(), md, counts, "a"), "");
  assert.deepEqual(counts, { plots: 0, tables: 0 });
});

test("plots become a div with the figure as inline JSON that cannot break out of its script", () => {
  const counts = { plots: 0, tables: 0 };
  const fig = plotlyBundle({
    data: [{ type: "bar", x: ["</script><b>"], y: [1] }],
    layout: { title: { text: "t" }, height: 250 },
  });
  const html = renderOutput({ output_type: "display_data", data: fig }, md, counts, "c1-0");
  assert.equal(counts.plots, 1);
  assert.match(html, /<div class="tb-plot" id="c1-0" style="height:250px" data-figure="c1-0-fig"><\/div>/);
  const json = html.match(/<script type="application\/json" id="c1-0-fig">([\s\S]*?)<\/script>/);
  assert.ok(json, html);
  assert.ok(!json[1].includes("</"), "no closing tag inside the JSON");
  const parsed = JSON.parse(json[1]);
  assert.deepEqual(parsed.data[0].x, ["</script><b>"]);
  assert.equal(parsed.layout.title.text, "t");
  assert.ok(!html.includes("draw()") && !html.includes("tunebook-plot"), "the notebook's own HTML/script is not used");
});

test("tables are counted; streams and text are escaped; stderr is marked", () => {
  const counts = { plots: 0, tables: 0 };
  const html = renderOutputs(
    [
      tableOut("x &lt; y"),
      stream("stdout", "a <b> \x1b[32mgreen\x1b[0m\n"),
      stream("stderr", "warn\n"),
      { output_type: "execute_result", data: { "text/plain": "<5>" } },
    ],
    md,
    counts,
    "c2",
  );
  assert.equal(counts.tables, 1);
  assert.match(html, /<td>x &lt; y<\/td>/);
  assert.match(html, /<pre class="output stream stdout">a &lt;b&gt; green\n<\/pre>/);
  assert.match(html, /<pre class="output stream stderr">warn/);
  assert.match(html, /<pre class="output text">&lt;5&gt;<\/pre>/);
});

test("markdown and images; unknown outputs are skipped", () => {
  const counts = { plots: 0, tables: 0 };
  assert.match(
    renderOutput({ output_type: "display_data", data: { "text/markdown": "**hi**" } }, md, counts, "m"),
    /<strong>hi<\/strong>/,
  );
  assert.match(
    renderOutput({ output_type: "display_data", data: { "image/png": "iVBORw0K\nGgo=" } }, md, counts, "i"),
    /src="data:image\/png;base64,iVBORw0KGgo="/,
  );
  assert.equal(
    renderOutput({ output_type: "display_data", data: { "image/png": "not base64!<" } }, md, counts, "i"),
    "",
  );
  assert.equal(
    renderOutput({ output_type: "display_data", data: { "application/x-unknown": {} } }, md, counts, "u"),
    "",
  );
  assert.equal(
    renderOutput(
      { output_type: "display_data", data: { "application/vnd.plotly.v1+json": "{broken" } },
      md,
      counts,
      "p",
    ),
    "",
  );
  assert.equal(counts.plots, 0);
});

test("HTML outputs: links to course notebooks become page links; other links and text are left alone", () => {
  const md = siteMarkdown({ pages: ["03_small_model_cpu", "06_lora"] });
  const counts = { plots: 0, tables: 0 };
  const html =
    '<svg><a href="03_small_model_cpu.ipynb"><text>03</text></a><a class="x" href="./06_lora.ipynb#merge">06</a>' +
    '<a href="https://example.org/a.ipynb">ext</a><a href="99_missing.ipynb">?</a></svg><p>href="03_small_model_cpu.ipynb"</p>';
  const out = renderOutput({ output_type: "display_data", data: { "text/html": html } }, md, counts, "h");
  assert.ok(out.includes('<a href="03_small_model_cpu.html">'), out);
  assert.ok(out.includes('<a class="x" href="06_lora.html#merge">'), out);
  assert.ok(out.includes('href="https://example.org/a.ipynb"'), out);
  assert.ok(out.includes('href="99_missing.ipynb"'), out);
  assert.ok(out.includes('<p>href="03_small_model_cpu.ipynb"</p>'), "text outside an <a> tag is not rewritten");
});
