import { test, afterEach } from "node:test";
import * as assert from "node:assert/strict";
import { progress, progressBundle, liveChart, formatDuration } from "../../src/display/live";
import { setDisplaySink, type MimeBundle } from "../../src/display/kernel";
import { resetPlotlyLoader } from "../../src/display/show";
import { PLOTLY_MIME } from "../../src/display/plotly";

type Sent = { data: MimeBundle; id?: string; update: boolean };
function capture(): Sent[] {
  const sent: Sent[] = [];
  setDisplaySink((msg, update) => sent.push({ data: msg.data, id: msg.transient.display_id, update }));
  return sent;
}
afterEach(() => {
  setDisplaySink(undefined);
  resetPlotlyLoader();
});

test("progress text shows bar, counts, percent, elapsed<ETA and extra info", () => {
  const b = progressBundle({
    label: "train",
    n: 5,
    total: 10,
    elapsedS: 2,
    extra: { loss: 1.23456, "tokens/s": 800 },
    width: 10,
  });
  assert.equal(b["text/plain"], "train █████░░░░░ 5/10 (50%) 0:02<0:02 loss 1.235, tokens/s 800");
  assert.ok(String(b["text/html"]).includes('<progress value="0.5000" max="1"'));
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(NaN), "?");
});

test("progress updates one display in place, throttled, and done() always renders", () => {
  const sent = capture();
  let now = 0;
  const bar = progress({ total: 4, label: "<x>", throttleMs: 100, now: () => now });
  bar.update(1); // within 100 ms of the first render: skipped
  now = 150;
  bar.update(2, "fast"); // rendered
  now = 160;
  bar.update(3); // skipped
  bar.done();
  assert.equal(sent.length, 3);
  const ids = new Set(sent.map((s) => s.id));
  assert.equal(ids.size, 1);
  assert.ok([...ids][0]);
  assert.deepEqual(
    sent.map((s) => s.update),
    [false, true, true],
  );
  assert.match(String(sent[1].data["text/plain"]), /2\/4 \(50%\).* fast$/);
  assert.match(String(sent[2].data["text/plain"]), /4\/4 \(100%\) 0:00 fast$/);
  assert.ok(String(sent[0].data["text/html"]).includes("&lt;x&gt;"));
  assert.throws(() => progress({ total: -1 }), /total must be a number >= 0/);
});

test("liveChart grows lines per series and replaces its own output", () => {
  const sent = capture();
  let now = 0;
  const chart = liveChart({ title: "loss", throttleMs: 500, maxPoints: 2, now: () => now });
  chart.push("train", 0, 3); // throttled (the empty chart was just rendered)
  now = 600;
  chart.push("train", 1, 2); // rendered
  chart.push("eval", 1, 2.5);
  chart.push("train", 2, 1);
  chart.done();
  const plots = sent.filter((s) => PLOTLY_MIME in s.data);
  assert.equal(plots.length, 3);
  assert.deepEqual(
    plots.map((s) => s.update),
    [false, true, true],
  );
  assert.equal(new Set(plots.map((s) => s.id)).size, 1);
  const last = plots[2].data[PLOTLY_MIME] as { data: { name: string; x: number[]; y: number[] }[] };
  assert.deepEqual(
    last.data.map((t) => [t.name, t.x, t.y]),
    [
      ["train", [1, 2], [2, 1]],
      ["eval", [1], [2.5]],
    ],
  );
  assert.throws(() => chart.push(1 as never, 0, 0), /series must be a string/);
});
