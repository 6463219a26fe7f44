// Loading and saving weights: strict name/shape checks (one error listing every problem), legacy buffers,
// F16 checkpoints, and save → load round trips.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useTestBackend } from "../helpers/backend";
import { GPTNeoXForCausalLM } from "../../src/model/gptneox";
import {
  CheckpointError,
  findNonFinite,
  LEGACY_BUFFER_SUFFIXES,
  loadPretrained,
  modelFromTensors,
  readConfigFile,
} from "../../src/model/load";
import { loadConfig, loadModelMaybeTokenizer, loadTokenizerFrom } from "../../src/pipeline/pretrained";
import { makeFifo, type TestFifo } from "../helpers/fifo";
import {
  readFloat32Into,
  readSafetensorsFile,
  readSafetensorsHeader,
  type SafeTensor,
  writeSafetensorsFile,
} from "../../src/model/safetensors";
import { ConfigError, makeConfig } from "../../src/model/config";
import { modelDir } from "./helpers/neox-fixtures";

const A = modelDir("A");
const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-load-"));

test("the fixture checkpoint carries legacy inv_freq buffers and loads anyway", async () => {
  await useTestBackend();
  const { tensors } = await readSafetensorsFile(path.join(A, "model.safetensors"));
  const legacy = [...tensors.keys()].filter((k) => LEGACY_BUFFER_SUFFIXES.some((s) => k.endsWith(s)));
  assert.ok(legacy.length >= 2, "expected rotary_emb.inv_freq buffers in the fixture");
  const before = tf.memory().numTensors;
  const model = modelFromTensors(readConfigFile(path.join(A, "config.json")), tensors, "A");
  assert.equal(model.parameters().size, tensors.size - legacy.length);
  // embed_in + embed_out, per layer (qkv, dense, h→4h, 4h→h, two LayerNorms), final LayerNorm
  const perLayer = 3 * 32 * 32 + 96 + 32 * 32 + 32 + 32 * 64 + 64 + 64 * 32 + 32 + 4 * 32;
  assert.equal(model.numParameters(), 2 * 128 * 32 + 2 * perLayer + 2 * 32);
  model.dispose();
  assert.equal(tf.memory().numTensors, before, "dispose freed every variable");
});

test("a mis-shaped, a missing and an unexpected tensor give ONE error naming each, with shapes and file", async () => {
  await useTestBackend();
  const file = path.join(A, "model.safetensors");
  const { tensors } = await readSafetensorsFile(file);
  const bad = new Map(tensors);
  const qkv = "gpt_neox.layers.1.attention.query_key_value.weight";
  bad.set(qkv, { dtype: "F32", shape: [96, 31], data: new Float32Array(96 * 31) });
  bad.delete("gpt_neox.final_layer_norm.bias");
  bad.set("lm_head.weight", { dtype: "F32", shape: [2, 2], data: new Float32Array(4) });
  const before = tf.memory().numTensors;
  assert.throws(
    () => modelFromTensors(readConfigFile(path.join(A, "config.json")), bad, file),
    (e: any) => {
      assert.ok(e instanceof CheckpointError);
      assert.equal(e.problems.length, 3);
      assert.match(
        e.message,
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: 3 tensors do not match the GPT-NeoX config:`),
      );
      assert.match(
        e.message,
        /gpt_neox\.layers\.1\.attention\.query_key_value\.weight: expected \[96, 32\], found \[96, 31\]/,
      );
      assert.match(e.message, /gpt_neox\.final_layer_norm\.bias: missing \(expected \[32\]\)/);
      assert.match(e.message, /lm_head\.weight: unexpected \(found \[2, 2\]\)/);
      return true;
    },
  );
  assert.equal(tf.memory().numTensors, before, "a failed load allocates nothing");
  // An integer tensor where a weight belongs is named too.
  const ints = new Map(tensors);
  ints.set("embed_out.weight", { dtype: "I32", shape: [128, 32], data: new Int32Array(128 * 32) });
  assert.throws(
    () => modelFromTensors(readConfigFile(path.join(A, "config.json")), ints, "x"),
    /embed_out\.weight: dtype I32, expected a float tensor/,
  );
});

test("fromPretrained: missing folder and bad config.json are clear errors", async () => {
  await useTestBackend();
  await assert.rejects(
    () => GPTNeoXForCausalLM.fromPretrained("/nonexistent/model"),
    /\/nonexistent\/model: no such model folder or file/,
  );
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ model_type: "llama" }));
  await assert.rejects(
    () => GPTNeoXForCausalLM.fromPretrained(dir),
    (e: any) =>
      e instanceof ConfigError && e.message.includes(path.join(dir, "config.json")) && /not supported/.test(e.message),
  );
  fs.writeFileSync(path.join(dir, "config.json"), "{oops");
  await assert.rejects(() => GPTNeoXForCausalLM.fromPretrained(dir), /config\.json: not valid JSON/);
  fs.rmSync(dir, { recursive: true });
});

test("save → load round-trips exactly (F32) and through F16 as float16 rounding", async () => {
  await useTestBackend();
  const model = await GPTNeoXForCausalLM.fromPretrained(A);
  const dir = tmpDir();
  try {
    await model.save(path.join(dir, "f32"));
    assert.deepEqual(fs.readdirSync(path.join(dir, "f32")).sort(), ["config.json", "model.safetensors"]);
    const again = await GPTNeoXForCausalLM.fromPretrained(path.join(dir, "f32"));
    assert.deepEqual(again.config, model.config);
    const p0 = model.stateDict();
    const p1 = again.stateDict();
    assert.deepEqual([...p1.keys()], [...p0.keys()]);
    for (const [k, t] of p0) assert.deepEqual(p1.get(k)!.data, t.data, k);
    const ids = [[71, 41, 86, 49, 100]];
    const l0 = tf.tidy(() => model.forward(ids).logits.dataSync());
    const l1 = tf.tidy(() => again.forward(ids).logits.dataSync());
    assert.deepEqual(l1, l0);
    again.dispose();

    await model.save(path.join(dir, "f16"), { dtype: "F16" });
    const { tensors } = await readSafetensorsFile(path.join(dir, "f16", "model.safetensors"));
    // Weights in F16; the rotary inv_freq buffers stay F32 (used as stored by transformers 4.31).
    for (const [k, t] of tensors) assert.equal(t.dtype, k.endsWith(".rotary_emb.inv_freq") ? "F32" : "F16", k);
    // inv_freq is what torch computed for the fixture (transformers 4.31 saved it in A/model.safetensors).
    const hfA = (await readSafetensorsFile(path.join(A, "model.safetensors"))).tensors;
    for (const i of [0, 1]) {
      const k = `gpt_neox.layers.${i}.attention.rotary_emb.inv_freq`;
      assert.deepEqual(tensors.get(k)!.data, hfA.get(k)!.data, k);
    }
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "f16", "config.json"), "utf8")).torch_dtype, "float16");
    const half = await GPTNeoXForCausalLM.fromPretrained(path.join(dir, "f16"));
    // The fixture's own F16 file is HF's model.half() of the same weights: same values.
    const ref = (await readSafetensorsFile(path.join(A, "model.f16.safetensors"))).tensors;
    for (const [k, t] of half.stateDict()) assert.deepEqual(t.data, ref.get(k)!.data, k);
    half.dispose();
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true });
  }
});

test("tied embeddings: no embed_out tensor is saved or needed, and a present one is tolerated", async () => {
  await useTestBackend();
  const cfg = makeConfig({
    vocabSize: 40,
    hiddenSize: 16,
    numHiddenLayers: 1,
    numAttentionHeads: 2,
    intermediateSize: 32,
    tieWordEmbeddings: true,
  });
  const model = GPTNeoXForCausalLM.create(cfg, { seed: 1 });
  const dir = tmpDir();
  try {
    const sd = model.stateDict();
    assert.ok(!sd.has("embed_out.weight"));
    assert.ok(model.linearNames().includes("embed_out"));
    await model.save(dir);
    const again = await GPTNeoXForCausalLM.fromPretrained(dir);
    const ids = [[1, 2, 3]];
    assert.deepEqual(
      tf.tidy(() => again.forward(ids).logits.dataSync()),
      tf.tidy(() => model.forward(ids).logits.dataSync()),
    );
    again.dispose();
    const withOut = new Map<string, SafeTensor>(sd);
    withOut.set("embed_out.weight", sd.get("gpt_neox.embed_in.weight")!);
    modelFromTensors(cfg, withOut, "tied").dispose();
    // writeSafetensorsFile + a sharded-free folder written by someone else loads as well.
    await writeSafetensorsFile(path.join(dir, "model.safetensors"), withOut);
    (await GPTNeoXForCausalLM.fromPretrained(dir)).dispose();
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true });
  }
});

test("non-regular weights, config and tokenizer files are refused at once, naming the path (a FIFO would block)", async () => {
  await useTestBackend();
  const dir = tmpDir();
  const fifos: TestFifo[] = [];
  try {
    fs.copyFileSync(path.join(A, "config.json"), path.join(dir, "config.json"));
    fifos.push(makeFifo(path.join(dir, "model.safetensors")));
    await assert.rejects(loadPretrained(dir), (e: any) =>
      /model\.safetensors: the safetensors file is a FIFO \(named pipe\), not a regular file$/.test(e.message),
    );
    await assert.rejects(
      loadPretrained(path.join(dir, "model.safetensors")),
      /model\.safetensors: is a FIFO \(named pipe\), expected a \.safetensors file or a model folder$/,
    );
    // a folder where the config should be
    const cfgDir = tmpDir();
    fs.mkdirSync(path.join(cfgDir, "config.json"));
    assert.throws(
      () => readConfigFile(path.join(cfgDir, "config.json")),
      (e: any) =>
        e instanceof ConfigError && /config\.json: the model config is a folder, not a regular file$/.test(e.message),
    );
    fs.rmSync(cfgDir, { recursive: true });
    // a FIFO as the config, as a tokenizer file, as the model path itself
    const m2 = tmpDir();
    fs.copyFileSync(path.join(A, "model.safetensors"), path.join(m2, "model.safetensors"));
    fifos.push(makeFifo(path.join(m2, "config.json")));
    assert.throws(
      () => readConfigFile(path.join(m2, "config.json")),
      /config\.json: the model config is a FIFO \(named pipe\)/,
    );
    await assert.rejects(
      loadConfig(path.join(m2, "config.json")),
      /config\.json: the model config is a FIFO \(named pipe\)/,
    );
    const m3 = tmpDir();
    for (const f of ["config.json", "model.safetensors"]) fs.copyFileSync(path.join(A, f), path.join(m3, f));
    fifos.push(makeFifo(path.join(m3, "tokenizer.json")));
    await assert.rejects(
      loadModelMaybeTokenizer(m3),
      /tokenizer\.json: the tokenizer file tokenizer\.json is a FIFO \(named pipe\), not a regular file$/,
    );
    await assert.rejects(
      loadTokenizerFrom(path.join(m3, "tokenizer.json")),
      /tokenizer\.json: the tokenizer file is a FIFO/,
    );
    await assert.rejects(
      loadModelMaybeTokenizer(path.join(m3, "tokenizer.json")),
      /tokenizer\.json: is a FIFO \(named pipe\), expected a model folder/,
    );
    for (const f of fifos) assert.ok(!f.wasOpened(), `${f.path} was opened (a read would block), not refused at once`);
    for (const d of [m2, m3]) fs.rmSync(d, { recursive: true });
  } finally {
    fifos.forEach((f) => f.close());
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("findNonFinite names the first tensor holding NaN or Infinity, with the index and value", async () => {
  await useTestBackend();
  const a = tf.tensor([1, 2, 3]);
  const b = tf.tensor([0, Infinity, NaN]);
  const c = tf.tensor([NaN]);
  try {
    assert.equal(findNonFinite([["a", a]]), undefined);
    assert.deepEqual(
      findNonFinite([
        ["a", a],
        ["b", b],
        ["c", c],
      ]),
      { name: "b", index: 1, value: Infinity },
    );
    assert.ok(Number.isNaN(findNonFinite([["c", c]])!.value));
  } finally {
    tf.dispose([a, b, c]);
  }
});

const bitsOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test("readFloat32Into streams every float dtype in chunks into given buffers: the values readSafetensorsFile decodes, bit for bit", async () => {
  const dir = tmpDir();
  try {
    const n = 37; // not a multiple of the chunk's values
    const vals = Float32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (i + 0.3) * 2 ** ((i % 9) - 4));
    vals[3] = 6e-8; // an F16 subnormal
    vals[5] = -0;
    const file = path.join(dir, "m.safetensors");
    await writeSafetensorsFile(file, {
      f16: { dtype: "F16", shape: [n], data: vals },
      bf16: { dtype: "BF16", shape: [n], data: vals },
      f32: { dtype: "F32", shape: [n], data: vals },
      f64: { dtype: "F64", shape: [n], data: vals },
      ids: { dtype: "I32", shape: [2], data: new Int32Array([1, 2]) },
      empty: { dtype: "F16", shape: [0], data: new Float32Array(0) },
    });
    const want = (await readSafetensorsFile(file)).tensors;
    const header = await readSafetensorsHeader(file);
    for (const chunk of [8, 24, 1 << 20]) {
      const got = new Map<string, Float32Array>();
      let calls = 0;
      await readFloat32Into(
        file,
        header,
        (name, info) => {
          if (name === "ids") return null;
          const a = new Float32Array(info.shape.reduce((x, y) => x * y, 1)).fill(NaN);
          got.set(name, a);
          return () => (calls++, a);
        },
        chunk,
      );
      assert.deepEqual([...got.keys()].sort(), ["bf16", "empty", "f16", "f32", "f64"]);
      for (const [name, a] of got)
        assert.ok(bitsOf(a).equals(bitsOf(want.get(name)!.data as Float32Array)), `${name}, chunks of ${chunk} bytes`);
      if (chunk === 8) assert.ok(calls > (4 * n) / 4, "the destination is asked for again at every chunk");
    }
    await assert.rejects(
      readFloat32Into(file, header, () => () => new Float32Array(n)),
      /tensor "(empty|ids)"/,
    );
    await assert.rejects(
      readFloat32Into(file, header, () => null, 12),
      /chunkBytes must be a positive multiple of 8/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test("fromPretrained streams the checkpoint into the model: the same weights as modelFromTensors, sharded folders too, nothing left on failure", async () => {
  await useTestBackend();
  const dir = tmpDir();
  try {
    const file = path.join(A, "model.f16.safetensors");
    const cfg = readConfigFile(path.join(A, "config.json"));
    const viaMap = modelFromTensors(cfg, (await readSafetensorsFile(file)).tensors, file);
    const want = viaMap.stateDict();
    viaMap.dispose();
    const before = tf.memory().numTensors;
    const streamed = await loadPretrained(file);
    for (const [k, t] of streamed.stateDict())
      assert.ok(bitsOf(t.data as Float32Array).equals(bitsOf(want.get(k)!.data as Float32Array)), k);
    streamed.dispose();
    assert.equal(tf.memory().numTensors, before, "dispose freed every variable and nothing else was kept");

    // the same weights split over two shards through an index
    const all = (await readSafetensorsFile(file)).tensors;
    const names = [...all.keys()];
    const half = Math.ceil(names.length / 2);
    const shard = (i: number) => `model-0000${i}-of-00002.safetensors`;
    await writeSafetensorsFile(path.join(dir, shard(1)), new Map(names.slice(0, half).map((k) => [k, all.get(k)!])));
    await writeSafetensorsFile(path.join(dir, shard(2)), new Map(names.slice(half).map((k) => [k, all.get(k)!])));
    fs.writeFileSync(
      path.join(dir, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: Object.fromEntries(names.map((k, i) => [k, shard(i < half ? 1 : 2)])) }),
    );
    fs.copyFileSync(path.join(A, "config.json"), path.join(dir, "config.json"));
    const sharded = await loadPretrained(dir);
    for (const [k, t] of sharded.stateDict())
      assert.ok(bitsOf(t.data as Float32Array).equals(bitsOf(want.get(k)!.data as Float32Array)), `sharded ${k}`);
    sharded.dispose();

    // a mismatch is reported from the headers, before any tensor is made
    const bad = new Map(all);
    bad.set("embed_out.weight", { dtype: "I32", shape: [128, 32], data: new Int32Array(128 * 32) });
    const badDir = tmpDir();
    fs.copyFileSync(path.join(A, "config.json"), path.join(badDir, "config.json"));
    await writeSafetensorsFile(path.join(badDir, "model.safetensors"), bad);
    await assert.rejects(
      loadPretrained(badDir),
      (e: any) =>
        e instanceof CheckpointError && /embed_out\.weight: dtype I32, expected a float tensor/.test(e.message),
    );
    assert.equal(tf.memory().numTensors, before);
    fs.rmSync(badDir, { recursive: true });
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});
