// The local pythia-70m hub itself: its repo is the real one's shape (config, tensor names, shapes, dtypes),
// and it answers the way today's hub does, so the online tests exercise what a learner's download meets.
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { configFromHF } from "../../src/model/config";
import { countParameters, getPreset } from "../../src/model/presets";
import { LEGACY_BUFFER_SUFFIXES } from "../../src/model/load";
import { readSafetensorsHeader } from "../../src/model/safetensors";
import { fetchFileMetadata } from "../../src/hub/http";
import { gitBlobSha1 } from "../helpers/hubserver";
import { PYTHIA_70M_CONFIG, PYTHIA_REPO, type PythiaHub, startPythiaHub } from "../helpers/pythia-hub";

let hub: PythiaHub;
before(async () => {
  hub = await startPythiaHub();
});
after(async () => {
  await hub?.dispose();
});

test("pythia hub: config.json reads as the pythia-70m preset (70,426,624 parameters)", () => {
  const cfg = configFromHF(PYTHIA_70M_CONFIG);
  assert.deepEqual(cfg, getPreset("pythia-70m"));
  assert.equal(countParameters(cfg).total, 70_426_624);
});

test("pythia hub: model.safetensors has the real names, shapes and F16 weights, plus the legacy buffers", async () => {
  const h = await readSafetensorsHeader(path.join(hub.dir, "model.safetensors"));
  let weights = 0;
  for (const [name, t] of h.tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (LEGACY_BUFFER_SUFFIXES.some((s) => name.endsWith(s))) continue;
    assert.equal(t.dtype, "F16", name);
    weights += numel;
  }
  assert.equal(weights, 70_426_624);
  assert.deepEqual(h.tensors.get("gpt_neox.layers.5.attention.query_key_value.weight")!.shape, [1536, 512]);
  assert.deepEqual(h.tensors.get("embed_out.weight")!.shape, [50304, 512]);
  const bias = h.tensors.get("gpt_neox.layers.0.attention.bias")!;
  assert.equal(bias.dtype, "U8");
  assert.deepEqual(bias.shape, [1, 1, 2048, 2048]);
  assert.deepEqual(h.tensors.get("gpt_neox.layers.0.attention.masked_bias")!.shape, []);
  assert.equal(h.tensors.get("gpt_neox.layers.0.attention.rotary_emb.inv_freq")!.shape[0], 8);
  assert.equal(h.tensors.size, 4 + 6 * 15);
});

test("pythia hub: small files go through a relative 307 to a commit-pinned URL, the weights through a 302 to the CDN", async () => {
  const cfg = await fetch(`${hub.url}/${PYTHIA_REPO}/resolve/main/config.json`, { method: "HEAD", redirect: "manual" });
  assert.equal(cfg.status, 307);
  assert.match(
    cfg.headers.get("location")!,
    new RegExp(`^/api/resolve-cache/models/${PYTHIA_REPO}/${hub.commit}/config\\.json\\?`),
  );
  const meta = await fetchFileMetadata(hub.url, PYTHIA_REPO, "main", "config.json");
  assert.deepEqual(meta, {
    kind: "found",
    meta: {
      commit: hub.commit,
      etag: gitBlobSha1(fs.readFileSync(path.join(hub.dir, "config.json"))),
      size: fs.statSync(path.join(hub.dir, "config.json")).size,
      lfs: false,
    },
  });

  const w = await fetch(`${hub.url}/${PYTHIA_REPO}/resolve/main/model.safetensors`, {
    method: "HEAD",
    redirect: "manual",
  });
  assert.equal(w.status, 302);
  assert.ok(w.headers.get("location")!.startsWith(hub.server.cdnUrl));
  assert.equal(w.headers.get("x-linked-etag"), `"${hub.sha256["model.safetensors"]}"`);
  assert.equal(w.headers.get("x-repo-commit"), hub.commit);

  const info = await (await fetch(`${hub.url}/api/models/${PYTHIA_REPO}/revision/main`)).json();
  assert.equal(info.sha, hub.commit);
  assert.deepEqual(
    info.siblings.map((s: any) => s.rfilename),
    ["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"],
  );
  const ranged = await fetch(`${hub.url}/${PYTHIA_REPO}/resolve/main/tokenizer.json`, {
    headers: { Range: "bytes=100-" },
  });
  assert.equal(ranged.status, 206);
  assert.equal((await ranged.arrayBuffer()).byteLength, fs.statSync(path.join(hub.dir, "tokenizer.json")).size - 100);
});
