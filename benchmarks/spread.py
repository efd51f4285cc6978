# ruff: noqa: E501 - the per-tool driver programs below are kept one step per line, timing included
"""Spread benchmark: independent-cascade Monte Carlo in Whuffie, cynetdiff and ndlib, then IMM.

This script times the Monte Carlo, then runs ``spread_imm.py`` (IMM k = 50, epsilon = 0.5 against
pynetim; ``--skip-imm`` leaves it out), so one command gives every figure of the spread issue.

One run, same graph, same 10 seeds, same edge probabilities for every tool; each tool in its own
process (time of the simulations inside the process; peak resident memory of the process tree,
sampled from /proc by ``measure.py``).

Graphs (attention edges ``a -> b``, "a paid attention to b", reversed for every tool alike into
diffusion edges ``b -> a``: b's word reaches a; repeated pairs merged, self-loops dropped):

* ``higgs-mention``: the Higgs Twitter mention layer (``../shared/data/higgs_reply_mention``,
  "u v w": u mentioned v, so the diffusion edge is v -> u).
* ``bitcoin-otc``: positive ratings of ``../shared/data/bitcoin_otc`` ("SOURCE,TARGET,RATING,TIME":
  the rater trusts the ratee, so the diffusion edge is ratee -> rater).
* ``synthetic-5M``: ``influence.synthetic`` (a directed configuration model with the Higgs joint
  degree distribution, >= 5,000,000 edges, seed 42).

Probabilities: the weighted cascade (``p(u -> v) = 1 / in-degree of v`` in the diffusion graph) and
a constant ``p = 0.01``. Seeds: the 10 nodes with the most listeners (diffusion out-degree; ties by
node number). Tools: Whuffie ``simulate_ic`` (10,000 runs, 2 threads and 1 thread; numba compiled
on a tiny graph first, the compile time reported apart, with an empty numba cache so it is a real
compile), cynetdiff's ``IndependentCascadeModel`` (10,000 runs one by one, giving sizes and a
standard error, and its ``compute_marginal_gains``, mean only, whichever is faster counts;
1,000 runs on the 5M-edge graph by default, extrapolated and marked so), ndlib's
``IndependentCascadesModel`` on a subsample of runs, extrapolated to 10,000 and marked so.
Spreads agree when ``|difference| < 3 * combined standard error``.

Run: ``python benchmarks/spread.py`` (``pip install -e .[bench]`` for cynetdiff and ndlib);
``--only higgs-mention`` for one graph.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from influence import HIGGS, SHARED, load_edges, synthetic
from measure import run

RUNS = 10_000
BITCOIN = SHARED / "bitcoin_otc" / "soc-sign-bitcoinotc.csv"

DRIVERS = {
    "whuffie": """
import json, sys, time, numpy as np
from whuffie.spread.diffusion import DiffusionGraph, simulate_ic
d = np.load(sys.argv[1]); runs = int(sys.argv[2]); threads = int(sys.argv[3]); out = {}
tiny = DiffusionGraph.from_arrays(2, [0], [1], 0.5)
t = time.perf_counter(); simulate_ic(tiny, [0], runs=10, threads=threads); out["compile"] = time.perf_counter() - t
g = DiffusionGraph(np.arange(int(d["n"])), d["indptr"], d["indices"], d["prob"])
t = time.perf_counter(); r = simulate_ic(g, d["seeds"], runs=runs, seed=0, threads=threads); out["seconds"] = time.perf_counter() - t
out["mean"] = r.mean; out["sem"] = r.sem
print(json.dumps(out))
""",
    "cynetdiff": """
import json, sys, time, numpy as np
from cynetdiff.models import IndependentCascadeModel
d = np.load(sys.argv[1]); runs = int(sys.argv[2]); out = {}
model = IndependentCascadeModel(d["indptr"][:-1].astype(np.uint32), d["indices"].astype(np.uint32), activation_probs=d["prob"].astype(np.float32), rng=0)
seeds = d["seeds"].tolist(); model.set_seeds(seeds)
sizes = np.empty(runs)
t = time.perf_counter()
for i in range(runs):
    model.reset_model(); model.advance_until_completion(); sizes[i] = model.get_num_activated_nodes()
out["seconds"] = time.perf_counter() - t
out["mean"] = sizes.mean(); out["sem"] = sizes.std(ddof=1) / np.sqrt(runs)
t = time.perf_counter(); gain = model.compute_marginal_gains(seeds, [], runs); out["mg_seconds"] = time.perf_counter() - t
out["mg_mean"] = gain[0]
print(json.dumps(out))
""",
    "ndlib": """
import json, sys, time, numpy as np, networkx as nx
import ndlib.models.ModelConfig as mc
import ndlib.models.epidemics as ep
d = np.load(sys.argv[1]); runs = int(sys.argv[2]); out = {}
n = int(d["n"]); src = np.repeat(np.arange(n), np.diff(d["indptr"])).tolist(); dst = d["indices"].tolist()
t = time.perf_counter()
g = nx.DiGraph(); g.add_nodes_from(range(n)); g.add_edges_from(zip(src, dst))
model = ep.IndependentCascadesModel(g, seed=0); cfg = mc.Configuration()
for u, v, p in zip(src, dst, d["prob"].tolist()): cfg.add_edge_configuration("threshold", (u, v), p)
seeds = d["seeds"].tolist(); cfg.add_model_initial_configuration("Infected", seeds); model.set_initial_status(cfg)
out["setup"] = time.perf_counter() - t
sizes = np.empty(runs)
t = time.perf_counter()
for i in range(runs):
    model.reset(infected_nodes=seeds)
    while True:
        it = model.iteration(node_status=False)
        if it["node_count"].get(1, 0) == 0: break
    sizes[i] = n - it["node_count"].get(0, 0)
out["seconds"] = time.perf_counter() - t
out["mean"] = sizes.mean(); out["sem"] = sizes.std(ddof=1) / np.sqrt(runs) if runs > 1 else float("nan")
print(json.dumps(out))
""",
}


def measure(tool: str, arrays: Path, *args: str, env: dict | None = None) -> dict:
    out_file = arrays.parent / f"{tool}-{'-'.join(args)}.json"
    code = DRIVERS[tool].replace("print(json.dumps(out))", f"open({str(out_file)!r}, 'w').write(json.dumps(out))")
    wall, mem = run([sys.executable, "-c", code, str(arrays), *args], env=env)
    result = json.loads(out_file.read_text())
    result["wall"], result["peak_mib"] = wall, mem
    return result


def bitcoin() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positive ratings as attention edges rater -> ratee."""
    data = np.loadtxt(BITCOIN, delimiter=",", dtype=np.int64)
    keep = (data[:, 2] > 0) & (data[:, 0] != data[:, 1])
    return data[keep, 0], data[keep, 1], data[keep, 2].astype(np.float64)


def diffusion(src: np.ndarray, dst: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """CSR of the reversed attention edges (teller = attention target), repeated pairs merged."""
    ids, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    n = len(ids)
    teller, listener = inverse[len(src):], inverse[: len(src)]
    pairs = np.unique(teller.astype(np.int64) * n + listener)
    teller, listener = pairs // n, pairs % n
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(teller, minlength=n), out=indptr[1:])
    return n, indptr, listener.astype(np.int32)


def combined(a: dict, b: dict) -> tuple[float, bool]:
    se = float(np.hypot(a["sem"], b["sem"]))
    return se, abs(a["mean"] - b["mean"]) < 3 * se


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edges", type=int, default=5_000_000)
    ap.add_argument("--only", choices=["higgs-mention", "bitcoin-otc", "synthetic-5M"], action="append")
    ap.add_argument("--cynetdiff-runs-large", type=int, default=1_000,
                    help="cynetdiff runs on the 5M-edge graph (extrapolated to 10,000)")
    ap.add_argument("--ndlib-runs", type=int, nargs=3, default=[100, 100, 3], metavar=("HIGGS", "BITCOIN", "LARGE"))
    ap.add_argument("--skip-imm", action="store_true", help="leave out the IMM part (spread_imm.py)")
    args = ap.parse_args()
    graphs = {"higgs-mention": (lambda: load_edges(HIGGS / "higgs-mention_network.edgelist"), args.ndlib_runs[0], RUNS),
              "bitcoin-otc": (bitcoin, args.ndlib_runs[1], RUNS),
              "synthetic-5M": (lambda: synthetic(args.edges), args.ndlib_runs[2], args.cynetdiff_runs_large)}
    work = Path(tempfile.mkdtemp(prefix="whuffie-spread-"))
    rows = []
    try:
        for name, (make, ndlib_runs, cyn_runs) in graphs.items():
            if args.only and name not in args.only:
                continue
            src, dst, _ = make()
            n, indptr, indices = diffusion(src, dst)
            seeds = np.argsort(-np.diff(indptr), kind="stable")[:10]
            print(f"{name}: {n:,} nodes, {len(indices):,} diffusion edges", flush=True)
            for label, prob in (("weighted cascade", 1.0 / np.bincount(indices, minlength=n)[indices]),
                                ("p = 0.01", np.full(len(indices), 0.01))):
                arrays = work / f"{name}-{label.replace(' ', '')}.npz"
                np.savez(arrays, n=n, indptr=indptr, indices=indices, prob=prob, seeds=seeds)
                results = {}
                for threads in ("2", "1"):
                    cache = work / f"numba-cache-{name}-{label.replace(' ', '')}-{threads}"
                    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
                    results[f"whuffie ({threads} thread{'s' if threads == '2' else ''})"] = (
                        measure("whuffie", arrays, str(RUNS), threads, env=env), RUNS)
                results["cynetdiff"] = (measure("cynetdiff", arrays, str(cyn_runs)), cyn_runs)
                try:
                    results["ndlib"] = (measure("ndlib", arrays, str(ndlib_runs)), ndlib_runs)
                except SystemExit as exc:
                    print(f"ndlib failed on {name}: {str(exc)[-300:]}", flush=True)
                for tool, (r, runs) in results.items():
                    print(f"  {label}: {tool}: {runs} runs {r['seconds']:.2f} s, mean {r['mean']:.1f}", flush=True)
                rows.append((name, label, results))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("| graph | probabilities | tool | runs | seconds | s per 10,000 runs | mean spread | standard error | peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, label, results in rows:
        for tool, (r, runs) in results.items():
            extra = " (extrapolated)" if runs != RUNS else ""
            per = r["seconds"] * RUNS / runs
            print(f"| {name} | {label} | {tool} | {runs:,} | {r['seconds']:.2f} | {per:.2f}{extra} | {r['mean']:.1f} | "
                  f"{r['sem']:.2f} | {r['peak_mib']:,.0f} |")
            if tool == "cynetdiff":
                per = r["mg_seconds"] * RUNS / runs
                print(f"| {name} | {label} | cynetdiff (compute_marginal_gains) | {runs:,} | {r['mg_seconds']:.2f} | "
                      f"{per:.2f}{extra} | {r['mg_mean']:.1f} | - | - |")
    print()
    for name, label, results in rows:
        w, _ = results["whuffie (2 threads)"]
        w1, _ = results["whuffie (1 thread)"]
        line = f"{name}, {label}: numba compile {w['compile']:.1f} s (first call, empty cache, not in the timings)"
        if "cynetdiff" in results:
            c, cr = results["cynetdiff"]
            best = min(c["seconds"], c["mg_seconds"]) * RUNS / cr
            se, ok = combined(w, c)
            line += (f"; Whuffie {best / w['seconds']:.1f}x faster than cynetdiff with 2 threads, "
                     f"{best / w1['seconds']:.1f}x with 1; spreads {'agree' if ok else 'DISAGREE'} "
                     f"(diff {w['mean'] - c['mean']:+.1f}, 3 SE = {3 * se:.1f})")
        if "ndlib" in results:
            nd, nr = results["ndlib"]
            se, ok = combined(w, nd)
            line += (f"; {nd['seconds'] * RUNS / nr / w['seconds']:,.0f}x faster than ndlib "
                     f"(ndlib: {nr} runs extrapolated to 10,000); spreads {'agree' if ok else 'DISAGREE'} "
                     f"(diff {w['mean'] - nd['mean']:+.1f}, 3 SE = {3 * se:.1f})")
        print(line)


if __name__ == "__main__":
    main()
    if "--skip-imm" not in sys.argv:
        print(flush=True)
        subprocess.run([sys.executable, str(Path(__file__).with_name("spread_imm.py"))], check=True)
