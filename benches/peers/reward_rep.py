"""NLTK + scikit-learn timing of R-Zero's repetition penalty on rzero's bench inputs.

Regenerates the questions of benches/src/questions.rs (same SplitMix64 stream,
same word list), builds the official distance matrix (for i < j:
d_ij = d_ji = 1 - sentence_bleu([q_j.split()], q_i.split(), method1)) and
clusters it with AgglomerativeClustering(distance_threshold=0.5,
metric="precomputed", linkage="average"), as the official caller_penalty.py does.

Run: python3 benches/peers/reward_rep.py 512 2048 [--dump DIR]
--dump DIR writes DIR/questions_<B>.txt (one per line) and DIR/sizes_<B>.json
(sorted cluster sizes) so the Rust side can be checked on the same batch.
"""

import json
import os
import re
import sys
import time

import numpy as np
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from sklearn.cluster import AgglomerativeClustering

MASK = (1 << 64) - 1
SEED = 2048


def read_words():
    here = os.path.dirname(os.path.abspath(__file__))
    src = open(os.path.join(here, "..", "src", "questions.rs"), encoding="utf-8").read()
    block = src[src.index("const WORDS"):src.index("];")]
    return re.findall(r'"([^"]*)"', block)


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next_u64() % n


def synthetic_questions(n, seed, words):
    rng = SplitMix64(seed)
    out = []
    while len(out) < n:
        roll = rng.below(100)
        if out and roll < 3:
            out.append(out[rng.below(len(out))])
        elif out and roll < 15:
            tokens = out[rng.below(len(out))].split(" ")
            for _ in range(1 + rng.below(3)):
                at = rng.below(len(tokens))
                tokens[at] = words[rng.below(len(words))]
            out.append(" ".join(tokens))
        else:
            length = 20 + rng.below(21)
            out.append(" ".join(words[rng.below(len(words))] for _ in range(length)))
    return out


def main():
    args = sys.argv[1:]
    dump = None
    if "--dump" in args:
        at = args.index("--dump")
        dump = args[at + 1]
        del args[at:at + 2]
    words = read_words()
    smooth = SmoothingFunction().method1
    for batch in map(int, args):
        qs = synthetic_questions(batch, SEED, words)
        start = time.perf_counter()
        dist = np.zeros((batch, batch))
        for i in range(batch):
            for j in range(i + 1, batch):
                score = sentence_bleu([qs[j].split()], qs[i].split(), smoothing_function=smooth)
                dist[i, j] = dist[j, i] = 1 - score
        mid = time.perf_counter()
        labels = AgglomerativeClustering(n_clusters=None, distance_threshold=0.5,
                                         metric="precomputed", linkage="average").fit_predict(dist)
        end = time.perf_counter()
        sizes = sorted(np.bincount(labels).tolist(), reverse=True)
        print(f"B={batch}: bleu {mid - start:.2f} s, cluster {end - mid:.2f} s, "
              f"total {end - start:.2f} s, {len(sizes)} clusters, largest {sizes[:5]}", flush=True)
        if dump:
            os.makedirs(dump, exist_ok=True)
            with open(os.path.join(dump, f"questions_{batch}.txt"), "w", encoding="utf-8") as f:
                f.write("\n".join(qs) + "\n")
            with open(os.path.join(dump, f"sizes_{batch}.json"), "w", encoding="utf-8") as f:
                json.dump(sizes, f)


if __name__ == "__main__":
    main()
