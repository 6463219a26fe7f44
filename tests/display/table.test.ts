import { test } from "node:test";
import * as assert from "node:assert/strict";
import { tableBundle, toTableData, formatCell, isFrameLike } from "../../src/display/table";

test("records become a table with the union of keys, escaped HTML and aligned text", () => {
  const b = tableBundle([
    { a: 1, b: "<script>alert(1)</script>" },
    { a: 2.123456789, c: true },
  ]);
  assert.deepEqual(Object.keys(b).sort(), ["text/html", "text/plain"]);
  const html = String(b["text/html"]);
  assert.ok(!html.includes("<script>"), "raw <script> must not reach the HTML");
  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  for (const h of ["<th>a</th>", "<th>b</th>", "<th>c</th>"]) assert.ok(html.includes(h), h);
  assert.ok(html.includes("<td>2.12346</td>"), "non-integers are shown with 6 significant digits");
  const text = String(b["text/plain"]).split("\n");
  assert.match(text[0], /^a\s+b\s+c$/);
  assert.ok(text.some((l) => l.includes("true")));
  assert.equal(text.at(-1), "[2 rows × 3 columns]");
});

test("long tables show the first and last rows and say how many are hidden", () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ id: `row${i}` }));
  const b = tableBundle(rows, { maxRows: 20, headRows: 3, tailRows: 2 });
  const html = String(b["text/html"]);
  for (const i of [0, 1, 2, 98, 99]) assert.ok(html.includes(`<td>row${i}</td>`), `row${i} shown`);
  for (const i of [3, 50, 97]) assert.ok(!html.includes(`<td>row${i}</td>`), `row${i} hidden`);
  assert.ok(html.includes("<td>…</td>"));
  assert.ok(html.includes("100 rows × 1 column (95 not shown)"));
  const text = String(b["text/plain"]);
  assert.ok(text.includes("row99") && !text.includes("row50"));
});

test("danfojs DataFrames and Series become tables with their index", async () => {
  const dfd = await import("danfojs-node");
  const df = new dfd.DataFrame({ task: ["extract", "<b>write</b>"], n: [3, 4] });
  assert.ok(isFrameLike(df));
  const d = toTableData(df);
  assert.deepEqual(d.columns, ["task", "n"]);
  assert.deepEqual(d.index, [0, 1]);
  const html = String(tableBundle(df)["text/html"]);
  assert.ok(html.includes("<th>0</th><td>extract</td><td>3</td>"), html);
  assert.ok(html.includes("&lt;b&gt;write&lt;/b&gt;") && !html.includes("<b>write"));
  const s = toTableData((df as any).n);
  assert.deepEqual(s.rows, [[3], [4]]);
});

test("objects give key/value rows with dotted keys for nested objects", () => {
  const d = toTableData({ backend: "wasm", threads: { cpus: 2, backend: 1 }, list: [1, 2] });
  assert.deepEqual(d.columns, ["key", "value"]);
  assert.deepEqual(d.rows, [
    ["backend", "wasm"],
    ["threads.cpus", 2],
    ["threads.backend", 1],
    ["list", [1, 2]],
  ]);
  assert.equal(formatCell([1, 2]), "[1,2]");
  assert.equal(formatCell(null), "");
  assert.equal(formatCell(new Float32Array([1, 2])), "[1, 2]");
});

test("bad input names what was expected", () => {
  assert.throws(() => toTableData([{ a: 1 }, 5]), /item 1 is 5/);
  assert.throws(
    () => toTableData(7),
    /expected an array of records, a danfojs DataFrame\/Series or an object, got number/,
  );
});
