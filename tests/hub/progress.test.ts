import { test } from "node:test";
import * as assert from "node:assert/strict";
import { formatBytes, progressLine, textProgress, waitingLine } from "../../src/hub/progress";

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (s: string) => out.push(s) } };
}

test("formatBytes and progressLine", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KB");
  assert.equal(formatBytes(70_426_624), "70.4 MB");
  assert.equal(
    progressLine({ file: "model.safetensors", loaded: 50, total: 200 }, 8),
    "model.safetensors [##------] 50 B / 200 B 25%",
  );
  assert.equal(progressLine({ file: "empty", loaded: 0, total: 0 }, 4), "empty [####] 0 B / 0 B 100%");
});

test("textProgress off a terminal prints exactly one line per file, when it completes", () => {
  const { out, stream } = sink(false);
  const p = textProgress({ stream });
  for (let i = 0; i <= 10; i++) p({ file: "a.bin", loaded: i * 100, total: 1000 });
  p({ file: "a.bin", loaded: 1000, total: 1000 }); // repeated final report
  p({ file: "b.json", loaded: 0, total: 10 });
  p({ file: "b.json", loaded: 10, total: 10 });
  assert.deepEqual(out, [
    "a.bin [########################] 1.0 KB / 1.0 KB 100%\n",
    "b.json [########################] 10 B / 10 B 100%\n",
  ]);
});

test("textProgress on a terminal redraws in place, throttled, and ends each file's line", () => {
  const { out, stream } = sink(true);
  let now = 0;
  const p = textProgress({ stream, intervalMs: 100, barWidth: 4, now: () => now });
  p({ file: "w", loaded: 0, total: 1000 }); //        drawn (first)
  now = 50;
  p({ file: "w", loaded: 300, total: 1000 }); //      throttled
  now = 120;
  p({ file: "w", loaded: 600, total: 1000 }); //      drawn
  now = 130;
  p({ file: "w", loaded: 1000, total: 1000 }); //     final line, always
  assert.equal(out.length, 3);
  assert.ok(out.every((s) => s.startsWith("\r\x1b[2K")));
  assert.ok(out[1].includes("600 B / 1.0 KB 60%"));
  assert.ok(out[2].endsWith("100%\n"));
  assert.ok(!out[0].endsWith("\n") && !out[1].endsWith("\n"));
});

test("textProgress says once that it waits for another process's download, then shows that download's progress", () => {
  const who = "pid 12 on host-a since 2026-01-01T00:00:00.000Z";
  for (const isTTY of [false, true]) {
    const { out, stream } = sink(isTTY);
    const p = textProgress({ stream, intervalMs: 0 });
    p({ file: "w.bin", loaded: 0, total: 100, waitingFor: who });
    p({ file: "w.bin", loaded: 50, total: 100, waitingFor: who });
    p({ file: "w.bin", loaded: 100, total: 100 });
    const text = out.join("");
    assert.equal(text.split("waiting for another download").length - 1, 1, text);
    assert.ok(text.includes(`w.bin: waiting for another download (${who}) to finish`), text);
    assert.ok(text.endsWith("100%\n"), text);
    if (isTTY) assert.ok(text.includes("50 B / 100 B 50% (another download: pid 12"), text);
  }
  assert.equal(
    waitingLine({ file: "a", loaded: 0, total: 1, waitingFor: "x" }),
    "a: waiting for another download (x) to finish",
  );
});
