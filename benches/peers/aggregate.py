#!/usr/bin/env python3
"""Aggregate run_all.sh JSON outputs into the markdown tables of benches/peers/README.md.
Usage: python3 aggregate.py peer_results"""
import glob, json, statistics, sys

D = sys.argv[1]
PEAK_NOMINAL = 2 * 2 * 16 * 2 * 2.6e9  # 2 cores x 2 FMA ports x 16 fp32 lanes x 2 flop x 2.6 GHz (TSC)
hf = [json.load(open(f)) for f in sorted(glob.glob(f"{D}/hf_r*.json"))]
gemm = [x for r in hf for x in (r["gemm"]["gflops_median"], r["gemm_end"]["gflops_median"])]
gemm_best = max(x for r in hf for x in (r["gemm"]["gflops_max"], r["gemm_end"]["gflops_max"]))
PEAK_MEAS = statistics.median(gemm) * 1e9
print(f"rounds: {len(hf)}; sgemm 2048^3 (2 threads) GFLOP/s: min {min(gemm):.0f} median {statistics.median(gemm):.0f} best {gemm_best:.0f}")
print(f"peak nominal {PEAK_NOMINAL/1e9:.0f} GFLOP/s; practical (median sgemm) {PEAK_MEAS/1e9:.0f} GFLOP/s\n")

def agg(cfg, key):
    # every timed sample of every rep of every round (min), and median of per-rep medians
    mins = [r["configs"][cfg][key]["min"] for r in hf]
    meds = [m for r in hf for m in r["configs"][cfg][key]["rep_medians"]]
    return min(mins), statistics.median(meds), len(meds)

print("| config | workload | FLOPs (G) | min s | median s | throughput (median) | GFLOP/s (median) | % of nominal peak | % of sgemm | floor at sgemm (ms) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for cfg in ("S", "M"):
    c = hf[0]["configs"][cfg]
    rows = [("train step (B16xT128)", "train", c["flops_train"], 16 * 128, "tok/s"),
            ("fwd+logprob no_grad", "fwd", c["flops_fwd"], 16 * 128, "tok/s"),
            ("generate sample 16x64", "gen_sample", c["flops_gen"], 16 * 64, "new tok/s"),
            ("generate greedy 16x64", "gen_greedy", c["flops_gen"], 16 * 64, "new tok/s")]
    for label, key, fl, toks, unit in rows:
        mn, md, n = agg(cfg, key)
        print(f"| {cfg} | {label} | {fl/1e9:.2f} | {mn:.4f} | {md:.4f} | {toks/md:,.0f} {unit} | {fl/md/1e9:.1f} | "
              f"{100*fl/md/PEAK_NOMINAL:.1f}% | {100*fl/md/PEAK_MEAS:.1f}% | {1e3*fl/PEAK_MEAS:.1f} |")

print("\nper-round medians (s):")
for cfg in ("S", "M"):
    for key in ("train", "fwd", "gen_sample", "gen_greedy"):
        print(cfg, key, [round(statistics.median(r["configs"][cfg][key]["rep_medians"]), 4) for r in hf])

# TRL GRPO FLOPs (model S): 8 seqs, prompt 16 + 64 completion = 80 tokens; lm_head only on 65 positions
# (TRL logits_to_keep); generation = prefill 16 + 63 decode steps.
c = hf[0]["configs"]["S"]["counts"]
body = c["n_matmul"] - 512 * 128
att = lambda T_: 4 * c["L"] * c["H"] * c["d"] * T_ * T_
fwd80 = 8 * (2 * body * 80 + 2 * 512 * 128 * 65 + att(80))
gen = hf[0]["configs"]["S"]["flops_gen"] / 16 * 8
FL = {"nogc": gen + fwd80 + 3 * fwd80, "gc": gen + fwd80 + 4 * fwd80}
print(f"\nTRL GRPO FLOPs: gen {gen/1e9:.2f} G, ref fwd {fwd80/1e9:.2f} G, policy fwd+bwd {3*fwd80/1e9:.2f} G "
      f"(+{fwd80/1e9:.2f} G recompute with gc); total nogc {FL['nogc']/1e9:.2f} G, gc {FL['gc']/1e9:.2f} G")
for tag in ("gc", "nogc"):
    g0 = [json.load(open(f)) for f in sorted(glob.glob(f"{D}/grpo_{tag}_r*.json"))]
    g = [r for r in g0 if r["median"] < 1.0]  # drop rounds that ran while another tenant held a core
    print(f"{tag}: dropped {len(g0) - len(g)} contended round(s) with median step >= 1 s: "
          f"{[round(r['median'], 2) for r in g0 if r['median'] >= 1.0]}")
    if not g:
        continue
    allt = [t for r in g for t in r["step_times"][1:]]
    meds = [r["median"] for r in g]
    ph = {k: statistics.median([r["phase_median"][k] for r in g]) for k in g[0]["phase_median"]}
    print(f"\nTRL GRPO S ({tag}): rounds {len(g)}, steps/round {g[0]['n']}; min {min(allt):.4f} "
          f"median-of-round-medians {statistics.median(meds):.4f} median-all {statistics.median(allt):.4f}; "
          f"round medians {[round(m, 4) for m in meds]}; phases {({k: round(v, 4) for k, v in ph.items()})}; "
          f"GFLOP/s at median {FL[tag]/statistics.median(allt)/1e9:.1f} = {100*FL[tag]/statistics.median(allt)/PEAK_MEAS:.1f}% of sgemm; "
          f"floor {1e3*FL[tag]/PEAK_MEAS:.1f} ms")

bd = [json.load(open(f)) for f in sorted(glob.glob(f"{D}/breakdown_*.json"))]
for cfg in ("S", "M"):
    if bd:
        keys = bd[0]["configs"][cfg]["train_breakdown"].keys()
        print(cfg, "train breakdown (median over runs, ms):",
              {k: round(1e3 * statistics.median([b["configs"][cfg]["train_breakdown"][k] for b in bd]), 1) for k in keys})
