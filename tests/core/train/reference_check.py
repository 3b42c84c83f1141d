#!/usr/bin/env python3
"""Reference check of meshwork-train against an independent PyTorch implementation.

For each model family the trainer writes its initial weights, one batch, and the loss and
gradients it computes (--dump-reference DIR, fp32 on the CPU). This script loads the same
weights into its own small implementation (plain tensor ops: its own attention with a causal
mask, its own RMSNorm and RoPE, no scaled_dot_product_attention), recomputes loss and
gradients, and requires each to agree to 1e-5 relative (|a - b| / |b|, per tensor, in fp32).

Exit 0: all agree; 1: a mismatch or a trainer failure; 77: torch is not importable (skip).
"""
import argparse, json, math, os, subprocess, sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # CTest SKIP_RETURN_CODE
    print(f"SKIP: torch is not importable here ({e}); install it in the venv to run this check")
    sys.exit(77)

TOLERANCE = 1e-5

CASES = [
    # name, trainer arguments
    ("gpt-nano", ["--model", "gpt-nano", "--seq", "32", "--micro-batch", "2"]),
    ("llama-nano (GQA 4/2)", ["--model", "llama-nano", "--seq", "32", "--micro-batch", "2"]),
    ("llama-nano MHA", ["--model", "llama-nano", "--layers", "2", "--kv-heads", "4", "--seq", "16",
                              "--micro-batch", "3"]),
    ("gpt-nano full recompute", ["--model", "gpt-nano", "--layers", "2", "--seq", "24", "--micro-batch", "2",
                                 "--recompute", "full"]),
    ("llama-nano selective recompute", ["--model", "llama-nano", "--layers", "2", "--seq", "24",
                                        "--micro-batch", "2", "--recompute", "selective"]),
]


def load(path, dtype):
    import numpy as np
    return torch.from_numpy(np.fromfile(path, dtype=dtype).copy())


def norm(x, p, name, m):
    if m["norm"] == "layernorm":
        return F.layer_norm(x, (m["hidden"],), p[name + ".weight"], p.get(name + ".bias"), m["norm_eps"])
    # RMSNorm: x / sqrt(mean(x^2) + eps) * w
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + m["norm_eps"]) * p[name + ".weight"]


def rope(x, theta):
    # Rotate-half RoPE (Hugging Face LLaMA) on x [B, H, T, hd].
    T, hd = x.shape[-2], x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    ang = torch.cat([ang, ang], -1)
    cos, sin = ang.cos().float(), ang.sin().float()
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def forward(p, m, idx, tgt):
    B, T = idx.shape
    C, NH, NKV = m["hidden"], m["heads"], m["kv_heads"]
    hd = C // NH
    KV = NKV * hd
    x = p["wte"][idx]
    if m["position"] == "learned":
        x = x + p["wpe"][:T]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for i in range(m["layers"]):
        h = f"h.{i}"
        a = norm(x, p, h + ".ln_1", m)
        qkv = a @ p[h + ".attn.qkv.weight"].t()
        if h + ".attn.qkv.bias" in p:
            qkv = qkv + p[h + ".attn.qkv.bias"]
        q = qkv[..., :C].view(B, T, NH, hd).transpose(1, 2)
        k = qkv[..., C : C + KV].view(B, T, NKV, hd).transpose(1, 2)
        v = qkv[..., C + KV :].view(B, T, NKV, hd).transpose(1, 2)
        if m["position"] == "rope":
            q, k = rope(q, m["rope_theta"]), rope(k, m["rope_theta"])
        k = k.repeat_interleave(NH // NKV, dim=1)
        v = v.repeat_interleave(NH // NKV, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
        y = y @ p[h + ".attn.proj.weight"].t()
        if h + ".attn.proj.bias" in p:
            y = y + p[h + ".attn.proj.bias"]
        x = x + y
        a = norm(x, p, h + ".ln_2", m)
        f = a @ p[h + ".mlp.fc.weight"].t()
        if h + ".mlp.fc.bias" in p:
            f = f + p[h + ".mlp.fc.bias"]
        if m["ffn_kind"] == "gelu":
            f = F.gelu(f, approximate="tanh")
        else:
            gate, up = f[..., : m["ffn"]], f[..., m["ffn"] :]
            f = F.silu(gate) * up
        f = f @ p[h + ".mlp.proj.weight"].t()
        if h + ".mlp.proj.bias" in p:
            f = f + p[h + ".mlp.proj.bias"]
        x = x + f
    x = norm(x, p, "ln_f", m)
    head = p["wte"] if m["tied_embeddings"] else p["lm_head"]
    logits = x @ head.t()
    return F.cross_entropy(logits.view(-1, logits.shape[-1]), tgt.view(-1))


def check(trainer, work, name, args):
    out = os.path.join(work, name.replace(" ", "_").replace("/", "_").replace("(", "").replace(")", ""))
    os.makedirs(out, exist_ok=True)
    cmd = [trainer, *args, "--dump-reference", out, "--threads", "1"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {name}: {' '.join(cmd)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
        return False
    index = json.load(open(os.path.join(out, "index.json")))
    m, B, T = index["model"], index["B"], index["T"]
    flat = load(os.path.join(out, "params.f32"), "<f4")
    grads = load(os.path.join(out, "grads.f32"), "<f4")
    idx = load(os.path.join(out, "inputs.i32"), "<i4").long().view(B, T)
    tgt = load(os.path.join(out, "targets.i32"), "<i4").long().view(B, T)
    p = {}
    for e in index["layout"]:
        n = math.prod(e["shape"])
        p[e["name"]] = flat[e["offset"] : e["offset"] + n].view(e["shape"]).clone().requires_grad_(True)
    if sum(t.numel() for t in p.values()) != index["parameters"]:
        print(f"FAIL {name}: the layout does not cover the parameters")
        return False
    loss = forward(p, m, idx, tgt)
    loss.backward()
    ok = True
    rel = abs(loss.item() - index["loss"]) / abs(loss.item())
    worst = ("loss", rel)
    if rel > TOLERANCE:
        ok = False
        print(f"FAIL {name}: loss {index['loss']} vs reference {loss.item()} (relative {rel:.2e})")
    for e in index["layout"]:
        n = math.prod(e["shape"])
        mine = grads[e["offset"] : e["offset"] + n].view(e["shape"])
        ref = p[e["name"]].grad
        denom = max(ref.norm().item(), 1e-30)
        rel = (mine - ref).norm().item() / denom
        if rel > worst[1]:
            worst = (e["name"], rel)
        if rel > TOLERANCE:
            ok = False
            print(f"FAIL {name}: gradient of {e['name']} differs by {rel:.2e} relative")
    print(f"{'ok  ' if ok else 'FAIL'} {name}: loss {index['loss']:.6f} (reference {loss.item():.6f}), "
          f"{len(index['layout'])} gradients; largest relative difference {worst[1]:.2e} ({worst[0]})")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trainer", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    results = [check(a.trainer, a.work, name, args) for name, args in CASES]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
