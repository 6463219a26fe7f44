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

/** A positive integer flag (or default); errors name the flag and the bad value. */
export function int(p: ParsedArgs, name: string, def?: number, min = 1): number | undefined {
  const v = str(p, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** A finite number flag (or default). */
export function num(p: ParsedArgs, name: string, def?: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Comma-separated integers, e.g. `--prompt-ids 1,2,3`. */
export function intList(p: ParsedArgs, name: string): number[] | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const parts = v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const out = parts.map((s) => Number(s));
  const bad = parts.findIndex((s, i) => !/^\d+$/.test(s) || !Number.isSafeInteger(out[i]));
  if (!parts.length || bad >= 0) throw new UsageError(`--${name} must be comma-separated non-negative integers, got ${JSON.stringify(v)}`);
  return out;
}

export function bool(p: ParsedArgs, name: string): boolean {
  return p.flags[name] === true;
}
