import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { findClaims, notebookClaims, unsupportedClaims, EXAMPLE_MARKER } from "../../../src/tools/notebooks/claims";
import { readNotebook, type NotebookJson } from "../../../src/tools/notebooks/strip";
import { projectRoot } from "../../../src/tools/notebooks/paths";

const md = (source: string) => ({ cell_type: "markdown", metadata: {}, source });
const code = (source: string, outputs: unknown[] = []) => ({
  cell_type: "code",
  metadata: {},
  execution_count: 1,
  source,
  outputs,
});
const stream = (text: string) => ({ output_type: "stream", name: "stdout", text });
const shown = (mime: string, text: string) => ({ output_type: "display_data", metadata: {}, data: { [mime]: text } });
const nb = (...cells: ReturnType<typeof md | typeof code>[]): NotebookJson => ({
  cells,
  metadata: {},
  nbformat: 4,
  nbformat_minor: 4,
});

test("claims: percentages (with ranges), decimals and N-of-M counts; code, links and versions are not claims", () => {
  const c = findClaims(
    "Exact match went 0 % → 18.8 % (82–87 % in PyTorch); F1 0.00 → 0.26; 3 of 64 e-mails. It ends at 0.5.\n\n`lr 0.5` and [v1.2](https://x.org/1.5%) and OpenBLAS 0.3.21 and 5.3M parameters.",
  );
  assert.deepEqual(
    c.map((x) => [x.kind, x.values]),
    [
      ["percent", ["0"]],
      ["percent", ["18.8"]],
      ["percent", ["82", "87"]],
      ["count", ["3", "64"]],
      ["decimal", ["0.00"]],
      ["decimal", ["0.26"]],
      ["decimal", ["0.5"]],
    ],
  );
});

test("a contradicted number fails: the markdown says 18.8 %, the run printed 10.9 %", () => {
  const bad = nb(
    md("Exact match reaches 18.8 % on the test set."),
    code("show(summary)", [shown("text/markdown", "exact match **0.0 % → 10.9 %**")]),
  );
  const errs = unsupportedClaims(bad, "04.ipynb");
  assert.equal(errs.length, 1);
  assert.match(errs[0], /04\.ipynb: cell 1: "18\.8 %"/);
  const good = nb(
    md("Exact match reaches 18.8 % on the test set."),
    code("show(summary)", [shown("text/markdown", "exact match **0.0 % → 18.8 %**")]),
  );
  assert.deepEqual(unsupportedClaims(good), []);
});

test("an N-of-M count must match the outputs; a count printed differently is caught", () => {
  const text = "The generator produced 0 usable pairs of 6.";
  assert.equal(unsupportedClaims(nb(md(text), code("gen()", [stream("kept 4 of 6 pairs\n")]))).length, 1);
  assert.deepEqual(unsupportedClaims(nb(md(text), code("gen()", [stream("0 usable pairs of 6\n")]))), []);
});

test("a number rendered by code is an output, not static prose, and is true by construction", () => {
  const n = nb(
    md("## Results"),
    code("show(markdown(`accuracy ${percent(acc)}`))", [shown("text/markdown", "accuracy 77.1 %")]),
  );
  assert.deepEqual(notebookClaims(n), []);
});

test("settings the code sets are supported: literal numbers, and percentages whose fraction is in the code", () => {
  const n = nb(
    md("Train on 10, 25, 50 and 100 % of the pool at lr 0.005."),
    code("sweep({ fractions: [0.1, 0.25, 0.5, 1], lr: 0.005 })"),
  );
  assert.deepEqual(
    notebookClaims(n).map((c) => [c.text, c.support]),
    [
      ["100 %", "setting"],
      ["0.005", "setting"],
    ],
  );
  assert.equal(unsupportedClaims(nb(md("Train on 30 % of the pool."), code("sweep({ fractions: [0.1] })"))).length, 1);
});

test("a recorded number needs the word and a date in its paragraph; an illustration needs the marker", () => {
  const recorded = nb(
    md("On a 2-core AMD EPYC (Zen 5), recorded 2026-12-05 in docs/embedded-model.md: 62.5 %."),
    code("x"),
  );
  assert.deepEqual(
    notebookClaims(recorded).map((c) => c.support),
    ["recorded"],
  );
  // "recorded" without a date, or the date in another paragraph, is not a label
  assert.equal(unsupportedClaims(nb(md("In our recorded runs: 62.5 %."), code("x"))).length, 1);
  assert.equal(unsupportedClaims(nb(md("Recorded 2026-12-05.\n\nIt reached 62.5 %."), code("x"))).length, 1);
  const example = nb(md(`${EXAMPLE_MARKER}\nOn a set that is 90 % ham, 90 % accuracy means nothing.`), code("x"));
  assert.deepEqual(
    notebookClaims(example).map((c) => c.support),
    ["example", "example"],
  );
});

test("a number is matched whole and to its stated precision: 8 % is not 18 %, 18.8 % is not 19 %, 18 % may round 18.4 %", () => {
  assert.equal(
    unsupportedClaims(nb(md("It reached 8 % and F1 0.5."), code("x", [stream("18 % and 0.64\n")]))).length,
    2,
  );
  assert.equal(unsupportedClaims(nb(md("It reached 18.8 %."), code("x", [stream("accuracy 19 %\n")]))).length, 1);
  assert.deepEqual(
    unsupportedClaims(nb(md("It reached about 18 % and F1 0.5."), code("x", [stream("18.4 % and 0.52\n")]))),
    [],
  );
});

test("numbers inside scripts (plotly.js, a chart's data) support nothing; a link makes a quoted number cited", () => {
  const chart = shown("text/html", "<div></div><script>Plotly.newPlot('x', [{y: [0.26, 18.8]}])</script>");
  assert.equal(unsupportedClaims(nb(md("F1 reached 0.26."), code("show(fig)", [chart]))).length, 1);
  const cited = nb(md("PaLM reported 46.2 % MFU ([Chowdhery et al.](https://arxiv.org/abs/2204.02311))."), code("x"));
  assert.deepEqual(
    notebookClaims(cited).map((c) => c.support),
    ["cited"],
  );
});

test("the committed notebooks need outputs only for the numbers their runs print (no stale result quoted as fact)", () => {
  // Stripped notebooks have no outputs, so every claim must be a setting, recorded or an example — except the
  // ones listed here, which the executed copies must carry (the runner checks them after each run).
  const dir = path.join(projectRoot(), "notebooks");
  const expectFromRun: Record<string, string[]> = {};
  for (const f of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb"))
    .sort()) {
    const open = notebookClaims(readNotebook(path.join(dir, f)))
      .filter((c) => c.support === null)
      .map((c) => c.text);
    if (open.length) expectFromRun[f] = open;
  }
  assert.deepEqual(expectFromRun, {
    "01_task_definition.ipynb": ["50 %"], // the majority-class rate the next cell prints
    "06_lora.ipynb": ["1.2"], // the LoRA paper's 1.2 TB, in the paper column of the table below it
    "07_compute_sizing.ipynb": ["1.2"], // the same
  });
});
