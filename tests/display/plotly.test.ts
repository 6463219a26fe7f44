import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  plotlyBundle,
  plotlyLoaderHtml,
  plotlyLoaderBundle,
  plotlyVersion,
  isPlotlyFigure,
  PLOTLY_MIME,
} from "../../src/display/plotly";
import { Figure } from "../../src/display/figure";
import { DISPLAY } from "../../src/display/kernel";

const fig = {
  data: [
    { type: "scatter", x: [1, 2, 3], y: new Float32Array([3, NaN, 2]), name: "</script><script>alert(1)</script>" },
  ],
  layout: { title: "loss" },
};

test("a figure's bundle has the plotly JSON, offline HTML and text", () => {
  const b = plotlyBundle(fig, { divId: "plot-1" });
  assert.deepEqual(Object.keys(b), [PLOTLY_MIME, "text/html", "text/plain"]);
  const json = b[PLOTLY_MIME] as { data: { y: unknown }[]; layout: unknown };
  assert.deepEqual(json.data[0].y, [3, null, 2], "typed arrays become plain JSON arrays, NaN becomes null");
  assert.deepEqual(json.layout, { title: "loss" });
  const html = String(b["text/html"]);
  assert.ok(!/https?:\/\//.test(html), "no URL (no CDN) in the plot HTML");
  assert.ok(!/<script[^>]*\bsrc=/.test(html));
  assert.equal(html.match(/<\/script/g)?.length, 1, "a trace name cannot close the script element");
  assert.ok(html.includes('id="plot-1"') && html.includes("window.Plotly.newPlot"));
  assert.match(String(b["text/plain"]), /^Plotly figure "loss": .*\(scatter, 3 points\)$/);
});

test("plotly.js is inlined once from the installed package, guarded against AMD/CommonJS", () => {
  const html = plotlyLoaderHtml();
  assert.ok(html.length > 1_000_000, "the whole plotly.js bundle is inline");
  assert.ok(html.includes(`plotly.js v${plotlyVersion()}`));
  assert.ok(!/<script[^>]*\bsrc=/.test(html), "no external script");
  assert.equal(html.match(/<\/script/gi)?.length, 1, "only the final </script> closes the element");
  assert.ok(
    html.includes("(function (module, exports, define)") &&
      html.includes(".call(window, undefined, undefined, undefined)"),
  );
  assert.ok(html.includes("if (!window.Plotly)"));
  assert.equal(plotlyLoaderBundle()["text/html"], html);
});

test("Figure builds traces and displays as a plotly bundle; bad input is refused", () => {
  const f = new Figure({ title: "t", xLabel: "step", yLabel: "loss", logY: true })
    .line([0, 1], [2, 1], { name: "train" })
    .bar(["a"], [1]);
  assert.ok(isPlotlyFigure(f));
  assert.equal(f.data.length, 2);
  assert.deepEqual((f.layout.yaxis as Record<string, unknown>).type, "log");
  assert.ok(PLOTLY_MIME in f[DISPLAY]());
  assert.throws(() => new Figure().line([1, 2], [1]), /x has 2 values but y has 1/);
  assert.throws(() => plotlyBundle({ data: "x" } as never), /expected a figure/);
  assert.ok(!isPlotlyFigure({ data: [1, 2] }));
});
