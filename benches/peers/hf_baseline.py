#!/usr/bin/env python3
"""PEER baseline: HF transformers Qwen3 (random init, fp32, CPU) for rzero perf anchors.

Workloads (docs/DESIGN.md §9):
  S: vocab 512, hidden 128, 4 layers, 4 heads / 2 kv heads, head_dim 32, inter 384, tied emb
  M: vocab 2048, hidden 256, 6 layers, 8 heads / 4 kv heads, head_dim 32, inter 768, untied
Measurements:
  train   : B16 x T128 random tokens: fwd, log_softmax+gather, mean NLL, backward,
            clip_grad_norm_(1.0), AdamW(lr 1e-4) step. 1 warmup step + 5 timed (steps 2-6) per rep.
  fwd     : same batch, forward + log_softmax + gather under torch.no_grad().
  gen     : B16, 16-token random prompt, exactly 64 new tokens, use_cache=True,
            sample (temperature 1.0, top_p 1.0, top_k 0 => plain multinomial) and greedy.
  gemm    : 2048^3 fp32 torch.mm, to get the achievable-peak reference on this machine.
Usage:
  python hf_baseline.py --configs S M --reps 3 --json out.json
"""
import argparse, json, os, platform, statistics, sys, time

import torch
import transformers
from transformers import Qwen3Config, Qwen3ForCausalLM

CONFIGS = {
    "S": dict(vocab_size=512, hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
              num_key_value_heads=2, head_dim=32, intermediate_size=384, tie_word_embeddings=True),
    "M": dict(vocab_size=2048, hidden_size=256, num_hidden_layers=6, num_attention_heads=8,
              num_key_value_heads=4, head_dim=32, intermediate_size=768, tie_word_embeddings=False),
}
COMMON = dict(rope_theta=1e6, rms_norm_eps=1e-6, max_position_embeddings=512,
              bos_token_id=None, eos_token_id=None, pad_token_id=0)

B, T = 16, 128
GEN_B, GEN_PROMPT, GEN_NEW = 16, 16, 64


def build(name):
    kw = dict(CONFIGS[name]); kw.update(COMMON)
    cfg = Qwen3Config(**kw)
    # transformers 5 may carry rope params in cfg.rope_parameters; make sure theta is 1e6
    rp = getattr(cfg, "rope_parameters", None)
    if isinstance(rp, dict):
        rp["rope_theta"] = 1e6
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(cfg).to(torch.float32)
    return cfg, model


def count(cfg, model):
    h, L, V = cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size
    H, KV, d, I = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.intermediate_size
    per_layer_mm = h * H * d + 2 * h * KV * d + H * d * h + 3 * h * I
    n_mm = L * per_layer_mm + V * h          # matmul weights incl. lm_head (tied or not)
    n_params = sum(p.numel() for p in model.parameters())  # unique params
    return dict(n_params=n_params, n_matmul=n_mm, per_layer_mm=per_layer_mm, L=L, H=H, d=d)


def flops_forward_seq(c, T_):
    """Forward FLOPs for one sequence of length T_ (full-square attention, PaLM convention)."""
    lin = 2 * c["n_matmul"] * T_
    attn = 4 * c["L"] * c["H"] * c["d"] * T_ * T_   # QK^T + AV, non-causal count
    return lin, attn


def flops_generate_seq(c, prompt, new):
    """FLOPs to produce `new` tokens after `prompt` with a KV cache (prefill + new-1 decode steps)."""
    lin = 2 * c["n_matmul"] * (prompt + new - 1)
    attn = 4 * c["L"] * c["H"] * c["d"] * prompt * prompt  # prefill (square)
    for p in range(prompt, prompt + new - 1):          # decode step over ctx p+1
        attn += 4 * c["L"] * c["H"] * c["d"] * (p + 1)
    return lin, attn


def token_logprobs(logits, ids):
    lp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    return lp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)


def bench_train(model, V, reps):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    g = torch.Generator().manual_seed(1)
    per_rep, all_t = [], []
    for r in range(reps):
        times = []
        for step in range(6):
            ids = torch.randint(0, V, (B, T), generator=g)
            t0 = time.perf_counter()
            logits = model(input_ids=ids, use_cache=False).logits
            loss = -token_logprobs(logits, ids).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            dt = time.perf_counter() - t0
            if step >= 1:
                times.append(dt)
        per_rep.append(statistics.median(times)); all_t += times
    return dict(min=min(all_t), median=statistics.median(all_t), rep_medians=per_rep, n=len(all_t))


def bench_train_breakdown(model, V, steps=8):
    """Per-phase wall clock of the train step (median over steps 2..): fwd, logprob+loss, bwd, clip, adamw."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    g = torch.Generator().manual_seed(4)
    ph = {k: [] for k in ("forward", "logprob_loss", "backward", "clip", "adamw")}
    for step in range(steps):
        ids = torch.randint(0, V, (B, T), generator=g)
        t = [time.perf_counter()]
        logits = model(input_ids=ids, use_cache=False).logits; t.append(time.perf_counter())
        loss = -token_logprobs(logits, ids).mean(); t.append(time.perf_counter())
        loss.backward(); t.append(time.perf_counter())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); t.append(time.perf_counter())
        opt.step(); opt.zero_grad(set_to_none=True); t.append(time.perf_counter())
        if step >= 1:
            for i, k in enumerate(ph):
                ph[k].append(t[i + 1] - t[i])
    return {k: statistics.median(v) for k, v in ph.items()}


@torch.no_grad()
def bench_fwd(model, V, reps, iters=8):
    model.eval()
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, V, (B, T), generator=g)
    for _ in range(2):
        token_logprobs(model(input_ids=ids, use_cache=False).logits, ids)
    per_rep, all_t = [], []
    for r in range(reps):
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            lp = token_logprobs(model(input_ids=ids, use_cache=False).logits, ids)
            float(lp.sum())
            times.append(time.perf_counter() - t0)
        per_rep.append(statistics.median(times)); all_t += times
    return dict(min=min(all_t), median=statistics.median(all_t), rep_medians=per_rep, n=len(all_t))


@torch.no_grad()
def bench_gen(model, V, reps, do_sample, iters=3):
    model.eval()
    g = torch.Generator().manual_seed(3)
    prompt = torch.randint(1, V, (GEN_B, GEN_PROMPT), generator=g)
    mask = torch.ones_like(prompt)
    kw = dict(max_new_tokens=GEN_NEW, min_new_tokens=GEN_NEW, use_cache=True,
              eos_token_id=None, pad_token_id=0)
    if do_sample:
        kw.update(do_sample=True, temperature=1.0, top_p=1.0, top_k=0)
    else:
        kw.update(do_sample=False)
    out = model.generate(input_ids=prompt, attention_mask=mask, **kw)  # warmup
    assert out.shape == (GEN_B, GEN_PROMPT + GEN_NEW), out.shape
    per_rep, all_t = [], []
    for r in range(reps):
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            out = model.generate(input_ids=prompt, attention_mask=mask, **kw)
            times.append(time.perf_counter() - t0)
            assert out.shape[1] == GEN_PROMPT + GEN_NEW
        per_rep.append(statistics.median(times)); all_t += times
    return dict(min=min(all_t), median=statistics.median(all_t), rep_medians=per_rep, n=len(all_t))


def bench_gemm(reps=3, n=2048, iters=10):
    a = torch.randn(n, n); b = torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            a @ b
        best.append((time.perf_counter() - t0) / iters)
    fl = 2 * n ** 3
    return dict(n=n, sec_min=min(best), sec_median=statistics.median(best),
                gflops_max=fl / min(best) / 1e9, gflops_median=fl / statistics.median(best) / 1e9)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", nargs="+", default=["S", "M"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip", nargs="*", default=[])
    ap.add_argument("--json", default=None)
    ap.add_argument("--breakdown", action="store_true", help="also time train-step phases")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    res = dict(versions=dict(python=platform.python_version(), torch=torch.__version__,
                             transformers=transformers.__version__,
                             cpu_capability=torch.backends.cpu.get_cpu_capability()),
               threads=torch.get_num_threads(), loadavg_start=os.getloadavg(), configs={})
    if "gemm" not in a.skip:
        res["gemm"] = bench_gemm()
        print("gemm", res["gemm"], flush=True)
    for name in a.configs:
        cfg, model = build(name)
        c = count(cfg, model)
        r = dict(counts=c, attn_impl=getattr(cfg, "_attn_implementation", None),
                 rope=getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_theta", None))
        lin, att = flops_forward_seq(c, T)
        r["flops_fwd"] = B * (lin + att)
        r["flops_train"] = 3 * B * (lin + att)
        glin, gatt = flops_generate_seq(c, GEN_PROMPT, GEN_NEW)
        r["flops_gen"] = GEN_B * (glin + gatt)
        print(name, "params", c, "attn", r["attn_impl"], flush=True)
        if "train" not in a.skip:
            r["train"] = bench_train(model, cfg.vocab_size, a.reps); print(name, "train", r["train"], flush=True)
        if a.breakdown:
            r["train_breakdown"] = bench_train_breakdown(model, cfg.vocab_size)
            print(name, "train_breakdown", r["train_breakdown"], flush=True)
        if "fwd" not in a.skip:
            r["fwd"] = bench_fwd(model, cfg.vocab_size, a.reps); print(name, "fwd", r["fwd"], flush=True)
        if "gen" not in a.skip:
            r["gen_sample"] = bench_gen(model, cfg.vocab_size, a.reps, True)
            print(name, "gen_sample", r["gen_sample"], "tok/s med", GEN_B * GEN_NEW / r["gen_sample"]["median"], flush=True)
            r["gen_greedy"] = bench_gen(model, cfg.vocab_size, a.reps, False)
            print(name, "gen_greedy", r["gen_greedy"], "tok/s med", GEN_B * GEN_NEW / r["gen_greedy"]["median"], flush=True)
        res["configs"][name] = r
    if "gemm" not in a.skip:
        res["gemm_end"] = bench_gemm()
        print("gemm_end", res["gemm_end"], flush=True)
    res["loadavg_end"] = os.getloadavg()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1, default=str)


if __name__ == "__main__":
    main()
