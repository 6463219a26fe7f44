// Fixture repositories for the hub tests, built from the shared fixtures (read in place, never copied into the repo).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FIXTURES } from "../helpers/backend";
import { fakeCommit, type FixtureFile, type FixtureRepo, filesFrom } from "../helpers/hubserver";

export const REPO = "tiny-org/neox-tiny-a";
export const SHARDED = "tiny-org/neox-tiny-sharded";
export const MAIN = fakeCommit("main");
export const STEP1000 = fakeCommit("step1000");
export const STEP3000 = fakeCommit("step3000");
export const SHARDED_MAIN = fakeCommit("sharded");

const A = path.join(FIXTURES, "neox-tiny", "A");
const TOKENIZER = path.join(FIXTURES, "pythia", "20B_tokenizer.json");

function common(): Record<string, FixtureFile> {
  return filesFrom({
    "config.json": { from: path.join(A, "config.json") },
    "tokenizer.json": { from: TOKENIZER },
  });
}

export function tinyRepo(): FixtureRepo {
  return {
    id: REPO,
    refs: { main: MAIN, step1000: STEP1000, step3000: STEP3000 },
    commits: {
      [MAIN]: {
        ...common(),
        "tokenizer_config.json": { content: Buffer.from('{"model_max_length": 2048}\n') },
        "model.safetensors": { content: fs.readFileSync(path.join(A, "model.safetensors")), lfs: true },
      },
      [STEP1000]: {
        ...common(),
        "model.safetensors": { content: fs.readFileSync(path.join(A, "model.f16.safetensors")), lfs: true },
      },
      // like an old checkpoint branch: PyTorch pickle only
      [STEP3000]: { ...common(), "pytorch_model.bin": { content: Buffer.alloc(4096, 7), lfs: true } },
    },
  };
}

export function shardedRepo(): FixtureRepo {
  const index = {
    metadata: { total_size: 1 },
    weight_map: {
      "a.weight": "model-00001-of-00002.safetensors",
      "b.weight": "model-00002-of-00002.safetensors",
      "c.weight": "model-00001-of-00002.safetensors",
    },
  };
  return {
    id: SHARDED,
    refs: { main: SHARDED_MAIN },
    commits: {
      [SHARDED_MAIN]: {
        ...common(),
        "model.safetensors.index.json": { content: Buffer.from(JSON.stringify(index)) },
        "model-00001-of-00002.safetensors": { content: fs.readFileSync(path.join(A, "model.safetensors")), lfs: true },
        "model-00002-of-00002.safetensors": {
          content: fs.readFileSync(path.join(A, "model.f16.safetensors")),
          lfs: true,
        },
      },
    },
  };
}

/** A fresh, empty cache folder set as HF_HUB_CACHE; removed by the returned cleanup. */
export function freshCache(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-hub-"));
  const saved = process.env.HF_HUB_CACHE;
  process.env.HF_HUB_CACHE = dir;
  return {
    dir,
    cleanup: () => {
      if (saved === undefined) delete process.env.HF_HUB_CACHE;
      else process.env.HF_HUB_CACHE = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const read = (p: string): Buffer => fs.readFileSync(p);
