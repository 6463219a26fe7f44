#!/usr/bin/env python3
"""Execute one notebook headless with nbclient (driven by `tunebook notebooks run`).

Usage: run_notebook.py --in SRC.ipynb --out DST.ipynb [--kernel tslab] [--timeout S]
                       [--startup-timeout S] [--cwd DIR]

Runs the code cells in order in a real Jupyter kernel, stops at the first failing cell and writes the
executed copy (complete, or up to the failing cell) atomically to DST. A cell fails when the kernel's
execute_reply says status "error" (tslab sends no `error` output, only stderr text, so the stderr
stream of the cell is the error message), when it produced an `error` output, when the kernel reported
an uncaught exception or unhandled rejection on stderr, on timeout, or when the kernel died.
Progress goes to stderr; the last line on stdout is one JSON object with the result.
"""
import argparse
import json
import math
import os
import sys
import tempfile
import time

ASYNC_ERROR_MARKERS = ("UncaughtException:", "UnhandledPromiseRejection:")

# Hidden cells (never saved). tslab prints uncaught exceptions and unhandled rejections that surface
# after a cell has replied (a promise without `await`, a throwing timer) to a stream whose cell has
# already finished, so nbclient drops them. The setup cell records them in the kernel; the check cell,
# run after every cell, waits a moment and fails if any were recorded.
SETUP_SRC = """(() => {
  const g = globalThis as any;
  if (g.tunebookAsyncErrors) return;
  g.tunebookAsyncErrors = [];
  process.on("unhandledRejection", (r: any) => g.tunebookAsyncErrors.push("UnhandledPromiseRejection: " + String((r && r.stack) || r)));
  process.on("uncaughtException", (e: any) => g.tunebookAsyncErrors.push("UncaughtException: " + String((e && e.stack) || e)));
})();"""
CHECK_SRC = """await new Promise((r) => setTimeout(r, %d));
(() => {
  const errors: string[] = (globalThis as any).tunebookAsyncErrors.splice(0);
  if (!errors.length) return;
  process.stderr.write("the cell left an asynchronous error (a promise without await, or a throwing callback):\\n" + errors.join("\\n") + "\\n");
  throw new Error("async error");
})();"""


def result(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def write_atomic(nbformat, nb, path):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ipynb", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def cell_error_text(cell):
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            parts.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            tb = o.get("traceback") or []
            parts.append("\n".join(tb) if tb else "%s: %s" % (o.get("ename", "Error"), o.get("evalue", "")))
    return "".join(parts).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="src", required=True)
    ap.add_argument("--out", dest="dst", required=True)
    ap.add_argument("--kernel", default="tslab")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--startup-timeout", type=float, default=120)
    ap.add_argument("--cwd", default=None)
    ap.add_argument("--async-wait-ms", type=int, default=20)
    a = ap.parse_args()

    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
    except ImportError as e:
        result({"ok": False, "kind": "missing", "error": str(e)})
        return 3

    try:
        nb = nbformat.read(a.src, as_version=4)
    except Exception as e:  # unreadable or invalid JSON
        result({"ok": False, "kind": "read", "error": "cannot read %s: %s" % (a.src, e)})
        return 2

    cwd = a.cwd or os.path.dirname(os.path.abspath(a.src))
    client = NotebookClient(
        nb,
        timeout=int(math.ceil(a.timeout)),
        startup_timeout=int(math.ceil(a.startup_timeout)),
        kernel_name=a.kernel,
        allow_errors=True,
        record_timing=True,
        resources={"metadata": {"path": cwd}},
    )
    replies = {}

    def on_cell_executed(cell=None, cell_index=None, execute_reply=None, **_):
        replies[cell_index] = execute_reply

    client.on_cell_executed = on_cell_executed
    from nbformat.v4 import new_code_cell

    def run_hidden(src):
        """Run a code cell that is not part of the notebook; returns (ok, stderr text)."""
        c = new_code_cell(src)
        nb.cells.append(c)
        try:
            client.execute_cell(c, len(nb.cells) - 1, store_history=False)
            reply = replies.pop(len(nb.cells) - 1, None)
        finally:
            nb.cells.pop()
        status = (reply or {}).get("content", {}).get("status", "no reply")
        return status == "ok", cell_error_text(c)

    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    failure = None
    t0 = time.time()
    try:
        with client.setup_kernel():
            ok, text = run_hidden(SETUP_SRC)
            if not ok:
                raise RuntimeError("the kernel failed the runner's setup cell: " + text)
            for k, index in enumerate(code_cells, start=1):
                cell = nb.cells[index]
                if not cell.source.strip():
                    continue
                t = time.time()
                try:
                    replies.pop(index, None)
                    client.execute_cell(cell, index, store_history=True)
                    reply = replies.get(index)
                except CellTimeoutError:
                    failure = {"kind": "timeout", "error": "the cell did not finish within %gs (--timeout)" % a.timeout}
                except DeadKernelError as e:
                    failure = {"kind": "dead", "error": "the kernel died: %s" % e}
                else:
                    content = (reply or {}).get("content", {})
                    status = content.get("status", "ok") if reply is not None else "no reply"
                    cell.execution_count = k  # tslab sends no execute_input; hidden cells use counts too
                    text = cell_error_text(cell)
                    has_error_output = any(o.get("output_type") == "error" for o in cell.outputs)
                    async_error = any(m in text for m in ASYNC_ERROR_MARKERS)
                    if status != "ok" or has_error_output or async_error:
                        failure = {"kind": "error", "status": status, "error": text or "(the kernel reported status %r and no message)" % status}
                    else:
                        ok, late = run_hidden(CHECK_SRC % a.async_wait_ms)
                        if not ok:
                            cut = late.find("Error: async error")
                            failure = {"kind": "async", "error": (late[:cut] if cut > 0 else late).strip()}
                            cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=failure["error"] + "\n"))
                sys.stderr.write("  cell %d/%d %s (%.1fs)\n" % (k, len(code_cells), "FAILED" if failure else "ok", time.time() - t))
                sys.stderr.flush()
                if failure:
                    failure.update({"cell": index + 1, "codeCell": k, "source": cell.source})
                    break
    except (DeadKernelError, RuntimeError, TimeoutError) as e:
        failure = failure or {"kind": "start", "error": "the kernel %r could not start or died: %s" % (a.kernel, e)}
    except Exception as e:  # e.g. NoSuchKernel
        failure = failure or {"kind": "start", "error": "%s: %s" % (type(e).__name__, e)}

    try:
        write_atomic(nbformat, nb, a.dst)
    except Exception as e:
        result({"ok": False, "kind": "write", "error": "cannot write %s: %s" % (a.dst, e)})
        return 2
    seconds = round(time.time() - t0, 2)
    if failure:
        failure.update({"ok": False, "seconds": seconds, "out": a.dst})
        result(failure)
        return 1
    result({"ok": True, "cells": len(code_cells), "seconds": seconds, "out": a.dst})
    return 0


if __name__ == "__main__":
    sys.exit(main())
