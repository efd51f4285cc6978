"""Niches: communities of the attention graph, found by the Leiden algorithm and by Infomap.

A niche is a group of actors who pay attention to each other more than to the
rest. For Leiden direction does not matter: the graph is made undirected by adding
the weights of ``i -> j`` and ``j -> i`` (self-loops dropped: attention to
oneself says nothing about whom one belongs with).

Methods:

* ``"auto"`` (default): Leiden's modularity at the resolution chosen from the data, the one
  whose partition agrees best (normalised mutual information) with Infomap's. Modularity has a
  resolution limit (at the classic γ = 1 it merges small niches of big graphs and splits small
  graphs: karate's two clubs come out as four), and Infomap, which follows the flow of attention
  on the directed graph (the map equation, Rosvall & Bergstrom 2008), has no resolution
  parameter but cuts the periphery of a core into many small modules (polblogs: 39 modules for
  two camps). Where the two objectives agree is the scale the data supports; the niches are
  Leiden's (well connected by construction). On the five graphs with known groups of
  ``docs/validation.md`` this gives mean NMI 0.64-0.67 and ARI 0.64-0.68 over seeds, against
  0.638 / 0.608 for modularity at γ = 1 and 0.633 / 0.635 for Infomap alone. On graphs of more
  than :data:`AUTO_SAMPLE` actors the resolution is chosen on the subgraph of the most active
  ones (Infomap takes tens of seconds on 100,000 actors), then Leiden runs on the whole graph.
* ``"infomap"``: Infomap's modules themselves (igraph's ``community_infomap``, directed and
  weighted, the best of 10 trials).
* ``"modularity"`` runs NetworKit's ``ParallelLeiden``, the fastest
  Leiden measured here (Slashdot, 504k undirected edges: 0.42 s on one
  thread, 0.70 s with the conversion, against 0.61 s for igraph's Leiden and
  11 s for leidenalg, all within 2% of the same modularity);
* ``"cpm"`` (the Constant Potts Model, free of modularity's resolution limit,
  so small niches in a big graph are not merged) runs igraph's
  ``community_leiden`` (two iterations: iterating to convergence took 14
  times longer on Slashdot + Higgs for +0.1% modularity); NetworKit has no
  CPM. CPM leaves weakly attached actors (a single link into a big niche) on
  their own, so expect a longer tail of tiny niches than with modularity.

Reproducibility
---------------
NetworKit keeps one random generator per thread (seeded by
``networkit.engineering.setSeed``) and its parallel moves race: with two
threads, the same seed gave a different partition on every run of the
Slashdot + Higgs graph. With one thread (the default, ``threads=1``) a seed
gives the same partition every time, in the same or another process. igraph
draws from a Python generator, which :func:`detect_niches` replaces by a
``random.Random(seed)`` during the call (``igraph.set_random_number_generator``).
"""

from __future__ import annotations

import os

import numpy as np

from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph
from whuffie.progress import phase

#: Methods of :func:`detect_niches`.
METHODS = ("auto", "modularity", "cpm", "infomap")
#: The resolutions ``auto`` chooses from (modularity's γ).
RESOLUTIONS = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0)
#: ``auto`` chooses among the resolutions whose partition keeps at least this share of the best
#: modularity on the grid (see :func:`auto_resolution`).
MODULARITY_KEPT = 0.9
#: Above this many actors, ``auto`` chooses the resolution on the subgraph of the most active ones.
AUTO_SAMPLE = 20_000
#: Infomap trials (the best code length is kept).
INFOMAP_TRIALS = 10
#: Libraries it can run on; ``auto`` picks NetworKit for modularity and igraph for CPM.
ENGINES = ("auto", "networkit", "igraph")


def undirected(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The undirected weighted attention graph, as edges ``u < v``.

    The weight of ``{u, v}`` is the weight of ``u -> v`` plus that of
    ``v -> u``; self-loops are dropped.

    Returns
    -------
    (u, v, w) : tuple of numpy.ndarray
        Endpoints (int64, ``u < v``, sorted) and weights (float64).

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("b", "a", 2), ("b", "c", 1), ("c", "c", 5)])
    >>> [x.tolist() for x in undirected(g)]
    [[0, 1], [1, 2], [3.0, 1.0]]
    """
    keep = graph.src != graph.dst
    lo = np.minimum(graph.src[keep], graph.dst[keep]).astype(np.int64)
    hi = np.maximum(graph.src[keep], graph.dst[keep]).astype(np.int64)
    # One key per pair; unique() sorts them and tells which edges to add together.
    pairs, which = np.unique(lo * graph.n + hi, return_inverse=True)
    weight = np.bincount(which, weights=graph.weight[keep], minlength=len(pairs))
    nonzero = weight != 0
    pairs, weight = pairs[nonzero], weight[nonzero]
    return pairs // graph.n, pairs % graph.n, weight


def by_size(membership: np.ndarray) -> np.ndarray:
    """Relabel a partition so that niche 0 is the largest, 1 the next, and so on.

    Ties go to the niche holding the lowest node index, so the labels do not
    depend on the labels the algorithm happened to use.

    Examples
    --------
    >>> by_size(np.array([7, 3, 3, 9, 9, 9, 5])).tolist()
    [2, 1, 1, 0, 0, 0, 3]
    """
    membership = np.asarray(membership)
    if membership.size == 0:
        return np.zeros(0, dtype=np.int64)
    labels, first, inverse, sizes = np.unique(membership, return_index=True, return_inverse=True,
                                              return_counts=True)
    order = np.lexsort((first, -sizes))
    new = np.empty(len(labels), dtype=np.int64)
    new[order] = np.arange(len(labels))
    return new[inverse.ravel()]


def default_resolution(graph: Graph, method: str = "modularity", seed: int = 0,
                       threads: int | None = 1) -> float | None:
    """The resolution :func:`detect_niches` uses when none is given.

    1 for modularity; for ``auto``, the one :func:`auto_resolution` chooses; for CPM, the
    weighted density of the undirected graph (total weight over the number of pairs of actors),
    so that a niche must be denser than the graph as a whole; none (``None``) for Infomap.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("b", "c", 2)])
    >>> default_resolution(g), default_resolution(g, "cpm"), default_resolution(g, "infomap")
    (1.0, 1.0, None)
    """
    if method == "infomap":
        return None
    if method == "auto":
        return auto_resolution(graph, seed=seed, threads=threads)[0] if graph.m else 1.0
    if method != "cpm":
        return 1.0
    pairs = graph.n * (graph.n - 1) / 2
    loops = graph.src == graph.dst
    return float(graph.weight[~loops].sum() / pairs) if pairs else 0.0


def detect_niches(
    graph: Graph,
    method: str = "auto",
    resolution: float | None = None,
    seed: int = 0,
    engine: str = "auto",
    threads: int | None = 1,
) -> np.ndarray:
    """The niche of every actor: Leiden communities of the undirected attention graph.

    Parameters
    ----------
    graph : Graph
    method : {"auto", "modularity", "cpm", "infomap"}
        ``auto``: modularity at the resolution chosen from the data (see the module
        documentation and :func:`auto_resolution`). Modularity compares the attention inside a
        niche with what its members' total attention would put there at random; CPM asks a niche
        to be denser (attention weight per pair of members) than ``resolution``, whatever the
        size of the graph; Infomap follows the flow of attention on the directed graph.
    resolution : float, optional
        Higher gives more, smaller niches. Modularity: the resolution γ
        (default 1, classic modularity; ``auto`` chooses it). CPM: the minimum weight per pair of
        members (default: the weighted density of the whole graph, which makes
        CPM compare each niche with a random graph of the same density). Infomap has none.
    seed : int
        Random seed; the same seed on the same graph gives the same niches
        (with ``threads=1``).
    engine : {"auto", "networkit", "igraph"}
        Library that runs Leiden: ``auto`` uses NetworKit's ``ParallelLeiden``
        for modularity and igraph for CPM.
    threads : int or None
        NetworKit threads; ``None`` uses every core, faster on big graphs but
        not reproducible (parallel moves race), so the default is 1.

    Returns
    -------
    numpy.ndarray
        Niche id of every node (int64): 0 is the largest niche, then by
        decreasing size. Actors of a separate component never share a niche
        with the rest, and an actor without edges is a niche of its own.

    Raises
    ------
    WhuffieError
        For an unknown method or engine, a negative resolution, or CPM asked
        of NetworKit.

    Examples
    --------
    Two triangles joined by one edge:

    >>> edges = [("a", "b", 1), ("b", "c", 1), ("c", "a", 1),
    ...          ("x", "y", 1), ("y", "z", 1), ("z", "x", 1), ("c", "x", 1)]
    >>> g = Graph.from_edges(edges)
    >>> dict(zip(g.nodes, detect_niches(g).tolist()))
    {'a': 0, 'b': 0, 'c': 0, 'x': 1, 'y': 1, 'z': 1}
    >>> detect_niches(g, method="cpm", resolution=0.5).tolist()
    [0, 0, 0, 1, 1, 1]
    >>> detect_niches(g, method="infomap").tolist()
    [0, 0, 0, 1, 1, 1]
    """
    if method not in METHODS:
        raise WhuffieError(f"unknown niche method {method!r}; choose one of {', '.join(METHODS)}")
    if engine not in ENGINES:
        raise WhuffieError(f"unknown niche engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if resolution is not None and not resolution >= 0:
        raise WhuffieError(f"resolution must be a number >= 0, got {resolution}")
    if method == "infomap":
        if graph.n == 0:
            return np.zeros(0, dtype=np.int64)
        phase("Infomap")
        return by_size(infomap(graph, seed=seed))
    if method == "auto":
        if resolution is None:
            resolution = auto_resolution(graph, seed=seed, threads=threads)[0] if graph.m else 1.0
        method = "modularity"
    if engine == "auto":
        engine = "networkit" if method == "modularity" else "igraph"
    if engine == "networkit" and method == "cpm":
        raise WhuffieError("NetworKit has no CPM Leiden; use engine='igraph' (or 'auto') for CPM")
    u, v, w = undirected(graph)
    if graph.n == 0:
        return np.zeros(0, dtype=np.int64)
    if len(w) == 0:
        return np.arange(graph.n, dtype=np.int64)
    if resolution is None:
        resolution = default_resolution(graph, method)
    phase(f"Leiden at resolution {resolution:g}")
    if engine == "networkit":
        membership = _networkit_leiden(graph.n, u, v, w, resolution, seed, threads)
    else:
        membership = _igraph_leiden(graph.n, u, v, w, method, resolution, seed)
    return by_size(membership)


def infomap(graph: Graph, seed: int = 0, trials: int = INFOMAP_TRIALS) -> np.ndarray:
    """Infomap's two-level modules of the directed, weighted attention graph (igraph).

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("b", "a", 1), ("c", "d", 1), ("d", "c", 1)])
    >>> len(set(infomap(g).tolist()))
    2
    """
    import random

    import igraph

    g = igraph.Graph(n=graph.n, edges=np.column_stack([graph.src, graph.dst]), directed=True)
    igraph.set_random_number_generator(random.Random(int(seed)))
    try:
        found = g.community_infomap(edge_weights=graph.weight.tolist(), trials=trials)
    finally:
        igraph.set_random_number_generator(random)
    return np.asarray(found.membership, dtype=np.int64)


def auto_resolution(graph: Graph, seed: int = 0, threads: int | None = 1) -> tuple[float, float]:
    """The modularity resolution whose Leiden partition agrees best with Infomap's, and the agreement.

    The agreement is the normalised mutual information (igraph's ``compare_communities``)
    between Infomap's modules and Leiden's niches at each of :data:`RESOLUTIONS` whose partition
    keeps :data:`MODULARITY_KEPT` of the best modularity among them; ties go to the resolution
    closest to 1. On a graph of more than :data:`AUTO_SAMPLE` actors, both run on
    the subgraph of the :data:`AUTO_SAMPLE` actors with the most attention given and received.

    Examples
    --------
    Zachary's karate club as two cliques joined by one edge: the classic γ = 1 is not forced.

    >>> edges = [(a, b, 1) for a in "abcd" for b in "abcd" if a < b]
    >>> edges += [(a, b, 1) for a in "wxyz" for b in "wxyz" if a < b] + [("d", "w", 1)]
    >>> resolution, agreement = auto_resolution(Graph.from_edges(edges))
    >>> resolution, round(agreement, 2)
    (1.0, 1.0)
    """
    import igraph

    sub = _busiest(graph, AUTO_SAMPLE)
    phase(f"Infomap on {sub.n:,} actors")
    reference = infomap(sub, seed=seed)
    u, v, w = undirected(sub)
    found = []
    for i, r in enumerate(RESOLUTIONS):
        phase(f"Leiden at resolution {r:g}", i, len(RESOLUTIONS))
        leiden = _networkit_leiden(sub.n, u, v, w, r, seed, threads) if len(w) else np.arange(sub.n)
        agreement = float(igraph.compare_communities(reference.tolist(), leiden.tolist(), method="nmi"))
        found.append((r, agreement, modularity(sub, leiden) if len(w) else 0.0))
    # Niches must stay niches of this graph: a resolution whose partition gives up more than
    # MODULARITY_KEPT of the best modularity on the grid is not chosen, however well it agrees. Where
    # flows barely stay inside groups (Slashdot, Higgs: Infomap's modules reach a modularity of
    # 0.05-0.07), Infomap's near-single module agrees best with a Leiden partition that lumps almost
    # every actor together (modularity 0.02-0.04 against 0.28-0.29 at γ = 1).
    floor = MODULARITY_KEPT * max(q for _, _, q in found)
    r, agreement, _ = max((f for f in found if f[2] >= floor),
                          key=lambda f: (round(f[1], 9), -abs(np.log(f[0]))))
    return float(r), float(agreement)


def _busiest(graph: Graph, n: int) -> Graph:
    """The subgraph of the ``n`` actors with the most attention given and received (all when fewer)."""
    if graph.n <= n:
        return graph
    strength = graph.in_strength() + graph.out_strength()
    keep = np.zeros(graph.n, dtype=bool)
    keep[np.argsort(-strength, kind="stable")[:n]] = True
    new = np.cumsum(keep) - 1
    edge = keep[graph.src] & keep[graph.dst]
    return Graph(nodes=graph.nodes[keep], src=new[graph.src[edge]].astype(np.int32),
                 dst=new[graph.dst[edge]].astype(np.int32), weight=graph.weight[edge],
                 count=graph.count[edge], spec=graph.spec)


def _networkit_leiden(n, u, v, w, resolution, seed, threads) -> np.ndarray:
    import networkit as nk

    g = nk.GraphFromCoo((w, (u, v)), n=n, weighted=True, directed=False)
    # The current setting (getCurrentNumberOfThreads is 1 outside a parallel region).
    before = nk.getMaxNumberOfThreads()
    nk.setNumberOfThreads(threads if threads is not None else os.cpu_count() or 1)
    try:
        nk.engineering.setSeed(int(seed), threads != 1)
        leiden = nk.community.ParallelLeiden(g, randomize=True, gamma=float(resolution))
        leiden.run()
        return np.asarray(leiden.getPartition().getVector(), dtype=np.int64)
    finally:
        nk.setNumberOfThreads(before)


def _igraph_leiden(n, u, v, w, method, resolution, seed) -> np.ndarray:
    import random

    import igraph

    g = igraph.Graph(n=n, edges=np.column_stack([u, v]), directed=False)
    # igraph has no getter for its generator; the Python ``random`` module is its default,
    # put back afterwards so other igraph calls behave as documented.
    igraph.set_random_number_generator(random.Random(int(seed)))
    try:
        found = g.community_leiden(
            objective_function="CPM" if method == "cpm" else "modularity",
            weights=w, resolution=float(resolution), n_iterations=2,
        )
    finally:
        igraph.set_random_number_generator(random)
    return np.asarray(found.membership, dtype=np.int64)


def modularity(graph: Graph, membership: np.ndarray, resolution: float = 1.0) -> float:
    """Newman's weighted modularity of a partition of the undirected attention graph.

    ``Q = sum_c [ W_c / W - γ (S_c / 2W)^2 ]`` where ``W`` is the total edge
    weight, ``W_c`` the weight inside niche ``c`` and ``S_c`` the strength
    (weighted degree) of its members. Computed here with two bincounts rather
    than by a library, because the same per-niche sums feed the profiles; the
    tests check it against networkx.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("c", "d", 1)])
    >>> modularity(g, np.array([0, 0, 1, 1]))
    0.5
    """
    u, v, w = undirected(graph)
    total = w.sum()
    if total == 0:
        return 0.0
    membership = np.asarray(membership, dtype=np.int64)
    k = int(membership.max()) + 1 if membership.size else 0
    inside = membership[u] == membership[v]
    w_in = np.bincount(membership[u[inside]], weights=w[inside], minlength=k)
    strength = np.bincount(u, weights=w, minlength=graph.n) + np.bincount(v, weights=w, minlength=graph.n)
    s = np.bincount(membership, weights=strength, minlength=k)
    return float((w_in / total - resolution * (s / (2 * total)) ** 2).sum())
