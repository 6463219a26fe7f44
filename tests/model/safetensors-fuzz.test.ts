// Fuzzing the safetensors parser: thousands of seeded mutations of valid files. The parser must either return
// tensors whose sizes agree with their shapes and dtypes, or throw a SafetensorsError — never another
// exception, never a hang.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { parseSafetensors, serializeSafetensors, SafetensorsError, type SafeTensor } from "../../src/model/safetensors";
import { Rng } from "../../src/runtime/seed";

const DTYPES = [
  "F64",
  "F32",
  "F16",
  "BF16",
  "I64",
  "I32",
  "I16",
  "I8",
  "U8",
  "BOOL",
  "U16",
  "U32",
  "U64",
  "F8_E4M3",
  "f32",
  "",
];

/** A small valid file with a few tensors of random dtypes and shapes (including empty and scalar). */
function validFile(rng: Rng): Uint8Array {
  const tensors: Record<string, SafeTensor> = {};
  const k = 1 + rng.int(4);
  for (let i = 0; i < k; i++) {
    const shape = Array.from({ length: rng.int(4) }, () => rng.int(4));
    const n = shape.reduce((a, b) => a * b, 1);
    const dtype = (["F32", "F16", "BF16", "I32", "U8", "I64", "BOOL"] as const)[rng.int(7)];
    const data =
      dtype === "I64"
        ? new BigInt64Array(n).map(() => BigInt(rng.int(100) - 50))
        : dtype === "I32"
          ? new Int32Array(n).map(() => rng.int(1000) - 500)
          : dtype === "U8" || dtype === "BOOL"
            ? new Uint8Array(n).map(() => rng.int(2))
            : new Float32Array(n).map(() => rng.normal());
    tensors[`layer.${i}.${"wb"[rng.int(2)]}`] = { dtype, shape, data };
  }
  return serializeSafetensors(tensors, rng.next() < 0.5 ? { step: String(rng.int(9)) } : undefined);
}

function headerOf(bytes: Uint8Array): any {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), n };
}

function rebuild(json: unknown, data: Uint8Array, rawJson?: string): Uint8Array {
  const text = new TextEncoder().encode(rawJson ?? JSON.stringify(json));
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.byteLength), true);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  return out;
}

function randomJson(rng: Rng, depth = 0): unknown {
  const r = rng.int(depth > 2 ? 5 : 7);
  if (r === 0) return rng.int(3) === 0 ? -rng.int(10) : rng.int(20);
  if (r === 1) return rng.next() * 10 - 3;
  if (r === 2) return DTYPES[rng.int(DTYPES.length)];
  if (r === 3) return [null, true, false][rng.int(3)];
  if (r === 4) return [rng.int(16), rng.int(16)];
  if (r === 5) return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = rng.int(4); i > 0; i--)
    o[["dtype", "shape", "data_offsets", "__metadata__", "w", "x"][rng.int(6)]] = randomJson(rng, depth + 1);
  return o;
}

/** One random mutation of a valid file. */
function mutate(rng: Rng, good: Uint8Array): Uint8Array {
  const b = good.slice();
  const { json, n } = headerOf(good);
  const data = good.subarray(8 + n);
  const names = Object.keys(json).filter((k) => k !== "__metadata__");
  const pick = () => json[names[rng.int(names.length)]];
  switch (rng.int(10)) {
    case 0:
      for (let i = 1 + rng.int(4); i > 0; i--) {
        const at = rng.int(b.length);
        b[at] ^= 1 << rng.int(8);
      }
      return b;
    case 1:
      return b.subarray(0, rng.int(b.length));
    case 2: {
      // header length edits: small deltas, random u32, huge u64
      const v = [
        BigInt(n + rng.int(17) - 8),
        BigInt(rng.int(2 ** 31)),
        2n ** 64n - 1n - BigInt(rng.int(9)),
        100_000_000n + BigInt(rng.int(3) - 1),
      ][rng.int(4)];
      new DataView(b.buffer).setBigUint64(0, v < 0n ? 0n : v, true);
      return b;
    }
    case 3: {
      // offset edits
      if (!names.length) return b;
      const t = pick();
      const edits = [
        () => (t.data_offsets[rng.int(2)] += rng.int(9) - 4),
        () => (t.data_offsets = [t.data_offsets[1], t.data_offsets[0]]),
        () => (t.data_offsets[rng.int(2)] = [-1, 2 ** 53, 1.5, "0", null][rng.int(5)]),
        () => (t.data_offsets = t.data_offsets.slice(0, rng.int(2))),
      ];
      edits[rng.int(edits.length)]();
      return rebuild(json, data);
    }
    case 4: {
      // dtype / shape edits
      if (!names.length) return b;
      const t = pick();
      if (rng.next() < 0.5) t.dtype = DTYPES[rng.int(DTYPES.length)];
      else t.shape = [[], [rng.int(5)], [2 ** 40, 2 ** 40], [-1], [0.5], "x", [rng.int(3), rng.int(3), 0]][rng.int(7)];
      return rebuild(json, data);
    }
    case 5:
      return rebuild(randomJson(rng), data.subarray(0, rng.int(data.length + 1)));
    case 6: {
      // replace one entry or the metadata by random JSON
      json[rng.next() < 0.3 ? "__metadata__" : (names[rng.int(names.length)] ?? "w")] = randomJson(rng);
      return rebuild(json, data);
    }
    case 7: {
      // append / drop data bytes
      const extra = new Uint8Array(rng.int(9)).map(() => rng.int(256));
      const d =
        rng.next() < 0.5
          ? new Uint8Array([...data, ...extra])
          : data.subarray(0, Math.max(0, data.length - 1 - rng.int(4)));
      return rebuild(json, d);
    }
    case 8: {
      // textual edits of the header: duplicate keys, cut JSON, spliced bytes
      const text = JSON.stringify(json);
      const cut = rng.int(text.length + 1);
      const variants = [
        text.slice(0, cut),
        text.slice(0, cut) + text.slice(cut + 1 + rng.int(5)),
        names.length ? text.replace("{", `{${JSON.stringify(names[0])}:${JSON.stringify(json[names[0]])},`) : text,
        text.slice(0, cut) + String.fromCharCode(rng.int(128)) + text.slice(cut),
        text + " ".repeat(rng.int(9)),
        "\uFEFF" + text,
      ];
      return rebuild(null, data, variants[rng.int(variants.length)]);
    }
    default: {
      // random bytes anywhere, including the length prefix
      for (let i = 1 + rng.int(8); i > 0; i--) b[rng.int(b.length)] = rng.int(256);
      return b;
    }
  }
}

const BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  U16: 2,
  U32: 4,
  U64: 8,
};

test("fuzz: mutated files parse consistently or throw SafetensorsError", { timeout: 20_000 }, () => {
  const rng = new Rng(20240531);
  const bases = Array.from({ length: 8 }, () => validFile(rng));
  const t0 = Date.now();
  let accepted = 0,
    rejected = 0;
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    const bytes = mutate(rng, bases[rng.int(bases.length)]);
    let result;
    try {
      result = parseSafetensors(bytes, "fuzz.safetensors");
    } catch (e) {
      if (!(e instanceof SafetensorsError))
        assert.fail(`mutation ${i} threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
      assert.match(e.message, /^fuzz\.safetensors: /);
      rejected++;
      continue;
    }
    accepted++;
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    let total = 0;
    for (const [name, t] of result.tensors) {
      const numel = t.shape.reduce((a, b) => a * b, 1);
      assert.equal(t.data.length, numel, `mutation ${i}: tensor ${name}`);
      assert.ok(BYTES[t.dtype], `mutation ${i}: dtype ${t.dtype}`);
      if (["F64", "F32", "F16", "BF16"].includes(t.dtype)) assert.ok(t.data instanceof Float32Array);
      total += numel * BYTES[t.dtype];
    }
    assert.equal(8 + n + total, bytes.byteLength, `mutation ${i}: sizes add up to the file`);
    for (const v of Object.values(result.metadata)) assert.equal(typeof v, "string");
  }
  // both outcomes must actually be exercised, or the fuzzer tests nothing
  console.log(`fuzz: ${N} mutations, ${accepted} accepted, ${rejected} rejected, ${Date.now() - t0} ms`);
  assert.ok(rejected > N / 2 && accepted > 50, `accepted ${accepted}, rejected ${rejected}`);
});

test("fuzz: every valid base file round-trips unchanged", () => {
  const rng = new Rng(99);
  for (let i = 0; i < 200; i++) {
    const good = validFile(rng);
    const { tensors, metadata } = parseSafetensors(good);
    assert.deepEqual(serializeSafetensors(tensors, metadata), good);
  }
});
