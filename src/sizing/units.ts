/**
 * Units and input checks for the sizing calculator: bytes per parameter for each weight dtype, GiB
 * formatting, parameter-count parsing ("7b", "70m", "1.2e9"), and the one error type every sizing
 * function throws for bad input.
 *
 * Bytes per parameter: fp32 4, fp16/bf16 2, int8 1, int4 0.5 (EleutherAI, "Transformer Math 101",
 * https://blog.eleuther.ai/transformer-math/, section "Model Weights"). Quantised formats also store
 * per-block scales: int8 (LLM.int8) and int4 (GPTQ/AWQ, group size 128) add about 1-3% on top; the
 * overhead factor covers them, and NF4 with double quantisation is counted exactly in formulas.ts.
 */

/** Bad sizing input: the message names the field and what was expected. */
export class SizingError extends Error {
  override name = "SizingError";
}

/** Weight dtypes the calculator knows. */
export const DTYPES = ["fp32", "fp16", "bf16", "int8", "int4"] as const;
export type Dtype = (typeof DTYPES)[number];

/** Bytes one parameter takes in each dtype. */
export const BYTES_PER_PARAM: Readonly<Record<Dtype, number>> = Object.freeze({
  fp32: 4,
  fp16: 2,
  bf16: 2,
  int8: 1,
  int4: 0.5,
});

/** 2^30 bytes: GPU memory is sold in binary gigabytes ("16 GB" V100 = 16 GiB of HBM2). */
export const GIB = 1024 ** 3;

/** Largest parameter count accepted (1e15: a thousand times today's largest dense models). */
export const MAX_PARAMS = 1e15;

/**
 * Check a dtype name (case-insensitive, "float16"/"half"/"bfloat16"/"float32" accepted).
 *
 * @example
 * parseDtype("BF16"); // "bf16"
 */
export function parseDtype(v: unknown, field = "dtype"): Dtype {
  const aliases: Record<string, Dtype> = {
    float32: "fp32",
    float: "fp32",
    f32: "fp32",
    float16: "fp16",
    half: "fp16",
    f16: "fp16",
    bfloat16: "bf16",
    q8: "int8",
    q4: "int4",
  };
  const s = typeof v === "string" ? v.trim().toLowerCase() : "";
  const d = (DTYPES as readonly string[]).includes(s) ? (s as Dtype) : aliases[s];
  if (!d) throw new SizingError(`${field} ${JSON.stringify(v)} is not known; use one of: ${DTYPES.join(", ")}`);
  return d;
}

/**
 * Check that a value is a finite number in a range; the error names the field.
 *
 * @example
 * checkNumber(512, "seq", { min: 1, integer: true }); // 512
 */
export function checkNumber(
  v: unknown,
  field: string,
  opts: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {},
): number {
  const { min = -Infinity, max = Infinity, integer = false, exclusiveMin = false } = opts;
  const ok =
    typeof v === "number" &&
    Number.isFinite(v) &&
    (exclusiveMin ? v > min : v >= min) &&
    v <= max &&
    (!integer || Number.isInteger(v));
  if (!ok) {
    const range = `${exclusiveMin ? ">" : ">="} ${min}${Number.isFinite(max) ? ` and <= ${max}` : ""}`;
    throw new SizingError(
      `${field} must be ${integer ? "an integer" : "a number"} ${range}, got ${typeof v === "number" ? String(v) : JSON.stringify(v)}`,
    );
  }
  return v as number;
}

/**
 * A parameter count from a number or a string with an optional suffix (k, m, b, t; case-insensitive).
 * Rejects zero, negative, non-finite and absurd (> 1e15) counts.
 *
 * @example
 * parseParamCount("7b");   // 7e9
 * parseParamCount("70M");  // 7e7
 * parseParamCount(1.2e9);  // 1.2e9
 */
export function parseParamCount(v: unknown, field = "params"): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string") {
    const m = /^\s*([+-]?[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbt]?)\s*$/i.exec(v);
    if (!m) throw new SizingError(`${field} ${JSON.stringify(v)} is not a parameter count; write e.g. 70m, 1.4b, 7e9`);
    const mult = { "": 1, k: 1e3, m: 1e6, b: 1e9, t: 1e12 }[m[2].toLowerCase() as "" | "k" | "m" | "b" | "t"];
    n = Number(m[1]) * mult;
  } else throw new SizingError(`${field} must be a number or a string like "7b", got ${JSON.stringify(v)}`);
  if (!Number.isFinite(n) || n <= 0)
    throw new SizingError(`${field} must be a positive parameter count, got ${JSON.stringify(v)}`);
  if (n > MAX_PARAMS)
    throw new SizingError(
      `${field} ${JSON.stringify(v)} is absurd: more than ${MAX_PARAMS.toExponential(0)} parameters`,
    );
  return Math.round(n);
}

/**
 * Bytes as GiB with a unit, e.g. "13.04 GiB" (MiB below 1 GiB, KiB below 1 MiB).
 *
 * @example
 * formatGiB(14e9); // "13.04 GiB"
 */
export function formatGiB(bytes: number, digits = 2): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const abs = Math.abs(bytes);
  if (abs >= GIB) return `${(bytes / GIB).toFixed(digits)} GiB`;
  if (abs >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(digits)} MiB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(digits)} KiB`;
  return `${Math.round(bytes)} B`;
}

/**
 * A parameter count for people: "6.74B", "70.4M", "18.9M", "4.1K".
 *
 * @example
 * formatParams(6_738_415_616); // "6.74B"
 */
export function formatParams(n: number): string {
  const abs = Math.abs(n);
  const fmt = (x: number, s: string) => `${Number(x.toPrecision(3))}${s}`;
  if (abs >= 1e12) return fmt(n / 1e12, "T");
  if (abs >= 1e9) return fmt(n / 1e9, "B");
  if (abs >= 1e6) return fmt(n / 1e6, "M");
  if (abs >= 1e3) return fmt(n / 1e3, "K");
  return String(Math.round(n));
}
