// The per-format cleaners keep the prose and the code and drop the markup.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  decodeEntities,
  gcideEntryToText,
  htmlToText,
  markdownToText,
  normalizeWhitespace,
  roffToText,
  rstToText,
} from "../../scripts/corpus/clean";

test("normalizeWhitespace: tabs, control characters, trailing spaces and runs of blank lines", () => {
  assert.equal(normalizeWhitespace("a\t b  \r\n\n\n\nc\u0007\u00a0d\n"), "a     b\n\nc d");
});

test("decodeEntities: named, decimal and hex; unknown names stay", () => {
  assert.equal(decodeEntities("&lt;a&gt; &amp; &#39;x&#x27; &bogus;"), "<a> & 'x' &bogus;");
});

test("htmlToText drops scripts, navigation bars and tags, keeps <pre> indentation", () => {
  const html = `<html><head><title>T</title></head><body><div class="navheader"><table><tr><td>Prev</td></tr></table></div>
    <h2>Title &amp; more</h2>   <p>Some   <b>bold</b> text.</p><script>var x = 1;</script>
    <pre class="screen">$ ls
    indented</pre><ul class="docnav top"><li>Next</li></ul></body></html>`;
  const text = htmlToText(html);
  assert.equal(text, "Title & more\n\nSome bold text.\n\n$ ls\n    indented");
});

test("rstToText: roles, literals, headings, comments; API directives keep their signature, others go", () => {
  const rst = [
    ":mod:`json` --- JSON encoder",
    "==============================",
    "",
    ".. module:: json",
    "   :synopsis: Encode and decode",
    "",
    ".. This is a comment",
    "   spanning two lines",
    "",
    ".. function:: dumps(obj, *, indent=None)",
    "",
    "   Serialize ``obj`` with :func:`repr` and see `the spec <https://example.org>`_::",
    "",
    "      >>> json.dumps([1, 2])",
  ].join("\n");
  assert.equal(
    rstToText(rst),
    "json --- JSON encoder\n\njson\n\ndumps(obj, *, indent=None)\n\n   Serialize obj with repr and see the spec:\n\n      >>> json.dumps([1, 2])",
  );
});

test("markdownToText: comments, link definitions, headings, fences and links", () => {
  const md =
    "# File system\n\n<!--introduced_in=v0.10.0-->\n\nUse [`fs.open()`][] or [the docs](https://x.y).\n\n```js\nconst fs = require('node:fs');\n```\n\n[`fs.open()`]: #fsopen\n";
  assert.equal(markdownToText(md), "File system\n\nUse fs.open() or the docs.\n\nconst fs = require('node:fs');");
});

test("roffToText: requests, font escapes and headings", () => {
  const roff = [
    '.\\" a comment',
    ".TH LS 1",
    ".SH NAME",
    "ls \\- list directory contents",
    ".SH DESCRIPTION",
    ".B ls",
    "lists \\fIfiles\\fP.",
    ".PP",
    "Second.",
  ].join("\n");
  assert.equal(roffToText(roff), "NAME\n\nls - list directory contents\n\nDESCRIPTION\n\nls\nlists files.\n\nSecond.");
});

test("gcideEntryToText: source tags, pronunciation, character codes and braces", () => {
  const entry =
    'Affear \\Af*fear"\\, v. t. [AS. [=a]f?ran. See\n   {Afeard}.]\n   To frighten. [Obs.] --Spenser.\n   [1913 Webster]\n';
  assert.equal(gcideEntryToText(entry), "Affear, v. t. [AS. fran. See Afeard.] To frighten. [Obs.] --Spenser.");
});
