import { test } from "node:test";
import * as assert from "node:assert/strict";
import { lrAt, lrMultiplier, scheduleProblem } from "../../src/train/schedule";

const base = { lr: 1e-3, numSteps: 100, warmupSteps: 10 };
const close = (a: number, b: number, tol = 1e-15) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("warm-up is linear from 0 and reaches the peak at warmupSteps (all schedules)", () => {
  for (const schedule of ["constant", "linear", "cosine"] as const) {
    const c = { ...base, schedule };
    assert.equal(lrAt(0, c), 0);
    close(lrAt(1, c), 1e-4);
    close(lrAt(5, c), 5e-4);
    close(lrAt(10, c), 1e-3);
  }
});

test("linear decays to 0 at numSteps and never below (HF get_linear_schedule_with_warmup)", () => {
  const c = { ...base, schedule: "linear" as const };
  close(lrMultiplier(55, c), 0.5); // (100-55)/(100-10)
  close(lrMultiplier(99, c), 1 / 90);
  assert.equal(lrMultiplier(100, c), 0);
  assert.equal(lrMultiplier(150, c), 0);
});

test("cosine is half at the midpoint and 0 at numSteps (HF get_cosine_schedule_with_warmup, 0.5 cycles)", () => {
  const c = { ...base, schedule: "cosine" as const };
  close(lrMultiplier(55, c), 0.5, 1e-12);
  close(lrMultiplier(32.5, c), 0.5 * (1 + Math.SQRT1_2), 1e-12); // progress 1/4: cos(pi/4)
  close(lrMultiplier(100, c), 0, 1e-15);
  assert.ok(lrMultiplier(200, c) >= 0);
});

test("constant holds the peak after warm-up; no warm-up starts at the peak", () => {
  assert.equal(lrMultiplier(10, { ...base, schedule: "constant" }), 1);
  assert.equal(lrMultiplier(1000, { ...base, schedule: "constant" }), 1);
  assert.equal(lrAt(0, { lr: 2e-4, numSteps: 4, warmupSteps: 0, schedule: "linear" }), 2e-4);
  close(lrAt(3, { lr: 2e-4, numSteps: 4, warmupSteps: 0, schedule: "linear" }), 5e-5, 1e-18);
});

test("bad schedule settings are named", () => {
  assert.match(
    scheduleProblem({ ...base, schedule: "step" as any })!,
    /schedule: expected one of constant, linear, cosine/,
  );
  assert.match(scheduleProblem({ ...base, schedule: "linear", warmupSteps: -1 })!, /warmupSteps/);
  assert.match(scheduleProblem({ ...base, schedule: "linear", lr: NaN })!, /lr/);
  assert.equal(scheduleProblem({ ...base, schedule: "linear" }), undefined);
});
