"""Positions of a graph's nodes for a map: communities apart, 50,000 nodes in seconds.

:func:`layout` is a group-in-a-box layout built on igraph's Fruchterman-Reingold; the offline map
(:mod:`whuffie.report.map`) draws with it, and any other drawing can.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

#: Groups from this size on are laid out by the grid variant of Fruchterman-Reingold.
GRID_FROM = 200
#: Groups larger than this and than a quarter of the map are split for the layout.
REFINE_SIZE = 1_000


@contextmanager
def _igraph_seed(seed: int):
    # igraph draws from a process-wide generator (Python's random module by
    # default); give it a seeded one for the duration of the layout only.
    import igraph

    igraph.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        igraph.set_random_number_generator(random)


def layout(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray | None = None,
           groups: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """2-D positions of an undirected graph with its communities apart, fast at 50,000 nodes.

    A group-in-a-box layout: the nodes are split into groups (the given
    ``groups``, or Louvain communities; see :func:`_groups`); the graph
    of groups is laid out by Fruchterman-Reingold, each group becomes a disc of
    area proportional to its size, the discs are packed without overlap, and
    each group's own subgraph is laid out by Fruchterman-Reingold inside its
    disc. Of the options measured at 50,000 nodes (``docs/benchmarks.md``) it
    is the one that keeps communities apart in seconds: PivotMDS or one
    Fruchterman-Reingold over the whole graph take 3 s but draw a hairball,
    DrL and MaxentStress take minutes. Direction and duplicate edges are
    ignored.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : numpy.ndarray
        Edge endpoints (node indices).
    weight : numpy.ndarray, optional
        Edge weights (log-damped: heavier edges pull their ends closer).
    groups : numpy.ndarray, optional
        A group per node (e.g. niches; ``-1`` for none), kept together and
        apart from the others; a group holding over a quarter of the nodes
        (and over 1,000) is split into its Louvain communities.
    seed : int
        Seed of the initial positions and of igraph's random generator
        (Louvain's node order); the same seed gives the same positions.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` float coordinates.

    Examples
    --------
    Two triangles joined by one edge, and a separate pair:

    >>> xy = layout(8, np.array([0, 1, 2, 3, 4, 5, 2, 6]), np.array([1, 2, 0, 4, 5, 3, 3, 7]))
    >>> xy.shape
    (8, 2)
    >>> d = lambda a, b: float(np.hypot(*(xy[a] - xy[b])))
    >>> d(0, 1) < d(0, 4)
    True
    """
    import igraph

    rng = np.random.default_rng(seed)
    if n == 0:
        return np.zeros((0, 2))
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    w = np.ones(len(src)) if weight is None else np.asarray(weight, dtype=np.float64)
    a = sp.coo_matrix((w, (src, dst)), shape=(n, n)).tocsr()
    upper = sp.triu(a + a.T, k=1).tocoo()
    u, v = upper.row.astype(np.int64), upper.col.astype(np.int64)
    # Raw weights span orders of magnitude (one reply vs a thousand): damp them
    # so that one heavy pair cannot collapse onto a point.
    w = np.log1p(upper.data)
    if len(w):
        w = w / np.median(w)

    with _igraph_seed(seed):
        group = _groups(n, u, v, w, groups)
        k = int(group.max()) + 1
        size = np.bincount(group, minlength=k)
        radius = np.sqrt(size)

        gu, gv = group[u], group[v]
        inter = gu != gv
        q = sp.coo_matrix((w[inter], (gu[inter], gv[inter])), shape=(k, k)).tocsr()
        q = sp.triu(q + q.T, k=1).tocoo()
        qg = igraph.Graph(n=k, edges=np.column_stack([q.row, q.col]), directed=False)
        start = rng.uniform(-1, 1, (k, 2)) * np.sqrt(k)
        centres = np.array(qg.layout_fruchterman_reingold(
            weights=np.log1p(q.data).tolist() if q.nnz else None, seed=start.tolist(), grid="auto",
        ).coords)
        centres = _pack(centres, radius)

        xy = np.empty((n, 2))
        node_order = np.argsort(group, kind="stable")
        node_start = np.searchsorted(group[node_order], np.arange(k + 1))
        intra = ~inter
        eu, ev, ew = u[intra], v[intra], w[intra]
        edge_order = np.argsort(gu[intra], kind="stable")
        eu, ev, ew = eu[edge_order], ev[edge_order], ew[edge_order]
        edge_start = np.searchsorted(group[eu], np.arange(k + 1))
        local = np.empty(n, dtype=np.int64)
        for c in range(k):
            members = node_order[node_start[c]:node_start[c + 1]]
            s = len(members)
            if s <= 2:
                xy[members] = centres[c] + np.array([[-0.5, 0.0], [0.5, 0.0]])[:s] * radius[c]
                continue
            local[members] = np.arange(s)
            lo, hi = edge_start[c], edge_start[c + 1]
            sub = igraph.Graph(n=s, edges=np.column_stack([local[eu[lo:hi]], local[ev[lo:hi]]]),
                               directed=False)
            p = np.array(sub.layout_fruchterman_reingold(
                weights=ew[lo:hi].tolist(), seed=(rng.uniform(-1, 1, (s, 2)) * np.sqrt(s)).tolist(),
                # The grid variant is 5-10 times faster from a few hundred nodes
                # on, and looks the same inside a disc.
                grid=bool(s > GRID_FROM), niter=500 if s <= 5_000 else 300,
            ).coords)
            # Members cut off from the rest of their group (their links went to
            # actors left off the map) drift far away in a force layout: scale
            # on the bulk, and bring the stragglers back to the disc's rim.
            p -= np.median(p, axis=0)
            dist = np.hypot(p[:, 0], p[:, 1])
            bulk = np.quantile(dist, 0.9)
            p *= 0.85 * radius[c] / (bulk if bulk > 0 else 1.0)
            dist = np.hypot(p[:, 0], p[:, 1])
            out = dist > radius[c]
            p[out] *= (radius[c] * rng.uniform(0.9, 1.0, out.sum()) / dist[out])[:, None]
            xy[members] = centres[c] + p
    return xy


def _groups(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """The layout's groups (``0..k-1``): the given ones, Louvain communities where they say too little.

    A group holding more than a quarter of the nodes (a giant component when
    colouring by component, or no group at all) would be one hairball: it is
    split into its Louvain communities.
    """
    import igraph

    if groups is None:
        group = np.zeros(n, dtype=np.int64)
    else:
        group = np.unique(np.asarray(groups, dtype=np.int64), return_inverse=True)[1].ravel()
    size = np.bincount(group)
    big = size > max(REFINE_SIZE, n // 4)
    if big.any():
        g = igraph.Graph(n=n, edges=np.column_stack([u, v]), directed=False)
        louvain = np.asarray(g.community_multilevel(weights=w.tolist()).membership, dtype=np.int64)
        split = big[group]
        pairs = np.column_stack([group, np.where(split, louvain, -1)])
        group = np.unique(pairs, axis=0, return_inverse=True)[1].ravel()
    return group


def _pack(centres: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Discs squeezed into about the area they need in total, then pushed apart (see :func:`_separate`)."""
    k = len(centres)
    if k <= 1:
        return np.zeros((k, 2))
    xy = centres - centres.mean(axis=0)
    extent = np.hypot(xy[:, 0], xy[:, 1]).max()
    xy = xy / (extent if extent > 0 else 1.0) * 0.6 * np.sqrt((radius ** 2).sum())
    return separate(xy, radius, gap=0.08)


def separate(xy: np.ndarray, radius: np.ndarray, gap: float, rounds: int = 300) -> np.ndarray:
    """Move discs apart until none overlaps, keeping their arrangement.

    Hand-written: neither igraph, NetworKit nor scipy removes overlaps between
    discs of given radii. Every overlapping pair is pushed apart along the
    line joining them, the smaller disc moving more, until no pair overlaps
    (or ``rounds`` is reached).
    """
    from scipy.spatial import cKDTree

    if len(xy) <= 1:
        return xy.copy()
    # Discs at the same spot would never separate: nudge them apart.
    xy = xy + np.random.default_rng(0).uniform(-1e-3, 1e-3, xy.shape) * radius.max()
    need = radius * (1 + gap)
    # Pairs are searched at two scales so that a few huge discs do not turn the
    # search among thousands of small ones quadratic.
    cut = np.quantile(need, 0.98)
    big = np.flatnonzero(need > cut)
    for _ in range(rounds):
        tree = cKDTree(xy)
        found = [tree.query_pairs(2 * cut, output_type="ndarray")]
        for i in big:
            near = np.asarray(tree.query_ball_point(xy[i], need[i] + need.max()), dtype=np.int64)
            near = near[near != i]
            found.append(np.column_stack([np.full(len(near), i), near]))
        pairs = np.unique(np.sort(np.concatenate(found), axis=1), axis=0)
        if not len(pairs):
            break
        i, j = pairs[:, 0], pairs[:, 1]
        delta = xy[j] - xy[i]
        dist = np.hypot(delta[:, 0], delta[:, 1])
        overlap = need[i] + need[j] - dist
        hit = overlap > 0
        if not hit.any():
            break
        i, j, delta, dist, overlap = i[hit], j[hit], delta[hit], dist[hit], overlap[hit]
        unit = delta / np.maximum(dist, 1e-12)[:, None]
        share = (radius[j] ** 2 / (radius[i] ** 2 + radius[j] ** 2))[:, None]
        move = np.zeros_like(xy)
        np.add.at(move, i, -unit * overlap[:, None] * share)
        np.add.at(move, j, unit * overlap[:, None] * (1 - share))
        xy += 0.5 * move
    return xy
