import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  BYTES_PER_PARAM,
  checkNumber,
  formatGiB,
  formatParams,
  parseDtype,
  parseParamCount,
  SizingError,
} from "../../src/sizing/units";

test("bytes per parameter by dtype (Transformer Math 101)", () => {
  assert.deepEqual({ ...BYTES_PER_PARAM }, { fp32: 4, fp16: 2, bf16: 2, int8: 1, int4: 0.5 });
});

test("parseParamCount reads suffixes and plain numbers", () => {
  assert.equal(parseParamCount("7b"), 7e9);
  assert.equal(parseParamCount("70M"), 7e7);
  assert.equal(parseParamCount("1.4B"), 1.4e9);
  assert.equal(parseParamCount("2t"), 2e12);
  assert.equal(parseParamCount("7e9"), 7e9);
  assert.equal(parseParamCount(12345), 12345);
});

test("parseParamCount rejects zero, negative, NaN, absurd and garbage", () => {
  for (const bad of [0, -1, "-5", NaN, Infinity, "NaN", "abc", "7 gigaparams", "", 2e15, "1e16", null, {}]) {
    assert.throws(
      () => parseParamCount(bad as never),
      (e: unknown) => e instanceof SizingError && /params/.test((e as Error).message),
      String(bad),
    );
  }
  assert.throws(() => parseParamCount(2e15), /absurd/);
  assert.throws(() => parseParamCount(-3), /positive/);
});

test("parseDtype accepts aliases and names the known dtypes on error", () => {
  assert.equal(parseDtype("BF16"), "bf16");
  assert.equal(parseDtype("float16"), "fp16");
  assert.equal(parseDtype("float32"), "fp32");
  assert.throws(() => parseDtype("fp8"), /fp32, fp16, bf16, int8, int4/);
});

test("checkNumber names the field and the range", () => {
  assert.equal(checkNumber(3, "seq", { min: 1, integer: true }), 3);
  assert.throws(() => checkNumber(0, "seq", { min: 1, integer: true }), /seq must be an integer >= 1, got 0/);
  assert.throws(() => checkNumber(1.5, "batch", { min: 1, integer: true }), /batch/);
  assert.throws(() => checkNumber(NaN, "mfu", { min: 0, max: 1 }), /mfu/);
  assert.throws(() => checkNumber("3", "gpus"), /gpus/);
});

test("formatting", () => {
  assert.equal(formatGiB(16 * 2 ** 30), "16.00 GiB");
  assert.equal(formatGiB(14e9), "13.04 GiB");
  assert.equal(formatGiB(327680), "320.00 KiB");
  assert.equal(formatParams(6_738_415_616), "6.74B");
  assert.equal(formatParams(18_874_368), "18.9M");
});
