# ruff: noqa: E501 - the per-tool driver programs below are kept one step per line, timing included
"""Influence benchmark: Whuffie against NetworkX, igraph, NetworKit (and leidenalg) on the same graphs.

One run, same graphs, same weights, each tool in its own process (wall time of each step inside
the process; peak resident memory of the process tree, sampled from /proc):

* ``higgs-mention``: the real Higgs Twitter mention layer (``../shared/data/higgs_reply_mention``,
  150,818 weighted edges; self-loops dropped).
* ``synthetic-5M``: a directed graph with the Higgs degree distribution and at least 5,000,000 edges:
  every node draws an (out-degree, in-degree) pair from the empirical joint distribution of the
  Higgs mention and reply layers together, and stubs are paired at random (a directed
  configuration model, seed 42); self-loops are dropped and repeated pairs merged into weights.

Leiden runs two iterations in igraph and leidenalg (their default), NetworKit's ParallelLeiden its
own default, Whuffie's on one thread (reproducible). Steps timed: graph build from the store (Whuffie: the ``interactions`` view of a DuckDB store
holding the graph as ties; the others: from the edge arrays in memory, which favours them),
weighted PageRank (damping 0.85), coreness (k-core, undirected), Leiden (modularity, resolution 1),
plus a 10-line scipy power iteration as the memory-bandwidth floor of PageRank. The top-100 of
Whuffie's PageRank is compared with igraph's (Jaccard). Run: ``python benchmarks/influence.py``
(``pip install -e .[bench]`` for NetworkX and leidenalg); ``--skip-networkx-large`` leaves NetworkX
out of the 5M-edge graph (it needs several GB and minutes there).
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

from measure import run

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", ROOT.parent / "shared" / "data"))
HIGGS = SHARED / "higgs_reply_mention"


def load_edges(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.loadtxt(path, dtype=np.int64)
    keep = data[:, 0] != data[:, 1]
    return data[keep, 0], data[keep, 1], data[keep, 2].astype(np.float64)


def synthetic(edges: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A directed configuration model with the Higgs joint (out, in) degree distribution."""
    rng = np.random.default_rng(seed)
    srcs, dsts = [], []
    for name in ("higgs-mention_network.edgelist", "higgs-reply_network.edgelist"):
        s, d, _ = load_edges(HIGGS / name)
        srcs.append(s)
        dsts.append(d)
    s, d = np.concatenate(srcs), np.concatenate(dsts)
    ids, inverse = np.unique(np.concatenate([s, d]), return_inverse=True)
    out_deg = np.bincount(inverse[: len(s)], minlength=len(ids))
    in_deg = np.bincount(inverse[len(s):], minlength=len(ids))
    mean = out_deg.mean()
    n = int(edges / mean * 1.02) + 1
    pick = rng.integers(0, len(ids), size=n)
    out_d, in_d = out_deg[pick], in_deg[pick]
    total = min(out_d.sum(), in_d.sum())
    out_stubs = np.repeat(np.arange(n), out_d)[:total]
    in_stubs = rng.permutation(np.repeat(np.arange(n), in_d))[:total]
    rng.shuffle(out_stubs)
    keep = out_stubs != in_stubs
    pairs = out_stubs[keep].astype(np.int64) * n + in_stubs[keep]
    uniq, counts = np.unique(pairs, return_counts=True)
    return uniq // n, uniq % n, counts.astype(np.float64)


def write_store(db: Path, src: np.ndarray, dst: np.ndarray, w: np.ndarray, platform: str) -> None:
    """Put the graph in a fresh store as ties (through the store's own writer)."""
    import pyarrow as pa

    import whuffie
    from whuffie.store.writer import Tables, write_tables

    ids = np.unique(np.concatenate([src, dst]))
    names = pa.array([f"{platform}:{i}" for i in ids.tolist()], pa.string())
    s_names = pa.array([f"{platform}:{i}" for i in src.tolist()], pa.string())
    t_names = pa.array([f"{platform}:{i}" for i in dst.tolist()], pa.string())
    tie_ids = pa.array([f"{platform}:tie:{a}>{b}" for a, b in zip(src.tolist(), dst.tolist(), strict=True)])
    n, m = len(ids), len(src)
    actors = pa.table({
        "actor_id": names, "platform": pa.array([platform] * n),
        **{c: pa.nulls(n, pa.string()) for c in ("handle", "name", "url", "description")},
        "created_at": pa.nulls(n, pa.timestamp("us")),
        **{c: pa.nulls(n, pa.int64()) for c in ("followers", "following", "posts")},
        "verified": pa.nulls(n, pa.bool_()), "extra": pa.nulls(n, pa.string()),
    })
    ties = pa.table({
        "tie_id": tie_ids, "platform": pa.array([platform] * m), "source_id": s_names,
        "target_id": t_names, "kind": pa.array(["mention"] * m), "weight": w,
        "created_at": pa.nulls(m, pa.timestamp("us")), "directed": pa.array([True] * m),
    })
    with whuffie.open(db) as store:
        store.con.execute("BEGIN")
        write_tables(store.con, Tables(primary_seen=m, actors=actors, ties=ties), None)
        store.con.execute("COMMIT")


DRIVERS = {
    "whuffie": """
import json, sys, time
import whuffie
from whuffie.graph.build import build_graph
from whuffie.influence.rank import pagerank, coreness
out = {}
with whuffie.open(sys.argv[1], read_only=True) as store:
    t = time.perf_counter(); g = build_graph(store); out["build"] = time.perf_counter() - t
t = time.perf_counter(); pr = pagerank(g); out["pagerank"] = time.perf_counter() - t
t = time.perf_counter(); coreness(g); out["coreness"] = time.perf_counter() - t
from whuffie.niches.leiden import detect_niches, modularity
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
t = time.perf_counter(); niches = detect_niches(g, "modularity", seed=0, threads=threads); out["leiden"] = time.perf_counter() - t
out["modularity"] = modularity(g, niches)
top = [int(g.nodes[i].split(":")[1]) for i in pr.argsort()[::-1][:100]]
out["top100"] = top; out["edges"] = g.m
print(json.dumps(out))
""",
    "igraph": """
import json, sys, time, numpy as np, igraph
d = np.load(sys.argv[1]); out = {}
t = time.perf_counter()
g = igraph.Graph(n=int(d["n"]), edges=np.column_stack([d["src"], d["dst"]]), directed=True)
g.es["weight"] = d["w"]; out["build"] = time.perf_counter() - t
t = time.perf_counter(); pr = np.array(g.pagerank(weights="weight", damping=0.85)); out["pagerank"] = time.perf_counter() - t
t = time.perf_counter(); g.coreness(mode="all"); out["coreness"] = time.perf_counter() - t
u = g.as_undirected(mode="collapse", combine_edges="sum")
t = time.perf_counter(); c = u.community_leiden(objective_function="modularity", weights="weight", n_iterations=2)
out["leiden"] = time.perf_counter() - t; out["modularity"] = u.modularity(c.membership, weights="weight")
out["top100"] = [int(d["ids"][i]) for i in pr.argsort()[::-1][:100]]
print(json.dumps(out))
""",
    "networkit": """
import json, sys, time, numpy as np, networkit as nk
nk.setNumberOfThreads(2)
d = np.load(sys.argv[1]); out = {}
t = time.perf_counter()
g = nk.GraphFromCoo((d["w"], (d["src"], d["dst"])), n=int(d["n"]), weighted=True, directed=True)
out["build"] = time.perf_counter() - t
t = time.perf_counter(); p = nk.centrality.PageRank(g, damp=0.85, tol=1e-9); p.run(); out["pagerank"] = time.perf_counter() - t
u = nk.graphtools.toUndirected(g); u.removeMultiEdges(); u.removeSelfLoops()
t = time.perf_counter(); c = nk.centrality.CoreDecomposition(nk.graphtools.toUnweighted(u)); c.run(); out["coreness"] = time.perf_counter() - t
t = time.perf_counter(); pl = nk.community.ParallelLeiden(u); pl.run(); out["leiden"] = time.perf_counter() - t
out["modularity"] = nk.community.Modularity().getQuality(pl.getPartition(), u)
print(json.dumps(out))
""",
    "networkx": """
import json, sys, time, numpy as np, networkx as nx
d = np.load(sys.argv[1]); out = {}
t = time.perf_counter()
g = nx.DiGraph(); g.add_nodes_from(range(int(d["n"])))
g.add_weighted_edges_from(zip(d["src"].tolist(), d["dst"].tolist(), d["w"].tolist()))
out["build"] = time.perf_counter() - t
t = time.perf_counter(); nx.pagerank(g, alpha=0.85, weight="weight"); out["pagerank"] = time.perf_counter() - t
u = g.to_undirected(); u.remove_edges_from(nx.selfloop_edges(u))
t = time.perf_counter(); nx.core_number(u); out["coreness"] = time.perf_counter() - t
print(json.dumps(out))
""",
    "leidenalg": """
import json, sys, time, numpy as np, igraph, leidenalg
d = np.load(sys.argv[1]); out = {}
g = igraph.Graph(n=int(d["n"]), edges=np.column_stack([d["src"], d["dst"]]), directed=True)
g.es["weight"] = d["w"]; u = g.as_undirected(mode="collapse", combine_edges="sum")
t = time.perf_counter(); part = leidenalg.find_partition(u, leidenalg.ModularityVertexPartition, weights="weight", seed=0)
out["leiden"] = time.perf_counter() - t; out["modularity"] = u.modularity(part.membership, weights="weight")
print(json.dumps(out))
""",
    "scipy-floor": """
import json, sys, time, numpy as np, scipy.sparse as sp
d = np.load(sys.argv[1]); n = int(d["n"]); out = {}
t = time.perf_counter()
out_w = np.bincount(d["src"], weights=d["w"], minlength=n); inv = np.divide(1, out_w, out=np.zeros(n), where=out_w > 0)
pt = sp.csr_matrix((d["w"] * inv[d["src"]], (d["dst"], d["src"])), shape=(n, n)); x = np.full(n, 1 / n)
for _ in range(100):
    new = 0.85 * (pt @ x) + (0.85 * x[out_w == 0].sum() + 0.15) / n
    if np.abs(new - x).sum() < 1e-10 * n: break
    x = new
out["pagerank"] = time.perf_counter() - t
print(json.dumps(out))
""",
}


def measure(tool: str, arg: Path, *extra: str) -> dict:
    out_file = arg.parent / f"{tool}{''.join(extra)}.json"
    code = DRIVERS[tool].replace("print(json.dumps(out))",
                                 f"open({str(out_file)!r}, 'w').write(json.dumps(out))")
    wall, mem = run([sys.executable, "-c", code, str(arg), *extra])
    result = json.loads(out_file.read_text())
    result["wall"], result["peak_mib"] = wall, mem
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edges", type=int, default=5_000_000)
    ap.add_argument("--skip-networkx-large", action="store_true")
    ap.add_argument("--only", choices=["higgs-mention", "synthetic-5M"], action="append")
    args = ap.parse_args()
    if not HIGGS.is_dir():
        raise SystemExit(f"{HIGGS} is missing (set WHUFFIE_SHARED_DATA)")
    work = Path(tempfile.mkdtemp(prefix="whuffie-influence-"))
    graphs = {"higgs-mention": lambda: load_edges(HIGGS / "higgs-mention_network.edgelist"),
              "synthetic-5M": lambda: synthetic(args.edges)}
    rows = []
    try:
        for name, make in graphs.items():
            if args.only and name not in args.only:
                continue
            src, dst, w = make()
            ids, inv = np.unique(np.concatenate([src, dst]), return_inverse=True)
            arrays = work / f"{name}.npz"
            np.savez(arrays, src=inv[: len(src)].astype(np.int64), dst=inv[len(src):].astype(np.int64),
                     w=w, n=len(ids), ids=ids)
            db = work / f"{name}.duckdb"
            write_store(db, src, dst, w, "bench")
            print(f"{name}: {len(ids):,} nodes, {len(src):,} edges", flush=True)
            # One Leiden thread gives one partition per seed (the default); two are faster.
            results = {"whuffie": measure("whuffie", db), "whuffie-2-threads": measure("whuffie", db, "2")}
            for tool in ("igraph", "networkit", "leidenalg", "scipy-floor", "networkx"):
                if tool == "networkx" and name != "higgs-mention" and args.skip_networkx_large:
                    continue
                try:
                    results[tool] = measure(tool, arrays)
                except SystemExit as exc:
                    print(f"{tool} failed on {name}: {str(exc)[-300:]}", flush=True)
            top_w = set(results["whuffie"]["top100"])
            top_i = set(results.get("igraph", {}).get("top100", []))
            jaccard = len(top_w & top_i) / len(top_w | top_i) if top_i else float("nan")
            rows.append((name, len(ids), len(src), results, jaccard))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| graph | tool | build s | PageRank s | coreness s | Leiden s | modularity | peak MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _n, _m, results, _j in rows:
        for tool, r in results.items():
            cells = [f"{r[k]:.2f}" if isinstance(r.get(k), float) else "-" for k in
                     ("build", "pagerank", "coreness", "leiden")]
            q = f"{r['modularity']:.4f}" if isinstance(r.get("modularity"), float) else "-"
            print(f"| {name} | {tool} | {' | '.join(cells)} | {q} | {r['peak_mib']:,.0f} |")
    print()
    for name, _n, m, results, jaccard in rows:
        w = results["whuffie"]
        peers = [(r["pagerank"], t) for t, r in results.items()
                 if "pagerank" in r and not t.startswith("whuffie") and t != "scipy-floor"]
        fastest = min(peers)
        floor = results.get("scipy-floor", {}).get("pagerank")
        line = (f"{name}: PageRank {w['pagerank'] / fastest[0]:.2f}x the fastest peer ({fastest[1]})"
                + (f", {w['pagerank'] / floor:.2f}x the scipy floor" if floor else "")
                + f"; build {w['build'] / (m / 1e6):.2f} s per million edges; top-100 Jaccard vs "
                f"igraph {jaccard:.3f}")
        if "networkx" in results:
            line += f"; {results['networkx']['pagerank'] / w['pagerank']:.0f}x faster than NetworkX"
        leidens = [(r["leiden"], t) for t, r in results.items()
                   if "leiden" in r and not t.startswith("whuffie")]
        if "leiden" in w and leidens:
            best = min(leidens)
            line += (f"; Leiden {w['leiden'] / best[0]:.2f}x the fastest ({best[1]}), "
                     f"{results['whuffie-2-threads']['leiden'] / best[0]:.2f}x with 2 threads")
        print(line)


if __name__ == "__main__":
    main()
