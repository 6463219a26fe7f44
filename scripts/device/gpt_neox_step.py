#!/usr/bin/env python3
"""The reference GPU numbers for notebook 05: one AdamW training step of Pythia-shaped GPT-NeoX models
(random weights) in PyTorch on a CUDA GPU, across sizes; writes a tunebook recording
(docs/recorded/*.json, format "tunebook-scaling-record" version 1).

The model is Hugging Face transformers' GPTNeoXForCausalLM built from the Pythia shapes (no download);
without transformers, a compact re-implementation of the same architecture (fused QKV, partial rotary,
parallel residual, exact GELU, untied output) stands in and the recording says which was used.

Precisions: "fp32" (full fp32, TF32 off: what tfjs computes), "bf16-amp" (fp32 master weights, bf16
autocast: what HF Trainer's bf16=True does). Peak memory: torch.cuda.max_memory_allocated over the timed
steps. Usage:
  python3 gpt_neox_step.py --sizes 70m,160m,410m,1b --batch 8 --seq 512 --out rec.json
"""
import argparse, datetime, json, math, os, platform, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

# (hidden, layers, heads); vocab 50304, intermediate 4·hidden, rotary_pct 0.25 (the Hub's config.json files)
PYTHIA = {
    "14m": (128, 6, 4), "31m": (256, 6, 8), "70m": (512, 6, 8), "160m": (768, 12, 12), "410m": (1024, 24, 16),
    "1b": (2048, 16, 8), "1.4b": (2048, 24, 16), "2.8b": (2560, 32, 32),
}
VOCAB = 50304


class Block(nn.Module):
    def __init__(self, d, h, rot):
        super().__init__()
        self.h, self.hd, self.rot = h, d // h, rot
        self.input_layernorm = nn.LayerNorm(d, eps=1e-5)
        self.post_attention_layernorm = nn.LayerNorm(d, eps=1e-5)
        self.query_key_value = nn.Linear(d, 3 * d)
        self.dense = nn.Linear(d, d)
        self.dense_h_to_4h = nn.Linear(d, 4 * d)
        self.dense_4h_to_h = nn.Linear(4 * d, d)

    def rope(self, x, cos, sin):
        r = x[..., : self.rot]
        x1, x2 = r[..., : self.rot // 2], r[..., self.rot // 2 :]
        r = r * cos + torch.cat((-x2, x1), -1) * sin
        return torch.cat((r, x[..., self.rot :]), -1)

    def forward(self, x, cos, sin):
        B, T, C = x.shape
        qkv = self.query_key_value(self.input_layernorm(x)).view(B, T, self.h, 3 * self.hd).transpose(1, 2)
        q, k, v = qkv.split(self.hd, -1)  # [B, h, T, hd] each
        q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        m = self.dense_4h_to_h(F.gelu(self.dense_h_to_4h(self.post_attention_layernorm(x))))
        return x + self.dense(a) + m


class TinyNeoX(nn.Module):
    """GPT-NeoX as in HF modeling_gpt_neox.py (parallel residual), for when transformers is missing."""

    def __init__(self, d, L, h):
        super().__init__()
        self.embed_in = nn.Embedding(VOCAB, d)
        self.layers = nn.ModuleList(Block(d, h, int(d // h * 0.25)) for _ in range(L))
        self.final_layer_norm = nn.LayerNorm(d, eps=1e-5)
        self.embed_out = nn.Linear(d, VOCAB, bias=False)
        rot = int(d // h * 0.25)
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, rot, 2).float() / rot)), persistent=False)

    def forward(self, ids):
        T = ids.shape[1]
        f = torch.outer(torch.arange(T, device=ids.device).float(), self.inv_freq)
        emb = torch.cat((f, f), -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        x = self.embed_in(ids)
        for blk in self.layers:
            x = blk(x, cos.to(x.dtype), sin.to(x.dtype))
        logits = self.embed_out(self.final_layer_norm(x))
        return F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB).float(), ids[:, 1:].reshape(-1))


def build(size, impl):
    d, L, h = PYTHIA[size]
    if impl == "transformers":
        from transformers import GPTNeoXConfig, GPTNeoXForCausalLM
        cfg = GPTNeoXConfig(vocab_size=VOCAB, hidden_size=d, num_hidden_layers=L, num_attention_heads=h,
                            intermediate_size=4 * d, rotary_pct=0.25, max_position_embeddings=2048,
                            use_parallel_residual=True, tie_word_embeddings=False, hidden_act="gelu")
        m = GPTNeoXForCausalLM(cfg)
        return m, lambda ids: m(input_ids=ids, labels=ids).loss
    m = TinyNeoX(d, L, h)
    return m, m


def measure(size, precision, batch, seq, warmup, steps, impl):
    torch.manual_seed(0)
    with torch.device("cuda"):
        model, loss_fn = build(size, impl)
    model.train()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, VOCAB, (batch, seq), device="cuda")
    amp = precision == "bf16-amp"

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            loss = loss_fn(ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    first = None
    for _ in range(warmup):
        l = step()
        first = first if first is not None else float(l.detach())
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        l = step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated()
    sec = statistics.median(times)
    del model, opt
    torch.cuda.empty_cache()
    return {"model": f"pythia-{size}", "params": params, "precision": precision, "batch": batch, "seq": seq,
            "stepSeconds": sec, "stepSecondsAll": times, "tokensPerSecond": batch * seq / sec,
            "peakMemoryBytes": peak, "firstLoss": first}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="14m,31m,70m,160m,410m,1b")
    ap.add_argument("--precisions", default="bf16-amp,fp32")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--impl", default="auto", choices=["auto", "transformers", "plain"])
    ap.add_argument("--budget-s", type=float, default=240, help="stop starting new sizes after this many seconds")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA GPU visible to PyTorch")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    impl = a.impl
    tver = None
    if impl in ("auto", "transformers"):
        try:
            import transformers
            tver, impl = transformers.__version__, "transformers"
            build("14m", "transformers")  # the config API changes between versions: fail here, not per row
        except Exception as e:  # noqa: BLE001
            if impl == "transformers":
                raise
            print(f"transformers unavailable ({e}); using the plain re-implementation", flush=True)
            impl = "plain"
    props = torch.cuda.get_device_properties(0)
    rec = {
        "format": "tunebook-scaling-record", "version": 1,
        "label": f"PyTorch {torch.__version__.split('+')[0]} on {props.name}",
        "framework": "pytorch",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"gpu": props.name, "gpuMemoryBytes": props.total_memory, "gpuCount": torch.cuda.device_count(),
                    "cpu": platform.processor() or platform.machine(), "cpuCount": os.cpu_count()},
        "software": {"python": platform.python_version(), "torch": torch.__version__, "cuda": str(torch.version.cuda),
                     "model": f"transformers {tver} GPTNeoXForCausalLM" if impl == "transformers" else "scripts/device/gpt_neox_step.py TinyNeoX"},
        "method": (f"random-init Pythia shapes; one step = zero_grad, forward+loss, backward, clip 1.0, AdamW; "
                   f"{a.warmup} warm-up steps, median of {a.steps}; TF32 off; peak = torch.cuda.max_memory_allocated"),
        "rows": [],
    }
    t_start = time.time()
    for size in a.sizes.split(","):
        for prec in a.precisions.split(","):
            if time.time() - t_start > a.budget_s:
                rec["rows"].append({"model": f"pythia-{size}", "params": None, "precision": prec, "batch": a.batch, "seq": a.seq,
                                    "stepSeconds": None, "tokensPerSecond": None, "peakMemoryBytes": None, "error": "time budget spent"})
                continue
            try:
                row = measure(size, prec, a.batch, a.seq, a.warmup, a.steps, impl)
            except torch.cuda.OutOfMemoryError as e:  # a size that does not fit is a result too
                torch.cuda.empty_cache()
                row = {"model": f"pythia-{size}", "params": None, "precision": prec, "batch": a.batch, "seq": a.seq,
                       "stepSeconds": None, "tokensPerSecond": None, "peakMemoryBytes": None, "error": f"out of memory: {str(e)[:200]}"}
            except Exception as e:  # noqa: BLE001
                row = {"model": f"pythia-{size}", "params": None, "precision": prec, "batch": a.batch, "seq": a.seq,
                       "stepSeconds": None, "tokensPerSecond": None, "peakMemoryBytes": None, "error": f"{type(e).__name__}: {str(e)[:300]}"}
            rec["rows"].append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "stepSecondsAll"}), flush=True)
            tmp = a.out + ".tmp"
            with open(tmp, "w") as f:
                json.dump(rec, f, indent=1)
            os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
