import { test } from "node:test";
import * as assert from "node:assert/strict";
import { highlightTs } from "../../../src/tools/site/highlight";

const unescape = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");

test("highlighting keeps the whole source, in order, escaped", () => {
  const samples = [
    "const x = \"a</script><b>\" + `t ${y} </pre>` + 'c'; // <i>",
    "/* block\n comment */ let n = 0x1F + 1_000 + 2.5e-3 + 10n;",
    "if (a < b && c > d) { await run(); }",
    'const s = "unterminated\nnext line',
    "",
    "x / y / z; const r = /re/g;",
  ];
  for (const s of samples) {
    const html = highlightTs(s);
    assert.equal(unescape(html), s, `round trip of ${JSON.stringify(s)}`);
    assert.ok(!/<(?!\/?span\b)/.test(html), `only span tags in ${html}`);
  }
});

test("tokens get their classes", () => {
  const html = highlightTs('const n = 42; // answer\nawait show("hi", true);\nnew Figure();');
  assert.match(html, /<span class="tok-kw">const<\/span>/);
  assert.match(html, /<span class="tok-num">42<\/span>/);
  assert.match(html, /<span class="tok-com">\/\/ answer<\/span>/);
  assert.match(html, /<span class="tok-kw">await<\/span> <span class="tok-fn">show<\/span>/);
  assert.match(html, /<span class="tok-str">&quot;hi&quot;<\/span>/);
  assert.match(html, /<span class="tok-lit">true<\/span>/);
  assert.match(html, /<span class="tok-type">Figure<\/span>/);
});

test("keywords inside strings and comments are not keywords", () => {
  const html = highlightTs('"const" // return');
  assert.ok(!html.includes("tok-kw"), html);
});

test("property names are not keywords", () => {
  const html = highlightTs("opts.default + opts.new");
  assert.ok(!html.includes("tok-kw"), html);
});
