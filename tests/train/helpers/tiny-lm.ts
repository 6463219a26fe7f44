// A tiny causal LM made of tf.Variables, for trainer tests that must not wait for the real model:
// one-hot embedding → tanh(hidden) · norm → output projection. Parameter names mimic HF's, so the
// weight-decay rule sees matrices, a bias and a norm weight.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../../src/runtime/seed";
import { causalLMLoss } from "../../../src/model/loss";
import type { Batch, TrainableModel } from "../../../src/train/types";

export class TinyLM implements TrainableModel {
  readonly vars = new Map<string, tf.Variable>();
  /** Loss calls so far; with `nanAfter` set, calls after that many return NaN. */
  calls = 0;
  nanAfter: number | undefined;

  constructor(
    readonly vocab = 12,
    readonly dim = 8,
    seed = 1,
  ) {
    const rng = new Rng(seed);
    const rand = (shape: number[], std: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return tf.tensor(
        Float32Array.from({ length: n }, () => rng.normal() * std),
        shape,
      );
    };
    const add = (name: string, t: tf.Tensor) => {
      this.vars.set(name, tf.variable(t));
      t.dispose();
    };
    add("embed.weight", rand([vocab, dim], 1));
    add("hidden.weight", rand([dim, dim], 0.5));
    add("hidden.bias", rand([dim], 0.1));
    add("norm.weight", tf.ones([dim]));
    add("out.weight", rand([dim, vocab], 0.5));
  }

  trainableVariables(): Map<string, tf.Variable> {
    return this.vars;
  }

  logits(inputIds: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = inputIds.shape;
      const v = (n: string) => this.vars.get(n)!;
      const x = tf
        .oneHot(inputIds.reshape([B * T]), this.vocab)
        .toFloat()
        .matMul(v("embed.weight")); // [B*T, D]
      const h = x.matMul(v("hidden.weight")).add(v("hidden.bias")).tanh().mul(v("norm.weight")); // [B*T, D]
      return h.matMul(v("out.weight")).reshape([B, T, this.vocab]) as tf.Tensor3D; // [B, T, V]
    });
  }

  loss(batch: Batch): tf.Scalar {
    this.calls++;
    const l = causalLMLoss(this.logits(batch.inputIds), batch.labels);
    return this.nanAfter !== undefined && this.calls > this.nanAfter ? l.mul(NaN) : l;
  }

  /** Copy of all weights, for comparisons. */
  snapshot(): Map<string, Float32Array> {
    return new Map([...this.vars].map(([k, v]) => [k, v.dataSync() as Float32Array]));
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

/** Deterministic toy data: repeated patterns of token ids, some with a masked prompt. */
export function toyExamples(n: number, vocab = 12, seed = 3): { inputIds: number[]; labels?: number[] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 4 + rng.int(5);
    const start = rng.int(vocab);
    const inputIds = Array.from({ length: len }, (_, t) => (start + t) % vocab);
    if (i % 3 === 0) return { inputIds, labels: inputIds.map((id, t) => (t < 2 ? -100 : id)) };
    return { inputIds };
  });
}
