import { test } from "node:test";
import * as assert from "node:assert/strict";
import { useTestBackend } from "../helpers/backend";
import { environmentReport, formatEnvironment } from "../../src/hub/environment";
import { machineReport } from "../../src/runtime/environment";
import { hubStatus } from "../../src/hub/status";

test("the machine's facts need no hub; the report adds the hub's status before the platform", async () => {
  await useTestBackend();
  const saved = process.env.HF_HUB_OFFLINE;
  process.env.HF_HUB_OFFLINE = "1";
  try {
    const m = await machineReport();
    assert.equal("hub" in m, false);
    assert.equal(m.backend, process.env.TUNEBOOK_BACKEND || "wasm");
    const r = await environmentReport();
    assert.deepEqual(Object.keys(r), [
      "backend",
      "backendReason",
      "backendSkipped",
      "gpu",
      "threads",
      "versions",
      "memory",
      "hub",
      "platform",
    ]);
    assert.equal(r.hub.offline, true);
    assert.equal(r.hub.reachable, null, "offline: the hub is not probed");
    assert.match(r.hub.detail, /HF_HUB_OFFLINE is set/);
    const lines = formatEnvironment(r).split("\n");
    assert.match(lines.at(-2)!, /^hub: .* — HF_HUB_OFFLINE is set/);
    assert.match(lines.at(-1)!, /^platform: /);
  } finally {
    if (saved === undefined) delete process.env.HF_HUB_OFFLINE;
    else process.env.HF_HUB_OFFLINE = saved;
  }
});

test("hubStatus: probe false reports 'not probed' without touching the network", async () => {
  const saved = { off: process.env.HF_HUB_OFFLINE, tr: process.env.TRANSFORMERS_OFFLINE };
  delete process.env.HF_HUB_OFFLINE;
  delete process.env.TRANSFORMERS_OFFLINE;
  try {
    const s = await hubStatus({ probe: false });
    assert.deepEqual(
      { offline: s.offline, reachable: s.reachable, detail: s.detail },
      { offline: false, reachable: null, detail: "not probed" },
    );
  } finally {
    if (saved.off !== undefined) process.env.HF_HUB_OFFLINE = saved.off;
    if (saved.tr !== undefined) process.env.TRANSFORMERS_OFFLINE = saved.tr;
  }
});
