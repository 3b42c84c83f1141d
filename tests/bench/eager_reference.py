"""A PyTorch replica of core/train/Model.cpp (fp32 parameters, bf16 autocast, SDPA causal
attention, fp32 cross-entropy, AdamW) to measure, on a real GPU, what the planner's meshwork
target predicts: tokens/s and peak memory. Prints one JSON line per configuration.

    python3 tests/bench/eager_reference.py            # on a machine with a CUDA GPU
"""
import json
import math
import time

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

CONFIGS = [
    # name, L, C, NH, NKV, FFN, V (padded), maxT, swiglu, tied, B, T, recompute
    ("gpt2-124m", 12, 768, 12, 12, 3072, 50304, 1024, False, True, 16, 1024, "none"),
    ("gpt2-124m", 12, 768, 12, 12, 3072, 50304, 1024, False, True, 16, 1024, "full"),
    ("gpt2-124m", 12, 768, 12, 12, 3072, 50304, 1024, False, True, 16, 1024, "selective"),
    ("llama-1b", 16, 2048, 32, 8, 8192, 128256, 8192, True, True, 4, 2048, "none"),
]


def build(L, C, NH, NKV, FFN, V, maxT, swiglu, tied, dev):
    g = torch.Generator().manual_seed(0)
    hd = C // NH
    KV = NKV * hd
    p = {"wte": torch.randn(V, C, generator=g) * 0.02}
    if not swiglu:
        p["wpe"] = torch.randn(maxT, C, generator=g) * 0.02
    layers = []
    for _ in range(L):
        l = {
            "ln1w": torch.ones(C), "ln2w": torch.ones(C),
            "qkvw": torch.randn(C + 2 * KV, C, generator=g) * 0.02,
            "projw": torch.randn(C, C, generator=g) * 0.02,
            "fcw": torch.randn((2 if swiglu else 1) * FFN, C, generator=g) * 0.02,
            "mlpw": torch.randn(C, FFN, generator=g) * 0.02,
        }
        if not swiglu:
            l.update({"ln1b": torch.zeros(C), "ln2b": torch.zeros(C), "qkvb": torch.zeros(C + 2 * KV),
                      "projb": torch.zeros(C), "fcb": torch.zeros(FFN), "mlpb": torch.zeros(C)})
        layers.append(l)
    p["lnfw"] = torch.ones(C)
    if not swiglu:
        p["lnfb"] = torch.zeros(C)
    if not tied:
        p["head"] = torch.randn(V, C, generator=g) * 0.02
    params = []
    for d in [p] + layers:
        for k in d:
            d[k] = d[k].to(dev).requires_grad_(True)
            params.append(d[k])
    return p, layers, params


def norm(x, w, b, swiglu):
    if swiglu:
        return F.rms_norm(x, (x.shape[-1],), w, 1e-5)
    return F.layer_norm(x, (x.shape[-1],), w, b, 1e-5)


def rope_tables(T, hd, dev, dtype):
    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, device=dev).float() / hd))
    ang = torch.outer(torch.arange(T, device=dev).float(), inv)
    ang = torch.cat([ang, ang], -1)
    return ang.cos().to(dtype), ang.sin().to(dtype)


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def block(l, x, NH, NKV, swiglu, recompute, cs):
    B, T, C = x.shape
    hd = C // NH
    KV = NKV * hd
    h = norm(x, l["ln1w"], l.get("ln1b"), swiglu)
    qkv = F.linear(h, l["qkvw"], l.get("qkvb"))
    q = qkv[..., :C].view(B, T, NH, hd).transpose(1, 2)
    k = qkv[..., C:C + KV].view(B, T, NKV, hd).transpose(1, 2)
    v = qkv[..., C + KV:].view(B, T, NKV, hd).transpose(1, 2)
    if swiglu:
        q, k = rope(q, *cs), rope(k, *cs)
    if NKV != NH:
        rep = NH // NKV
        k = k.unsqueeze(2).expand(B, NKV, rep, T, hd).reshape(B, NH, T, hd)
        v = v.unsqueeze(2).expand(B, NKV, rep, T, hd).reshape(B, NH, T, hd)
    core = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)
    y = checkpoint(core, q, k, v, use_reentrant=False) if recompute == "selective" else core(q, k, v)
    y = y.transpose(1, 2).reshape(B, T, C)
    out = x + F.linear(y, l["projw"], l.get("projb"))
    h = norm(out, l["ln2w"], l.get("ln2b"), swiglu)
    f = F.linear(h, l["fcw"], l.get("fcb"))
    if swiglu:
        a, b = f.chunk(2, -1)
        f = F.silu(a) * b
    else:
        f = F.gelu(f, approximate="tanh")
    return out + F.linear(f, l["mlpw"], l.get("mlpb"))


def loss_fn(p, layers, idx, tgt, NH, NKV, swiglu, recompute, cs):
    T = idx.shape[1]
    x = F.embedding(idx, p["wte"])
    if "wpe" in p:
        x = x + p["wpe"][:T]
    for l in layers:
        if recompute == "full":
            x = checkpoint(block, l, x, NH, NKV, swiglu, recompute, cs, use_reentrant=False)
        else:
            x = block(l, x, NH, NKV, swiglu, recompute, cs)
    x = norm(x, p["lnfw"], p.get("lnfb"), swiglu)
    logits = F.linear(x, p.get("head", p["wte"]))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), tgt.reshape(-1))


def run(cfg):
    name, L, C, NH, NKV, FFN, V, maxT, swiglu, tied, B, T, recompute = cfg
    dev = torch.device("cuda")
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    p, layers, params = build(L, C, NH, NKV, FFN, V, maxT, swiglu, tied, dev)
    opt = torch.optim.AdamW(params, lr=1e-4, fused=True)
    cs = rope_tables(T, C // NH, dev, torch.bfloat16)
    idx = torch.randint(0, V, (B, T), device=dev)
    tgt = torch.randint(0, V, (B, T), device=dev)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = loss_fn(p, layers, idx, tgt, NH, NKV, swiglu, recompute, cs)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)

    for _ in range(5):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    n = 20
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / n
    gib = 1024 ** 3
    print(json.dumps({
        "model": name, "B": B, "T": T, "recompute": recompute,
        "step_s": dt, "tokens_per_s": B * T / dt,
        "peak_allocated_gib": torch.cuda.max_memory_allocated() / gib,
        "peak_reserved_gib": torch.cuda.max_memory_reserved() / gib,
        "params": sum(x.numel() for x in params),
        "device": torch.cuda.get_device_name(),
    }), flush=True)
    del p, layers, params, opt


if __name__ == "__main__":
    torch.backends.cuda.matmul.allow_tf32 = True
    for c in CONFIGS:
        run(c)
