#!/usr/bin/env python3
"""Greedy held-out accuracy in transformers, split by whether the model
worked the problem out (a non-empty think block) or answered directly.

An independent check of `rzero eval`'s greedy figures, and the mechanism
behind the tiny run's gain (docs/RESULTS.md, issue 12).

Usage: scripts/greedy-think-eval.py MODEL_DIR...
Needs torch and transformers (PyPI); reads data/synthetic/synthetic_l*.jsonl.
"""
import json
import re
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

SOLVER_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
EMPTY_THINK = "<think>\n\n</think>"
ROOT = Path(__file__).resolve().parent.parent
BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def boxed(text):
    found = BOXED.findall(text)
    return found[-1].strip() if found else None


def generate(model, tok, questions, batch=250, max_new=128):
    tok.padding_side = "left"
    out = []
    for i in range(0, len(questions), batch):
        prompts = [
            tok.apply_chat_template(
                [{"role": "system", "content": SOLVER_SYSTEM}, {"role": "user", "content": q}],
                tokenize=False,
                add_generation_prompt=True,
            )
            for q in questions[i : i + batch]
        ]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            ids = model.generate(**enc, do_sample=False, max_new_tokens=max_new,
                                 pad_token_id=tok.eos_token_id if tok.pad_token_id is None else tok.pad_token_id)
        out += tok.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return out


def main():
    print("| model | level | items | thinks % | acc. thinking % | acc. direct % | acc. all % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model_dir in sys.argv[1:]:
        tok = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        for level in range(1, 7):
            rows = [json.loads(l) for l in open(ROOT / f"data/synthetic/synthetic_l{level}.jsonl")]
            texts = generate(model, tok, [r["question"] for r in rows])
            thinks = [not t.lstrip().startswith(EMPTY_THINK) for t in texts]
            right = [boxed(t) == str(r["answer"]).strip() for t, r in zip(texts, rows)]

            def pct(mask):
                sel = [c for c, m in zip(right, mask) if m]
                return f"{100 * sum(sel) / len(sel):.1f}" if sel else "–"

            print(f"| {model_dir} | {level} | {len(rows)} | {100 * sum(thinks) / len(rows):.1f} "
                  f"| {pct(thinks)} | {pct([not t for t in thinks])} | {pct([True] * len(rows))} |")


if __name__ == "__main__":
    main()
