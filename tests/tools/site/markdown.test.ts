import { test } from "node:test";
import * as assert from "node:assert/strict";
import { chapterHref, siteMarkdown } from "../../../src/tools/site/markdown";

test("links to course notebooks point to their pages; others stay", () => {
  const pages = ["02_data_generation", "03 small"];
  assert.equal(chapterHref("02_data_generation.ipynb", pages), "02_data_generation.html");
  assert.equal(chapterHref("./02_data_generation.ipynb#dedup", pages), "02_data_generation.html#dedup");
  assert.equal(chapterHref("03%20small.ipynb", pages), "03%20small.html");
  assert.equal(chapterHref("09_missing.ipynb", pages), "09_missing.ipynb");
  assert.equal(
    chapterHref("https://example.org/02_data_generation.ipynb", pages),
    "https://example.org/02_data_generation.ipynb",
  );
  assert.equal(chapterHref("../other/02_data_generation.ipynb", pages), "../other/02_data_generation.ipynb");
});

test("markdown renders with rewritten chapter links and highlighted fences", () => {
  const m = siteMarkdown({ pages: ["02_b"] });
  const html = m.block("See [next](02_b.ipynb).\n\n```ts\nconst a = 1;\n```\n\n```text\n<raw>\n```\n");
  assert.match(html, /<a href="02_b\.html">next<\/a>/);
  assert.match(html, /<pre class="code"><code class="language-ts"><span class="tok-kw">const<\/span>/);
  assert.match(html, /&lt;raw&gt;/);
  assert.equal(m.inline("**b** `c`"), "<strong>b</strong> <code>c</code>");
});
