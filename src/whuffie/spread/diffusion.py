"""Independent cascade and linear threshold spread by Monte Carlo, and per-kind IC fitting.

The *diffusion* graph points the way word of mouth travels: from a teller ``u``
to a listener ``v``. It is the reverse of the attention graph of
:mod:`whuffie.graph.build` (``v -> u`` there means ``v`` paid attention to
``u``, so ``u``'s word reaches ``v``). It is held in CSR form (the listeners of
each teller are contiguous) with one transmission probability per edge.

Simulation
----------
Independent cascade (IC): every newly reached teller gets one chance to tell
each listener not reached yet, succeeding with the edge's probability. Linear
threshold (LT): every listener draws a threshold uniformly in (0, 1] and is
reached once the summed weights of its reached tellers reach it; the weights
are the probabilities divided by ``max(1, sum of the listener's incoming
probabilities)``, so they satisfy the model's constraint (incoming weights sum to
at most 1) and are left as they are when they already do (the weighted cascade
probabilities sum to exactly 1).

The kernels are compiled with numba and run breadth-first, one hop at a time,
with a per-worker "visited" stamp array instead of a fresh n-sized array per run
(memory O(n + m) per worker plus O(runs) results). Runs are grouped in chunks of
:data:`CHUNK` runs; chunk ``c`` draws from its own xoshiro256** stream whose
state is words ``4c .. 4c + 3`` of ``numpy.random.SeedSequence(seed)``. A run's
outcome therefore depends only on ``seed`` and its index, never on which thread
ran it; per-node reach counts are integers summed over workers, so the whole
result is identical for any number of threads. xoshiro256** (Blackman & Vigna)
is written out here because numba's own ``np.random`` keeps one state per
thread, which would tie the result to the thread schedule.

Fitting
-------
:func:`fit_ic` estimates one transmission probability per interaction kind from
observed cascades by maximum likelihood when every adopter's parent is known.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit, prange

from whuffie import arrowsql
from whuffie.errors import WhuffieError

if TYPE_CHECKING:
    from whuffie.graph.build import Graph, GraphSpec

#: Runs per random stream (fixed, so results do not depend on the thread count).
CHUNK = 64

_U5, _U7, _U9, _U11, _U17, _U45 = (np.uint64(k) for k in (5, 7, 9, 11, 17, 45))
_U57, _U19 = np.uint64(57), np.uint64(19)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(inline="always")
def _next(s0, s1, s2, s3):
    """One xoshiro256** step: a uniform float in [0, 1) and the new state."""
    x = s1 * _U5
    r = ((x << _U7) | (x >> _U57)) * _U9
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    return (r >> _U11) * _INV53, s0, s1, s2, s3


@njit(cache=True, nogil=True, parallel=True)
def _ic_kernel(indptr, indices, prob, seeds, runs, states, max_hops, workers, sizes, hops, counts):
    n = indptr.shape[0] - 1
    chunks = states.shape[0]
    for w in prange(workers):
        stamp = np.zeros(n, np.int32)
        queue = np.empty(n, np.int32)
        mark = np.int32(0)
        for c in range(w, chunks, workers):
            s0, s1, s2, s3 = states[c, 0], states[c, 1], states[c, 2], states[c, 3]
            for r in range(c * CHUNK, min(runs, (c + 1) * CHUNK)):
                mark += 1
                tail = 0
                for s in seeds:
                    if stamp[s] != mark:
                        stamp[s] = mark
                        queue[tail] = s
                        tail += 1
                head, level_end, depth, deepest = 0, tail, 0, 0
                while head < tail:
                    if head == level_end:
                        depth += 1
                        level_end = tail
                    if max_hops >= 0 and depth >= max_hops:
                        break
                    u = queue[head]
                    head += 1
                    for e in range(indptr[u], indptr[u + 1]):
                        # The coin comes first: most fail, and then the listener's stamp (a
                        # cache miss on large graphs) is never read. A sure edge needs no coin.
                        pe = prob[e]
                        if pe < 1.0:
                            x, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                            if x >= pe:
                                continue
                        v = indices[e]
                        if stamp[v] != mark:
                            stamp[v] = mark
                            queue[tail] = v
                            tail += 1
                            deepest = depth + 1
                sizes[r] = tail
                hops[r] = deepest
                for i in range(tail):
                    counts[w, queue[i]] += 1


@njit(cache=True, nogil=True, parallel=True)
def _lt_kernel(indptr, indices, weight, seeds, runs, states, max_hops, workers, sizes, hops, counts):
    n = indptr.shape[0] - 1
    chunks = states.shape[0]
    for w in prange(workers):
        stamp = np.zeros(n, np.int32)  # reached in this run
        touched = np.zeros(n, np.int32)  # threshold drawn in this run
        theta = np.empty(n, np.float64)
        acc = np.empty(n, np.float64)
        queue = np.empty(n, np.int32)
        mark = np.int32(0)
        for c in range(w, chunks, workers):
            s0, s1, s2, s3 = states[c, 0], states[c, 1], states[c, 2], states[c, 3]
            for r in range(c * CHUNK, min(runs, (c + 1) * CHUNK)):
                mark += 1
                tail = 0
                for s in seeds:
                    if stamp[s] != mark:
                        stamp[s] = mark
                        queue[tail] = s
                        tail += 1
                head, level_end, depth, deepest = 0, tail, 0, 0
                while head < tail:
                    if head == level_end:
                        depth += 1
                        level_end = tail
                    if max_hops >= 0 and depth >= max_hops:
                        break
                    u = queue[head]
                    head += 1
                    for e in range(indptr[u], indptr[u + 1]):
                        v = indices[e]
                        if stamp[v] == mark:
                            continue
                        # Thresholds are drawn when a listener is first told, so a run
                        # touches only the nodes it reaches and their listeners.
                        if touched[v] != mark:
                            touched[v] = mark
                            x, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                            theta[v] = 1.0 - x
                            acc[v] = 0.0
                        acc[v] += weight[e]
                        if acc[v] >= theta[v]:
                            stamp[v] = mark
                            queue[tail] = v
                            tail += 1
                            deepest = depth + 1
                sizes[r] = tail
                hops[r] = deepest
                for i in range(tail):
                    counts[w, queue[i]] += 1


@dataclass(frozen=True)
class DiffusionGraph:
    """A diffusion graph in CSR form: edges point from teller to listener.

    Attributes
    ----------
    nodes : numpy.ndarray
        Actor id (or any label) of every node, index = node number.
    indptr : numpy.ndarray
        int64, length ``n + 1``: the listeners of teller ``u`` are
        ``indices[indptr[u]:indptr[u + 1]]``.
    indices : numpy.ndarray
        int32 listener of every edge.
    prob : numpy.ndarray
        float64 IC transmission probability of every edge, in [0, 1].

    Examples
    --------
    >>> g = DiffusionGraph.from_arrays(3, [0, 0, 1], [1, 2, 2], 0.5)
    >>> g.n, g.m, g.indptr.tolist(), g.indices.tolist()
    (3, 3, [0, 2, 3, 3], [1, 2, 2])
    """

    nodes: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    prob: np.ndarray

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.indptr) - 1

    @property
    def m(self) -> int:
        """Number of edges."""
        return len(self.indices)

    def node_index(self, actors: Sequence[Any]) -> np.ndarray:
        """Node numbers of actor ids (int64).

        Raises
        ------
        WhuffieError
            When an actor is not in the graph.

        Examples
        --------
        >>> g = DiffusionGraph.from_arrays(2, [0], [1], 1.0, nodes=["x:a", "x:b"])
        >>> g.node_index(["x:b"]).tolist()
        [1]
        """
        index = {a: i for i, a in enumerate(self.nodes.tolist())}
        missing = [a for a in actors if a not in index]
        if missing:
            raise WhuffieError(
                f"actor(s) {', '.join(map(repr, missing[:5]))} not in the diffusion graph "
                "(no interaction with the chosen filters); ids look like 'twitter:12345'"
            )
        return np.array([index[a] for a in actors], dtype=np.int64)

    def lt_weights(self) -> np.ndarray:
        """Linear threshold weights: ``prob / max(1, incoming prob of the listener)``."""
        total = np.bincount(self.indices, weights=self.prob, minlength=self.n)
        return self.prob / np.maximum(1.0, total)[self.indices]

    @classmethod
    def from_arrays(cls, n: int, src, dst, prob, nodes=None) -> DiffusionGraph:
        """A diffusion graph from edge arrays ``src`` (teller) -> ``dst`` (listener).

        Parameters
        ----------
        n : int
            Number of nodes (numbered ``0 .. n - 1``).
        src, dst : array-like of int
            Teller and listener of every edge. A repeated pair stays as
            separate edges: in IC two independent chances, in LT added weights.
        prob : float, array-like or "weighted-cascade"
            One probability for all edges, one per edge, or ``1 / in-degree``
            of the listener (the weighted cascade model).
        nodes : array-like, optional
            Labels of the nodes; ``0 .. n - 1`` by default.

        Raises
        ------
        WhuffieError
            On out-of-range nodes or probabilities outside [0, 1].

        Examples
        --------
        >>> g = DiffusionGraph.from_arrays(3, [1, 0, 0], [2, 2, 1], "weighted-cascade")
        >>> g.prob.tolist()
        [1.0, 0.5, 0.5]
        """
        src = np.asarray(src, dtype=np.int64).ravel()
        dst = np.asarray(dst, dtype=np.int64).ravel()
        if len(src) != len(dst):
            raise WhuffieError(f"src and dst differ in length ({len(src)} vs {len(dst)})")
        if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise WhuffieError(f"edge endpoints must be node numbers in 0 .. {n - 1}")
        if isinstance(prob, str):
            if prob != "weighted-cascade":
                raise WhuffieError(f"unknown probability model {prob!r}; use a number, an array or "
                                   "'weighted-cascade'")
            p = 1.0 / np.bincount(dst, minlength=n)[dst]
        else:
            p = np.broadcast_to(np.asarray(prob, dtype=np.float64), src.shape).copy()
        if not np.all((p >= 0) & (p <= 1)):  # also catches NaN
            raise WhuffieError("transmission probabilities must be in [0, 1]")
        order = np.lexsort((dst, src))
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        labels = np.arange(n, dtype=object) if nodes is None else np.asarray(nodes, dtype=object)
        if len(labels) != n:
            raise WhuffieError(f"{len(labels)} node labels for {n} nodes")
        return cls(labels, indptr, dst[order].astype(np.int32), p[order])

    @classmethod
    def from_graph(cls, graph: Graph, prob: float | np.ndarray | str = "weighted-cascade") -> DiffusionGraph:
        """The diffusion graph of an attention graph: every edge reversed.

        Parameters
        ----------
        graph : Graph
            From :func:`whuffie.graph.build.build_graph`; ``a -> b`` (a paid
            attention to b) becomes ``b -> a`` (b's word reaches a).
        prob : float, array or "weighted-cascade"
            One probability per edge (all alike, or an array aligned with
            ``graph``'s edges), or the weighted cascade model: ``1 / number of
            actors the listener pays attention to``. For a probability per
            interaction kind use :meth:`from_edge_kinds`, which sees the kinds.

        Examples
        --------
        >>> from whuffie.graph.build import Graph
        >>> att = Graph.from_edges([("a", "c", 1.0), ("b", "c", 3.0), ("a", "b", 1.0)])
        >>> g = DiffusionGraph.from_graph(att)
        >>> [(g.nodes[u], g.nodes[v], p) for u in range(g.n) for v, p in
        ...  zip(g.indices[g.indptr[u]:g.indptr[u + 1]], g.prob[g.indptr[u]:g.indptr[u + 1]].tolist())]
        [('b', 'a', 0.5), ('c', 'a', 0.5), ('c', 'b', 1.0)]
        """
        if isinstance(prob, Mapping):
            raise WhuffieError("a probability per interaction kind needs the kinds behind every edge: use "
                               "DiffusionGraph.from_edge_kinds(engine.edge_kinds(spec), spec, prob_by_kind)")
        return cls.from_arrays(graph.n, graph.dst, graph.src, prob, nodes=graph.nodes)

    @classmethod
    def from_edge_kinds(cls, edge_kinds: pa.Table, spec: GraphSpec | None = None,
                        prob_by_kind: Mapping[str, float] | None = None,
                        default: float | None = None) -> DiffusionGraph:
        """The diffusion graph of the interactions with a transmission probability per kind.

        Each interaction is an independent chance to pass word on: a pair with
        ``c_k`` interactions of kind ``k`` (repetitions of an edge-list tie
        counted by its weight) transmits with ``1 - prod_k (1 - p_k) ** c_k``.
        The edges and node numbering are those of
        :func:`~whuffie.graph.build.build_graph` with the same ``spec``
        (reversed); edges with probability 0 are left out.

        Parameters
        ----------
        edge_kinds : pyarrow.Table
            ``source``, ``target``, ``kind`` and ``weight`` (the summed weight of the pair's
            interactions of that kind), as ``engine.edge_kinds(spec)`` gives them.
        spec : GraphSpec, optional
            The kind weights and ``min_weight`` that decide which pairs are edges.
        prob_by_kind : mapping
            Probability per interaction kind (e.g. ``fit_ic(...).prob``).
        default : float, optional
            Probability of kinds missing from ``prob_by_kind``; without it a
            missing kind is an error.

        Examples
        --------
        >>> t = pa.table({"source": ["x:a", "x:a"], "target": ["x:b", "x:b"], "kind": ["mention", "reply"],
        ...               "weight": [2.0, 1.0]})
        >>> g = DiffusionGraph.from_edge_kinds(t, prob_by_kind={"mention": 0.5, "reply": 0.2})
        >>> list(g.nodes), g.indptr.tolist(), round(float(g.prob[0]), 3)  # 1 - 0.5**2 * 0.8
        (['x:a', 'x:b'], [0, 0, 1], 0.8)
        """
        import pyarrow.compute as pc

        from whuffie.graph.build import GraphSpec

        spec = spec if spec is not None else GraphSpec()
        if prob_by_kind is None:
            raise WhuffieError("from_edge_kinds needs prob_by_kind, e.g. {'reply': 0.05, 'mention': 0.02}")
        def ends(table: pa.Table) -> tuple[pa.Array, np.ndarray, np.ndarray]:
            source, target = table.column("source"), table.column("target")
            names = pc.unique(pa.chunked_array(source.chunks + target.chunks, type=pa.string())).sort()
            return (names,
                    pc.index_in(source, value_set=names).to_numpy(zero_copy_only=False).astype(np.int64),
                    pc.index_in(target, value_set=names).to_numpy(zero_copy_only=False).astype(np.int64))

        # The pairs build_graph keeps: total weight (kind weights applied) above 0 and min_weight.
        names, listener, teller = ends(edge_kinds)
        _, inverse = np.unique(teller * len(names) + listener, return_inverse=True)
        weighted = edge_kinds.column("weight").to_numpy().astype(np.float64) * np.array(
            [spec.weight_of(k) for k in edge_kinds.column("kind").to_pylist()], dtype=np.float64)
        total = np.bincount(inverse, weights=weighted)
        kept = edge_kinds.filter(pa.array(((total > 0) & (total >= spec.min_weight))[inverse]))
        nodes, listener, teller = ends(kept)
        n = len(nodes)
        kinds = kept.column("kind").to_pylist()
        c = kept.column("weight").to_numpy().astype(np.float64)
        missing = sorted(set(kinds) - set(prob_by_kind))
        if missing and default is None:
            raise WhuffieError(f"no transmission probability for interaction kind(s) {', '.join(missing)}; "
                               "add them to prob_by_kind or pass default=")
        table = {**{k: float(default) for k in missing}, **{k: float(v) for k, v in prob_by_kind.items()}}
        bad = {k: v for k, v in table.items() if not 0 <= v <= 1}
        if bad:
            raise WhuffieError(f"transmission probabilities must be in [0, 1], got {bad}")
        with np.errstate(divide="ignore"):
            log_q = np.log1p(-np.array([table[k] for k in kinds], dtype=np.float64))
        log_q = log_q * c
        pairs, inverse = np.unique(teller * n + listener, return_inverse=True)
        p = -np.expm1(np.bincount(inverse, weights=log_q, minlength=len(pairs)))
        keep = p > 0
        return cls.from_arrays(n, pairs[keep] // n, pairs[keep] % n, p[keep],
                               nodes=np.array(nodes.to_pylist(), dtype=object))


@dataclass(frozen=True)
class SpreadResult:
    """Monte-Carlo outcome of a spread from a set of seeds.

    Attributes
    ----------
    sizes : numpy.ndarray
        Nodes reached in every run, seeds included.
    hops : numpy.ndarray
        Largest number of hops from a seed reached in every run (0: only seeds).
    reached : numpy.ndarray
        Share of runs reaching every node (1 for seeds).
    seeds : numpy.ndarray
        The seed nodes.
    nodes : numpy.ndarray
        Node labels (actor ids).
    model : str
        ``"ic"`` or ``"lt"``.
    """

    sizes: np.ndarray
    hops: np.ndarray
    reached: np.ndarray
    seeds: np.ndarray
    nodes: np.ndarray = field(repr=False)
    model: str = "ic"

    @property
    def runs(self) -> int:
        """Number of simulations."""
        return len(self.sizes)

    @property
    def mean(self) -> float:
        """Expected number of nodes reached (seeds included)."""
        return float(self.sizes.mean())

    @property
    def std(self) -> float:
        """Standard deviation of the number reached across runs."""
        return float(self.sizes.std(ddof=1)) if self.runs > 1 else 0.0

    @property
    def sem(self) -> float:
        """Standard error of :attr:`mean`."""
        return self.std / float(np.sqrt(self.runs))

    def interval(self, lo: float = 5, hi: float = 95) -> tuple[float, float]:
        """The ``lo``-th and ``hi``-th percentiles of the number reached."""
        a, b = np.percentile(self.sizes, [lo, hi])
        return float(a), float(b)

    def top_reached(self, k: int = 10, seeds: bool = False) -> pa.Table:
        """The ``k`` nodes most often reached: ``actor_id``, ``node``, ``share`` of runs.

        Seeds (always reached) are left out unless ``seeds=True``; ties are
        broken by node number.

        Examples
        --------
        >>> g = DiffusionGraph.from_arrays(3, [0, 0], [1, 2], [1.0, 0.0], nodes=["a", "b", "c"])
        >>> simulate_ic(g, [0], runs=10).top_reached(2).to_pylist()
        [{'actor_id': 'b', 'node': 1, 'share': 1.0}, {'actor_id': 'c', 'node': 2, 'share': 0.0}]
        """
        share = self.reached.copy()
        if not seeds:
            share[self.seeds] = -1.0
        order = np.lexsort((np.arange(len(share)), -share))[:k]
        order = order[share[order] >= 0]
        return pa.table({"actor_id": pa.array([str(a) for a in self.nodes[order]], pa.string()),
                         "node": pa.array(order, pa.int64()),
                         "share": pa.array(share[order], pa.float64())})


def _run(kernel, g: DiffusionGraph, weight: np.ndarray, seeds, runs: int, seed: int,
         max_hops: int | None, threads: int | None, model: str) -> SpreadResult:
    seeds = np.unique(np.asarray(seeds, dtype=np.int64).ravel())
    if len(seeds) == 0:
        raise WhuffieError("no seeds given: name at least one node to spread from")
    if seeds[0] < 0 or seeds[-1] >= g.n:
        raise WhuffieError(f"seed nodes must be in 0 .. {g.n - 1}; map actor ids with g.node_index([...])")
    if runs < 1:
        raise WhuffieError(f"runs must be at least 1, got {runs}")
    if max_hops is not None and max_hops < 0:
        raise WhuffieError(f"max_hops must be >= 0, got {max_hops}")
    chunks = -(-runs // CHUNK)
    states = np.random.SeedSequence(seed).generate_state(4 * chunks, np.uint64).reshape(chunks, 4)
    workers = max(1, min(threads or numba.get_num_threads(), chunks))
    sizes = np.zeros(runs, np.int32)
    hops = np.zeros(runs, np.int32)
    counts = np.zeros((workers, g.n), np.int32)
    kernel(g.indptr, g.indices, weight, seeds, runs, states, -1 if max_hops is None else max_hops,
           workers, sizes, hops, counts)
    reached = counts.sum(axis=0, dtype=np.int64) / runs
    return SpreadResult(sizes, hops, reached, seeds, g.nodes, model)


def simulate_ic(g: DiffusionGraph, seeds: Sequence[int], runs: int = 10_000, seed: int = 0,
                max_hops: int | None = None, threads: int | None = None) -> SpreadResult:
    """Independent cascade spread from ``seeds``, by Monte Carlo.

    Parameters
    ----------
    g : DiffusionGraph
    seeds : sequence of int
        Seed nodes (node numbers; see :meth:`DiffusionGraph.node_index`),
        reached in every run and counted in the sizes.
    runs : int
        Number of simulations.
    seed : int
        Random seed: the same seed gives the same result, whatever ``threads``.
    max_hops : int, optional
        Stop after this many hops from the seeds.
    threads : int, optional
        Parallel workers (numba's thread count by default).

    Returns
    -------
    SpreadResult

    Examples
    --------
    >>> g = DiffusionGraph.from_arrays(3, [0, 1], [1, 2], 0.5)
    >>> r = simulate_ic(g, [0], runs=20_000, seed=1)
    >>> abs(r.mean - (1 + 0.5 + 0.25)) < 4 * r.sem, int(r.hops.max()), float(r.reached[0])
    (True, 2, 1.0)
    """
    return _run(_ic_kernel, g, g.prob, seeds, runs, seed, max_hops, threads, "ic")


def simulate_lt(g: DiffusionGraph, seeds: Sequence[int], runs: int = 10_000, seed: int = 0,
                max_hops: int | None = None, threads: int | None = None) -> SpreadResult:
    """Linear threshold spread from ``seeds``, by Monte Carlo.

    Edge weights are :meth:`DiffusionGraph.lt_weights`; the parameters are
    those of :func:`simulate_ic`.

    Examples
    --------
    >>> g = DiffusionGraph.from_arrays(3, [0, 1], [2, 2], 0.25)
    >>> r = simulate_lt(g, [0, 1], runs=20_000)
    >>> round(float(r.reached[2]), 2)  # threshold <= 0.25 + 0.25
    0.5
    """
    return _run(_lt_kernel, g, g.lt_weights(), seeds, runs, seed, max_hops, threads, "lt")


@dataclass(frozen=True)
class ICFit:
    """Per-kind IC transmission probabilities fitted by :func:`fit_ic`.

    Attributes
    ----------
    prob : dict
        Maximum-likelihood probability per interaction kind.
    se : dict
        Its standard error (observed information; NaN where undefined).
    trials, successes : dict
        Exposures (teller, listener) in which the kind was present, and those
        in which the teller is the listener's parent.
    cascades : int
        Cascades used.
    loglik : float
        Log-likelihood at the optimum.
    """

    prob: dict[str, float]
    se: dict[str, float]
    trials: dict[str, int]
    successes: dict[str, int]
    cascades: int
    loglik: float


#: The exposures of :func:`fit_ic`, counted per pattern of interactions (``kind=count,...``).
#:
#: Listing every exposure (each adopter joined with everyone who had paid attention to them)
#: grows with the square of the data: 19M rows at 100k messages, 2.26B at 1M, as a celebrity
#: adopts in cascade after cascade. Only counts are needed, so they are taken without the list:
#:
#: * each listener-teller pair's pattern over time is a few *states* (one per time the pair
#:   interacted; undated interactions count from the start, ``-infinity``), each valid after its
#:   time up to the next one;
#: * exposures per pattern = for each state, the teller's adoptions while it holds: the number of
#:   adoptions up to its end less the number up to its start (running counts read with ASOF joins);
#: * minus the exposures that are no trial (the listener adopted in the same cascade before the
#:   teller, not from them), and the successes: both are pairs of adopters of one cascade linked by
#:   an interaction, listed per cascade the cheaper way: every pair of its adopters (its size
#:   squared), or each adopter's interactions (the sum of their out-degrees). An account active
#:   in every cascade with thousands of interactions made the second way alone 770 million rows
#:   at a million messages.
#:
#: Time and memory grow with the interactions and the adoptions; the counts equal those of the
#: full listing (tests/spread/test_exposures.py).
_EXPOSURES = """
WITH nd AS (SELECT cascade, message_id, actor_id, parent_id, depth,
                   CAST(created_at AS TIMESTAMP) AS t FROM nodes),
     first AS (SELECT cascade, actor_id, arg_min(message_id, (t, depth, message_id)) AS mid
                 FROM nd GROUP BY cascade, actor_id),
     adopt AS (SELECT f.cascade, f.actor_id, n.t AS t_raw, coalesce(n.t, TIMESTAMP 'infinity') AS t,
                      n.depth, p.actor_id AS parent
                 FROM first f
                 JOIN nd n ON n.cascade = f.cascade AND n.message_id = f.mid
                 LEFT JOIN nd p ON p.cascade = n.cascade AND p.message_id = n.parent_id),
     pt AS (SELECT source, target, kind,
                   coalesce(CAST(created_at AS TIMESTAMP), TIMESTAMP '-infinity') AS ts, sum(weight) AS w
              FROM att GROUP BY ALL),
     cum AS (SELECT source, target, kind, ts,
                    sum(w) OVER (PARTITION BY source, target, kind ORDER BY ts) AS c FROM pt),
     ptimes AS (SELECT DISTINCT source, target, ts FROM pt),
     pkinds AS (SELECT DISTINCT source, target, kind FROM pt),
     states AS (SELECT t.source, t.target, t.ts,
                       string_agg(c.kind || '=' || CAST(c.c AS VARCHAR), ',' ORDER BY c.kind) AS pattern
                  FROM ptimes t JOIN pkinds k ON k.source = t.source AND k.target = t.target
                  ASOF JOIN cum c ON c.source = t.source AND c.target = t.target AND c.kind = k.kind
                                 AND t.ts >= c.ts
                 GROUP BY t.source, t.target, t.ts),
     ivals AS (SELECT target AS teller, pattern, ts,
                      lead(ts) OVER (PARTITION BY source, target ORDER BY ts) AS next_ts FROM states),
     acount AS (SELECT actor_id AS teller, t, sum(count(*)) OVER (PARTITION BY actor_id ORDER BY t) AS c
                  FROM adopt GROUP BY actor_id, t),
     exposed AS (SELECT i.pattern, sum(coalesce(h.c, 0) - coalesce(l.c, 0)) AS n
                   FROM ivals i
                   ASOF LEFT JOIN acount h
                     ON h.teller = i.teller AND coalesce(i.next_ts, TIMESTAMP 'infinity') >= h.t
                   ASOF LEFT JOIN acount l ON l.teller = i.teller AND i.ts >= l.t
                  GROUP BY i.pattern),
     linked AS (SELECT DISTINCT source, target FROM pt),
     fan AS (SELECT source AS actor_id, count(*) AS d FROM linked GROUP BY source),
     route AS (SELECT a.cascade, count(*) * count(*) AS square, coalesce(sum(f.d), 0) AS fanout
                 FROM adopt a LEFT JOIN fan f ON f.actor_id = a.actor_id GROUP BY a.cascade),
     listens AS MATERIALIZED (
                SELECT v.cascade, v.actor_id AS listener, v.t_raw AS vt, v.depth AS vdepth,
                       v.parent AS vparent, u.actor_id AS teller
                  FROM route r JOIN adopt v ON v.cascade = r.cascade AND r.square <= r.fanout
                  JOIN adopt u ON u.cascade = v.cascade
                  SEMI JOIN linked p ON p.source = v.actor_id AND p.target = u.actor_id
                UNION ALL
                SELECT v.cascade, v.actor_id, v.t_raw, v.depth, v.parent, p.target
                  FROM route r JOIN adopt v ON v.cascade = r.cascade AND r.square > r.fanout
                  JOIN linked p ON p.source = v.actor_id),
     pairs AS (SELECT l.*, u.t AS ut, u.t_raw AS ut_raw, u.depth AS udepth
                 FROM listens l JOIN adopt u ON u.cascade = l.cascade AND u.actor_id = l.teller),
     known AS (SELECT c.pattern,
                      coalesce(c.vparent = c.teller, false) AS success,
                      NOT coalesce(c.vparent = c.teller, false)
                        AND NOT coalesce(c.vt > c.ut_raw, c.vdepth > c.udepth, false) AS excluded
                 FROM (SELECT pairs.*, s.pattern FROM pairs
                       ASOF JOIN states s ON s.source = pairs.listener AND s.target = pairs.teller
                                          AND pairs.ut > s.ts) c),
     known_counts AS (SELECT pattern, count(*) FILTER (WHERE excluded) AS excluded,
                             count(*) FILTER (WHERE success) AS successes
                        FROM known GROUP BY pattern)
SELECT e.pattern, CAST(e.n - coalesce(k.excluded, 0) AS BIGINT) AS trials,
       CAST(coalesce(k.successes, 0) AS BIGINT) AS successes,
       (SELECT count(DISTINCT cascade) FROM nd) AS cascades
  FROM exposed e LEFT JOIN known_counts k USING (pattern)
 WHERE e.n - coalesce(k.excluded, 0) > 0
 ORDER BY e.pattern
"""


def _coded(nodes: pa.Table, att: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The tables with integer codes for actors, cascades and messages (one code space each):
    grouping, windows and ASOF joins on integers are several times faster than on ids."""

    def codes(*columns: pa.ChunkedArray) -> list[pa.Array]:
        # Codes in the ids' order, so that ties are broken as they would be on the ids.
        encoded = pc.dictionary_encode(pa.concat_arrays(
            [c.combine_chunks().cast(pa.string()) for c in columns]))
        rank = pc.subtract(pc.rank(encoded.dictionary, sort_keys="ascending"), 1)
        whole = pc.take(rank, encoded.indices)
        out, start = [], 0
        for c in columns:
            out.append(whole.slice(start, len(c)))
            start += len(c)
        return out

    actor, source, target = codes(nodes["actor_id"], att["source"], att["target"])
    message, parent = codes(nodes["message_id"], nodes["parent_id"])
    [cascade] = codes(nodes["cascade"])
    return (nodes.set_column(nodes.schema.get_field_index("actor_id"), "actor_id", actor)
                 .set_column(nodes.schema.get_field_index("message_id"), "message_id", message)
                 .set_column(nodes.schema.get_field_index("parent_id"), "parent_id", parent)
                 .set_column(nodes.schema.get_field_index("cascade"), "cascade", cascade),
            att.set_column(att.schema.get_field_index("source"), "source", source)
               .set_column(att.schema.get_field_index("target"), "target", target))


def fit_ic(cascades_nodes: pa.Table, interactions: pa.Table) -> ICFit:
    """Per-kind IC transmission probabilities by maximum likelihood from observed cascades.

    An *exposure* is a teller ``u`` adopting in a cascade (its first message
    there) and a listener ``v`` who had paid attention to ``u`` before that
    moment (an interaction ``v -> u`` dated before ``u``'s adoption; undated
    interactions, such as edge lists, always count). It is a *trial* unless
    ``v`` had already adopted; it is a *success* when ``u`` is ``v``'s parent.
    A pair with ``c_k`` interactions of kind ``k`` transmits with
    ``1 - prod_k (1 - p_k) ** c_k`` (the rule of
    :meth:`DiffusionGraph.from_edge_kinds`). With ``t_k = log(1 - p_k)`` the
    log-likelihood is concave, so the optimum is unique; it is found with
    L-BFGS-B. When every pair has one interaction of one kind, it is the
    closed form ``p_k = successes / trials``.

    This is the known-parent case: each adopter's recorded parent is taken as
    its only successful exposure. When several tellers could have passed the
    word on and the data name only one, the others' successes count as failures
    and ``p`` is biased low; unknown parents call for EM (Saito, Nakano &
    Kimura 2008), not implemented here.

    Parameters
    ----------
    cascades_nodes : pyarrow.Table
        ``cascade, message_id, actor_id, parent_id, depth, created_at``, one row
        per message of a cascade; ``parent_id`` is the parent *message* (null at
        the root). Order in time is by ``created_at``, by ``depth`` where a
        time is missing.
    interactions : pyarrow.Table
        The attention edges: ``source``, ``target``, ``kind``, ``created_at``, ``weight``, one
        row per interaction, as ``engine.interactions(spec)`` gives them.

    Returns
    -------
    ICFit

    Raises
    ------
    WhuffieError
        When the table lacks a column or no exposure is found.

    Examples
    --------
    >>> import datetime as dt
    >>> t0 = dt.datetime(2024, 1, 1)
    >>> nodes = pa.table({"cascade": ["c1", "c1", "c2"], "message_id": ["m1", "m2", "m3"],
    ...                   "actor_id": ["x:b", "x:a", "x:b"], "parent_id": [None, "m1", None],
    ...                   "depth": [0, 1, 0], "created_at": [t0, t0 + dt.timedelta(hours=1), t0]})
    >>> att = pa.table({"source": ["x:a"], "target": ["x:b"], "kind": ["reply"],
    ...                 "created_at": pa.array([None], pa.timestamp("us")), "weight": [1.0]})
    >>> fit = fit_ic(nodes, att)
    >>> fit.prob, fit.trials, fit.successes  # a listened to b twice, took it up once
    ({'reply': 0.5}, {'reply': 2}, {'reply': 1})
    """
    need = {"cascade", "message_id", "actor_id", "parent_id", "depth", "created_at"}
    lacking = sorted(need - set(cascades_nodes.column_names))
    if lacking:
        raise WhuffieError(f"cascades_nodes lacks column(s) {', '.join(lacking)}; expected "
                           "cascade, message_id, actor_id, parent_id, depth, created_at")
    nodes, att = _coded(cascades_nodes.select(sorted(need)),
                        interactions.select(["source", "target", "kind", "created_at", "weight"]))
    rows = arrowsql.query(_EXPOSURES, nodes=nodes, att=att)
    if rows.num_rows == 0:
        raise WhuffieError("no exposure found: no cascade participant had a listener in the interactions "
                           "(check that the cascades and the store share actor ids and the kinds filter)")
    patterns = [dict((kv.rsplit("=", 1)[0], float(kv.rsplit("=", 1)[1])) for kv in p.split(","))
                for p in rows.column("pattern").to_pylist()]
    n_j = rows.column("trials").to_numpy().astype(np.float64)
    s_j = rows.column("successes").to_numpy().astype(np.float64)
    kinds = sorted({k for p in patterns for k in p})
    c = np.array([[p.get(k, 0.0) for k in kinds] for p in patterns])
    present = c > 0
    trials = {k: int(n_j[present[:, i]].sum()) for i, k in enumerate(kinds)}
    successes = {k: int(s_j[present[:, i]].sum()) for i, k in enumerate(kinds)}
    theta, loglik, se_theta = _maximise(c, n_j, s_j, np.array([successes[k] > 0 for k in kinds]),
                                        np.array([successes[k] / trials[k] for k in kinds]))
    prob = {k: float(-np.expm1(theta[i])) for i, k in enumerate(kinds)}
    se = {k: float(np.exp(theta[i]) * se_theta[i]) for i, k in enumerate(kinds)}
    return ICFit(prob, se, trials, successes, int(rows.column("cascades")[0].as_py()), loglik)


def _maximise(c: np.ndarray, n: np.ndarray, s: np.ndarray, free: np.ndarray,
              start: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Maximise sum_j s_j log(1 - exp(c_j . t)) + (n_j - s_j) c_j . t over t <= 0.

    Kinds never seen in a success have their optimum at p = 0 (t = 0) and are
    held there; the rest are optimised. Returns t, the log-likelihood and the
    standard errors of t from the observed information.
    """
    from scipy.optimize import minimize

    theta = np.zeros(c.shape[1])
    cf = c[:, free]

    def negll(t):
        x = cf @ t
        q = np.exp(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = np.sum(s * np.log1p(-q) + (n - s) * x)
            grad = cf.T @ (-s * q / -np.expm1(x) + (n - s))
        return -ll, -grad

    if free.any():
        t0 = np.log1p(-np.clip(start[free], 1e-6, 1 - 1e-6))
        res = minimize(negll, t0, jac=True, method="L-BFGS-B", bounds=[(-40.0, -1e-12)] * int(free.sum()))
        theta[free] = res.x
    x = c @ theta
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.exp(x)
        loglik = float(np.sum(np.where(s > 0, s * np.log1p(-q), 0.0) + (n - s) * x))
        info = (cf * (s * q / np.expm1(x) ** 2)[:, None]).T @ cf
    se = np.full(c.shape[1], np.nan)
    if free.any():
        with contextlib.suppress(np.linalg.LinAlgError):  # a singular information matrix: no SE
            se[free] = np.sqrt(np.diag(np.linalg.inv(info)))
    return theta, loglik, se
