// Loss + every gradient of a set of variables, and a tolerance check between two such results (shared by the
// fused-loss and native-matmul tests).
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";

export type Grads = { loss: number; grads: Map<string, Float32Array> };

/** `f`'s value and the gradient of each variable in `vars`, keyed by the map's names. */
export function lossAndGrads(vars: Map<string, tf.Variable>, f: () => tf.Scalar): Grads {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(f, [...vars.values()]);
    const byVar = new Map([...vars].map(([k, v]) => [v.name, k]));
    const out = new Map<string, Float32Array>();
    for (const [n, g] of Object.entries(grads)) out.set(byVar.get(n)!, g.dataSync() as Float32Array);
    return { loss: value.dataSync()[0], grads: out };
  });
}

/** Same loss (1e-5 relative) and, for the same parameters, gradients within 1e-4 of each one's largest entry. */
export function assertGradsClose(got: Grads, want: Grads, what: string): void {
  assert.ok(
    Math.abs(got.loss - want.loss) < 1e-5 * Math.max(1, Math.abs(want.loss)),
    `${what}: loss ${got.loss} vs ${want.loss}`,
  );
  assert.deepEqual(
    [...got.grads.keys()].sort(),
    [...want.grads.keys()].sort(),
    `${what}: the same parameters get gradients`,
  );
  for (const [name, w] of want.grads) {
    const g = got.grads.get(name)!;
    const scale = Math.max(1e-3, ...w.map(Math.abs));
    let worst = 0;
    for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]));
    assert.ok(worst < 1e-4 * scale, `${what}: ${name} max diff ${worst} (scale ${scale})`);
  }
}
