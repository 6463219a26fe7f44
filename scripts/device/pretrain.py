#!/usr/bin/env python3
"""Pretrains tunebook's model family (src/model/family.ts) on one GPU with transformers' GPTNeoXForCausalLM, from
the pre-tokenized corpus that scripts/corpus/build-corpus.ts writes to .tunebook/corpus/device/.

    python3 scripts/device/pretrain.py --corpus .tunebook/corpus/device --out "$OUT" [--budget-s 330]
        [--members tunebook-2m,tunebook-9m,tunebook-20m] [--seed 0] [--tiny] [--steps N]

For each member: a training budget of min(20 tokens/parameter, --max-passes passes over the corpus) tokens, cut
further if the member's share of --budget-s runs out (shares in proportion to 6·N·tokens with a 10 % floor; a
share left unused goes to the next member; steps 10–40 time a step); random 512-token
windows of the training stream; AdamW (β 0.9/0.95, weight decay 0.1 on matrices), 2 % warm-up then cosine to
10 %, clipping 1.0; bf16 autocast on CUDA (fp32 on the CPU); seeded. Then the held-out loss of each corpus source,
the weights rounded to F16 and written as safetensors shards of at most --shard-mib MiB (no safetensors package
needed), config.json, the tokenizer, and a check that transformers' from_pretrained reads the folder back to the
same logits. Each member is packed as soon as it is done, as NAME.tar cut into NAME.tar.part-NNN of at most
--part-mib MiB in --out (the device returns at most 8 files of 16 MiB, 64 MiB in all; checked before training),
and pretrain-log.json is rewritten after each member, so a run stopped by the time limit still returns the
members it finished. Unpack with `cat NAME.tar.part-* | tar -x -C DIR` for each NAME.

Runs on the device's stack (Python 3.12, PyTorch 2.x, transformers 5.x) and on Debian's torch with transformers
4.31 (../shared/hf-python): only APIs both have.
"""
import argparse
import contextlib
import gzip
import hashlib
import io
import json
import math
import os
import platform
import struct
import sys
import tarfile
import time

import numpy as np
import torch
import transformers
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

MANIFEST_FORMAT = "tunebook-pretrain-corpus"
SHARE_FLOOR = 0.1  # each member's minimum share of --budget-s


def fail(msg):
    print(f"pretrain.py: {msg}", file=sys.stderr)
    sys.exit(1)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_corpus(folder):
    """The manifest, family and token streams; every file is checked against the manifest's sha256."""
    mpath = os.path.join(folder, "manifest.json")
    if not os.path.isfile(mpath):
        fail(f"{mpath} is missing: build the corpus first (node --import tsx scripts/corpus/build-corpus.ts) and carry .tunebook/corpus/device")
    with open(mpath) as f:
        manifest = json.load(f)
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != 1:
        fail(f"{mpath}: not a version-1 {MANIFEST_FORMAT} manifest")

    def ids(entry):
        path = os.path.join(folder, entry["file"])
        if not os.path.isfile(path):
            fail(f"{path} is missing (listed in {mpath}); rebuild or re-carry the corpus")
        if sha256_file(path) != entry["sha256"]:
            fail(f"{path} does not match its sha256 in {mpath}: the copy is damaged or stale; rebuild or re-carry the corpus")
        with gzip.open(path, "rb") as f:
            arr = np.frombuffer(f.read(), dtype="<u2").astype(np.int64)
        if arr.size != entry["tokens"]:
            fail(f"{path} holds {arr.size} tokens, the manifest says {entry['tokens']}")
        return torch.from_numpy(arr)

    tok = os.path.join(folder, manifest["tokenizer"]["file"])
    if not os.path.isfile(tok) or sha256_file(tok) != manifest["tokenizer"]["sha256"]:
        fail(f"{tok} is missing or does not match its sha256 in {mpath}")
    with open(os.path.join(folder, manifest["family"])) as f:
        family = json.load(f)["members"]
    train = ids(manifest["train"])
    held = {src: ids(e) for src, e in sorted(manifest["heldOut"].items())}
    return manifest, family, train, held


def rotary_fraction(config):
    """The fraction of each head that gets rotary embeddings, whichever name this transformers release uses."""
    for name in ("rotary_pct", "partial_rotary_factor"):
        v = getattr(config, name, None)
        if isinstance(v, (int, float)):
            return float(v)
    rp = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    if isinstance(rp, dict) and "partial_rotary_factor" in rp:
        return float(rp["partial_rotary_factor"])
    return None


def rotary_base(config):
    """Rotary θ: `rotary_emb_base` (4.x) or `rope_theta` (attribute or inside `rope_parameters`, 5.x)."""
    for name in ("rotary_emb_base", "rope_theta"):
        v = getattr(config, name, None)
        if isinstance(v, (int, float)):
            return float(v)
    rp = getattr(config, "rope_parameters", None) or {}
    return float(rp["rope_theta"]) if isinstance(rp, dict) and "rope_theta" in rp else None


def build_model(hf_config, seed):
    config = GPTNeoXConfig.from_dict(dict(hf_config))
    # transformers 5 renamed both (rope_parameters); a release that dropped them would train another model
    for what, got, want in (("rotary_pct", rotary_fraction(config), hf_config["rotary_pct"]), ("rotary_emb_base", rotary_base(config), hf_config["rotary_emb_base"])):
        if got is None or abs(got - want) > 1e-9:
            fail(f"transformers {transformers.__version__} read {what} {want} as {got}: the saved model would not match tunebook's")
    torch.manual_seed(seed)
    return GPTNeoXForCausalLM(config)


def batches(data, batch, seq, seed):
    """Endless random windows of `seq` tokens of `data` (on its device); the model shifts the labels itself."""
    g = np.random.default_rng(seed)
    hi = data.numel() - seq
    if hi <= 0:
        fail(f"the training stream has {data.numel()} tokens, fewer than one window of {seq}")
    offs = torch.arange(seq, device=data.device)
    while True:
        starts = torch.from_numpy(g.integers(0, hi, size=batch)).to(data.device)
        yield data[starts[:, None] + offs[None, :]]


def lr_at(step, total, warmup, peak):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def held_out_loss(model, held, seq, windows, device, amp):
    """Mean loss per predicted token on the first `windows` non-overlapping windows of each source's held-out stream."""
    model.eval()
    out = {}
    with torch.no_grad():
        for src, ids in held.items():
            n = min(windows, (ids.numel() - 1) // seq)
            if n <= 0:
                continue
            x = ids[: n * seq].view(n, seq).to(device)
            total = 0.0
            for i in range(0, n, 16):
                xb = x[i : i + 16]
                with amp():
                    logits = model(input_ids=xb).logits
                lp = torch.nn.functional.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), xb[:, 1:].reshape(-1), reduction="sum")
                total += lp.item()
            out[src] = {"loss": total / (n * (seq - 1)), "tokens": n * (seq - 1)}
    model.train()
    return out


def write_safetensors(path, tensors):
    """safetensors by hand (u64 header length, JSON header padded to 8 bytes, contiguous data), no package needed."""
    header, offset, blobs = {}, 0, []
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        dtype = {torch.float16: "F16", torch.float32: "F32"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return offset


def save_member(model, hf_config, folder, corpus_dir, manifest, shard_bytes):
    """F16 weights (rotary inv_freq in F32, as tunebook writes it for transformers 4.31) in shards, config, tokenizer."""
    os.makedirs(folder, exist_ok=True)
    tensors = [(n, p.detach().to(torch.float16)) for n, p in model.named_parameters()]
    rot = int((hf_config["hidden_size"] // hf_config["num_attention_heads"]) * hf_config["rotary_pct"])
    inv = 1.0 / (hf_config["rotary_emb_base"] ** (torch.arange(0, rot, 2, dtype=torch.int64).float() / rot))
    tensors += [(f"gpt_neox.layers.{i}.attention.rotary_emb.inv_freq", inv.clone()) for i in range(hf_config["num_hidden_layers"])]
    shards, cur, size = [], [], 0
    for name, t in tensors:
        b = t.numel() * t.element_size()
        if cur and size + b > shard_bytes:
            shards.append(cur)
            cur, size = [], 0
        cur.append((name, t))
        size += b
    shards.append(cur)
    files = []
    if len(shards) == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), shards[0])
        files.append("model.safetensors")
    else:
        weight_map, total = {}, 0
        for i, sh in enumerate(shards):
            fn = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
            total += write_safetensors(os.path.join(folder, fn), sh)
            weight_map.update({n: fn for n, _ in sh})
            files.append(fn)
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)
        files.append("model.safetensors.index.json")
    cfg = dict(hf_config, torch_dtype="float16")
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    for fn in ("tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(corpus_dir, fn), "rb") as src, open(os.path.join(folder, fn), "wb") as dst:
            dst.write(src.read())
    return files + ["config.json", "tokenizer.json", "tokenizer_config.json"]


def reload_check(model, folder, vocab, seed):
    """from_pretrained(folder) must give the trained model's logits (weights rounded to F16) on the same ids."""
    ref = model.float().cpu().eval()
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(p.to(torch.float16).float())
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, vocab, (2, 24), generator=g)
    back = GPTNeoXForCausalLM.from_pretrained(folder).float().eval()
    with torch.no_grad():
        d = (back(input_ids=ids).logits - ref(input_ids=ids).logits).abs().max().item()
    return {"ids": ids.tolist(), "maxAbsDiff": d}


def tiny_member(m, vocab):
    cfg = dict(m["config"], vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, max_position_embeddings=64)
    return dict(m, name=m["name"] + "-tiny", config=cfg, batch=4, seq=32, lr=3e-3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=".tunebook/corpus/device")
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp/tunebook-pretrain-out"))
    ap.add_argument("--work", default="/tmp/tunebook-pretrain-work", help="where member folders are written before packing")
    ap.add_argument("--members", default="", help="comma-separated names from family.json (default: all)")
    ap.add_argument("--budget-s", type=float, default=330.0, help="training seconds for all members together")
    ap.add_argument("--tokens-per-param", type=float, default=20.0)
    ap.add_argument("--max-passes", type=float, default=4.0)
    ap.add_argument("--eval-windows", type=int, default=64, help="held-out windows per source")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=0, help="fixed step count per member (tests)")
    ap.add_argument("--tiny", action="store_true", help="one tiny member derived from the smallest, a few CPU steps: the end-to-end check")
    ap.add_argument("--shard-mib", type=float, default=15.0)
    ap.add_argument("--part-mib", type=float, default=15.5)
    ap.add_argument("--max-files", type=int, default=8, help="the device returns at most 8 files")
    ap.add_argument("--max-total-mib", type=float, default=63.0, help="the device returns at most 64 MiB in all")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()

    t_start = time.time()
    manifest, family, train, held = load_corpus(a.corpus)
    vocab = manifest["vocabSize"]
    names = [n for n in a.members.split(",") if n]
    unknown = [n for n in names if n not in {m["name"] for m in family}]
    if unknown:
        fail(f"unknown member(s) {', '.join(unknown)}; family.json has {', '.join(m['name'] for m in family)}")
    members = [m for m in family if not names or m["name"] in names]
    if a.tiny:
        members = [tiny_member(min(members, key=lambda m: m["parameters"]), vocab)]
        a.steps = a.steps or 3
        a.eval_windows = min(a.eval_windows, 2)
    device = torch.device(a.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    amp = (lambda: torch.autocast(device_type="cuda", dtype=torch.bfloat16)) if cuda else contextlib.nullcontext
    corpus_tokens = train.numel()
    print(f"corpus: {corpus_tokens:,} train tokens, {sum(h.numel() for h in held.values()):,} held out in {len(held)} sources; device {device}"
          + (f" ({torch.cuda.get_device_name(0)})" if cuda else "") + f"; torch {torch.__version__}, transformers {transformers.__version__}", flush=True)

    plans = []
    for m in members:
        n = sum(p.numel() for p in build_model(m["config"], 0).parameters())
        target = min(a.tokens_per_param * n, a.max_passes * corpus_tokens)
        plans.append({"m": m, "params": n, "target": target, "flops": 6 * n * target})
    # What comes back must fit the device's limits: check before training, from the F16 sizes.
    part = a.part_mib * 2**20
    est = [2 * p["params"] + 0.5 * 2**20 for p in plans]  # F16 weights + tokenizer, config, training.json
    files = sum(math.ceil(b / part) for b in est) + 1
    if sum(est) > a.max_total_mib * 2**20 or files > a.max_files:
        fail(f"{', '.join(p['m']['name'] for p in plans)} would come back as ≈ {sum(est) / 2**20:.0f} MiB in {files} files; "
             f"the device returns at most {a.max_total_mib:.0f} MiB in {a.max_files} files: train fewer --members per call")
    # Time shares: in proportion to 6·N·tokens, with a floor, since small models are bound by per-step overhead
    # rather than FLOPs; time a member leaves unused goes to the ones after it.
    flops = sum(p["flops"] for p in plans)
    for p in plans:
        p["weight"] = SHARE_FLOOR + (1 - SHARE_FLOOR * len(plans)) * p["flops"] / flops if len(plans) * SHARE_FLOOR < 1 else 1 / len(plans)
    train_dev = train.to(device)
    t_budget = time.time()
    log = {
        "format": "tunebook-pretrain-log", "version": 1, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
        "env": {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__, "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu", "amp": "bf16" if cuda else "fp32"},
        "corpus": {"trainTokens": corpus_tokens, "manifestSha256": sha256_file(os.path.join(a.corpus, "manifest.json")), "trainSha256": manifest["train"]["sha256"]},
        "seed": a.seed, "budgetS": a.budget_s, "members": [],
    }
    for i, p in enumerate(plans):
        m, cfg = p["m"], p["m"]["config"]
        seq, batch = m["seq"], m["batch"]
        left = a.budget_s - (time.time() - t_budget)
        share = max(0.0, left) * p["weight"] / sum(q["weight"] for q in plans[i:])
        steps = a.steps or max(10, math.ceil(p["target"] / (batch * seq)))
        model = build_model(cfg, a.seed + i).to(device)
        model.train()
        decay = [q for q in model.parameters() if q.dim() >= 2]
        no_decay = [q for q in model.parameters() if q.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=m["lr"], betas=(0.9, 0.95), eps=1e-8)
        data = batches(train_dev, batch, seq, a.seed * 1000 + i)
        print(f"== {m['name']}: {p['params']:,} parameters; plan {steps} steps × {batch} × {seq} = {steps * batch * seq / 1e6:.1f}M tokens "
              f"({steps * batch * seq / p['params']:.1f}/parameter, {steps * batch * seq / corpus_tokens:.2f} passes); time share {share:.0f} s", flush=True)
        t0 = time.time()
        losses, step, cut = [], 0, None
        warmup = max(1, steps // 50)
        while step < steps:
            for g in opt.param_groups:
                g["lr"] = lr_at(step, steps, warmup, m["lr"])
            x = next(data)
            with amp():
                loss = model(input_ids=x, labels=x).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            if step in (10, 40) and not a.steps:  # steps 10–40 time a step (the first ones include CUDA's start-up)
                if cuda:
                    torch.cuda.synchronize()
                if step == 10:
                    t10 = time.time()
                else:
                    per = (time.time() - t10) / 30
                    fit = step + int((share - (time.time() - t0)) / per)
                    if fit < steps:
                        cut = {"plannedSteps": steps, "secondsPerStep": per}
                        steps = max(step + 1, fit)
                    print(f"   {per * 1000:.1f} ms/step, {batch * seq / per / 1e6:.2f}M tokens/s: {steps} steps fit the share", flush=True)
            if step % max(1, steps // 50) == 0 or step == steps:
                lv = loss.item()
                if not math.isfinite(lv):
                    fail(f"{m['name']}: the loss is {lv} at step {step}; lower its lr in src/model/family.ts")
                losses.append([step, round(lv, 4)])
                if step % max(1, steps // 10) == 0 or step == steps:
                    print(f"   step {step}/{steps} loss {lv:.3f} lr {opt.param_groups[0]['lr']:.2e} {(time.time() - t0):.0f} s", flush=True)
        if cuda:
            torch.cuda.synchronize()
        secs = time.time() - t0
        tokens = step * batch * seq
        ho = held_out_loss(model, held, seq, a.eval_windows, device, amp)
        all_tok = sum(v["tokens"] for v in ho.values())
        folder = os.path.join(a.work, "family", m["name"])
        if os.path.isdir(folder):
            for f in os.listdir(folder):
                os.remove(os.path.join(folder, f))
        files = save_member(model, cfg, folder, a.corpus, manifest, int(a.shard_mib * 2**20))
        check = reload_check(model, folder, vocab, a.seed)
        rec = {
            "name": m["name"], "parameters": p["params"], "config": cfg, "lr": m["lr"], "batch": batch, "seq": seq,
            "schedule": "AdamW β(0.9, 0.95) eps 1e-8, weight decay 0.1 on matrices, warm-up 2 % then cosine to 10 %, clip 1.0",
            "steps": step, "tokens": tokens, "tokensPerParameter": tokens / p["params"], "passes": tokens / corpus_tokens,
            "timeCut": cut, "seconds": round(secs, 1), "tokensPerSecond": round(tokens / secs),
            "trainLoss": losses, "heldOut": ho,
            "heldOutAll": sum(v["loss"] * v["tokens"] for v in ho.values()) / max(1, all_tok),
            "uniformLoss": math.log(vocab), "reloadCheck": {"transformers": transformers.__version__, "maxAbsDiff": check["maxAbsDiff"]},
            "files": files,
        }
        if check["maxAbsDiff"] > 1e-4:
            fail(f"{m['name']}: from_pretrained({folder}) gives logits {check['maxAbsDiff']:.2e} away from the trained model's")
        with open(os.path.join(folder, "training.json"), "w") as f:
            json.dump(dict(rec, builtBy="scripts/device/pretrain.py", env=log["env"], seed=a.seed, corpus=log["corpus"]), f, indent=1)
        log["members"].append(rec)
        rec["packed"] = pack_member(folder, m["name"], a.out, int(a.part_mib * 2**20))
        write_log(a.out, dict(log, seconds=round(time.time() - t_start, 1)))
        print(f"   done in {secs:.0f} s: {tokens / 1e6:.1f}M tokens, held-out loss {rec['heldOutAll']:.3f} "
              + " ".join(f"{k} {v['loss']:.2f}" for k, v in ho.items()) + f"; reload Δ {check['maxAbsDiff']:.1e}", flush=True)
        del model, opt
        if cuda:
            torch.cuda.empty_cache()

    log["seconds"] = round(time.time() - t_start, 1)
    write_log(a.out, log)
    print(f"done: {len(log['members'])} member(s) in {a.out}; {log['seconds']:.0f} s in all", flush=True)


def write_log(out, log):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "pretrain-log.json"), "w") as f:
        json.dump(log, f, indent=1)


def pack_member(folder, name, out, part_bytes):
    """The member's folder as NAME.tar, cut into NAME.tar.part-000, -001, … of at most part_bytes (the device's file limit)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(folder, arcname=name)
    blob = buf.getvalue()
    os.makedirs(out, exist_ok=True)
    n = max(1, math.ceil(len(blob) / part_bytes))
    for i in range(n):
        with open(os.path.join(out, f"{name}.tar.part-{i:03d}"), "wb") as f:
            f.write(blob[i * part_bytes : (i + 1) * part_bytes])
    return {"parts": n, "bytes": len(blob)}


if __name__ == "__main__":
    main()
