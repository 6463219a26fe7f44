import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FIXTURES } from "../helpers/backend";
import {
  loadCheckpointTensors,
  parseSafetensors,
  readSafetensorsFile,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensorsFile,
  SafetensorsError,
  type SafeTensor,
} from "../../src/model/safetensors";
import { decodeBF16, decodeF16, encodeBF16, encodeF16 } from "../../src/model/dtype";
import { Rng } from "../../src/runtime/seed";

const A = path.join(FIXTURES, "neox-tiny", "A");
const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "tb-st-"));
const f32 = (t: SafeTensor) => t.data as Float32Array;

test("reads the F32 fixture checkpoint: names, dtypes, shapes, metadata, legacy buffer", async () => {
  const { tensors, metadata } = await readSafetensorsFile(path.join(A, "model.safetensors"));
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(tensors.get("gpt_neox.embed_in.weight")!.shape, [128, 32]);
  assert.deepEqual(tensors.get("gpt_neox.layers.1.attention.query_key_value.weight")!.shape, [96, 32]);
  assert.deepEqual(tensors.get("gpt_neox.layers.0.mlp.dense_h_to_4h.weight")!.shape, [64, 32]);
  assert.deepEqual(tensors.get("embed_out.weight")!.shape, [128, 32]);
  assert.ok(tensors.has("gpt_neox.layers.0.attention.rotary_emb.inv_freq"));
  for (const t of tensors.values()) {
    assert.equal(t.dtype, "F32");
    assert.ok(t.data instanceof Float32Array);
    assert.equal(
      t.data.length,
      t.shape.reduce((a, b) => a * b, 1),
    );
  }
  const header = await readSafetensorsHeader(path.join(A, "model.safetensors"));
  assert.deepEqual([...header.tensors.keys()].sort(), [...tensors.keys()].sort());
  assert.equal(header.headerBytes % 8, 0);
});

test("fixture values are right: W + scaling·B·A equals PEFT's merged weight", async () => {
  const base = await loadCheckpointTensors(A);
  const lora = await loadCheckpointTensors(path.join(A, "lora", "adapter_model.safetensors"));
  const cases = JSON.parse(fs.readFileSync(path.join(A, "lora", "cases.json"), "utf8"));
  const W = f32(base.get("gpt_neox.layers.0.attention.query_key_value.weight")!); // [96, 32]
  const pre = "base_model.model.gpt_neox.layers.0.attention.query_key_value.";
  const la = lora.get(pre + "lora_A.weight")!,
    lb = lora.get(pre + "lora_B.weight")!;
  assert.deepEqual(la.shape, [4, 32]);
  assert.deepEqual(lb.shape, [96, 4]);
  const ref = cases.merged["gpt_neox.layers.0.attention.query_key_value.weight"];
  assert.deepEqual(ref.shape, [96, 32]);
  const merged: number[] = ref.data;
  let maxDiff = 0;
  for (let o = 0; o < 96; o++)
    for (let i = 0; i < 32; i++) {
      let ba = 0;
      for (let r = 0; r < 4; r++) ba += f32(lb)[o * 4 + r] * f32(la)[r * 32 + i];
      maxDiff = Math.max(maxDiff, Math.abs(W[o * 32 + i] + 2 * ba - merged[o * 32 + i]));
    }
  assert.ok(maxDiff < 1e-5, `max diff ${maxDiff}`);
});

test("the F16 fixture is the F32 weights rounded to f16, and our F16 writer reproduces torch's file byte for byte", async () => {
  const full = await readSafetensorsFile(path.join(A, "model.safetensors"));
  const half = await readSafetensorsFile(path.join(A, "model.f16.safetensors"));
  assert.deepEqual([...half.tensors.keys()].sort(), [...full.tensors.keys()].sort());
  for (const [name, t] of half.tensors) {
    assert.equal(t.dtype, "F16", name);
    const ref = f32(full.tensors.get(name)!);
    f32(t).forEach((v, i) =>
      assert.ok(Math.abs(v - ref[i]) <= Math.abs(ref[i]) * 2 ** -11 + 2 ** -25, `${name}[${i}]`),
    );
  }
  const ours = serializeSafetensors(full.tensors, full.metadata, { dtype: "F16" });
  assert.ok(Buffer.from(ours).equals(fs.readFileSync(path.join(A, "model.f16.safetensors"))));
  assert.ok(
    Buffer.from(serializeSafetensors(full.tensors, full.metadata)).equals(
      fs.readFileSync(path.join(A, "model.safetensors")),
    ),
  );
});

/** Nearest value of a sorted list of candidates, ties to the one whose bit pattern is even. */
function nearestF16Reference(x: number, table: Float32Array, order: number[]): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) >= 65520) return x > 0 ? Infinity : -Infinity; // 65504 + half an ulp
  let lo = 0,
    hi = order.length - 1; // binary search over finite halves sorted by value
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[order[mid]] <= x) lo = mid;
    else hi = mid;
  }
  const a = order[lo],
    b = order[hi];
  const da = Math.abs(x - table[a]),
    db = Math.abs(table[b] - x);
  const pick = da < db ? a : db < da ? b : a % 2 === 0 ? a : b;
  return table[pick] === 0 ? (Object.is(x, -0) || x < 0 ? -0 : 0) : table[pick];
}

test("F16 and BF16 codecs: exhaustive decode/encode, round-to-nearest-even against a brute-force reference", () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const dec = decodeF16(all);
  const back = encodeF16(dec);
  for (let h = 0; h < 65536; h++) {
    if (Number.isNaN(dec[h])) assert.ok(Number.isNaN(decodeF16(new Uint16Array([back[h]]))[0]));
    else assert.equal(back[h], h, `f16 pattern ${h.toString(16)}`);
  }
  const finite = [...all].filter((h) => Number.isFinite(dec[h]) && h !== 0x8000).sort((a, b) => dec[a] - dec[b]);
  const rng = new Rng(7);
  const bits = new Uint32Array(20000).map(() => (rng.next() * 2 ** 32) >>> 0);
  // half the samples near the F16 range, including exact ties (low mantissa bits 0x1000 pattern)
  for (let i = 0; i < 10000; i++) bits[i] = ((bits[i] & 0x807fffff) | ((rng.int(40) + 97) << 23)) >>> 0;
  for (let i = 0; i < 2000; i++) bits[i] = (bits[i] & 0xffffe000) | 0x1000;
  const xs = new Float32Array(bits.buffer);
  const enc = decodeF16(encodeF16(xs));
  xs.forEach((x, i) => {
    const want = nearestF16Reference(x, dec, finite);
    assert.ok(
      Object.is(enc[i], want) || (Number.isNaN(want) && Number.isNaN(enc[i])),
      `f16(${x}) = ${enc[i]}, want ${want}`,
    );
  });
  const checks: [number, number][] = [
    [1 + 2 ** -11, 1],
    [1 + 3 * 2 ** -11, 1 + 2 ** -9],
    [65519, 65504],
    [65520, Infinity],
    [2 ** -25, 0],
    [1.5 * 2 ** -25, 2 ** -24],
    [-(2 ** -24), -(2 ** -24)],
    [-0, -0],
    [-Infinity, -Infinity],
  ];
  for (const [x, want] of checks)
    assert.ok(Object.is(decodeF16(encodeF16(new Float32Array([x])))[0], want), `f16(${x})`);
  // BF16: the two candidates are the truncation and the next pattern up; pick the nearer, ties to even
  const benc = encodeBF16(xs);
  bits.forEach((b, i) => {
    if (Number.isNaN(xs[i])) return assert.ok(Number.isNaN(decodeBF16(new Uint16Array([benc[i]]))[0]));
    const lo = b >>> 16,
      hi = lo + 1;
    const vlo = decodeBF16(new Uint16Array([lo]))[0],
      vhi = decodeBF16(new Uint16Array([hi & 0xffff]))[0];
    const dl = Math.abs(xs[i] - vlo),
      dh = Math.abs(vhi - xs[i]);
    const want = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
    assert.equal(benc[i], want & 0xffff, `bf16(${xs[i]})`);
  });
  assert.deepEqual([...encodeBF16(new Float32Array([1, -2]))], [0x3f80, 0xc000]);
});

test("write → read round trips: float dtypes, every integer dtype, empty tensors, scalars, metadata", () => {
  const rng = new Rng(3);
  const vals = Float32Array.from({ length: 60 }, () => rng.normal());
  const tensors: Record<string, SafeTensor> = {
    "b.f32": { dtype: "F32", shape: [3, 4, 5], data: vals },
    "a.f64": { dtype: "F64", shape: [2], data: new Float64Array([0.1, -1e300]) },
    i64: { dtype: "I64", shape: [3], data: new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]) },
    u64: { dtype: "U64", shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    i32: { dtype: "I32", shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
    u32: { dtype: "U32", shape: [1], data: new Uint32Array([2 ** 32 - 1]) },
    i16: { dtype: "I16", shape: [2], data: new Int16Array([-32768, 32767]) },
    u16: { dtype: "U16", shape: [1], data: new Uint16Array([65535]) },
    i8: { dtype: "I8", shape: [2], data: new Int8Array([-128, 127]) },
    u8: { dtype: "U8", shape: [2, 1], data: new Uint8Array([0, 255]) },
    bool: { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) },
    empty: { dtype: "F32", shape: [0, 7], data: new Float32Array(0) },
    scalar: { dtype: "F32", shape: [], data: new Float32Array([2.5]) },
  };
  const bytes = serializeSafetensors(tensors, { note: "hi" });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(headerText, /^\{"__metadata__":\{"format":"pt","note":"hi"\}/);
  const names = Object.keys(JSON.parse(headerText)).filter((k) => k !== "__metadata__");
  assert.deepEqual([...names].sort(), Object.keys(tensors).sort());
  const order = names
    .slice()
    .sort(
      (x, y) =>
        JSON.parse(headerText)[x].data_offsets[0] - JSON.parse(headerText)[y].data_offsets[0] || (x < y ? -1 : 1),
    );
  assert.deepEqual(order, Object.keys(tensors).sort()); // data stored in name order
  const back = parseSafetensors(bytes, "mem");
  assert.deepEqual(back.metadata, { format: "pt", note: "hi" });
  for (const [name, t] of Object.entries(tensors)) {
    const r = back.tensors.get(name)!;
    assert.equal(r.dtype, t.dtype, name);
    assert.deepEqual(r.shape, t.shape, name);
    if (t.dtype === "F64") assert.deepEqual([...r.data], [...Float32Array.from(t.data as Float64Array)]);
    else assert.deepEqual([...r.data], [...t.data], name);
  }
  assert.ok(back.tensors.get("b.f32")!.data instanceof Float32Array);
  for (const dt of ["F16", "BF16"] as const) {
    const r = parseSafetensors(serializeSafetensors({ w: tensors["b.f32"] }, undefined, { dtype: dt })).tensors.get(
      "w",
    )!;
    assert.equal(r.dtype, dt);
    const tol = dt === "F16" ? 2 ** -11 : 2 ** -8;
    f32(r).forEach((v, i) => assert.ok(Math.abs(v - vals[i]) <= Math.abs(vals[i]) * tol + 1e-7, `${dt}[${i}]`));
    const again = serializeSafetensors({ w: r }); // re-writing keeps the on-disk dtype and is lossless
    assert.deepEqual([...parseSafetensors(again).tensors.get("w")!.data], [...r.data]);
  }
  assert.equal(parseSafetensors(serializeSafetensors({})).tensors.size, 0);
});

test("the writer rejects bad tensors with the tensor's name", () => {
  const bad = (t: any, re: RegExp) =>
    assert.throws(
      () => serializeSafetensors({ w: t }),
      (e: any) => e instanceof SafetensorsError && re.test(e.message),
    );
  bad(
    { dtype: "F32", shape: [2, 2], data: new Float32Array(3) },
    /tensor "w": shape \[2,2\] has 4 elements but data has 3/,
  );
  bad({ dtype: "I8", shape: [1], data: [300] }, /tensor "w": value 300 at index 0 does not fit I8/);
  bad({ dtype: "I32", shape: [1], data: [1.5] }, /does not fit I32/);
  bad({ dtype: "BOOL", shape: [1], data: new Uint8Array([2]) }, /does not fit BOOL/);
  bad({ dtype: "F8", shape: [1], data: [1] }, /tensor "w": unknown dtype "F8"/);
  bad({ dtype: "F32", shape: [-1], data: [] }, /shape must be a list of non-negative integers/);
  assert.throws(() => serializeSafetensors({}, { n: 3 as any }), /__metadata__\["n"\] must be a string/);
});

test("writeSafetensorsFile is atomic: overwrites in place, leaves no temp files, and keeps the old file on error", async () => {
  const dir = tmpDir();
  const file = path.join(dir, "m.safetensors");
  const t = (v: number): Record<string, SafeTensor> => ({
    w: { dtype: "F32", shape: [1], data: new Float32Array([v]) },
  });
  await writeSafetensorsFile(file, t(1));
  await writeSafetensorsFile(file, t(2), { step: "2" }, { dtype: "BF16" });
  const r = await readSafetensorsFile(file);
  assert.deepEqual([...r.tensors.get("w")!.data], [2]);
  assert.equal(r.tensors.get("w")!.dtype, "BF16");
  assert.equal(r.metadata.step, "2");
  await assert.rejects(
    writeSafetensorsFile(file, { w: { dtype: "I8", shape: [1], data: [999] as any } }),
    (e: any) => e instanceof SafetensorsError && e.message.startsWith(file) && /"w"/.test(e.message),
  );
  await assert.rejects(
    writeSafetensorsFile(path.join(dir, "no", "m.safetensors"), t(1)),
    /no\/m\.safetensors: cannot write here \(ENOENT; does the folder exist\?\)/,
  );
  assert.deepEqual(fs.readdirSync(dir), ["m.safetensors"]);
  assert.deepEqual([...(await readSafetensorsFile(file)).tensors.get("w")!.data], [2]);
  fs.rmSync(dir, { recursive: true });
});

test("sharded checkpoints: index + two shards load; missing shard or tensor is a clear error", async () => {
  const dir = tmpDir();
  const t = (v: number): SafeTensor => ({ dtype: "F32", shape: [2], data: new Float32Array([v, -v]) });
  await writeSafetensorsFile(path.join(dir, "model-00001-of-00002.safetensors"), { a: t(1), b: t(2) });
  await writeSafetensorsFile(path.join(dir, "model-00002-of-00002.safetensors"), { c: t(3) });
  const index = (map: Record<string, string>) =>
    fs.writeFileSync(
      path.join(dir, "model.safetensors.index.json"),
      JSON.stringify({ metadata: { total_size: 24 }, weight_map: map }),
    );
  index({
    a: "model-00001-of-00002.safetensors",
    b: "model-00001-of-00002.safetensors",
    c: "model-00002-of-00002.safetensors",
  });
  const all = await loadCheckpointTensors(dir);
  assert.deepEqual([...all.keys()].sort(), ["a", "b", "c"]);
  assert.deepEqual([...all.get("c")!.data], [3, -3]);
  index({ a: "model-00001-of-00002.safetensors", c: "model-00003-of-00003.safetensors" });
  await assert.rejects(
    loadCheckpointTensors(dir),
    (e: any) =>
      e instanceof SafetensorsError &&
      /model-00003-of-00003\.safetensors: shard listed in .*index\.json.* is missing/.test(e.message),
  );
  index({ a: "model-00001-of-00002.safetensors", d: "model-00002-of-00002.safetensors" });
  await assert.rejects(
    loadCheckpointTensors(dir),
    (e: any) =>
      e instanceof SafetensorsError &&
      /tensor "d" is listed in .*index\.json for this shard but absent/.test(e.message),
  );
  index({ a: "../../etc/passwd" });
  await assert.rejects(loadCheckpointTensors(dir), /weight_map\["a"\] must be a shard file name inside/);
  fs.writeFileSync(path.join(dir, "model.safetensors.index.json"), "{not json");
  await assert.rejects(loadCheckpointTensors(dir), /index\.json: cannot read the shard index/);
  fs.rmSync(path.join(dir, "model.safetensors.index.json"));
  await assert.rejects(
    loadCheckpointTensors(dir),
    /no model\.safetensors or model\.safetensors\.index\.json in this folder \(found model-00001/,
  );
  await assert.rejects(loadCheckpointTensors(path.join(dir, "nope")), /nope: no such file or folder/);
  fs.renameSync(path.join(dir, "model-00002-of-00002.safetensors"), path.join(dir, "model.safetensors"));
  assert.deepEqual([...(await loadCheckpointTensors(dir)).keys()], ["c"]);
  fs.rmSync(dir, { recursive: true });
});

/** A file from a header (object or raw JSON text), data bytes, and an optional forged length prefix. */
function rawFile(header: object | string, data = new Uint8Array(0), length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

test("each malformed file gives a SafetensorsError naming the file and the tensor or field", () => {
  const e = (dtype: string, shape: unknown, off: unknown) => ({ dtype, shape, data_offsets: off });
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "short file",
      new Uint8Array(5),
      /bad\.st: file is 5 bytes; a safetensors file starts with an 8-byte header length/,
    ],
    [
      "length past end",
      rawFile({}, new Uint8Array(0), 50n),
      /bad\.st: header length 50 bytes runs past the end of the file \(10 bytes/,
    ],
    [
      "header over 100 MB",
      rawFile({}, new Uint8Array(0), 100_000_001n),
      /header length 100000001 bytes exceeds the 100 MB limit/,
    ],
    ["huge u64 length", rawFile({}, new Uint8Array(0), 2n ** 64n - 1n), /exceeds the 100 MB limit/],
    ["bad JSON", rawFile('{"a":'), /bad\.st: header is not valid JSON/],
    ["invalid UTF-8", rawFile("{}").fill(0xff, 8, 9), /header is not valid UTF-8/],
    ["not an object", rawFile("[1,2]"), /header must be a JSON object of tensors, found \[1,2\]/],
    [
      "unknown dtype",
      rawFile({ w: e("F8", [1], [0, 1]) }, new Uint8Array(1)),
      /tensor "w": unknown dtype "F8"; expected one of F64/,
    ],
    [
      "negative shape",
      rawFile({ w: e("F32", [-1], [0, 0]) }),
      /tensor "w": shape must be a list of non-negative integers, found \[-1\]/,
    ],
    ["fractional shape", rawFile({ w: e("F32", [1.5], [0, 4]) }, new Uint8Array(4)), /tensor "w": shape must be/],
    ["shape not a list", rawFile({ w: e("F32", "4", [0, 4]) }, new Uint8Array(4)), /tensor "w": shape must be/],
    [
      "bad offsets",
      rawFile({ w: e("F32", [1], [4, 0]) }, new Uint8Array(4)),
      /tensor "w": data_offsets must be \[begin, end\]/,
    ],
    [
      "size mismatch",
      rawFile({ w: e("F32", [2], [0, 4]) }, new Uint8Array(4)),
      /tensor "w": data_offsets \[0, 4\] span 4 bytes, but shape \[2\] of F32 needs 2 × 4 = 8/,
    ],
    [
      "not from 0",
      rawFile({ w: e("U8", [1], [1, 2]) }, new Uint8Array(2)),
      /tensor "w": data_offsets starts at byte 1; the first tensor must start at 0/,
    ],
    [
      "gap",
      rawFile({ a: e("U8", [1], [0, 1]), b: e("U8", [1], [2, 3]) }, new Uint8Array(3)),
      /tensor "b": data_offsets starts at byte 2, but "a" ends at 1 \(a gap of 1 bytes\)/,
    ],
    [
      "overlap",
      rawFile({ a: e("U8", [2], [0, 2]), b: e("U8", [2], [1, 3]) }, new Uint8Array(3)),
      /tensor "b": data_offsets starts at byte 1, inside "a" which ends at 2 \(overlap\)/,
    ],
    [
      "past end",
      rawFile({ a: e("U8", [4], [0, 4]) }, new Uint8Array(2)),
      /tensor "a": data_offsets end 4 is past the end of the data section \(2 bytes\)/,
    ],
    [
      "trailing bytes",
      rawFile({ a: e("U8", [1], [0, 1]) }, new Uint8Array(4)),
      /3 trailing bytes after the last tensor/,
    ],
    [
      "duplicate tensor",
      rawFile(
        '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
        new Uint8Array(1),
      ),
      /duplicate key "a"/,
    ],
    [
      "duplicate field",
      rawFile('{"a":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}', new Uint8Array(1)),
      /duplicate key "dtype" inside an entry/,
    ],
    [
      "metadata not strings",
      rawFile({ __metadata__: { format: 1 } }),
      /__metadata__\["format"\] must be a string, found 1/,
    ],
    ["metadata not object", rawFile({ __metadata__: ["pt"] }), /"__metadata__" must be an object of strings/],
    ["entry not object", rawFile({ w: 3 }), /tensor "w": expected an object \{dtype, shape, data_offsets\}, found 3/],
  ];
  for (const [what, bytes, re] of cases)
    assert.throws(
      () => parseSafetensors(bytes, "bad.st"),
      (err: any) => {
        assert.ok(err instanceof SafetensorsError, `${what}: ${err}`);
        assert.match(err.message, /^bad\.st: /, what);
        assert.match(err.message, re, what);
        return true;
      },
      what,
    );
});

test("file-level errors name the path; a truncated real checkpoint is rejected", async () => {
  const dir = tmpDir();
  const good = fs.readFileSync(path.join(A, "model.safetensors"));
  const cut = path.join(dir, "cut.safetensors");
  fs.writeFileSync(cut, good.subarray(0, good.byteLength - 10));
  await assert.rejects(
    readSafetensorsFile(cut),
    (e: any) =>
      e instanceof SafetensorsError && e.message.startsWith(cut) && /past the end of the data section/.test(e.message),
  );
  await assert.rejects(
    readSafetensorsFile(path.join(dir, "missing.safetensors")),
    /missing\.safetensors: cannot open safetensors file \(ENOENT\)/,
  );
  await assert.rejects(readSafetensorsFile(dir), /not a regular file|EISDIR/);
  fs.rmSync(dir, { recursive: true });
});
