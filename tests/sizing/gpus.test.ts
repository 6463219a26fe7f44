import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as os from "node:os";
import { getGpu, GPU_CATALOG, gpuIds, peakTflops, thisMachine, usableBytes } from "../../src/sizing/gpus";
import { SizingError } from "../../src/sizing/units";

test("the catalog has the issue's GPUs, lowercase unique ids, sources and sane numbers", () => {
  const ids = gpuIds();
  for (const id of [
    "v100-16gb",
    "v100-32gb",
    "t4-16gb",
    "a10g-24gb",
    "l4-24gb",
    "a100-40gb",
    "a100-80gb",
    "h100-80gb",
    "h200-141gb",
    "b200-180gb",
    "this-machine",
  ])
    assert.ok(ids.includes(id), id);
  assert.ok(ids.some((i) => i.startsWith("apple-")));
  assert.equal(new Set(ids).size, ids.length);
  for (const g of GPU_CATALOG) {
    assert.equal(g.id, g.id.toLowerCase());
    assert.ok(g.source.length > 5, g.id);
    assert.ok(g.memoryBytes >= 16 * 2 ** 30 && g.memoryBytes <= 200 * 2 ** 30, g.id);
    assert.ok((g.fp16Tflops ?? 0) >= (g.fp32Tflops ?? 0), `${g.id}: fp16 at least fp32`);
    assert.ok(g.usableFraction > 0 && g.usableFraction <= 1);
    // the id's memory matches the memory field
    const gb = Number(/-(\d+)gb$/.exec(g.id)![1]);
    assert.equal(g.memoryBytes, gb * 2 ** 30, g.id);
  }
});

test("getGpu is case-insensitive; an unknown id lists the known ones", () => {
  assert.equal(getGpu("A100-80GB").id, "a100-80gb");
  assert.throws(
    () => getGpu("rtx-9090"),
    (e: unknown) =>
      e instanceof SizingError &&
      /unknown GPU id "rtx-9090"; known: .*v100-16gb.*a100-80gb.*h100-80gb.*this-machine/.test((e as Error).message),
  );
  assert.throws(() => getGpu(""), /known/);
});

test("this machine: os.totalmem with 80% usable; Apple unified memory is partly usable", () => {
  const m = getGpu("this-machine");
  assert.equal(m.memoryBytes, os.totalmem());
  assert.equal(usableBytes(m), 0.8 * os.totalmem());
  assert.equal(thisMachine(8 * 2 ** 30).memoryBytes, 8 * 2 ** 30);
  const small = getGpu("apple-m2-16gb");
  const big = getGpu("apple-m2-ultra-128gb");
  assert.ok(usableBytes(small) < small.memoryBytes && usableBytes(big) < big.memoryBytes);
});

test("peak TFLOPS by dtype", () => {
  const h = getGpu("h100-80gb");
  assert.equal(peakTflops(h, "bf16"), 989);
  assert.equal(peakTflops(h, "fp32"), 67);
  assert.equal(peakTflops(h, "int4"), 989);
  assert.equal(peakTflops(getGpu("this-machine"), "fp32"), null);
});
