/**
 * Tables as notebook output: an escaped HTML `<table>` + an aligned `text/plain` form, from
 * - arrays of records (`[{a: 1, b: "x"}, ...]`; columns are the union of keys in first-seen order),
 * - danfojs DataFrames and Series (recognised by shape, so `display` never imports danfojs),
 * - plain objects (`{key: value}` → a two-column key/value table; nested objects give dotted keys).
 * Long tables show their first and last rows with a "…" row between and say how many were hidden.
 */
import { escapeHtml } from "./escape";
import type { MimeBundle } from "./kernel";

export interface TableOptions {
  /** Tables longer than this show `headRows` first and `tailRows` last rows. */
  maxRows: number;
  headRows: number;
  tailRows: number;
  /** Cell text longer than this is cut with "…" (both forms). */
  maxCellChars: number;
  /** Significant digits for non-integer numbers. */
  digits: number;
  /** Optional caption above the table. */
  caption?: string;
}

export const DEFAULT_TABLE_OPTIONS: TableOptions = {
  maxRows: 20,
  headRows: 10,
  tailRows: 5,
  maxCellChars: 200,
  digits: 6,
};

/** Columns, an optional index, and rows of cell values. */
export interface TableData {
  columns: string[];
  index?: unknown[];
  rows: unknown[][];
}

/** Duck type for danfojs' DataFrame / Series: `columns`, `index`, `values`, `shape`. */
interface FrameLike {
  columns: unknown[];
  index: unknown[];
  values: unknown[];
  shape: number[];
}

/**
 * True for danfojs DataFrames and Series (and look-alikes).
 *
 * @example
 * isFrameLike(new dfd.DataFrame({ a: [1, 2] })); // true
 */
export function isFrameLike(x: unknown): boolean {
  if (!x || typeof x !== "object") return false;
  const f = x as Partial<FrameLike>;
  return Array.isArray(f.columns) && Array.isArray(f.index) && Array.isArray(f.values) && Array.isArray(f.shape);
}

/** True for non-empty arrays whose items are all plain objects (records). */
export function isRecordArray(x: unknown): x is Record<string, unknown>[] {
  return Array.isArray(x) && x.length > 0 && x.every((r) => r !== null && typeof r === "object" && !Array.isArray(r));
}

/**
 * Normalise what `table()` accepts into columns + rows.
 *
 * @example
 * toTableData([{ a: 1 }, { a: 2, b: "x" }]); // { columns: ["a", "b"], rows: [[1, undefined], [2, "x"]] }
 */
export function toTableData(x: unknown): TableData {
  if (isFrameLike(x)) {
    const f = x as FrameLike;
    const columns = f.columns.map(String);
    const rows = f.values.map((r) => (Array.isArray(r) ? r : [r]));
    return { columns, index: f.index, rows };
  }
  if (Array.isArray(x)) {
    if (x.length === 0) return { columns: [], rows: [] };
    if (!isRecordArray(x)) {
      const bad = x.findIndex((r) => r === null || typeof r !== "object" || Array.isArray(r));
      throw new TypeError(
        `table: expected an array of records (objects); item ${bad} is ${Array.isArray(x[bad]) ? "an array" : JSON.stringify(x[bad])}`,
      );
    }
    const cols: string[] = [];
    const seen = new Set<string>();
    for (const r of x) for (const k of Object.keys(r)) if (!seen.has(k)) seen.add(k), cols.push(k);
    return { columns: cols, rows: x.map((r) => cols.map((c) => r[c])) };
  }
  if (x && typeof x === "object") {
    return { columns: ["key", "value"], rows: flattenEntries(x as Record<string, unknown>, "", 3) };
  }
  throw new TypeError(
    `table: expected an array of records, a danfojs DataFrame/Series or an object, got ${x === null ? "null" : typeof x}`,
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    !!v &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    !ArrayBuffer.isView(v) &&
    Object.getPrototypeOf(v) === Object.prototype
  );
}

/** `{a: {b: 1}, c: 2}` → `[["a.b", 1], ["c", 2]]` (nested plain objects up to `depth` levels). */
function flattenEntries(x: Record<string, unknown>, prefix: string, depth: number): unknown[][] {
  const rows: unknown[][] = [];
  for (const [k, v] of Object.entries(x)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v) && depth > 1 && Object.keys(v).length) rows.push(...flattenEntries(v, key, depth - 1));
    else rows.push([key, v]);
  }
  return rows;
}

/** Format one cell value as text. */
export function formatCell(v: unknown, digits = DEFAULT_TABLE_OPTIONS.digits): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "number")
    return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(Number(v.toPrecision(digits)));
  if (typeof v === "string") return v;
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  if (ArrayBuffer.isView(v)) return `[${Array.from(v as unknown as ArrayLike<number>).join(", ")}]`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function cut(s: string, n: number): string {
  return s.length > n ? s.slice(0, Math.max(0, n - 1)) + "…" : s;
}

/** Which row numbers to show, with `null` where the "…" row goes. */
function visibleRows(n: number, o: TableOptions): (number | null)[] {
  if (n <= o.maxRows) return Array.from({ length: n }, (_, i) => i);
  const head = Array.from({ length: Math.min(o.headRows, n) }, (_, i) => i);
  const tail = Array.from(
    { length: Math.min(o.tailRows, n - head.length) },
    (_, i) => n - Math.min(o.tailRows, n - head.length) + i,
  );
  return [...head, null, ...tail];
}

/**
 * The MIME bundle of a table (pure): `text/html` (escaped) and `text/plain`.
 *
 * @example
 * tableBundle([{ name: "<b>", n: 1 }])["text/html"]; // contains "&lt;b&gt;", never "<b>"
 */
export function tableBundle(x: unknown, opts: Partial<TableOptions> = {}): MimeBundle {
  const o: TableOptions = { ...DEFAULT_TABLE_OPTIONS, ...opts };
  const t = toTableData(x);
  const n = t.rows.length;
  const show = visibleRows(n, o);
  const hidden = n - show.filter((i) => i !== null).length;
  const cell = (v: unknown) => cut(formatCell(v, o.digits).replace(/\r?\n/g, " ⏎ "), o.maxCellChars);
  const hasIndex = t.index !== undefined;
  const header = [...(hasIndex ? [""] : []), ...t.columns];
  const body = show.map((i) =>
    i === null
      ? null
      : [...(hasIndex ? [formatCell(t.index![i])] : []), ...t.columns.map((_, j) => cell(t.rows[i][j]))],
  );
  const footer = `${n} row${n === 1 ? "" : "s"} × ${t.columns.length} column${t.columns.length === 1 ? "" : "s"}${hidden ? ` (${hidden} not shown)` : ""}`;

  const th = (s: string) => `<th>${escapeHtml(s)}</th>`;
  const td = (s: string, k: number) =>
    hasIndex && k === 0 ? `<th>${escapeHtml(s)}</th>` : `<td>${escapeHtml(s)}</td>`;
  const html = [
    `<div class="tunebook-table">`,
    o.caption ? `<div><strong>${escapeHtml(o.caption)}</strong></div>` : "",
    `<table class="dataframe" border="1">`,
    `<thead><tr style="text-align: right;">${header.map(th).join("")}</tr></thead>`,
    `<tbody>`,
    ...body.map((r) =>
      r === null ? `<tr>${header.map(() => "<td>…</td>").join("")}</tr>` : `<tr>${r.map(td).join("")}</tr>`,
    ),
    `</tbody>`,
    `</table>`,
    `<p><small>${escapeHtml(footer)}</small></p>`,
    `</div>`,
  ]
    .filter((s) => s !== "")
    .join("\n");

  const widths = header.map((h, k) => Math.max(h.length, ...body.map((r) => (r === null ? 1 : r[k].length))));
  const line = (cells: string[]) =>
    cells
      .map((c, k) => c.padEnd(widths[k]))
      .join("  ")
      .trimEnd();
  const text = [
    ...(o.caption ? [o.caption] : []),
    line(header),
    ...body.map((r) => line(r === null ? header.map(() => "…") : r)),
    `[${footer}]`,
  ].join("\n");
  return { "text/html": html, "text/plain": text };
}
