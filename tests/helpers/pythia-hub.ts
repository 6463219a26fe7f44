/**
 * A local stand-in for `EleutherAI/pythia-70m` on the Hugging Face hub, so the online path (download, cache,
 * offline reuse) runs in `npm test` without a network. The repo holds:
 *
 *  - pythia-70m's own `config.json` (the file on the hub, field for field), `tokenizer_config.json` and
 *    `special_tokens_map.json`;
 *  - the real Pythia tokenizer (`../shared/fixtures/pythia/20B_tokenizer.json`, served as `tokenizer.json`);
 *  - `model.safetensors` in F16 with the real tensor names and shapes, the legacy buffers included as the hub's
 *    file has them (`attention.bias` U8 [1,1,2048,2048], `attention.masked_bias` F16 scalar, which is -inf in
 *    F16, and `rotary_emb.inv_freq` F16 [8]: 166 MB in all, like the real file). The weights are seeded
 *    N(0, 0.02) with unit layer-norm weights, so generation stays finite; they are generated at test time into a
 *    temp folder and never committed.
 *
 * It is served by hubserver.ts as today's hub serves it: small files through a relative 307 to a commit-pinned
 * `/api/resolve-cache/...` URL (ETag = git blob sha1), the weights through a 302 to a CDN origin with
 * `X-Linked-Etag` / `X-Linked-Size`, `X-Repo-Commit` on every answer, Range on GET, and `/api/models/...`. Its
 * `requests` log shows how often each file body went out (`bodyFetches`).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { serializeSafetensors, type SafeTensor } from "../../src/model/safetensors";
import { FIXTURES } from "./backend";
import {
  fakeCommit,
  type FixtureFile,
  type HubServer,
  type RequestRecord,
  sha256hex,
  startHubServer,
} from "./hubserver";

export const PYTHIA_REPO = "EleutherAI/pythia-70m";
export const PYTHIA_COMMIT = fakeCommit("pythia-70m main");
export const PYTHIA_TOKENIZER = path.join(FIXTURES, "pythia", "20B_tokenizer.json");

/** `config.json` of EleutherAI/pythia-70m as the hub serves it (main). */
export const PYTHIA_70M_CONFIG = {
  architectures: ["GPTNeoXForCausalLM"],
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: "gelu",
  hidden_size: 512,
  initializer_range: 0.02,
  intermediate_size: 2048,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 2048,
  model_type: "gpt_neox",
  num_attention_heads: 8,
  num_hidden_layers: 6,
  rotary_emb_base: 10000,
  rotary_pct: 0.25,
  tie_word_embeddings: false,
  torch_dtype: "float16",
  transformers_version: "4.24.0",
  use_cache: true,
  use_parallel_residual: true,
  vocab_size: 50304,
};

const SPECIAL_TOKENS_MAP = { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>" };
const TOKENIZER_CONFIG = {
  add_prefix_space: false,
  bos_token: "<|endoftext|>",
  eos_token: "<|endoftext|>",
  name_or_path: "EleutherAI/gpt-neox-20b",
  special_tokens_map_file:
    "/admin/home-hailey/.cache/huggingface/hub/models--EleutherAI--gpt-neox-20b/snapshots/4e49eadb5d14bd22f314ec3f45b69a87b88c7691/special_tokens_map.json",
  tokenizer_class: "GPTNeoXTokenizer",
  unk_token: "<|endoftext|>",
};

/** A seeded N(0, std) stream (mulberry32 + Box-Muller): the same bytes on every machine. */
function normals(seed: number, std: number): (out: Float32Array) => Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297; // (0, 1)
  };
  return (out) => {
    for (let i = 0; i < out.length; i += 2) {
      const r = std * Math.sqrt(-2 * Math.log(uniform()));
      const a = 2 * Math.PI * uniform();
      out[i] = r * Math.cos(a);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
    }
    return out;
  };
}

/**
 * pythia-70m's `model.safetensors` with seeded random weights: every name, shape and dtype of the hub's file.
 *
 * @example
 * fs.writeFileSync(path.join(dir, "model.safetensors"), pythia70mWeights(0));
 */
export function pythia70mWeights(seed = 0, std = 0.02): Uint8Array {
  const c = PYTHIA_70M_CONFIG;
  const h = c.hidden_size;
  const fill = normals(seed, std);
  const f32 = (shape: number[], init: "normal" | "ones" | "zeros"): SafeTensor => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (init === "normal") fill(data);
    else if (init === "ones") data.fill(1);
    return { dtype: "F32", shape, data };
  };
  const rotary = Math.floor((h / c.num_attention_heads) * c.rotary_pct);
  const invFreq = Float32Array.from({ length: rotary / 2 }, (_, i) => 1 / c.rotary_emb_base ** ((2 * i) / rotary));
  const n = c.max_position_embeddings;
  const causal = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) causal.fill(1, i * n, i * n + i + 1);

  const t: Record<string, SafeTensor> = {
    "gpt_neox.embed_in.weight": f32([c.vocab_size, h], "normal"),
    "gpt_neox.final_layer_norm.weight": f32([h], "ones"),
    "gpt_neox.final_layer_norm.bias": f32([h], "zeros"),
    "embed_out.weight": f32([c.vocab_size, h], "normal"),
  };
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `gpt_neox.layers.${i}`;
    t[`${p}.input_layernorm.weight`] = f32([h], "ones");
    t[`${p}.input_layernorm.bias`] = f32([h], "zeros");
    t[`${p}.post_attention_layernorm.weight`] = f32([h], "ones");
    t[`${p}.post_attention_layernorm.bias`] = f32([h], "zeros");
    t[`${p}.attention.bias`] = { dtype: "U8", shape: [1, 1, n, n], data: causal };
    t[`${p}.attention.masked_bias`] = { dtype: "F32", shape: [], data: new Float32Array([-1e9]) };
    t[`${p}.attention.rotary_emb.inv_freq`] = { dtype: "F32", shape: [invFreq.length], data: invFreq };
    t[`${p}.attention.query_key_value.weight`] = f32([3 * h, h], "normal");
    t[`${p}.attention.query_key_value.bias`] = f32([3 * h], "zeros");
    t[`${p}.attention.dense.weight`] = f32([h, h], "normal");
    t[`${p}.attention.dense.bias`] = f32([h], "zeros");
    t[`${p}.mlp.dense_h_to_4h.weight`] = f32([c.intermediate_size, h], "normal");
    t[`${p}.mlp.dense_h_to_4h.bias`] = f32([c.intermediate_size], "zeros");
    t[`${p}.mlp.dense_4h_to_h.weight`] = f32([h, c.intermediate_size], "normal");
    t[`${p}.mlp.dense_4h_to_h.bias`] = f32([h], "zeros");
  }
  return serializeSafetensors(t, { format: "pt" }, { dtype: "F16" });
}

/** The repo's files, written into `dir` (a temp folder): name -> path. */
export function writePythiaRepo(dir: string, seed = 0): Record<string, string> {
  fs.mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {};
  const put = (name: string, content: Uint8Array | string) => {
    files[name] = path.join(dir, name);
    fs.writeFileSync(files[name], content);
  };
  put("config.json", JSON.stringify(PYTHIA_70M_CONFIG, null, 2) + "\n");
  put("special_tokens_map.json", JSON.stringify(SPECIAL_TOKENS_MAP) + "\n");
  put("tokenizer_config.json", JSON.stringify(TOKENIZER_CONFIG, null, 2) + "\n");
  fs.copyFileSync(PYTHIA_TOKENIZER, (files["tokenizer.json"] = path.join(dir, "tokenizer.json")));
  put("model.safetensors", pythia70mWeights(seed));
  return files;
}

/** Files stored in LFS on the real repo (served through the CDN redirect). */
const LFS = new Set(["model.safetensors"]);

export interface PythiaHub {
  /** Use as HF_ENDPOINT. */
  url: string;
  server: HubServer;
  /** The temp folder holding the repo's files (deleted by `dispose`). */
  dir: string;
  commit: string;
  /** File name -> its bytes' sha256. */
  sha256: Record<string, string>;
  /** How many times each file's body was sent from its first byte (GETs of the file, or of its LFS blob on the CDN). */
  bodyFetches(): Record<string, number>;
  /** The `Range` headers of resumed GETs of `file` (`bytes=N-`). */
  resumes(file: string): string[];
  /** Stops the server (idempotent); the files stay until `dispose`. */
  stop(): Promise<void>;
  /** Stops the server and deletes the temp folder. */
  dispose(): Promise<void>;
}

/**
 * Build the repo in a temp folder and serve it on 127.0.0.1.
 *
 * @example
 * const hub = await startPythiaHub();
 * process.env.HF_ENDPOINT = hub.url;
 * try { await loadModel("EleutherAI/pythia-70m"); } finally { await hub.dispose(); }
 */
export async function startPythiaHub(opts: { seed?: number; dir?: string } = {}): Promise<PythiaHub> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "tunebook-pythia-hub-"));
  const paths = writePythiaRepo(dir, opts.seed ?? 0);
  const files: Record<string, FixtureFile> = {};
  const sha256: Record<string, string> = {};
  const bySha = new Map<string, string>();
  for (const [name, p] of Object.entries(paths)) {
    files[name] = { content: fs.readFileSync(p), lfs: LFS.has(name) };
    sha256[name] = sha256hex(files[name].content);
    bySha.set(sha256[name], name);
  }
  const server = await startHubServer({
    repos: [{ id: PYTHIA_REPO, refs: { main: PYTHIA_COMMIT }, commits: { [PYTHIA_COMMIT]: files } }],
    resolveCache: true,
  });
  const pinnedPrefix = `/api/resolve-cache/models/${PYTHIA_REPO}/${PYTHIA_COMMIT}/`;
  /** The repo file a request's body is: an LFS blob on the CDN, or a small file at its commit-pinned URL. */
  const fileOf = (r: RequestRecord): string | undefined => {
    const url = r.url.split("?")[0];
    if (r.server === "cdn") return bySha.get(url.split("/").pop() ?? "");
    if (!url.startsWith(pinnedPrefix)) return undefined;
    const name = url.slice(pinnedPrefix.length).split("/").map(decodeURIComponent).join("/");
    return name in files ? name : undefined;
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  return {
    url: server.url,
    server,
    dir,
    commit: PYTHIA_COMMIT,
    sha256,
    bodyFetches: () => {
      const counts: Record<string, number> = Object.fromEntries(Object.keys(files).map((f) => [f, 0]));
      for (const r of server.requests) {
        const name = r.method === "GET" && !r.range ? fileOf(r) : undefined;
        if (name) counts[name]++;
      }
      return counts;
    },
    resumes: (file) =>
      server.requests.filter((r) => r.method === "GET" && r.range && fileOf(r) === file).map((r) => r.range!),
    stop,
    dispose: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
