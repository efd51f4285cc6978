"""The overall figures of a graph: what a NodeXL or Gephi user reads before anything else.

:func:`graph_metrics` measures a :class:`~whuffie.graph.build.Graph` as a whole: its size, density,
reciprocity (of edges, of pairs and of weight), weakly and strongly connected components, degree,
clustering, self-loops, isolated nodes, and the diameter and average path length of its largest
component. The kernels are scipy's (components, reciprocity), igraph's (clustering, path lengths)
and NetworKit's (diameter); nothing here walks the graph in Python.

Path lengths are hop counts that ignore direction (who is within how many steps of whom), measured
on the largest weakly connected component. They are exact when that component is small enough
(:data:`EXACT_PATHS_WORK`); on a larger one the diameter is still exact (NetworKit's iFUB bounds,
fast on sparse real graphs) and the average path length is estimated from breadth-first searches
from :data:`PATH_SOURCES` random sources, with its standard error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph

#: Every shortest path of the largest component is measured when nodes x (nodes + edges) is at most
#: this (about a second of breadth-first searches); beyond, the average path length is sampled.
EXACT_PATHS_WORK = 200_000_000
#: Breadth-first searches that estimate the average path length of a larger component.
PATH_SOURCES = 200
#: Sources searched at once when sampling (bounds the distance matrix held in memory).
_CHUNK = 32

#: The figures, in the order they are shown, with what each means.
METRICS: dict[str, str] = {
    "nodes": "actors in the graph",
    "edges": "directed edges (distinct who -> whom pairs)",
    "weight": "total weight of the edges",
    "self_loops": "edges from an actor to itself",
    "isolated": "actors without an edge to another actor",
    "density": "edges / (nodes x (nodes - 1))",
    "reciprocity": "share of edges whose reverse edge exists",
    "pair_reciprocity": "share of connected pairs connected both ways",
    "weighted_reciprocity": "share of the weight returned: sum of min(w(a->b), w(b->a)) / total weight",
    "average_degree": "average number of edges per actor, in + out",
    "weak_components": "weakly connected components (direction ignored)",
    "largest_weak": "actors in the largest weakly connected component",
    "largest_weak_share": "share of the actors in it",
    "strong_components": "strongly connected components (following the arrows)",
    "largest_strong": "actors in the largest strongly connected component",
    "largest_strong_share": "share of the actors in it",
    "transitivity": "global clustering: closed triplets / triplets (undirected)",
    "average_clustering": "mean local clustering coefficient, 0 for actors with fewer than 2 neighbours",
    "diameter": "longest shortest path in the largest component (hops, direction ignored)",
    "average_path_length": "mean shortest path between two actors of the largest component",
    "average_path_length_error": "standard error of that mean when it is estimated (0 when exact)",
    "paths": "how the path lengths were measured: exact, or sampled from N sources",
}


def graph_metrics(graph: Graph, *, exact_paths_work: int = EXACT_PATHS_WORK, path_sources: int = PATH_SOURCES,
                  seed: int = 0) -> dict[str, Any]:
    """The overall figures of ``graph`` (see :data:`METRICS` for what each means).

    Parameters
    ----------
    graph : Graph
        The graph (directed, weighted).
    exact_paths_work : int
        Measure every shortest path of the largest weakly connected component when its nodes x
        (nodes + edges) is at most this; estimate the average path length by sampling beyond.
    path_sources : int
        Breadth-first searches that estimate the average path length when it is sampled.
    seed : int
        Seed of the sampled sources.

    Returns
    -------
    dict
        The figures of :data:`METRICS`, in that order: plain Python numbers, and ``paths`` as
        ``"exact"`` or ``"sampled from N sources"``.

    Raises
    ------
    WhuffieError
        When ``path_sources`` is below 1.

    Examples
    --------
    A reciprocated pair, a triangle closed on it, and one more edge outwards:

    >>> g = Graph.from_edges([("a", "b", 2), ("b", "a", 1), ("b", "c", 1), ("c", "a", 1), ("c", "d", 1)])
    >>> m = graph_metrics(g)
    >>> m["nodes"], m["edges"], m["weight"], m["density"]
    (4, 5, 6.0, 0.4166666666666667)
    >>> m["reciprocity"], m["pair_reciprocity"], m["weighted_reciprocity"]
    (0.4, 0.25, 0.3333333333333333)
    >>> m["strong_components"], m["largest_strong"]
    (2, 3)
    >>> round(m["transitivity"], 4), round(m["average_clustering"], 4)
    (0.6, 0.5833)
    >>> m["diameter"], m["average_path_length"], m["paths"]
    (2, 1.3333333333333333, 'exact')
    """
    if path_sources < 1:
        raise WhuffieError(f"path_sources must be at least 1, got {path_sources}")
    n, m = graph.n, graph.m
    loop = graph.src == graph.dst
    src, dst, w = graph.src[~loop], graph.dst[~loop], graph.weight[~loop]
    adj = sp.csr_matrix((w, (src, dst)), shape=(n, n))
    # The structure apart from the weights, so that an edge of weight 0 is still an edge.
    pattern = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    # An edge is reciprocated when its reverse exists: the pattern of A meets that of A transposed.
    reciprocated = int(pattern.multiply(pattern.T).nnz)
    pairs = len(src) - reciprocated // 2
    total = float(w.sum())
    touched = np.zeros(n, dtype=bool)
    touched[src] = touched[dst] = True

    weak_n, weak = connected_components(pattern, directed=True, connection="weak")
    strong_n, strong = connected_components(pattern, directed=True, connection="strong")
    weak_size = np.bincount(weak) if n else np.zeros(1, dtype=np.int64)
    strong_size = np.bincount(strong) if n else np.zeros(1, dtype=np.int64)

    figures: dict[str, Any] = {
        "nodes": n,
        "edges": m,
        "weight": float(graph.weight.sum()),
        "self_loops": int(loop.sum()),
        "isolated": int(n - touched.sum()),
        "density": m / (n * (n - 1)) if n > 1 else 0.0,
        "reciprocity": reciprocated / m if m else 0.0,
        "pair_reciprocity": (reciprocated // 2) / pairs if pairs else 0.0,
        "weighted_reciprocity": float(adj.minimum(adj.T).sum()) / total if total > 0 else 0.0,
        "average_degree": 2 * m / n if n else 0.0,
        "weak_components": int(weak_n),
        "largest_weak": int(weak_size.max()),
        "largest_weak_share": float(weak_size.max() / n) if n else 0.0,
        "strong_components": int(strong_n),
        "largest_strong": int(strong_size.max()),
        "largest_strong_share": float(strong_size.max() / n) if n else 0.0,
    }
    simple = _undirected(pattern)
    figures["transitivity"] = _finite(simple.transitivity_undirected())
    figures["average_clustering"] = _finite(simple.transitivity_avglocal_undirected(mode="zero"))
    giant = simple.induced_subgraph(np.flatnonzero(weak == np.argmax(weak_size)).tolist()) if n else simple
    figures.update(_path_lengths(giant, exact_paths_work, path_sources, seed))
    return figures


def _undirected(adj: sp.csr_matrix):
    """The simple undirected igraph graph of a loop-free adjacency matrix (each linked pair once)."""
    import igraph

    upper = sp.triu(adj + adj.T, k=1).tocoo()
    return igraph.Graph(n=adj.shape[0], edges=np.column_stack([upper.row, upper.col]), directed=False)


def _finite(value: float) -> float:
    """igraph gives NaN for a graph without any triplet; 0 says the same for a reader."""
    return 0.0 if value != value else float(value)


def _path_lengths(giant, work_limit: int, sources: int, seed: int) -> dict[str, Any]:
    """Diameter and average path length of a connected undirected igraph graph."""
    n, m = giant.vcount(), giant.ecount()
    if n < 2:
        return {"diameter": 0, "average_path_length": 0.0, "average_path_length_error": 0.0, "paths": "exact"}
    if n * (n + m) <= work_limit:
        # Every unordered pair once, counted by igraph's C breadth-first searches.
        bins = [(int(start), count) for start, _, count in giant.path_length_hist(directed=False).bins()
                if count]
        lengths = np.array([b[0] for b in bins], dtype=np.float64)
        counts = np.array([b[1] for b in bins], dtype=np.float64)
        return {"diameter": int(lengths.max()), "average_path_length": float(lengths @ counts / counts.sum()),
                "average_path_length_error": 0.0, "paths": "exact"}
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(n, size=min(sources, n), replace=False))
    exact = len(chosen) == n
    means = []
    for start in range(0, len(chosen), _CHUNK):
        block = np.asarray(giant.distances(source=chosen[start:start + _CHUNK].tolist()), dtype=np.float64)
        # The component is connected: every other node is at a finite distance, the source at 0.
        means.append(block.sum(axis=1) / (n - 1))
    per_source = np.concatenate(means)
    error = 0.0 if exact else float(per_source.std(ddof=1) / np.sqrt(len(chosen)))
    return {"diameter": _diameter(giant), "average_path_length": float(per_source.mean()),
            "average_path_length_error": error,
            "paths": "exact" if exact else f"sampled from {len(chosen)} sources"}


def _diameter(giant) -> int:
    """The exact diameter by NetworKit's iFUB, which bounds eccentricities instead of searching from all."""
    import networkit as nk

    edges = np.asarray(giant.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    g = nk.GraphFromCoo((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), n=giant.vcount(), directed=False)
    found = nk.distance.Diameter(g, algo=nk.distance.DiameterAlgo.Exact)
    found.run()
    return int(found.getDiameter()[0])
