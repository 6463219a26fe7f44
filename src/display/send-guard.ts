/**
 * Keep the tslab kernel alive through long, chatty cells.
 *
 * tslab (1.0.22) sends every Jupyter message with `socket.send(...)` and never waits for it. zeromq.js 6
 * allows one pending send per socket, and after 512 sends in a row that completed at once
 * (`max_sync_operations` in its socket.cc) it makes the next send wait for the event loop, so the event
 * loop is not starved; a second send in that moment throws EBUSY ("Socket is busy writing; only one send
 * operation may be in progress at any time"). Nothing handles it: thrown from a cell's display call, the
 * cell fails with no message (its error report is a send too); thrown from tslab's own status message,
 * the kernel process exits, Jupyter restarts it, and Run All loses every queued cell. A fine-tuning cell with a live
 * chart sends two display updates per step, so a few hundred steps reach the 513th message and can stop
 * a long training cell near its end (the Jupyter server's log then holds the EBUSY stack).
 *
 * `guardSocketSends` wraps a socket prototype's `send`: a send that would throw EBUSY waits for the
 * pending one instead, later sends queue behind it in order until the queue drains, and a queued send
 * that fails is reported on the kernel's own stderr (the Jupyter server's log) instead of killing the
 * process. Sends that can go at once still go at once, exactly as before.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";

const GUARDED = Symbol.for("tunebook.sendGuard");

/** What the guard needs of a socket: zeromq.js 6's `send(message, ...options): Promise<void>`. */
export type SendFn = (this: object, ...args: unknown[]) => Promise<void>;

interface QueueState {
  /** Sends waiting in the queue (or being sent from it). */
  queued: number;
  /** The last send handed to the socket: the pending one when a send throws EBUSY. */
  last?: Promise<void>;
  /** Settles when the last queued send has been handed over and finished. */
  tail?: Promise<unknown>;
}

const noop = () => undefined;
const MAX_RETRIES = 1000;
const isBusy = (e: unknown) => (e as { code?: string } | null)?.code === "EBUSY";

function report(e: unknown): void {
  try {
    // fd 2 is the kernel's real stderr (tslab redirects process.stderr.write to the running cell).
    fs.writeSync(
      2,
      `tunebook: a queued kernel message could not be sent: ${e instanceof Error ? e.message : String(e)}\n`,
    );
  } catch {
    /* nowhere to report */
  }
}

/**
 * Wrap `proto.send` so that overlapping sends queue instead of throwing EBUSY. Idempotent; returns false
 * when `proto` was guarded already.
 *
 * @example
 * guardSocketSends(Object.getPrototypeOf(require("zeromq").Publisher.prototype));
 */
export function guardSocketSends(proto: { send: SendFn }): boolean {
  const p = proto as { send: SendFn; [GUARDED]?: boolean };
  if (p[GUARDED]) return false;
  const original = p.send;
  // Per-socket queues (zeromq's sockets are not extensible: the state lives beside them).
  const states = new WeakMap<object, QueueState>();
  const guarded = function guardedSend(this: object, ...args: unknown[]): Promise<void> {
    let state = states.get(this);
    if (!state) states.set(this, (state = { queued: 0 }));
    const st = state;
    if (st.queued === 0) {
      try {
        const sent = original.apply(this, args);
        st.last = sent;
        return sent;
      } catch (e) {
        if (!isBusy(e)) throw e;
        // fall through: wait for the pending send
      }
    }
    st.queued++;
    // Hand the message over once the pending send is done; if the socket is still busy (a send from before the
    // guard was installed, which we cannot wait on), try again on the next turns of the event loop.
    const attempt = (tries: number): Promise<void> => {
      try {
        const s = original.apply(this, args);
        st.last = s;
        return s;
      } catch (e) {
        if (!isBusy(e) || tries >= MAX_RETRIES) throw e;
        return new Promise<void>((r) => setImmediate(r)).then(() => attempt(tries + 1));
      }
    };
    const after = st.tail ?? st.last ?? Promise.resolve();
    const sent = after.then(noop, noop).then(() => attempt(0));
    const done = sent.then(noop, report).finally(() => {
      if (--st.queued === 0 && st.tail === done) st.tail = undefined;
    });
    st.tail = done;
    return done as Promise<void>;
  };
  // zeromq's native `send` is read-only but configurable: redefine it with the same attributes.
  const desc = Object.getOwnPropertyDescriptor(p, "send");
  Object.defineProperty(p, "send", {
    value: guarded,
    writable: desc?.writable ?? true,
    enumerable: desc?.enumerable ?? false,
    configurable: true,
  });
  Object.defineProperty(p, GUARDED, { value: true });
  return true;
}

let installed = false;

/**
 * Guard the zeromq sockets of the tslab kernel this code runs in (`jupyterModuleFile` is tslab's loaded
 * `dist/jupyter.js`; its own `require` finds the very zeromq instance the kernel uses). Once per process;
 * does nothing when zeromq cannot be found.
 *
 * @example
 * guardKernelSends("/path/node_modules/tslab/dist/jupyter.js");
 */
export function guardKernelSends(jupyterModuleFile: string): boolean {
  if (installed) return false;
  installed = true;
  try {
    const zmq = createRequire(jupyterModuleFile)("zeromq") as { Publisher?: { prototype: object } };
    const proto = zmq.Publisher ? (Object.getPrototypeOf(zmq.Publisher.prototype) as { send?: SendFn }) : undefined;
    if (!proto || typeof proto.send !== "function") return false;
    return guardSocketSends(proto as { send: SendFn });
  } catch {
    return false;
  }
}
