#!/usr/bin/env python3
"""Share of Solver rollouts that work the problem out (a non-empty think
block) at the first and last Solver step of each iteration, per run.

Usage: scripts/think-share.py RUN_DIR...   (docs/RESULTS.md, issue 12)
Reads RUN/iter_NNN/solver_samples/step_*.jsonl; standard library only.
"""
import glob
import json
import os
import sys

EMPTY = "<think>\n\n</think>"


def share(path):
    rows = [json.loads(line) for line in open(path)]
    return sum(not r["text"].startswith(EMPTY) for r in rows) / max(len(rows), 1)


for run in sys.argv[1:]:
    cells = []
    for it_dir in sorted(glob.glob(os.path.join(run, "iter_*"))):
        steps = sorted(glob.glob(os.path.join(it_dir, "solver_samples", "step_*.jsonl")))
        if steps:
            it = int(it_dir.rsplit("_", 1)[1])
            cells.append(f"{it}: {share(steps[0]):.2f} → {share(steps[-1]):.2f}")
    print(f"{os.path.basename(run.rstrip('/'))}\t" + "\t".join(cells))
