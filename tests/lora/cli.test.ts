// `tunebook merge` (atomic, refuses a non-empty --out without --force, result loads without LoRA code) and
// `--adapter` on score/generate, against the PEFT fixture.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useTestBackend } from "../helpers/backend";
import { run as merge } from "../../src/cli/merge";
import { run as score } from "../../src/cli/score";
import { run as generateCli } from "../../src/cli/generate";
import { loadPretrained } from "../../src/model/load";
import { Linear } from "../../src/model/layers";
import { UsageError } from "../../src/cli/args";
import { LORA_A, MODEL_A, loadLoraCases, maxAbsDiff } from "./helpers/fixtures";

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { code: await fn(), out: lines.join("\n") };
  } finally {
    console.log = orig;
  }
}

test("merge writes a plain checkpoint equal to PEFT's merge_and_unload", async () => {
  await useTestBackend();
  const fx = loadLoraCases();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-merge-"));
  const out = path.join(root, "merged");
  const r = await capture(() => merge(["--model", MODEL_A, "--adapter", LORA_A, "--out", out, "--json"]));
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.out).files, ["config.json", "model.safetensors"]);
  assert.deepEqual(fs.readdirSync(root), ["merged"], "no temporary folder left behind");
  const m = await loadPretrained(out);
  const qkv = m.getLinear("gpt_neox.layers.0.attention.query_key_value");
  assert.ok(qkv instanceof Linear);
  assert.ok(maxAbsDiff(qkv.weight.dataSync(), fx.merged.qkv0.data) <= 1e-5);
  m.dispose();
  // a non-empty --out is refused, and left alone
  await assert.rejects(
    merge(["--model", MODEL_A, "--adapter", LORA_A, "--out", out]),
    (e: unknown) => e instanceof UsageError && /exists and is not empty; pass --force/.test((e as Error).message),
  );
  fs.writeFileSync(path.join(out, "marker"), "x");
  const again = await capture(() =>
    merge(["--model", MODEL_A, "--adapter", LORA_A, "--out", out, "--force", "--dtype", "F16"]),
  );
  assert.equal(again.code, 0);
  assert.ok(!fs.existsSync(path.join(out, "marker")), "--force replaces the folder");
  assert.deepEqual(fs.readdirSync(root), ["merged"]);
  await assert.rejects(merge(["--model", MODEL_A, "--out", out]), /--model, --adapter and --out are required/);
});

test("merge refuses a broken adapter without creating --out", async () => {
  await useTestBackend();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-merge-"));
  await assert.rejects(
    merge(["--model", MODEL_A, "--adapter", path.join(root, "nope"), "--out", path.join(root, "o")]),
    /no such adapter folder/,
  );
  assert.deepEqual(fs.readdirSync(root), []);
});

test("score --adapter gives PEFT's loss; generate --adapter changes the continuation", async () => {
  await useTestBackend();
  const fx = loadLoraCases();
  const ids = fx.active.inputIds[0].join(",");
  const withA = await capture(() => score(["--model", MODEL_A, "--adapter", LORA_A, "--ids", ids, "--json"]));
  assert.ok(Math.abs(JSON.parse(withA.out).loss - fx.active.loss) < 1e-4, withA.out);
  const base = await capture(() => score(["--model", MODEL_A, "--ids", ids, "--json"]));
  assert.ok(Math.abs(JSON.parse(base.out).loss - fx.active.loss) > 1e-3);
  const g = async (extra: string[]) =>
    JSON.parse(
      (
        await capture(() =>
          generateCli([
            "--model",
            MODEL_A,
            "--prompt-ids",
            "1,2,3",
            "--greedy",
            "--max-new-tokens",
            "8",
            "--json",
            ...extra,
          ]),
        )
      ).out,
    ).ids;
  assert.notDeepEqual(await g(["--adapter", LORA_A]), await g([]));
});
