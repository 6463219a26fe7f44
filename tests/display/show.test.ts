import { test, afterEach } from "node:test";
import * as assert from "node:assert/strict";
import { show, table, markdown, html, toBundle, resetPlotlyLoader, displayable } from "../../src/display/show";
import { setDisplaySink, inKernel, sendBundle, type MimeBundle } from "../../src/display/kernel";
import { PLOTLY_MIME } from "../../src/display/plotly";

type Sent = { data: MimeBundle; transient: { display_id?: string }; update: boolean };
function capture(): Sent[] {
  const sent: Sent[] = [];
  setDisplaySink((msg, update) => sent.push({ data: msg.data, transient: msg.transient, update }));
  return sent;
}
afterEach(() => {
  setDisplaySink(undefined);
  resetPlotlyLoader();
});

test("plain node is not a kernel; show prints text/plain", () => {
  setDisplaySink(undefined);
  assert.equal(inKernel(), false);
  assert.equal(sendBundle({ "text/plain": "x" }), false);
  const logged: string[] = [];
  const orig = console.log;
  console.log = (s: string) => logged.push(s);
  try {
    show([{ a: 1 }]);
    show("hello");
  } finally {
    console.log = orig;
  }
  assert.match(logged[0], /^a\n1\n\[1 row × 1 column\]$/);
  assert.equal(logged[1], "hello");
});

test("in a kernel, plotly.js goes out once before the first plot only", () => {
  const sent = capture();
  const fig = { data: [{ x: [1], y: [2] }] };
  show(fig);
  show(fig);
  assert.equal(sent.length, 3);
  assert.ok(String(sent[0].data["text/html"]).length > 1_000_000, "first: the plotly.js loader");
  assert.ok(PLOTLY_MIME in sent[1].data && PLOTLY_MIME in sent[2].data);
  assert.ok(sent.every((s) => !s.update));
});

test("tables, markdown, html and the Jupyter.display convention all send full bundles", async () => {
  const sent = capture();
  const dfd = await import("danfojs-node");
  show(new dfd.DataFrame({ a: [1, 2] }));
  show(table([{ x: "<i>" }], { caption: "cap" }));
  show(markdown("*m*"));
  show(html("<b>h</b>"));
  show({ [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<u>custom</u>", "text/plain": "custom" }) });
  assert.deepEqual(
    sent.map((s) => Object.keys(s.data).sort().join(",")),
    Array(5).fill("text/html,text/plain"),
  );
  assert.ok(String(sent[1].data["text/html"]).includes("&lt;i&gt;"));
  assert.equal(sent[3].data["text/plain"], "h");
  assert.equal(sent[4].data["text/html"], "<u>custom</u>");
  assert.equal(String(displayable({ "text/plain": "t" })), "t");
});

test("a bad Jupyter.display result is a clear error; other values show as text", () => {
  assert.throws(
    () => toBundle({ [Symbol.for("Jupyter.display")]: () => ({ html: "x" }) }),
    /bundle keys must be MIME types/,
  );
  assert.throws(
    () => toBundle({ [Symbol.for("Jupyter.display")]: () => "x" }),
    /must return a MIME bundle object, got string/,
  );
  assert.deepEqual(Object.keys(toBundle(42)), ["text/plain"]);
  assert.throws(() => sendBundle({ "text/plain": "x" }, { update: true }), /needs a displayId/);
});
