"""E-fluentials: the top share of actors by PageRank, each with the evidence of their standing.

An e-fluential is not whoever gets the most attention but whoever is recognised
by people who are themselves recognised. Ranking by PageRank gives that order;
this module takes the top ``share`` of it (10% by default) and explains every
name on the list with what the graph holds:

- who recognises them: every in-neighbour (an actor paying attention to them),
  with the weight of attention given and the recogniser's own rank;
- how much of the attention they receive comes from e-fluentials
  (``recognised_share``: the weighted in-degree from e-fluentials over the whole
  weighted in-degree), "recognised by the recognised";
- how much of their PageRank flows from e-fluentials (``pagerank_share``). In
  weighted PageRank an in-neighbour ``u`` passes ``PR(u) * d * w(u, v) /
  out(u)`` to ``v`` (``d`` the damping, ``out(u)`` the attention ``u`` pays in
  all); the share is the sum over e-fluential in-neighbours divided by
  ``PR(v)``. The rest of ``PR(v)`` comes from the other in-neighbours and from
  random jumps, so the share tells whether an actor's rank rests on the elite
  or on a broad base.

The e-fluentials are exactly the actors whose ``rank`` (in the influence table,
ties broken by node order as in :func:`~whuffie.influence.measures.rank_of`) is
at most ``floor(share * n)`` (at least one), ``n`` being the actors of the graph:
"the top 10%" never holds more than 10% of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph
from whuffie.influence.measures import rank_within

#: Columns of the per-e-fluential table, in order.
COLUMNS = (
    "actor_id", "rank", "pagerank", "recognition", "recognisers", "efluential_recognisers",
    "recognised_share", "pagerank_share", "niche", "niche_rank", "explanation",
)
#: Columns of the recogniser (evidence) table, in order.
RECOGNISER_COLUMNS = (
    "actor_id", "position", "recogniser", "weight", "interactions", "recogniser_rank",
    "recogniser_efluential",
)


class Efluentials(NamedTuple):
    """The result of :func:`efluentials`.

    Attributes
    ----------
    table : pyarrow.Table
        One row per e-fluential (:data:`COLUMNS`), by rank.
    recognisers : pyarrow.Table
        Every (e-fluential, recogniser) pair (:data:`RECOGNISER_COLUMNS`): the
        weight of attention given, the interactions behind it, the recogniser's
        rank and whether the recogniser is an e-fluential; ``position`` 1 is the
        strongest recogniser (heaviest weight, then best rank).
    """

    table: pa.Table
    recognisers: pa.Table


def efluential_count(n: int, share: float) -> int:
    """How many actors the top ``share`` of ``n`` holds: ``floor(share * n)``, at least one.

    Examples
    --------
    >>> efluential_count(1224, 0.10), efluential_count(5, 0.10), efluential_count(0, 0.10)
    (122, 1, 0)
    """
    if not 0 < share <= 1:
        raise WhuffieError(f"share must be in (0, 1], got {share}")
    if n == 0:
        return 0
    # Rounding first keeps 0.29 * 100 = 28.999... at 29.
    return max(1, math.floor(round(share * n, 9)))


def efluentials(
    graph: Graph,
    influence: pa.Table,
    share: float = 0.10,
    top_recognisers: int = 5,
    niches: np.ndarray | None = None,
    labels: Mapping[str, str] | None = None,
    damping: float = 0.85,
) -> Efluentials:
    """The e-fluentials of a graph and why each one is on the list.

    Parameters
    ----------
    graph : Graph
        The attention graph the influence table was measured on.
    influence : pyarrow.Table
        At least ``actor_id``, ``rank`` and ``pagerank`` for every node of
        ``graph`` (the ``influence`` result of
        :func:`~whuffie.influence.measures.measure_influence`).
    share : float
        The share of actors that are e-fluentials, in (0, 1].
    top_recognisers : int
        Recognisers named in each explanation (the recogniser table keeps all).
    niches : numpy.ndarray, optional
        Niche of each node (``-1`` for none); by default the influence table's
        ``niche`` column when it has one.
    labels : mapping, optional
        Display name (a handle) per actor id for the explanations; the id otherwise.
    damping : float
        The damping the PageRank was computed with (for ``pagerank_share``).

    Returns
    -------
    Efluentials
        ``(table, recognisers)``.

    Raises
    ------
    WhuffieError
        For a bad ``share`` or ``niches``, or an influence table that does not cover exactly
        the nodes of ``graph`` (measured on another graph).

    Examples
    --------
    b and c both read a, and a reads b; with ``share=0.34`` one actor is an
    e-fluential:

    >>> from whuffie.influence.measures import measure_influence
    >>> g = Graph.from_edges([("b", "a", 2), ("c", "a", 1), ("a", "b", 1)])
    >>> result = efluentials(g, measure_influence(g), share=0.34)
    >>> result.table.column("actor_id").to_pylist()
    ['a']
    >>> print(result.table.column("explanation")[0])  # doctest: +NORMALIZE_WHITESPACE
    recognised by 2 people, 0 of them e-fluentials (0% of the attention they receive,
    0% of their PageRank); strongest: b (rank 2, weight 2), c (rank 3, weight 1)
    >>> result.recognisers.column("weight").to_pylist()
    [2.0, 1.0]
    """
    k = efluential_count(graph.n, share)
    pos = _align(graph, influence)
    pr = influence.column("pagerank").to_numpy()[pos].astype(np.float64)
    rank = influence.column("rank").to_numpy()[pos].astype(np.int64)
    if niches is None and "niche" in influence.column_names:
        niche_col = influence.column("niche").take(pa.array(pos))
        niches = pc.fill_null(niche_col, -1).to_numpy()
    niche = None if niches is None else np.asarray(niches, dtype=np.int64)
    if niche is not None and niche.shape != (graph.n,):
        raise WhuffieError(f"niches must give one niche per node ({graph.n}), got shape {niche.shape}")

    efl = rank <= k
    src, dst, w = graph.src, graph.dst, graph.weight
    from_efl = efl[src]
    n = graph.n
    recognition = np.bincount(dst, weights=w, minlength=n)
    recognisers = np.bincount(dst, minlength=n)
    efl_recognisers = np.bincount(dst, weights=from_efl, minlength=n).astype(np.int64)
    efl_attention = np.bincount(dst, weights=w * from_efl, minlength=n)
    out = graph.out_strength()
    flow = pr[src] * damping * w / out[src]
    efl_flow = np.bincount(dst, weights=flow * from_efl, minlength=n)

    chosen = np.flatnonzero(efl)
    chosen = chosen[np.argsort(rank[chosen], kind="stable")]
    evidence = _recognisers(graph, efl, rank)
    names = graph.nodes
    label = (lambda a: a) if labels is None else (lambda a: labels.get(a) or a)

    ev_actor = evidence["dst"]
    named = np.flatnonzero(evidence["position"] <= top_recognisers)
    by_actor: dict[int, list[tuple[str, int, float]]] = {}
    for d, s, wt, r in zip(ev_actor[named].tolist(), evidence["src"][named].tolist(),
                           evidence["weight"][named].tolist(),
                           evidence["recogniser_rank"][named].tolist(), strict=True):
        by_actor.setdefault(d, []).append((label(names[s]), r, wt))

    niche_rank = rank_within(pr, niche) if niche is not None else None
    explanations = [explanation({
        "recognisers": int(recognisers[v]), "efluential_recognisers": int(efl_recognisers[v]),
        "recognised_share": _ratio(efl_attention[v], recognition[v]),
        "pagerank_share": _ratio(efl_flow[v], pr[v]),
        "niche": int(niche[v]) if niche is not None and niche[v] >= 0 else None,
        "niche_rank": int(niche_rank[v]) if niche is not None and niche[v] >= 0 else None,
    }, by_actor.get(v, [])) for v in chosen.tolist()]

    has_niche = niche[chosen] >= 0 if niche is not None else np.zeros(len(chosen), dtype=bool)
    table = pa.table({
        "actor_id": pa.array(names[chosen].tolist(), pa.string()),
        "rank": pa.array(rank[chosen], pa.int64()),
        "pagerank": pa.array(pr[chosen], pa.float64()),
        "recognition": pa.array(recognition[chosen], pa.float64()),
        "recognisers": pa.array(recognisers[chosen], pa.int64()),
        "efluential_recognisers": pa.array(efl_recognisers[chosen], pa.int64()),
        "recognised_share": pa.array(
            [_ratio(efl_attention[v], recognition[v]) for v in chosen.tolist()], pa.float64()),
        "pagerank_share": pa.array(
            [_ratio(efl_flow[v], pr[v]) for v in chosen.tolist()], pa.float64()),
        "niche": pa.array(niche[chosen] if niche is not None else np.zeros(len(chosen)),
                          pa.int64(), mask=~has_niche),
        "niche_rank": pa.array(niche_rank[chosen] if niche_rank is not None else np.zeros(len(chosen)),
                               pa.int64(), mask=~has_niche),
        "explanation": pa.array(explanations, pa.string()),
    })
    recogniser_table = pa.table({
        "actor_id": pa.array(names[ev_actor].tolist(), pa.string()),
        "position": pa.array(evidence["position"], pa.int64()),
        "recogniser": pa.array(names[evidence["src"]].tolist(), pa.string()),
        "weight": pa.array(evidence["weight"], pa.float64()),
        "interactions": pa.array(evidence["count"], pa.int64()),
        "recogniser_rank": pa.array(evidence["recogniser_rank"], pa.int64()),
        "recogniser_efluential": pa.array(efl[evidence["src"]], pa.bool_()),
    })
    return Efluentials(table, recogniser_table)


def _align(graph: Graph, influence: pa.Table) -> np.ndarray:
    """Row of ``influence`` for every node of ``graph``."""
    missing_cols = {"actor_id", "rank", "pagerank"} - set(influence.column_names)
    if missing_cols:
        raise WhuffieError(f"the influence table lacks column(s) {', '.join(sorted(missing_cols))}")
    ids = influence.column("actor_id")
    nodes = pa.array(graph.nodes.tolist(), pa.string())
    pos = pc.index_in(nodes, value_set=ids)
    if pos.null_count or influence.num_rows != graph.n:
        raise WhuffieError(
            f"the influence table ({influence.num_rows} actors) was not measured on this graph "
            f"({graph.n} actors); measure influence with the same graph filters"
        )
    return pos.to_numpy().astype(np.int64)


def _recognisers(graph: Graph, efl: np.ndarray, rank: np.ndarray) -> dict[str, np.ndarray]:
    """The edges into e-fluentials, grouped by e-fluential (by rank), strongest first."""
    keep = np.flatnonzero(efl[graph.dst])
    src, dst = graph.src[keep], graph.dst[keep]
    weight, count = graph.weight[keep], graph.count[keep]
    order = np.lexsort((rank[src], -weight, rank[dst]))
    src, dst, weight, count = src[order], dst[order], weight[order], count[order]
    starts = np.r_[0, np.flatnonzero(np.diff(dst)) + 1] if len(dst) else np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, len(dst)])
    position = np.arange(len(dst)) - np.repeat(starts, sizes) + 1
    return {"src": src, "dst": dst, "weight": weight, "count": count,
            "recogniser_rank": rank[src], "position": position}


def _ratio(part: float, whole: float) -> float | None:
    return float(part / whole) if whole > 0 else None


def explanation(row: Mapping[str, Any], strongest: Sequence[tuple[str, int, float]]) -> str:
    """The explanation of an e-fluential: a row of the ``efluentials`` table, naming ``strongest``.

    ``strongest`` is ``(label, rank, weight)`` of the recognisers to name, strongest first (from
    the ``efluential_recognisers`` table): the report names them as it shows actors (see
    :mod:`whuffie.privacy.disclosure`), so the explanation is rebuilt rather than read.

    Examples
    --------
    >>> row = {"recognisers": 2, "efluential_recognisers": 1, "recognised_share": 0.5,
    ...        "pagerank_share": 0.25, "niche": 3, "niche_rank": 1}
    >>> explanation(row, [("ann", 4, 2.0)])
    'recognised by 2 people, 1 of them e-fluentials (50% of the attention they receive, 25% of \
their PageRank); strongest: ann (rank 4, weight 2); niche 3 (rank 1 in it)'
    """
    text = _explain(int(row["recognisers"]), int(row["efluential_recognisers"]), row["recognised_share"],
                    row["pagerank_share"], list(strongest))
    if row.get("niche") is not None:
        text += f"; niche {row['niche']} (rank {row['niche_rank']} in it)"
    return text


def _explain(recognisers: int, from_efl: int, attention_share: float | None,
             pagerank_share: float | None, strongest: list[tuple[str, int, float]]) -> str:
    """One sentence: how many recognise the actor, how many of them count, who counts most."""
    if recognisers == 0:
        return "recognised by no one (PageRank from random jumps only)"
    people = "person" if recognisers == 1 else "people"
    shares = f"{attention_share or 0:.0%} of the attention they receive"
    shares += f", {pagerank_share or 0:.0%} of their PageRank"
    text = f"recognised by {recognisers:,} {people}, {from_efl:,} of them e-fluentials ({shares})"
    if strongest:
        text += "; strongest: " + ", ".join(
            f"{name} (rank {r:,}, weight {wt:g})" for name, r, wt in strongest)
    return text
