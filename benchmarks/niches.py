"""Niches: known groups recovered on real graphs, and Leiden engines compared at equal input.

Two Markdown tables for ``docs/validation.md`` and ``docs/benchmarks.md``:

* **validation**: polblogs (largest component, 1,222 blogs, leaning), Zachary's karate club
  (club after the split), football (conference), polbooks (leaning), dolphins (the weak 2-group
  split) are ingested into a throw-away store and their niches found with
  :func:`whuffie.niches.detect_niches` (``auto``, the default: Leiden modularity at the resolution
  that agrees best with Infomap; modularity at 1; Infomap; CPM at the density); NMI (arithmetic
  normalisation, as scikit-learn) and ARI against the known groups come from NetworKit's
  ``NMIDistance`` and ``AdjustedRandMeasure``, with the range over seeds 0-4.
* **engines**: the modularity reached and the time taken by NetworKit's ``ParallelLeiden`` (1
  and 2 threads), igraph's ``community_leiden`` and leidenalg on the same undirected weighted
  graphs, plus Slashdot (504k undirected edges) and Slashdot + Higgs replies and mentions (645k)
  read straight from the SNAP edge lists. Modularity is always computed by igraph; times are the
  fastest of 3 runs (leidenalg: 1 run), as other work may share the machine.

Then how well sampled betweenness ranks actors (polblogs, against the exact one), and whether one
seed gives one partition with one NetworKit thread and with two (Slashdot + Higgs).

Run: ``python benchmarks/niches.py [--no-big]``; leidenalg comes with ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import whuffie
from whuffie.graph.build import Graph, GraphSpec, build_graph
from whuffie.niches import default_resolution, detect_niches, modularity, undirected

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", ROOT.parent / "shared" / "data"))
KNOWN = {
    "polblogs": (["polblogs/polblogs.gml"], {}, "value"),
    "karate": (["zachary_karate"], {"directed": "false"}, "club"),
    "football": (["small_community_graphs/football.gml"], {}, "value"),
    "polbooks": (["small_community_graphs/polbooks.gml"], {}, "value"),
    "dolphins": (["small_community_graphs/dolphins.gml"], {}, "group"),
}
PLATFORM = {"karate": "zachary-karate"}


def _partition(labels: np.ndarray):
    import networkit as nk

    _, ids = np.unique(labels, return_inverse=True)
    p = nk.Partition(len(ids))
    p.setUpperBound(int(ids.max()) + 1)
    for i, c in enumerate(ids.tolist()):
        p.addToSubset(c, i)
    return p


def agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(NMI, ARI) of two labelings, by NetworKit (its NMI uses the arithmetic normalisation)."""
    import networkit as nk

    g = nk.Graph(len(a))
    pa, pb = _partition(a), _partition(b)
    return (1 - nk.community.NMIDistance().getDissimilarity(g, pa, pb),
            1 - nk.community.AdjustedRandMeasure().getDissimilarity(g, pa, pb))


def largest_component(graph: Graph) -> Graph:
    from scipy.sparse.csgraph import connected_components

    _, label = connected_components(graph.csr(), directed=True, connection="weak")
    keep = np.flatnonzero(label == np.argmax(np.bincount(label)))
    new = np.full(graph.n, -1)
    new[keep] = np.arange(len(keep))
    edge = (new[graph.src] >= 0) & (new[graph.dst] >= 0)
    return Graph(nodes=graph.nodes[keep], src=new[graph.src[edge]].astype(np.int32),
                 dst=new[graph.dst[edge]].astype(np.int32), weight=graph.weight[edge],
                 count=graph.count[edge], spec=graph.spec)


def known_graphs() -> dict[str, tuple[Graph, np.ndarray]]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp, whuffie.open(Path(tmp) / "known.duckdb") as store:
        for name, (files, options, field) in KNOWN.items():
            store.ingest([str(SHARED / f) for f in files], options=options)
            platform = PLATFORM.get(name, name)
            graph = build_graph(store, platforms=(platform,))
            if name == "polblogs":
                graph = largest_component(graph)
            groups = dict(store.con.execute(
                f"SELECT actor_id, extra->>'{field}' FROM actors WHERE platform = ?", [platform]).fetchall())
            out[name] = (graph, np.array([groups[a] for a in graph.nodes]))
    return out


def validation(graphs) -> None:
    print("| graph | nodes | undirected edges | known groups (their modularity) | method | resolution "
          "| niches | modularity | NMI | ARI | NMI, seeds 0-4 | mean NMI / ARI, seeds 0-4 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    means: dict[str, list[tuple[float, float]]] = {}
    for name, (graph, groups) in graphs.items():
        m = len(undirected(graph)[0])
        truth = modularity(graph, np.unique(groups, return_inverse=True)[1])
        for method in ("auto", "modularity", "infomap", "cpm"):
            res = default_resolution(graph, method)
            runs = [detect_niches(graph, method=method, seed=s) for s in range(5)]
            scores = [agreement(r, groups) for r in runs]
            nmis = [a for a, _ in scores]
            nmi, ari = scores[0]
            mean = (float(np.mean(nmis)), float(np.mean([b for _, b in scores])))
            means.setdefault(method, []).append(mean)
            shown = "-" if res is None else f"{res:.3g}"
            print(f"| {name} | {graph.n:,} | {m:,} | {len(set(groups))} ({truth:.4f}) | {method} "
                  f"| {shown} | {runs[0].max() + 1} | {modularity(graph, runs[0]):.4f} | {nmi:.3f} "
                  f"| {ari:.3f} | {min(nmis):.3f}-{max(nmis):.3f} | {mean[0]:.3f} / {mean[1]:.3f} |")
    print()
    print("| method | mean NMI over the graphs and seeds | mean ARI |")
    print("|---|---|---|")
    for method, values in means.items():
        print(f"| {method} | {np.mean([a for a, _ in values]):.3f} | {np.mean([b for _, b in values]):.3f} |")


def _edges(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        return np.loadtxt((line for line in fh if not line.startswith("#")), dtype=np.int64,
                          usecols=(0, 1), ndmin=2)


def snap_graph(*id_spaces: list[Path]) -> Graph:
    """A graph from SNAP edge lists; the files of one list share an id space (self-loops dropped,
    repeated pairs summed)."""
    parts, offset = [], 0
    for files in id_spaces:
        e = np.vstack([_edges(p) for p in files])
        parts.append(e + offset)
        offset += int(e.max()) + 1
    pairs = np.vstack(parts)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    ids, inv = np.unique(pairs.ravel(), return_inverse=True)
    inv = inv.reshape(-1, 2)
    key, count = np.unique(inv[:, 0] * len(ids) + inv[:, 1], return_counts=True)
    return Graph(nodes=np.array([str(i) for i in ids], dtype=object),
                 src=(key // len(ids)).astype(np.int32), dst=(key % len(ids)).astype(np.int32),
                 weight=count.astype(np.float64), count=count.astype(np.int64), spec=GraphSpec())


def best_of(repeats: int, fn):
    """(fastest wall time, last result) of ``repeats`` calls: the machine is shared."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def engines(graphs: dict[str, Graph]) -> None:
    import igraph
    import leidenalg
    import networkit as nk

    print("| graph | undirected edges | engine | seconds | niches | modularity |")
    print("|---|---|---|---|---|---|")
    for name, graph in graphs.items():
        u, v, w = undirected(graph)
        ig = igraph.Graph(n=graph.n, edges=np.column_stack([u, v]), directed=False)
        ig.es["weight"] = w
        g = nk.GraphFromCoo((w, (u, v)), n=graph.n, weighted=True, directed=False)
        m = len(u)

        def row(engine, seconds, membership, name=name, ig=ig, m=m):
            q = ig.modularity(list(membership), weights="weight")
            print(f"| {name} | {m:,} | {engine} | {seconds:.2f} | {len(set(membership)):,} | {q:.4f} |")

        seconds, found = best_of(3, lambda graph=graph: detect_niches(graph, "modularity", seed=0))
        row("whuffie detect_niches modularity (NetworKit, 1 thread, incl. conversion)", seconds, found)
        seconds, found = best_of(1, lambda graph=graph: detect_niches(graph, "auto", seed=0))
        row("whuffie detect_niches auto (Infomap + Leiden over 9 resolutions, 1 run)", seconds, found)
        seconds, found = best_of(1, lambda graph=graph: detect_niches(graph, "infomap", seed=0))
        row("whuffie detect_niches infomap (igraph, 10 trials, 1 run)", seconds, found)
        for threads in (1, 2):
            nk.setNumberOfThreads(threads)

            def parallel_leiden(g=g):
                nk.engineering.setSeed(0, False)
                leiden = nk.community.ParallelLeiden(g, randomize=True)
                leiden.run()
                return leiden.getPartition().getVector()

            seconds, found = best_of(3, parallel_leiden)
            row(f"NetworKit ParallelLeiden, {threads} thread{'s' if threads > 1 else ''}", seconds, found)
        nk.setNumberOfThreads(1)

        def igraph_leiden(ig=ig):
            igraph.set_random_number_generator(random.Random(0))
            try:
                return ig.community_leiden(objective_function="modularity", weights="weight",
                                           n_iterations=2).membership
            finally:
                igraph.set_random_number_generator(random)

        seconds, found = best_of(3, igraph_leiden)
        row("igraph community_leiden (2 iterations)", seconds, found)
        seconds, found = best_of(1, lambda ig=ig: leidenalg.find_partition(
            ig, leidenalg.ModularityVertexPartition, weights="weight", seed=0).membership)
        row("leidenalg ModularityVertexPartition (2 iterations, 1 run)", seconds, found)
        sys.stdout.flush()


def reproducibility(graph: Graph, runs: int = 3) -> None:
    """Distinct partitions among ``runs`` runs with seed 0, per thread count."""
    import hashlib

    print("| threads | runs with seed 0 | distinct partitions | niches | modularity |")
    print("|---|---|---|---|---|")
    for threads in (1, 2):
        found = [detect_niches(graph, "modularity", seed=0, threads=threads) for _ in range(runs)]
        digests = {hashlib.sha1(m.tobytes()).hexdigest() for m in found}
        print(f"| {threads} | {runs} | {len(digests)} | "
              f"{', '.join(str(m.max() + 1) for m in found)} | "
              f"{', '.join(f'{modularity(graph, m):.4f}' for m in found)} |")


def betweenness_accuracy(graph: Graph, seeds: int = 5) -> None:
    """Sampled betweenness against the exact one: rank correlation and top-20 overlap."""
    from scipy.stats import spearmanr

    from whuffie.niches import betweenness

    start = time.perf_counter()
    exact, _ = betweenness(graph, exact=True)
    print(f"Exact: {time.perf_counter() - start:.2f} s.\n")
    top = set(np.argsort(-exact)[:20])
    print("| sampled sources | seconds (mean) | Spearman vs exact, min / mean | top-20 overlap, min / mean |")
    print("|---|---|---|---|")
    for samples in (16, 32, 64, 100):
        rho, overlap, seconds = [], [], []
        for seed in range(seeds):
            start = time.perf_counter()
            estimate, _ = betweenness(graph, samples=samples, seed=seed, exact=False)
            seconds.append(time.perf_counter() - start)
            rho.append(spearmanr(exact, estimate)[0])
            overlap.append(len(top & set(np.argsort(-estimate)[:20])))
        print(f"| {samples} | {np.mean(seconds):.3f} | {min(rho):.3f} / {np.mean(rho):.3f} "
              f"| {min(overlap)} / {np.mean(overlap):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-big", action="store_true", help="Skip Slashdot and Slashdot + Higgs.")
    args = parser.parse_args()
    graphs = known_graphs()
    print("## Known groups\n")
    validation(graphs)
    print("\n## Leiden engines at equal input\n")
    compared = {name: g for name, (g, _) in graphs.items()}
    if not args.no_big:
        slashdot = SHARED / "slashdot" / "soc-Slashdot0902.txt.gz"
        higgs = [SHARED / "higgs_reply_mention" / f
                 for f in ("higgs-mention_network.edgelist", "higgs-reply_network.edgelist")]
        compared["slashdot"] = snap_graph([slashdot])
        compared["slashdot + higgs"] = snap_graph([slashdot], higgs)
    engines(compared)
    print("\n## Betweenness: sampled against exact (polblogs, seeds 0-4)\n")
    betweenness_accuracy(graphs["polblogs"][0])
    if not args.no_big:
        print("\n## Same seed, one thread and two (Slashdot + Higgs)\n")
        reproducibility(compared["slashdot + higgs"])


if __name__ == "__main__":
    main()
