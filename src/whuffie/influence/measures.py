"""All influence measures of a graph in one table: the ``influence`` result.

One row per actor: PageRank (recursive influence) and its rank, recognition
(weighted in-degree) and the number of distinct people paying attention,
attention paid, activity (messages written), the two-hop audience ("who they
impress"), coreness, hub and authority scores, and, when niches are given, the
actor's niche and rank inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from whuffie.graph.build import Graph
from whuffie.influence.rank import audience, coreness, hits, pagerank
from whuffie.progress import phase

#: The columns of the ``influence`` result, in order.
COLUMNS = (
    "actor_id", "rank", "pagerank", "recognition", "in_degree", "attention", "activity",
    "audience", "audience_exact", "coreness", "hub", "authority", "niche", "niche_rank",
)


@dataclass(frozen=True)
class InfluenceParams:
    """Parameters of :func:`measure_influence` (recorded with the run)."""

    damping: float = 0.85
    exact_audience: bool | None = None

    def as_dict(self) -> dict:
        return {"damping": self.damping, "exact_audience": self.exact_audience}


def rank_of(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score, highest first; ties broken by node order.

    Examples
    --------
    >>> rank_of(np.array([0.1, 0.5, 0.5, 0.2])).tolist()
    [4, 1, 2, 3]
    """
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def rank_within(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """1-based rank of each score inside its group (Kred's per-community idea).

    Examples
    --------
    >>> rank_within(np.array([0.1, 0.5, 0.3, 0.2]), np.array([0, 0, 1, 1])).tolist()
    [2, 1, 1, 2]
    """
    order = np.lexsort((-scores, groups))
    ranks = np.empty(len(scores), dtype=np.int64)
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
    position = np.arange(len(scores)) - np.repeat(starts, np.diff(np.r_[starts, len(scores)]))
    ranks[order] = position + 1
    return ranks


def measure_influence(
    graph: Graph,
    activity: np.ndarray | None = None,
    params: InfluenceParams | None = None,
    personalization: np.ndarray | None = None,
    niches: np.ndarray | None = None,
) -> pa.Table:
    """Every influence measure of every actor of ``graph``.

    Parameters
    ----------
    graph : Graph
    activity : numpy.ndarray, optional
        Messages written per node (see :func:`whuffie.graph.activity.actor_activity`).
    params : InfluenceParams, optional
    personalization : numpy.ndarray, optional
        PageRank jump weights (a niche, a seed list).
    niches : numpy.ndarray, optional
        Niche of each node (``-1`` for none), for the rank inside each niche.

    Returns
    -------
    pyarrow.Table
        The :data:`COLUMNS`, sorted by rank.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("c", "b", 1), ("b", "a", 1)])
    >>> t = measure_influence(g)
    >>> t.column("actor_id").to_pylist(), t.column("in_degree").to_pylist()
    (['b', 'a', 'c'], [2, 1, 0])
    """
    params = params or InfluenceParams()
    n = graph.n
    phase("PageRank")
    pr = pagerank(graph, damping=params.damping, personalization=personalization)
    phase("HITS")
    hub, auth = hits(graph)
    phase("audience")
    reach, exact = audience(graph, exact=params.exact_audience)
    phase("coreness")
    core = coreness(graph)
    niche = np.full(n, -1, dtype=np.int64) if niches is None else np.asarray(niches, dtype=np.int64)
    niche_rank = rank_within(pr, niche)
    niche_rank_arr = pa.array(np.where(niche >= 0, niche_rank, 0), pa.int64(),
                              mask=niche < 0)
    table = pa.table({
        "actor_id": pa.array(graph.nodes.tolist(), pa.string()),
        "rank": rank_of(pr),
        "pagerank": pr,
        "recognition": graph.in_strength(),
        "in_degree": graph.in_degree().astype(np.int64),
        "attention": graph.out_strength(),
        "activity": (np.zeros(n, dtype=np.int64) if activity is None
                     else np.asarray(activity, dtype=np.int64)),
        "audience": reach,
        "audience_exact": pa.array([exact] * n, pa.bool_()),
        "coreness": core,
        "hub": hub,
        "authority": auth,
        "niche": pa.array(niche, pa.int64(), mask=niche < 0),
        "niche_rank": niche_rank_arr,
    })
    return table.sort_by("rank")
