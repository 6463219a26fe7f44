import { test } from "node:test";
import * as assert from "node:assert/strict";
import { TASK_PLACEMENT, taskPlacementChart } from "../../src/course/gpu-scaling";

test("task placement: reading < writing < composed, bands well-formed, figure marks sizes", () => {
  const order = { reading: 0, writing: 1, composed: 2 } as const;
  for (const t of TASK_PLACEMENT) assert.ok(t.params[0] > 0 && t.params[1] > t.params[0], t.task);
  const lowest = (k: keyof typeof order) =>
    Math.min(...TASK_PLACEMENT.filter((t) => t.kind === k).map((t) => t.params[0]));
  assert.ok(lowest("reading") < lowest("writing") && lowest("writing") < lowest("composed"));
  const fig = taskPlacementChart(TASK_PLACEMENT, [{ label: "70m", params: 7e7 }]);
  assert.equal(fig.data.length, 3);
  assert.equal((fig.layout.shapes as unknown[]).length, 1);
  assert.match(JSON.stringify(fig.layout), /not a measurement/);
});
