/**
 * A small, strict argument parser for `tunebook <command>`: `--flag`, `--key value`, `--key=value`, and
 * `--` after which everything is positional and verbatim (leading spaces and dashes kept).
 * Unknown flags are errors that name the flag and list the known ones.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface FlagSpec {
  /** Flags that take a value (`--out DIR`). */
  values?: string[];
  /** Flags that are booleans (`--json`). */
  booleans?: string[];
  /** Flags that may repeat (values collected into an array). */
  repeat?: string[];
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | string[]>;
  positional: string[];
}

export function parseArgs(argv: string[], spec: FlagSpec, command = "tunebook"): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const bools = new Set(spec.booleans ?? []);
  const repeat = new Set(spec.repeat ?? []);
  const flags: ParsedArgs["flags"] = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (bools.has(name)) {
        if (eq > 0) throw new UsageError(`${command}: --${name} takes no value`);
        flags[name] = true;
      } else if (values.has(name) || repeat.has(name)) {
        let v: string;
        if (eq > 0) v = a.slice(eq + 1);
        else {
          if (i + 1 >= argv.length) throw new UsageError(`${command}: --${name} needs a value`);
          v = argv[++i];
        }
        if (repeat.has(name)) flags[name] = [...((flags[name] as string[]) ?? []), v];
        else flags[name] = v;
      } else {
        const known = [...values, ...repeat, ...bools].map((f) => `--${f}`).join(", ");
        throw new UsageError(`${command}: unknown option --${name}${known ? ` (known: ${known})` : ""}`);
      }
    } else positional.push(a);
  }
  return { flags, positional };
}

/** A string flag, or undefined. */
export function str(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
}

/** A plain decimal number as a person types it: `12`, `-3`, `0.5`, `.5`, `3e-4`, `1e9` — not `""`, `0x10`,
 * `Infinity`, ` 5` or `1_000`, which `Number()` would turn into numbers silently. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Bounds of a numeric flag. */
export interface NumberBounds {
  min?: number;
  max?: number;
  /** `min` itself is not allowed (e.g. a temperature > 0). */
  exclusiveMin?: boolean;
}

function range(b: NumberBounds): string {
  const lo = b.min === undefined ? "" : `${b.exclusiveMin ? ">" : ">="} ${b.min}`;
  const hi = b.max === undefined ? "" : `<= ${b.max}`;
  return [lo, hi].filter(Boolean).join(" and ");
}

/**
 * Parse one numeric flag value; errors name the flag, the value and what was expected.
 * @example
 * parseNumberFlag("0.5", "top-p", { min: 0, exclusiveMin: true, max: 1 }); // 0.5
 * parseNumberFlag("1.5", "limit", { min: 1 }, true); // throws "--limit must be an integer >= 1, got \"1.5\""
 */
export function parseNumberFlag(v: string, name: string, bounds: NumberBounds = {}, integer = false): number {
  const n = DECIMAL.test(v) ? Number(v) : NaN;
  const tooLow = bounds.min !== undefined && (bounds.exclusiveMin ? n <= bounds.min : n < bounds.min);
  const tooHigh = bounds.max !== undefined && n > bounds.max;
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n)) || tooLow || tooHigh) {
    const what = [integer ? "an integer" : "a number", range(bounds)].filter(Boolean).join(" ");
    throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** An integer flag >= `min` (default 1), or the default; errors name the flag and the bad value. */
export function int(p: ParsedArgs, name: string, def?: number, min = 1, max?: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return def;
  return parseNumberFlag(v, name, { min, max }, true);
}

/** A finite number flag (or default), optionally bounded. */
export function num(p: ParsedArgs, name: string, def?: number, bounds: NumberBounds = {}): number | undefined {
  const v = str(p, name);
  if (v === undefined) return def;
  return parseNumberFlag(v, name, bounds);
}

/** Comma-separated integers, e.g. `--prompt-ids 1,2,3`. */
export function intList(p: ParsedArgs, name: string): number[] | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const parts = v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const out = parts.map((s) => Number(s));
  const bad = parts.findIndex((s, i) => !/^\d+$/.test(s) || !Number.isSafeInteger(out[i]));
  if (!parts.length || bad >= 0)
    throw new UsageError(`--${name} must be comma-separated non-negative integers, got ${JSON.stringify(v)}`);
  return out;
}

export function bool(p: ParsedArgs, name: string): boolean {
  return p.flags[name] === true;
}
