"""From the store's interactions to a weighted directed attention graph.

An edge ``i -> j`` means that actor ``i`` paid attention to actor ``j`` (a reply,
mention, reshare, quote, link, email, vote, rating or tie); its weight sums the
interactions behind it, each multiplied by the weight of its kind. Influence
flows against the arrows: PageRank on this graph ranks the actors whose
attention-givers are themselves attended to.

The graph is a pair of integer arrays (COO, sorted by source) with float
weights and the actor id of every node, built by one DuckDB query; CSR/CSC
matrices, igraph and NetworKit graphs are derived from it on demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from whuffie.errors import WhuffieError

if TYPE_CHECKING:
    import scipy.sparse

    from whuffie.engines.base import Engine
    from whuffie.store.store import Store

#: Default weight of one interaction of each kind. Every act of attention counts
#: once, except the cheapest ones: a vote or like costs a click (0.5), and an
#: email's To/Cc reaches everyone addressed, often a whole list (0.5). Negative
#: ratings (distrust) are not attention to amplify and are left out.
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "reply": 1.0,
    "mention": 1.0,
    "reshare": 1.0,
    "quote": 1.0,
    "link": 1.0,
    "email": 0.5,
    "vote": 0.5,
    "rating": 1.0,
    "tie": 1.0,
}


@dataclass(frozen=True)
class GraphSpec:
    """What goes into a graph: the filters and weights of :func:`build_graph`.

    Parameters
    ----------
    kinds : iterable of str, optional
        Interaction kinds to keep; all attention kinds by default (every kind
        the store holds, ties included).
    weights : mapping, optional
        Weight per kind, overriding :data:`DEFAULT_KIND_WEIGHTS`; a kind missing
        from both weighs 1.
    since, until : datetime, optional
        Keep interactions in ``[since, until)`` (UTC). Interactions without a
        time (edge lists) are kept only when no window is given.
    platforms : iterable of str, optional
        Keep interactions of these platforms.
    min_weight : float
        Drop edges whose total weight is below this.
    self_loops : bool
        Keep ``i -> i`` edges (replying to oneself); off by default.

    Examples
    --------
    >>> GraphSpec(kinds=("reply", "mention")).as_dict()["kinds"]
    ['mention', 'reply']
    """

    kinds: tuple[str, ...] | None = None
    weights: Mapping[str, float] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None
    platforms: tuple[str, ...] | None = None
    min_weight: float = 0.0
    self_loops: bool = False

    def __post_init__(self) -> None:
        # Times are naive UTC in the store: an aware bound is turned into its UTC instant here, so
        # that it never meets the database session's local time zone.
        for name in ("since", "until"):
            value = getattr(self, name)
            if isinstance(value, datetime) and value.tzinfo is not None:
                object.__setattr__(self, name, value.astimezone(UTC).replace(tzinfo=None))
        for name in ("kinds", "platforms"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        object.__setattr__(self, "weights", dict(self.weights))
        bad = {k: v for k, v in self.weights.items() if not (isinstance(v, int | float) and v >= 0)}
        if bad:
            raise WhuffieError(f"kind weights must be numbers >= 0, got {bad}")

    def weight_of(self, kind: str) -> float:
        """The weight of one interaction of ``kind``."""
        return float(self.weights.get(kind, DEFAULT_KIND_WEIGHTS.get(kind, 1.0)))

    def as_dict(self) -> dict[str, Any]:
        """The parameters, JSON-ready (recorded with every result)."""
        return {
            "kinds": sorted(self.kinds) if self.kinds is not None else None,
            "weights": {**DEFAULT_KIND_WEIGHTS, **self.weights},
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "platforms": sorted(self.platforms) if self.platforms is not None else None,
            "min_weight": self.min_weight,
            "self_loops": self.self_loops,
        }


@dataclass
class Graph:
    """A weighted directed attention graph.

    Attributes
    ----------
    nodes : numpy.ndarray
        Actor id of every node (object array of str), in id order.
    src, dst : numpy.ndarray
        Edge endpoints (int32 node indices), sorted by ``src`` then ``dst``.
    weight : numpy.ndarray
        Edge weights (float64).
    count : numpy.ndarray
        Number of interactions behind each edge (int64).
    spec : GraphSpec
        What the graph was built from.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 2.0), ("c", "b", 1.0)])
    >>> g.n, g.m, list(g.nodes)
    (3, 2, ['a', 'b', 'c'])
    >>> g.in_strength().tolist()
    [0.0, 3.0, 0.0]
    """

    nodes: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    count: np.ndarray
    spec: GraphSpec = field(default_factory=GraphSpec)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def m(self) -> int:
        """Number of edges."""
        return len(self.src)

    @cached_property
    def index(self) -> dict[str, int]:
        """Actor id -> node index."""
        return {a: i for i, a in enumerate(self.nodes.tolist())}

    def node(self, actor: str) -> int:
        """The node index of an actor id.

        Raises
        ------
        WhuffieError
            When the actor is not in the graph.
        """
        try:
            return self.index[actor]
        except KeyError:
            raise WhuffieError(
                f"actor {actor!r} is not in the graph (no interaction with the chosen filters); "
                "ids look like 'twitter:12345'"
            ) from None

    def csr(self) -> scipy.sparse.csr_matrix:
        """Adjacency matrix ``A[i, j]`` = weight of ``i -> j`` (rows are sources)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.weight, (self.src, self.dst)), shape=(self.n, self.n))

    def out_strength(self) -> np.ndarray:
        """Total weight each node gives (its attention paid)."""
        return np.bincount(self.src, weights=self.weight, minlength=self.n)

    def in_strength(self) -> np.ndarray:
        """Total weight each node receives (its recognition)."""
        return np.bincount(self.dst, weights=self.weight, minlength=self.n)

    def in_degree(self) -> np.ndarray:
        """Distinct actors paying attention to each node."""
        return np.bincount(self.dst, minlength=self.n)

    def out_degree(self) -> np.ndarray:
        """Distinct actors each node pays attention to."""
        return np.bincount(self.src, minlength=self.n)

    def to_igraph(self, directed: bool = True):
        """The graph as an ``igraph.Graph`` with a ``weight`` edge attribute and ``name`` vertex attribute."""
        import igraph

        g = igraph.Graph(n=self.n, edges=np.column_stack([self.src, self.dst]), directed=True)
        g.es["weight"] = self.weight
        g.vs["name"] = self.nodes.tolist()
        if not directed:
            g.to_undirected(mode="collapse", combine_edges="sum")
        return g

    def to_networkit(self, directed: bool = True):
        """The graph as a weighted ``networkit.Graph`` (node ids = indices).

        Undirected, parallel edges ``i -> j`` and ``j -> i`` are merged and
        their weights added.
        """
        import networkit as nk
        import scipy.sparse as sp

        if directed:
            return nk.GraphFromCoo((self.weight, (self.src, self.dst)), n=self.n, weighted=True,
                                   directed=True)
        a = sp.coo_matrix((self.weight, (self.src, self.dst)), shape=(self.n, self.n))
        sym = sp.triu(a + a.T, k=0).tocoo()
        return nk.GraphFromCoo((sym.data, (sym.row.astype(np.int64), sym.col.astype(np.int64))),
                               n=self.n, weighted=True, directed=False)

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str, float]], spec: GraphSpec | None = None) -> Graph:
        """A graph from ``(source, target, weight)`` triples (repeated pairs are summed)."""
        rows = list(edges)
        names = sorted({a for a, _, _ in rows} | {b for _, b, _ in rows})
        index = {a: i for i, a in enumerate(names)}
        acc: dict[tuple[int, int], list[float]] = {}
        for a, b, w in rows:
            key = (index[a], index[b])
            slot = acc.setdefault(key, [0.0, 0])
            slot[0] += float(w)
            slot[1] += 1
        keys = sorted(acc)
        return cls(
            nodes=np.array(names, dtype=object),
            src=np.array([k[0] for k in keys], dtype=np.int32),
            dst=np.array([k[1] for k in keys], dtype=np.int32),
            weight=np.array([acc[k][0] for k in keys], dtype=np.float64),
            count=np.array([acc[k][1] for k in keys], dtype=np.int64),
            spec=spec or GraphSpec(),
        )

    @classmethod
    def from_table(cls, edges: pa.Table, spec: GraphSpec | None = None) -> Graph:
        """A graph from an edge table (``source``, ``target``, ``weight``, ``count``; pairs unique).

        Node indices follow actor-id order; edges are sorted by (source, target) index.

        Examples
        --------
        >>> t = pa.table({"source": ["b", "a"], "target": ["a", "c"], "weight": [1.0, 2.0],
        ...               "count": [1, 3]})
        >>> g = Graph.from_table(t)
        >>> list(g.nodes), g.src.tolist(), g.dst.tolist(), g.count.tolist()
        (['a', 'b', 'c'], [0, 1], [2, 0], [3, 1])
        """
        import pyarrow.compute as pc

        source, target = edges.column("source"), edges.column("target")
        nodes = pc.unique(pa.chunked_array(source.chunks + target.chunks, type=pa.string())).sort()
        src = pc.index_in(source, value_set=nodes).to_numpy(zero_copy_only=False).astype(np.int32)
        dst = pc.index_in(target, value_set=nodes).to_numpy(zero_copy_only=False).astype(np.int32)
        order = np.lexsort((dst, src))
        return cls(
            nodes=np.array(nodes.to_pylist(), dtype=object),
            src=src[order],
            dst=dst[order],
            weight=edges.column("weight").to_numpy().astype(np.float64)[order],
            count=edges.column("count").to_numpy().astype(np.int64)[order],
            spec=spec or GraphSpec(),
        )


def build_graph(source: Store | Engine, spec: GraphSpec | None = None, **kwargs: Any) -> Graph:
    """Build the attention graph of a store (or of any engine).

    Parameters
    ----------
    source : Store or Engine
        An open store (its ``engine`` is used) or an :class:`~whuffie.engines.base.Engine`.
    spec : GraphSpec, optional
        Filters and weights; keyword arguments build one (``kinds=("reply",)``).

    Returns
    -------
    Graph

    Raises
    ------
    WhuffieError
        When an unknown kind is asked for (in ``kinds`` or ``weights``).

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> from whuffie.store.writer import Batch
    >>> with whuffie.open(":memory:") as store:
    ...     b = Batch(); b.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0)]))
    ...     _ = store.con.execute("BEGIN"); _ = b.flush(store.con, None); _ = store.con.execute("COMMIT")
    ...     g = build_graph(store)
    >>> list(g.nodes), g.weight.tolist()
    (['x:a', 'x:b'], [2.0])
    """
    engine = getattr(source, "engine", source)
    spec = spec if spec is not None else GraphSpec(**kwargs)
    asked = set(spec.kinds or ()) | set(spec.weights or {})
    if asked:
        known = engine.kinds()
        unknown = sorted(asked - known)
        if unknown:
            # A misspelled kind in --weights would otherwise weigh nothing, silently.
            raise WhuffieError(
                f"unknown interaction kind(s) {', '.join(map(repr, unknown))}; known kinds: "
                f"{', '.join(sorted(known))}"
            )
    return Graph.from_table(engine.edges(spec), spec)
