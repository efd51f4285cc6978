"""Comparing seed sets (the last step of ``whuffie seeds``): all 10,000 Monte-Carlo runs per set
against runs in blocks of 1,000 until every mean is known within half a percent.

Input: the real Higgs Twitter mention layer (``../shared/data/higgs_reply_mention``), reversed into
a diffusion graph with weighted-cascade probabilities (``--prob wc``), five seed lists of ``k``
nodes: IMM's, the most listened-to, two random lists and the least listened-to of those with a
listener. Both ways use the same random draws for every list; the table gives each list's mean
and standard error both ways, how many standard errors apart they are, and the time of each way.

Run: ``python benchmarks/compare_seeds.py [--k 50] [--runs 10000]``. It prints Markdown.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from influence import HIGGS, load_edges
from whuffie.spread.diffusion import DiffusionGraph, simulate_ic
from whuffie.spread.seeds import compare_seeds, imm


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--runs", type=int, default=10_000)
    args = ap.parse_args(argv)
    src, dst, _ = load_edges(HIGGS / "higgs-mention_network.edgelist")
    ids, codes = np.unique(np.concatenate([src, dst]), return_inverse=True)
    a, b = codes[:len(src)], codes[len(src):]
    # a mentioned b: b's word reaches a. Weighted cascade: 1 / what the listener follows.
    pairs = np.unique(np.stack([b, a], 1), axis=0)
    follows = np.bincount(pairs[:, 1], minlength=len(ids))
    g = DiffusionGraph.from_arrays(len(ids), pairs[:, 0], pairs[:, 1], 1.0 / follows[pairs[:, 1]])
    simulate_ic(g, [0], runs=10)  # compile first
    rng = np.random.default_rng(0)
    out_degree = np.diff(g.indptr)
    told = np.flatnonzero(out_degree)
    sets = {
        "imm": imm(g, args.k, seed=0).seeds.tolist(),
        "degree": np.argsort(-out_degree, kind="stable")[:args.k].tolist(),
        "random-1": rng.choice(told, args.k, replace=False).tolist(),
        "random-2": rng.choice(told, args.k, replace=False).tolist(),
        "least": told[np.argsort(out_degree[told], kind="stable")][:args.k].tolist(),
    }
    timed = {}
    for name, precision in (("all runs", None), ("until 0.5%", 0.005)):
        started = time.perf_counter()
        table = compare_seeds(g, args.k, sets, runs=args.runs, precision=precision)
        timed[name] = (time.perf_counter() - started, {r["method"]: r for r in table.to_pylist()})
    (t_all, full), (t_fast, fast) = timed["all runs"], timed["until 0.5%"]
    print(f"Higgs mention layer: {g.n:,} nodes, {g.m:,} diffusion edges, k = {args.k}, weighted cascade.\n")
    print("| seed list | mean (all runs) | s.e. | mean (until 0.5%) | s.e. | runs | apart (s.e.) |")
    print("|---|---|---|---|---|---|---|")
    for name in full:
        f, q = full[name], fast[name]
        se_f, se_q = f["std"] / np.sqrt(f["runs"]), q["std"] / np.sqrt(q["runs"])
        apart = abs(f["mean"] - q["mean"]) / max(np.hypot(se_f, se_q), 1e-12)
        print(f"| {name} | {f['mean']:.2f} | {se_f:.2f} | {q['mean']:.2f} | {se_q:.2f} | {q['runs']:,} | "
              f"{apart:.2f} |")
    same = list(full) == list(fast)
    print(f"\nSame order of the lists: {'yes' if same else 'no'}. Time: all {args.runs:,} runs "
          f"{t_all:.1f} s, until 0.5% {t_fast:.1f} s ({t_all / t_fast:.1f}x faster).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
