# ruff: noqa: E501 - the per-tool driver programs below are kept one step per line, timing included
"""Seed selection benchmark: Whuffie's IMM against pynetim's IMM, k = 50, epsilon = 0.5, same graph and model.

One run, each tool in its own process (wall time of the IMM call inside the process; peak resident
memory of the process tree, sampled from /proc by ``measure.run``):

* ``slashdot``: SNAP soc-Slashdot0902 (``../shared/data/slashdot``), 870,161 edges once the 78,303
  self-loops are dropped, used in the file's direction (``u -> v`` read as the way word travels,
  as pynetim's own loader reads an edge list).
* ``higgs-mention``: the Higgs Twitter mention layer (``../shared/data/higgs_reply_mention``),
  145,465 edges without self-loops; ``a`` mentioned ``b`` means ``b``'s word reaches ``a``.
* ``synthetic-5M``: the >= 5M-edge directed configuration model of ``benchmarks/influence.py``
  (Higgs degree distribution, seed 42), reversed like the mention layer.

Model: independent cascade with weighted-cascade probabilities ``p(u -> v) = 1 / in-degree(v)``,
computed once here and handed to both tools as the same per-edge array (pynetim: ``IMGraph(edges,
weights=...)``, no renumbering, ``IMMAlgorithm(graph, "IC", epsilon=0.5, l=1)``). Both seed sets
are then evaluated by the same Monte Carlo (``whuffie.spread.diffusion.simulate_ic``, same runs and
random seed). Whuffie runs on numba's default thread count (2 here) and on one thread. Its numba
kernels are compiled (and cached on disk) by a warm-up process first; in each measured process a
first call on a 3-node graph loads that cached machine code (reported as "numba load s", a fixed
cost of about half a second per process), then IMM is timed, as pynetim's compiled C++ is timed
once imported.

The two IMMs differ by design in one respect: Whuffie samples the final RR sets afresh (Chen 2018's
fix of the original analysis), pynetim reuses the sets of the lower-bound search, so Whuffie
samples more sets for the same epsilon.

Monte Carlo: 10,000 runs per seed set, 1,000 on the 5M-edge graph (each run reaches about 500,000
nodes there; ``--runs``, ``--runs-large``).

Run: ``python benchmarks/spread_imm.py`` (``--only slashdot``, ``--skip-pynetim-large``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from influence import HIGGS, SHARED, synthetic
from measure import run

SLASHDOT = SHARED / "slashdot" / "soc-Slashdot0902.txt.gz"

DRIVERS = {
    "whuffie": """
import json, sys, time, numpy as np
from whuffie.spread.diffusion import DiffusionGraph
from whuffie.spread.seeds import imm
d = np.load(sys.argv[1]); out = {}
t = time.perf_counter()
g = DiffusionGraph.from_arrays(int(d["n"]), d["src"], d["dst"], d["prob"])
out["load"] = time.perf_counter() - t
t = time.perf_counter(); imm(DiffusionGraph.from_arrays(3, [0, 0, 1], [1, 2, 2], 0.5), 1); out["jit_load"] = time.perf_counter() - t
t = time.perf_counter(); r = imm(g, int(sys.argv[2]), epsilon=float(sys.argv[3]), seed=0); out["imm"] = time.perf_counter() - t
out["seeds"] = r.seeds.tolist(); out["estimate"] = r.spread; out["rr_sets"] = r.rr_sets
out["rr_mib"] = r.rr_bytes / 2**20; out["sampling"] = r.timings["sampling"]; out["selection"] = r.timings["selection"]
print(json.dumps(out))
""",
    "pynetim": """
import json, sys, time, numpy as np
from pynetim import IMGraph
from pynetim.algorithms import IMMAlgorithm
d = np.load(sys.argv[1]); out = {}
t = time.perf_counter()
g = IMGraph(list(zip(d["src"].tolist(), d["dst"].tolist())), weights=d["prob"].tolist(), directed=True, renumber=False)
out["load"] = time.perf_counter() - t
assert g.num_nodes == int(d["n"]) and g.num_edges == len(d["src"])
t = time.perf_counter(); seeds = IMMAlgorithm(g, "IC", epsilon=float(sys.argv[3]), l=1, random_seed=0).run(int(sys.argv[2])); out["imm"] = time.perf_counter() - t
out["seeds"] = sorted(int(s) for s in seeds)
print(json.dumps(out))
""",
}


def load_slashdot() -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(SLASHDOT, dtype=np.int64, comments="#")
    keep = data[:, 0] != data[:, 1]
    return data[keep, 0], data[keep, 1]


def load_higgs() -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(HIGGS / "higgs-mention_network.edgelist", dtype=np.int64)
    keep = data[:, 0] != data[:, 1]
    return data[keep, 1], data[keep, 0]


def load_synthetic(edges: int) -> tuple[np.ndarray, np.ndarray]:
    src, dst, _ = synthetic(edges)
    return dst, src


def prepare(src: np.ndarray, dst: np.ndarray, path: Path) -> tuple[int, int]:
    """Renumber nodes 0 .. n-1 (pynetim wants them dense), merge repeated pairs, add WC probabilities."""
    ids, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    n = len(ids)
    pairs = np.unique(inverse[: len(src)].astype(np.int64) * n + inverse[len(src):])
    s, d = pairs // n, pairs % n
    prob = 1.0 / np.bincount(d, minlength=n)[d]
    np.savez(path, n=n, src=s, dst=d, prob=prob)
    return n, len(s)


def measure(tool: str, arrays: Path, k: int, epsilon: float, threads: int | None = None) -> dict:
    out_file = arrays.parent / f"{tool}-{threads}.json"
    code = DRIVERS[tool].replace("print(json.dumps(out))",
                                 f"open({str(out_file)!r}, 'w').write(json.dumps(out))")
    env = dict(os.environ)
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    wall, mem = run([sys.executable, "-c", code, str(arrays), str(k), str(epsilon)], env=env)
    result = json.loads(out_file.read_text())
    result["wall"], result["peak_mib"] = wall, mem
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--epsilon", type=float, default=0.5)
    ap.add_argument("--edges", type=int, default=5_000_000)
    ap.add_argument("--runs", type=int, default=10_000, help="Monte-Carlo runs to evaluate each seed set")
    ap.add_argument("--runs-large", type=int, default=1_000,
                    help="Monte-Carlo runs on the 5M-edge graph (a run reaches ~500k nodes there)")
    ap.add_argument("--skip-pynetim-large", action="store_true")
    ap.add_argument("--only", choices=["slashdot", "higgs-mention", "synthetic-5M"], action="append")
    args = ap.parse_args()
    if not SLASHDOT.exists() or not HIGGS.is_dir():
        raise SystemExit(f"{SLASHDOT} or {HIGGS} is missing (set WHUFFIE_SHARED_DATA)")
    from whuffie.spread.diffusion import DiffusionGraph, simulate_ic

    graphs = {"slashdot": load_slashdot, "higgs-mention": load_higgs,
              "synthetic-5M": lambda: load_synthetic(args.edges)}
    work = Path(tempfile.mkdtemp(prefix="whuffie-imm-"))
    rows = []
    try:
        warm = work / "warm.npz"
        prepare(np.array([0, 0, 1]), np.array([1, 2, 2]), warm)
        measure("whuffie", warm, 1, 0.5)
        for name, make in graphs.items():
            if args.only and name not in args.only:
                continue
            arrays = work / f"{name}.npz"
            n, m = prepare(*make(), arrays)
            print(f"{name}: {n:,} nodes, {m:,} edges", flush=True)
            results = {"whuffie": measure("whuffie", arrays, args.k, args.epsilon),
                       "whuffie-1-thread": measure("whuffie", arrays, args.k, args.epsilon, threads=1)}
            if not (args.skip_pynetim_large and name == "synthetic-5M"):
                results["pynetim"] = measure("pynetim", arrays, args.k, args.epsilon)
            for tool, r in results.items():
                print(f"  {tool}: IMM {r['imm']:.2f} s, wall {r['wall']:.1f} s, peak {r['peak_mib']:,.0f} MiB",
                      flush=True)
            d = np.load(arrays)
            g = DiffusionGraph.from_arrays(n, d["src"], d["dst"], d["prob"])
            runs = args.runs_large if name == "synthetic-5M" else args.runs
            for tool, r in results.items():
                sim = simulate_ic(g, r["seeds"], runs=runs, seed=1)
                r["mc_mean"], r["mc_sem"], r["mc_runs"] = sim.mean, sim.sem, runs
                print(f"  {tool}: Monte-Carlo spread {sim.mean:,.0f} ± {sim.sem:.0f} ({runs:,} runs)", flush=True)
            rows.append((name, n, m, results))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("| graph | nodes | edges | tool | IMM s | numba load s | graph load s | process wall s | peak MiB | "
          "RR sets | MC spread ± s.e. (runs) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, n, m, results in rows:
        for tool, r in results.items():
            rr = f"{r['rr_sets']:,}" if "rr_sets" in r else "-"
            jit = f"{r['jit_load']:.2f}" if "jit_load" in r else "-"
            print(f"| {name} | {n:,} | {m:,} | {tool} | {r['imm']:.2f} | {jit} | {r['load']:.2f} | {r['wall']:.1f} | "
                  f"{r['peak_mib']:,.0f} | {rr} | {r['mc_mean']:,.0f} ± {r['mc_sem']:.0f} ({r['mc_runs']:,}) |")
    print()
    for name, _n, _m, results in rows:
        w = results["whuffie"]
        line = f"{name}: Whuffie IMM {w['imm']:.2f} s (sampling {w['sampling']:.2f}, selection {w['selection']:.2f}), RR sets {w['rr_mib']:,.0f} MiB"
        if "pynetim" in results:
            p = results["pynetim"]
            line += (f"; {p['imm'] / w['imm']:.1f}x faster than pynetim ({p['imm'] / results['whuffie-1-thread']['imm']:.1f}x on one thread); "
                     f"spread ratio Whuffie / pynetim {w['mc_mean'] / p['mc_mean']:.4f}; "
                     f"peak memory ratio {w['peak_mib'] / p['peak_mib']:.2f}")
        print(line)


if __name__ == "__main__":
    main()
