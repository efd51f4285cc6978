"""Influence measures on the attention graph: who is recognised by the recognised.

All functions take a :class:`~whuffie.graph.build.Graph` (edges ``i -> j`` when
``i`` pays attention to ``j``) and return one value per node, in node order.
They are pure numpy / scipy kernels, except :func:`coreness`, which asks
NetworKit for the k-core decomposition.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import scipy.sparse as sp

from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph


def pagerank(
    graph: Graph,
    damping: float = 0.85,
    personalization: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> np.ndarray:
    """Weighted PageRank: the stationary share of attention each actor receives.

    A random reader follows attention (``i -> j`` with probability
    proportional to the edge weight) and, with probability ``1 - damping``,
    or at an actor who pays attention to no one, jumps to an actor drawn from
    ``personalization`` (uniform by default). Power iteration on the CSR
    matrix; the 1-norm change between iterations must fall below ``tol``.

    Parameters
    ----------
    graph : Graph
    damping : float
        The probability of following attention, in (0, 1).
    personalization : numpy.ndarray, optional
        Non-negative jump weights per node (a niche, a seed list); normalised.
    tol : float
    max_iter : int

    Returns
    -------
    numpy.ndarray
        Scores summing to 1.

    Raises
    ------
    WhuffieError
        For a damping outside (0, 1), a bad personalization, or no convergence.

    Examples
    --------
    A reads B and C, B reads C, C reads A (the classic three-page example):

    >>> g = Graph.from_edges([("a", "b", 1), ("a", "c", 1), ("b", "c", 1), ("c", "a", 1)])
    >>> np.round(pagerank(g), 4).tolist()
    [0.3878, 0.2148, 0.3974]
    """
    if not 0 < damping < 1:
        raise WhuffieError(f"damping must be between 0 and 1 (exclusive), got {damping}")
    n = graph.n
    if n == 0:
        return np.zeros(0)
    if personalization is None:
        v = np.full(n, 1.0 / n)
    else:
        v = np.asarray(personalization, dtype=np.float64)
        if v.shape != (n,) or np.any(v < 0) or not np.isfinite(v).all() or v.sum() <= 0:
            raise WhuffieError("personalization must give a non-negative weight to every node, "
                               "with a positive total")
        v = v / v.sum()
    out = graph.out_strength()
    dangling = out == 0
    inv = np.divide(1.0, out, out=np.zeros(n), where=~dangling)
    # P^T as CSR: rows are targets, so x_new = P^T x is one sparse mat-vec.
    pt = sp.csr_matrix((graph.weight * inv[graph.src], (graph.dst, graph.src)), shape=(n, n))
    x = v.copy()
    for _ in range(max_iter):
        leak = damping * x[dangling].sum() + (1.0 - damping)
        new = damping * (pt @ x) + leak * v
        new /= new.sum()
        if np.abs(new - x).sum() < tol * n:
            return new
        x = new
    raise WhuffieError(f"PageRank did not converge in {max_iter} iterations (tolerance {tol})")


def hits(graph: Graph, tol: float = 1e-10, max_iter: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Hubs and authorities (Kleinberg): good hubs point to good authorities.

    In a hyperlink network (blogs), authorities are the sites the best link
    lists point to. Weighted; each vector is normalised to sum to 1.

    Returns
    -------
    (hubs, authorities) : tuple of numpy.ndarray

    Examples
    --------
    >>> g = Graph.from_edges([("h1", "a", 1), ("h2", "a", 1), ("h2", "b", 1)])
    >>> hub, auth = hits(g)
    >>> [g.nodes[i] for i in np.argsort(-auth)][:1], [g.nodes[i] for i in np.argsort(-hub)][:1]
    (['a'], ['h2'])
    """
    n = graph.n
    if n == 0 or graph.m == 0:
        return np.zeros(n), np.zeros(n)
    a = graph.csr()
    at = a.T.tocsr()
    h = np.full(n, 1.0 / n)
    auth = at @ h
    for _ in range(max_iter):
        auth = at @ h
        s = auth.sum()
        auth = auth / s if s > 0 else auth
        new_h = a @ auth
        s = new_h.sum()
        new_h = new_h / s if s > 0 else new_h
        if np.abs(new_h - h).sum() < tol:
            h = new_h
            break
        h = new_h
    else:
        raise WhuffieError(f"HITS did not converge in {max_iter} iterations")
    auth = at @ h
    return h, auth / auth.sum()


def coreness(graph: Graph) -> np.ndarray:
    """k-core index of every actor on the undirected, unweighted graph (Kitsak et al. 2010).

    Actors deep in the core spread further than their degree alone suggests.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("b", "c", 1), ("c", "a", 1), ("c", "d", 1)])
    >>> coreness(g).tolist()
    [2, 2, 2, 1]
    """
    if graph.n == 0:
        return np.zeros(0, dtype=np.int64)
    import networkit as nk

    # One undirected edge per pair, no self-loop, deduplicated here (faster than asking
    # NetworKit to remove multi-edges afterwards).
    lo = np.minimum(graph.src, graph.dst).astype(np.int64)
    hi = np.maximum(graph.src, graph.dst).astype(np.int64)
    keep = lo != hi
    pairs = np.unique(lo[keep] * graph.n + hi[keep])
    g = nk.GraphFromCoo((np.ones(len(pairs)), (pairs // graph.n, pairs % graph.n)),
                        n=graph.n, weighted=False, directed=False)
    cores = nk.centrality.CoreDecomposition(g)
    cores.run()
    return np.asarray(cores.scores(), dtype=np.int64)


#: Graphs with at most this many two-hop paths get an exact audience; larger ones a sketch.
EXACT_AUDIENCE_LIMIT = 20_000_000
#: HyperLogLog precision: 2**7 = 128 registers, a standard error of 1.04 / sqrt(128) = 9.2%.
HLL_PRECISION = 7


def audience(graph: Graph, exact: bool | None = None) -> tuple[np.ndarray, bool]:
    """"Who they impress": distinct actors within two attention hops of each actor.

    The audience of A is everyone who pays attention to A, plus everyone who
    pays attention to those (the actor itself left out). Exact by sparse
    matrix products while the two-hop path count stays under
    :data:`EXACT_AUDIENCE_LIMIT`; beyond it a HyperLogLog sketch per actor
    (128 registers, standard error 9.2%, merged along the edges as in
    HyperANF).

    Returns
    -------
    (sizes, exact) : tuple
        The audience size of every node, and whether it is exact.

    Examples
    --------
    b and c read a; d reads b:

    >>> g = Graph.from_edges([("b", "a", 1), ("c", "a", 1), ("d", "b", 1)])
    >>> sizes, exact = audience(g)
    >>> dict(zip(g.nodes, sizes.tolist())), exact
    ({'a': 3, 'b': 1, 'c': 0, 'd': 0}, True)
    """
    n = graph.n
    if n == 0:
        return np.zeros(0, dtype=np.int64), True
    # B[j, i] = 1 when i pays attention to j: rows list each actor's attention-givers.
    b = sp.csr_matrix((np.ones(graph.m, dtype=np.int32), (graph.dst, graph.src)), shape=(n, n))
    indeg = np.diff(b.indptr)
    paths = int(indeg[graph.src].astype(np.int64).sum())
    if exact is None:
        exact = paths <= EXACT_AUDIENCE_LIMIT
    if exact:
        reach = b + b @ b
        reach.setdiag(0)
        reach.eliminate_zeros()
        return np.diff(reach.indptr).astype(np.int64), True
    return _hll_audience(graph), False


def _register_init(graph: Graph, p: int) -> np.ndarray:
    m = 1 << p
    regs = np.zeros((graph.n, m), dtype=np.uint8)
    for i, actor in enumerate(graph.nodes.tolist()):
        h = int.from_bytes(hashlib.blake2b(actor.encode(), digest_size=8).digest(), "big")
        bucket = h & (m - 1)
        rest = h >> p
        rank = (64 - p) - rest.bit_length() + 1 if rest else 64 - p + 1
        regs[i, bucket] = rank
    return regs


#: Edges gathered at once when merging sketches (their registers: this many x 128 bytes).
_MERGE_EDGES = 1 << 20


def _merge_from(regs: np.ndarray, sources: np.ndarray, targets: np.ndarray,
                starts: np.ndarray) -> np.ndarray:
    """Each target's registers maxed with those of its attention-givers.

    ``sources`` are edge sources sorted by target; ``targets`` the distinct
    targets and ``starts`` where each one's edges begin.
    """
    out = regs.copy()
    bounds = np.append(starts, len(sources))
    i = 0
    while i < len(targets):
        j = int(np.searchsorted(bounds, bounds[i] + _MERGE_EDGES, side="right")) - 1
        j = min(max(j, i + 1), len(targets))
        a, b = bounds[i], bounds[j]
        block = np.maximum.reduceat(regs[sources[a:b]], bounds[i:j] - a, axis=0)
        out[targets[i:j]] = np.maximum(out[targets[i:j]], block)
        i = j
    return out


def _hll_audience(graph: Graph, p: int = HLL_PRECISION) -> np.ndarray:
    m = 1 << p
    regs0 = _register_init(graph, p)
    order = np.argsort(graph.dst, kind="stable")
    targets, starts = np.unique(graph.dst[order], return_index=True)
    sources = graph.src[order]
    regs1 = _merge_from(regs0, sources, targets, starts)
    regs2 = _merge_from(regs1, sources, targets, starts)
    alpha = 0.7213 / (1 + 1.079 / m)
    est = alpha * m * m / np.sum(np.exp2(-regs2.astype(np.float64)), axis=1)
    zeros = np.count_nonzero(regs2 == 0, axis=1)
    small = (est <= 2.5 * m) & (zeros > 0)
    est[small] = m * np.log(m / zeros[small])
    # The sketch counts the actor itself; the audience leaves it out.
    return np.maximum(np.rint(est) - 1, 0).astype(np.int64)


def hll_standard_error(p: int = HLL_PRECISION) -> float:
    """Relative standard error of the audience sketch (1.04 / sqrt(2**p)).

    Examples
    --------
    >>> round(hll_standard_error(), 3)
    0.092
    """
    return 1.04 / math.sqrt(1 << p)
