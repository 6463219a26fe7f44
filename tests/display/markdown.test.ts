import { test } from "node:test";
import * as assert from "node:assert/strict";
import { markdownBundle, renderMarkdown } from "../../src/display/markdown";

test("markdown renders with marked; raw HTML is escaped unless allowed", () => {
  const b = markdownBundle("## Hi\n\n**bold** <script>alert(1)</script>");
  assert.deepEqual(Object.keys(b).sort(), ["text/html", "text/plain"]);
  const html = String(b["text/html"]);
  assert.ok(html.includes("<h2>Hi</h2>") && html.includes("<strong>bold</strong>"));
  assert.ok(!html.includes("<script>") && html.includes("&lt;script&gt;"));
  const trusted = markdownBundle("<em>x</em>", { allowHtml: true });
  assert.ok(String(trusted["text/html"]).includes("<em>x</em>"));
  assert.equal(trusted["text/markdown"], "<em>x</em>");
  assert.throws(() => renderMarkdown(5 as never), /expected a string, got number/);
});
