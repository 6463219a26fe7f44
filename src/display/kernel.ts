/**
 * The channel to the running tslab kernel: send a display_data message carrying a whole MIME bundle
 * (several MIME types at once) and, for live displays, update_display_data messages that replace an
 * earlier output in place through its display id.
 *
 * tslab's public `display.raw()` sends one MIME type per message. The kernel's internal module
 * `tslab/dist/jupyter.js` keeps `lastWriteDisplayData(content, update)`, set at each execute request,
 * that sends `content` as is (`{data, metadata, transient: {display_id}}`). We look it up among the
 * modules already loaded in this process (the kernel loaded it), so it works whether the kernel is the
 * project's tslab or a global one. Outside a kernel (plain node, the CLI) there is none and callers fall
 * back to printing `text/plain`.
 */
import { guardKernelSends } from "./send-guard";

/** The Deno / Jupyter convention: `x[DISPLAY]()` (`Symbol.for("Jupyter.display")`) returns a MIME bundle. */
export const DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A Jupyter MIME bundle: MIME type → content (strings or JSON for `application/*+json`). */
export type MimeBundle = Record<string, unknown>;

/** A function that writes one display message, as tslab's jupyter module keeps it. */
export type WriteDisplayData = (
  content: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } },
  update: boolean,
) => void;

let override: WriteDisplayData | null | undefined;

/** The kernel's writer, or null outside a tslab kernel. */
function writer(): WriteDisplayData | null {
  if (override !== undefined) return override;
  const cache = (typeof require !== "undefined" ? require.cache : undefined) ?? {};
  for (const [file, mod] of Object.entries(cache)) {
    if (!mod || !/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    guardKernelSends(file); // once: see send-guard.ts (a chatty cell could otherwise crash the kernel)
    const w = (mod.exports as { lastWriteDisplayData?: unknown })?.lastWriteDisplayData;
    if (typeof w === "function") return w as WriteDisplayData;
  }
  return null;
}

/**
 * True when this code runs inside a tslab kernel that is executing a cell.
 *
 * @example
 * if (!inKernel()) console.log("plain node: show() prints text");
 */
export function inKernel(): boolean {
  return writer() !== null;
}

export interface SendOptions {
  /** Display id: later `update: true` sends with the same id replace this output in place. */
  displayId?: string;
  /** Send update_display_data (replace the output with `displayId`) instead of a new display_data. */
  update?: boolean;
  /** Per-MIME metadata. */
  metadata?: Record<string, unknown>;
}

/**
 * Send a MIME bundle to the notebook. Returns false (and sends nothing) outside a kernel.
 *
 * @example
 * sendBundle({ "text/html": "<b>hi</b>", "text/plain": "hi" });
 * sendBundle({ "text/plain": "50%" }, { displayId: "p1" });               // first
 * sendBundle({ "text/plain": "100%" }, { displayId: "p1", update: true }); // replaces it
 */
export function sendBundle(bundle: MimeBundle, opts: SendOptions = {}): boolean {
  if (opts.update && !opts.displayId) throw new Error("sendBundle: update: true needs a displayId");
  const w = writer();
  if (!w) return false;
  const transient = opts.displayId ? { display_id: opts.displayId } : {};
  w({ data: bundle, metadata: opts.metadata ?? {}, transient }, !!opts.update);
  return true;
}

/**
 * Replace the kernel channel (tests): a function receives every message; `null` means "no kernel";
 * `undefined` restores the automatic lookup.
 *
 * @example
 * const sent: unknown[] = [];
 * setDisplaySink((msg, update) => sent.push({ msg, update }));
 */
export function setDisplaySink(sink: WriteDisplayData | null | undefined): void {
  override = sink;
}

/** A fresh random display id (hex). */
export function newDisplayId(): string {
  let s = "";
  for (let i = 0; i < 16; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

// Loaded inside a tslab kernel: guard its sockets now, before the first cell sends hundreds of messages.
writer();
