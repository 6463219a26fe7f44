import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderSite, SiteRenderError, SITE_MARKER } from "../../../src/tools/site/render";
import { code, md, notebook, stream, writeCourse, writeNb } from "./helpers";

const quiet = { log: () => undefined };

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tb-site-render-"));
}

/** Entries of a folder other than the given ones (temporary build folders left behind?). */
const leftovers = (dir: string, keep: string[]) => fs.readdirSync(dir).filter((e) => !keep.includes(e));

test("renders an index, one page per chapter, assets, prev/next links", async () => {
  const dir = tmp();
  try {
    const files = writeCourse(path.join(dir, "executed"));
    const out = path.join(dir, "site");
    const r = await renderSite({ notebooks: files, executed: true, outDir: out, ...quiet });
    assert.equal(r.outDir, out);
    assert.deepEqual(
      fs.readdirSync(out).sort(),
      [SITE_MARKER, "01_first.html", "02_second.html", "03_third.html", "assets", "index.html"].sort(),
    );
    assert.deepEqual(fs.readdirSync(path.join(out, "assets")).sort(), ["plotly.min.js", "site.css", "site.js"]);
    const plotly = fs.readFileSync(require.resolve("plotly.js-dist-min/plotly.min.js"));
    assert.ok(fs.readFileSync(path.join(out, "assets", "plotly.min.js")).equals(plotly), "plotly.js copied verbatim");
    assert.deepEqual(
      r.pages.map((p) => [p.title, p.plots, p.tables]),
      [
        ["01 · First steps", 1, 0],
        ["02 · Second", 0, 1],
        ["03 · Third", 2, 1],
      ],
    );

    const index = fs.readFileSync(r.index, "utf8");
    for (const name of ["01_first", "02_second", "03_third"]) assert.ok(index.indexOf(`href="${name}.html"`) > 0, name);
    assert.ok(
      index.indexOf("01_first.html") < index.indexOf("02_second.html") &&
        index.indexOf("02_second.html") < index.indexOf("03_third.html"),
      "chapters in order",
    );
    assert.match(index, /<em>first<\/em> chapter/);
    assert.match(index, /Second chapter&#39;s summary|Second chapter's summary/);
    assert.ok(!index.includes("plotly.min.js"), "the index does not load plotly.js");

    const p1 = fs.readFileSync(path.join(out, "01_first.html"), "utf8");
    assert.match(p1, /<a rel="next" class="next" href="02_second.html">/);
    assert.ok(!p1.includes('rel="prev"'), "first chapter has no previous");
    assert.match(p1, /<a href="02_second.html">the next one<\/a>/);
    assert.match(p1, /<script src="assets\/plotly.min.js"><\/script>\n<script src="assets\/site.js"><\/script>/);
    assert.ok(!/https?:\/\/[^"']*(cdn|plot\.ly)/i.test(p1), "no CDN");
    assert.ok(!p1.includes("if (!window.Plotly)"), "the notebook's inline plotly.js is not copied");
    assert.match(p1, /<pre class="output stream stdout">hello\n<\/pre>/);
    const p2 = fs.readFileSync(path.join(out, "02_second.html"), "utf8");
    assert.match(p2, /rel="prev" class="prev" href="01_first.html"/);
    assert.match(p2, /rel="next" class="next" href="03_third.html"/);
    assert.ok(!p2.includes("plotly.min.js"), "a page without plots does not load plotly.js");
    const p3 = fs.readFileSync(path.join(out, "03_third.html"), "utf8");
    assert.ok(!p3.includes('rel="next"'), "last chapter has no next");
    assert.equal(leftovers(dir, ["executed", "site"]).length, 0, "no temporary folders left");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a failing notebook is named with its cell; the earlier site stays as it was", async () => {
  const dir = tmp();
  try {
    const files = writeCourse(path.join(dir, "executed"));
    const out = path.join(dir, "site");
    await renderSite({ notebooks: files, executed: true, outDir: out, ...quiet });
    const before = fs.readFileSync(path.join(out, "index.html"), "utf8");
    const bad = writeNb(
      path.join(dir, "executed"),
      "04_broken.ipynb",
      notebook([
        md("# 04"),
        code("ok()", [], 1),
        code(
          'const x: number = "a";',
          [stream("stderr", "1:7 - Type 'string' is not assignable to type 'number'.\n")],
          2,
        ),
        code("later()", [], null),
      ]),
    );
    await assert.rejects(
      renderSite({ notebooks: [...files, bad], executed: true, outDir: out, ...quiet }),
      (e: Error) => {
        assert.ok(e instanceof SiteRenderError, String(e));
        assert.match(e.message, /04_broken\.ipynb FAILED at cell 3 \(code cell 2\)/);
        assert.match(e.message, /const x: number = "a";/);
        assert.match(e.message, /not assignable/);
        return true;
      },
    );
    assert.equal(fs.readFileSync(path.join(out, "index.html"), "utf8"), before, "old site untouched");
    assert.ok(!fs.existsSync(path.join(out, "04_broken.html")));
    assert.equal(leftovers(dir, ["executed", "site"]).length, 0, "no temporary folders left");

    const fresh = path.join(dir, "fresh");
    await assert.rejects(renderSite({ notebooks: [bad], executed: true, outDir: fresh, ...quiet }), SiteRenderError);
    assert.ok(!fs.existsSync(fresh), "no half-written site");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("an earlier site is replaced as a whole; a folder that is not a site is refused", async () => {
  const dir = tmp();
  try {
    const files = writeCourse(path.join(dir, "executed"));
    const out = path.join(dir, "site");
    await renderSite({ notebooks: files, executed: true, outDir: out, ...quiet });
    await renderSite({ notebooks: files.slice(0, 1), executed: true, outDir: out, ...quiet });
    assert.ok(!fs.existsSync(path.join(out, "02_second.html")), "pages of the old site are gone");
    assert.ok(fs.existsSync(path.join(out, "01_first.html")));

    const mine = path.join(dir, "mine");
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, "thesis.txt"), "precious");
    await assert.rejects(
      renderSite({ notebooks: files, executed: true, outDir: mine, ...quiet }),
      /not a tunebook site.*refusing/,
    );
    assert.equal(fs.readFileSync(path.join(mine, "thesis.txt"), "utf8"), "precious");
    const file = path.join(dir, "afile");
    fs.writeFileSync(file, "x");
    await assert.rejects(renderSite({ notebooks: files, executed: true, outDir: file, ...quiet }), /is not a folder/);
    await assert.rejects(renderSite({ notebooks: [], executed: true, outDir: out, ...quiet }), /no notebooks/);
    await assert.rejects(
      renderSite({ notebooks: [files[0], files[0]], executed: true, outDir: out, ...quiet }),
      /two notebooks are named 01_first/,
    );
    fs.writeFileSync(path.join(dir, "executed", "05_bad.ipynb"), "{");
    await assert.rejects(
      renderSite({ notebooks: [path.join(dir, "executed", "05_bad.ipynb")], executed: true, outDir: out, ...quiet }),
      (e: Error) => e instanceof SiteRenderError && /05_bad\.ipynb: not a notebook/.test(e.message),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
