import { test } from "node:test";
import * as assert from "node:assert/strict";
import { parameterRows, familyPoints, familyFigure } from "../../src/course/small-model";
import { getPreset, countParameters } from "../../src/model/presets";
import { makeConfig } from "../../src/model/config";

test("parameterRows: pythia-70m parts sum to the published total, 70,426,624", () => {
  const rows = parameterRows(getPreset("pythia-70m"));
  const total = rows.find((r) => r.part === "total")!;
  assert.equal(total.parameters, 70_426_624);
  const parts = rows.filter((r) => r.part !== "total");
  assert.equal(
    parts.reduce((a, r) => a + r.parameters, 0),
    70_426_624,
  );
  assert.ok(Math.abs(parts.reduce((a, r) => a + r.share, 0) - 1) < 1e-12);
  // 50,304 × 512 each for the input and the (untied) output table
  assert.equal(rows.find((r) => r.part === "input embedding")!.parameters, 50304 * 512);
  assert.equal(rows.find((r) => r.part === "output projection")!.parameters, 50304 * 512);
});

test("parameterRows: a tied output table counts 0 and says so", () => {
  const cfg = makeConfig({
    vocabSize: 100,
    hiddenSize: 16,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 32,
    tieWordEmbeddings: true,
  });
  const out = parameterRows(cfg).find((r) => r.part === "output projection")!;
  assert.equal(out.parameters, 0);
  assert.match(out.tensors, /tied/);
  assert.equal(parameterRows(cfg).at(-1)!.parameters, countParameters(cfg).total);
});

test("familyPoints / familyFigure: sorted by size, extras highlighted, log axis; bad counts rejected", () => {
  const pts = familyPoints({ "embedded default": 5_256_704 });
  assert.equal(pts[0].name, "embedded default");
  assert.ok(pts[0].highlighted);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i].parameters >= pts[i - 1].parameters);
  assert.ok(pts.some((p) => p.name === "pythia-70m" && p.parameters === 70_426_624 && !p.highlighted));
  const fig = familyFigure({ mine: 1e6 });
  assert.equal((fig.layout.yaxis as any).type, "log");
  assert.equal(fig.data.length, 2);
  assert.deepEqual((fig.data[1] as any).x, ["mine"]);
  assert.equal(familyFigure().data.length, 1);
  assert.throws(() => familyPoints({ broken: -3 }), /broken.*positive/);
  assert.throws(() => familyPoints({ nan: NaN }), /nan/);
});
