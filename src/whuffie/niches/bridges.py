"""Who bridges the niches, and which niches talk to each other.

Two views of a bridge, both on the undirected attention graph of
:func:`~whuffie.niches.leiden.undirected`:

* the **participation coefficient** ``P_i = 1 - sum_s (k_is / k_i)^2``
  (Guimerà & Amaral 2005), where ``k_is`` is the attention weight between
  actor ``i`` and niche ``s`` and ``k_i`` all of ``i``'s: 0 when all of an
  actor's attention stays in one niche, towards 1 when it is spread evenly over
  many;
* **betweenness**: the share of shortest paths between other actors that
  pass through an actor (paths counted in hops: attention weights are
  strengths, not distances), exact on small graphs and sampled on large ones.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from whuffie.graph.build import Graph
from whuffie.niches.leiden import undirected

#: Exact betweenness (Brandes: one BFS per actor) while actors x edges stays under this
#: (polblogs, 1,222 x 16,709 = 2e7, takes 0.6 s). Larger graphs get a sampled estimate.
EXACT_BETWEENNESS_LIMIT = 50_000_000
#: Sources sampled for the estimate; each costs one BFS of the graph (about 20 ms at 650k edges).
#: On polblogs, 64 sources rank actors like the exact betweenness (Spearman 0.98, at least 16
#: of the top 20 over seeds 0-4; 32 sources: 0.97 and 13).
BETWEENNESS_SAMPLES = 64


def niche_strengths(graph: Graph, membership: np.ndarray) -> sp.csr_matrix:
    """``K[i, s]``: attention weight between actor ``i`` and the members of niche ``s`` (both ways).

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 2), ("c", "a", 1)])
    >>> niche_strengths(g, np.array([0, 0, 1])).toarray().tolist()
    [[2.0, 1.0], [2.0, 0.0], [1.0, 0.0]]
    """
    membership = np.asarray(membership, dtype=np.int64)
    k = int(membership.max()) + 1 if membership.size else 0
    u, v, w = undirected(graph)
    rows = np.r_[u, v]
    cols = membership[np.r_[v, u]]
    return sp.csr_matrix((np.r_[w, w], (rows, cols)), shape=(graph.n, k))


def participation(graph: Graph, membership: np.ndarray) -> np.ndarray:
    """Participation coefficient of every actor (Guimerà & Amaral 2005).

    ``P_i = 1 - sum_s (k_is / k_i)^2`` on the undirected weighted graph; 0 for
    actors without edges.

    Examples
    --------
    ``c`` splits its attention evenly between its own niche and the other one:

    >>> g = Graph.from_edges([("a", "b", 1), ("b", "c", 1), ("c", "d", 1)])
    >>> participation(g, np.array([0, 0, 0, 1])).tolist()
    [0.0, 0.0, 0.5, 0.0]
    """
    k_is = niche_strengths(graph, membership)
    k_i = np.asarray(k_is.sum(axis=1)).ravel()
    squares = np.asarray(k_is.multiply(k_is).sum(axis=1)).ravel()
    share = np.divide(squares, k_i**2, out=np.ones(graph.n), where=k_i > 0)
    return 1.0 - share


def betweenness(
    graph: Graph, samples: int | None = None, seed: int = 0, exact: bool | None = None,
) -> tuple[np.ndarray, bool]:
    """Normalised betweenness of every actor on the directed, unweighted attention graph.

    The share of shortest attention paths between ordered pairs of other actors that pass
    through each one, divided by ``(n - 1)(n - 2)`` as in networkx. Paths follow the direction
    of attention: a page that several niches link to, or an actor who is only talked about, is
    the end of paths, never a step on one (betweenness 0), so it does not count as a bridge. On
    a graph whose attention goes both ways (an edge list read as undirected) this equals the
    undirected betweenness. Exact
    (Brandes' algorithm, NetworKit ``Betweenness``) while ``n * m`` stays
    under :data:`EXACT_BETWEENNESS_LIMIT`; beyond it NetworKit's
    ``EstimateBetweenness`` (Geisberger, Sanders & Schultes 2008: shortest
    paths from ``samples`` random sources, scaled up), on one thread so that a
    seed gives the same numbers.

    Parameters
    ----------
    graph : Graph
    samples : int, optional
        Sources sampled for the estimate (default :data:`BETWEENNESS_SAMPLES`).
    seed : int
        Random seed of the sampling.
    exact : bool, optional
        Force the exact computation (``True``) or the estimate (``False``).

    Returns
    -------
    (scores, exact) : tuple
        Betweenness of every node, and whether it is exact.

    Examples
    --------
    a pays attention to b, b to c: the path from a to c goes through b (one of the 6 ordered pairs
    of two other actors, 1/2 after normalisation); when both a and c only point at b, nothing goes
    through b.

    >>> scores, is_exact = betweenness(Graph.from_edges([("a", "b", 1), ("b", "c", 1)]))
    >>> scores.tolist(), is_exact
    ([0.0, 0.5, 0.0], True)
    >>> betweenness(Graph.from_edges([("a", "b", 1), ("c", "b", 1)]))[0].tolist()
    [0.0, 0.0, 0.0]
    """
    import networkit as nk

    keep = graph.src != graph.dst
    u, v = graph.src[keep].astype(np.int64), graph.dst[keep].astype(np.int64)
    n = graph.n
    if n < 3 or len(u) == 0:
        return np.zeros(n), True
    if exact is None:
        exact = n * len(u) <= EXACT_BETWEENNESS_LIMIT
    g = nk.GraphFromCoo((np.ones(len(u)), (u, v)), n=n, weighted=False, directed=True)
    # The current setting (getCurrentNumberOfThreads is 1 outside a parallel region).
    before = nk.getMaxNumberOfThreads()
    nk.setNumberOfThreads(1)
    try:
        if exact:
            algo = nk.centrality.Betweenness(g, normalized=True)
        else:
            nk.engineering.setSeed(int(seed), False)
            algo = nk.centrality.EstimateBetweenness(
                g, int(samples or BETWEENNESS_SAMPLES), normalized=True, parallel=False)
        algo.run()
        return np.asarray(algo.scores(), dtype=np.float64), bool(exact)
    finally:
        nk.setNumberOfThreads(before)


def bridges(
    graph: Graph,
    membership: np.ndarray,
    between: np.ndarray | None = None,
    top: int = 3,
) -> pa.Table:
    """One row per actor: its niche, participation, betweenness and the niches it bridges to.

    Parameters
    ----------
    graph : Graph
    membership : numpy.ndarray
        Niche of every node.
    between : numpy.ndarray, optional
        Betweenness of every node (see :func:`betweenness`); null when not given.
    top : int
        How many other niches to list in ``bridges_to``.

    Returns
    -------
    pyarrow.Table
        ``actor_id``, ``niche``, ``strength`` (undirected attention weight),
        ``participation``, ``betweenness``, ``bridges_to`` (the other niches it
        shares the most attention with, heaviest first) and
        ``outside_weight`` (its attention weight with other niches), in node
        order.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("b", "c", 1), ("c", "d", 1), ("c", "e", 2)])
    >>> t = bridges(g, np.array([0, 0, 0, 1, 2]))
    >>> t.select(["actor_id", "participation", "bridges_to"]).to_pylist()[2]
    {'actor_id': 'c', 'participation': 0.625, 'bridges_to': [2, 1]}
    """
    membership = np.asarray(membership, dtype=np.int64)
    k_is = niche_strengths(graph, membership).tocoo()
    row, col, w = k_is.row, k_is.col, k_is.data
    strength = np.bincount(row, weights=w, minlength=graph.n)
    outside = col != membership[row]
    outside_weight = np.bincount(row[outside], weights=w[outside], minlength=graph.n)
    row, col, w = row[outside], col[outside], w[outside]
    order = np.lexsort((col, -w, row))
    row, col = row[order], col[order]
    if len(row):
        starts = np.r_[0, np.flatnonzero(np.diff(row)) + 1]
        position = np.arange(len(row)) - np.repeat(starts, np.diff(np.r_[starts, len(row)]))
        row, col = row[position < top], col[position < top]
    offsets = np.r_[0, np.cumsum(np.bincount(row, minlength=graph.n))].astype(np.int32)
    bridges_to = pa.ListArray.from_arrays(pa.array(offsets), pa.array(col.astype(np.int64)))
    return pa.table({
        "actor_id": pa.array(graph.nodes.tolist(), pa.string()),
        "niche": pa.array(membership),
        "strength": strength,
        "participation": participation(graph, membership),
        "betweenness": (pa.nulls(graph.n, pa.float64()) if between is None
                        else pa.array(np.asarray(between, dtype=np.float64))),
        "bridges_to": bridges_to,
        "outside_weight": outside_weight,
    })


def niche_links(graph: Graph, membership: np.ndarray, top: int | None = None) -> pa.Table:
    """Pairs of niches by the attention that flows between them.

    Parameters
    ----------
    graph : Graph
    membership : numpy.ndarray
        Niche of every node.
    top : int, optional
        Keep only the heaviest pairs.

    Returns
    -------
    pyarrow.Table
        ``niche_a < niche_b``, ``weight`` (both directions), ``a_to_b`` (attention
        members of ``a`` pay to members of ``b``), ``b_to_a``, ``share`` (of all
        attention crossing a niche border), ``edges`` (directed attention edges behind it);
        heaviest first.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("b", "c", 2), ("c", "a", 1), ("c", "d", 1)])
    >>> niche_links(g, np.array([0, 0, 1, 2])).to_pylist()[0]
    {'niche_a': 0, 'niche_b': 1, 'weight': 3.0, 'a_to_b': 2.0, 'b_to_a': 1.0, 'share': 0.75, 'edges': 2}
    """
    membership = np.asarray(membership, dtype=np.int64)
    k = int(membership.max()) + 1 if membership.size else 0
    cs, cd = membership[graph.src], membership[graph.dst]
    cross = cs != cd
    flow = sp.coo_matrix((graph.weight[cross], (cs[cross], cd[cross])), shape=(k, k)).tocsr()
    pairs = sp.coo_matrix((np.ones(int(cross.sum())),
                           (np.minimum(cs, cd)[cross], np.maximum(cs, cd)[cross])), shape=(k, k)).tocsr()
    sym = sp.triu(flow + flow.T, k=1).tocoo()
    a, b, w = sym.row.astype(np.int64), sym.col.astype(np.int64), sym.data
    order = np.lexsort((b, a, -w))
    if top is not None:
        order = order[:top]
    a, b, w = a[order], b[order], w[order]
    total = graph.weight[cross].sum()
    return pa.table({
        "niche_a": a, "niche_b": b, "weight": w,
        "a_to_b": np.asarray(flow[a, b]).ravel() if len(a) else np.zeros(0),
        "b_to_a": np.asarray(flow[b, a]).ravel() if len(a) else np.zeros(0),
        "share": w / total if total > 0 else np.zeros(len(w)),
        "edges": np.asarray(pairs[a, b]).ravel().astype(np.int64) if len(a) else np.zeros(0, np.int64),
    })
