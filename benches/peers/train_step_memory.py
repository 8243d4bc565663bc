#!/usr/bin/env python3
"""Peak RSS of the transformers train and scoring steps of docs/DESIGN.md §9,
the peer of `benches/examples/peak_memory.rs` (same shapes: b16 x s128, fp32).

Usage: python3 benches/peers/train_step_memory.py train|score S|M [STEPS]

Builds the model with `build` from hf_baseline.py (beside this file), then
runs STEPS steps (default 3) exactly as that script times them (train: forward,
log_softmax + gather, mean NLL, backward, clip_grad_norm_(1.0), AdamW). Prints
the peak RSS (ru_maxrss) after import + model build and after the steps: the
difference is what the step itself needs on top of PyTorch's own footprint.
"""
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
from hf_baseline import B, T, build  # noqa: E402


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    workload, name = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(2)
    cfg, model = build(name)
    ids = torch.randint(1, cfg.vocab_size, (B, T))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    print(f"ready: peak RSS {peak_mib():.1f} MiB")
    for _ in range(steps):
        if workload == "train":
            logits = model(ids).logits[:, :-1]
            lp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
            loss = -lp.mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        else:
            with torch.no_grad():
                logits = model(ids).logits[:, :-1]
                torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).sum().item()
    print(f"after {steps} steps: peak RSS {peak_mib():.1f} MiB")


if __name__ == "__main__":
    main()
