"""Everything about the niches of a graph in one call: the ``niches`` analysis.

:func:`analyse_niches` finds the niches, profiles each one, measures every
actor's bridging and the attention between niches, and summarises the long
tail of sizes; ``whuffie niches`` saves its tables as one run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from whuffie.graph.build import Graph
from whuffie.niches.bridges import BETWEENNESS_SAMPLES, betweenness, bridges, niche_links
from whuffie.niches.leiden import default_resolution, detect_niches, modularity
from whuffie.niches.profile import niche_activity, niche_profiles, size_distribution
from whuffie.progress import phase


@dataclass(frozen=True)
class NicheParams:
    """Parameters of :func:`analyse_niches` (recorded with the run).

    Attributes
    ----------
    method : str
        ``auto`` (default), ``modularity``, ``cpm`` or ``infomap`` (see
        :func:`~whuffie.niches.leiden.detect_niches`).
    resolution : float, optional
        Leiden resolution; the method's default when ``None`` (``auto`` chooses it from the data).
    seed : int
        Seed of Leiden and of the betweenness sampling.
    samples : int, optional
        Sources sampled for betweenness on large graphs (default
        :data:`~whuffie.niches.bridges.BETWEENNESS_SAMPLES`); 0 skips betweenness.
    top : int
        Voices, tags and terms listed per niche.
    threads : int or None
        NetworKit threads for Leiden: 1 (the default) gives the same niches for the same seed;
        more (``None``: every core) is faster on large graphs but not reproducible.
    """

    method: str = "auto"
    resolution: float | None = None
    seed: int = 0
    samples: int | None = None
    top: int = 5
    threads: int | None = 1

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "resolution": self.resolution, "seed": self.seed,
                "samples": self.samples, "top": self.top, "threads": self.threads}


@dataclass
class NicheAnalysis:
    """The result of :func:`analyse_niches`.

    Attributes
    ----------
    membership : numpy.ndarray
        Niche of every node (0 = largest).
    niches : pyarrow.Table
        One row per niche (:func:`~whuffie.niches.profile.niche_profiles`).
    members : pyarrow.Table
        One row per actor: ``actor_id``, ``niche``, ``niche_rank`` (1 = the
        niche's top voice by PageRank), ``pagerank`` and the bridge measures
        of :func:`~whuffie.niches.bridges.bridges`; sorted by niche then rank.
    links : pyarrow.Table
        Pairs of niches by attention (:func:`~whuffie.niches.bridges.niche_links`).
    activity : pyarrow.Table
        Messages per niche and week (empty without message times).
    summary : dict
        ``method``, ``resolution`` (the one used), ``modularity``,
        ``betweenness_exact`` and the :func:`~whuffie.niches.profile.size_distribution`
        figures (without the list of sizes).
    """

    membership: np.ndarray
    niches: pa.Table
    members: pa.Table
    links: pa.Table
    activity: pa.Table
    summary: dict[str, Any]

    def summary_table(self) -> pa.Table:
        """The summary as a one-row table."""
        return pa.table({k: [v] for k, v in self.summary.items()})


def analyse_niches(
    graph: Graph,
    params: NicheParams | None = None,
    pagerank: np.ndarray | None = None,
    tags: pa.Table | None = None,
    terms: pa.Table | None = None,
    times: pa.Table | None = None,
    links: pa.Table | None = None,
) -> NicheAnalysis:
    """Find the niches of a graph and describe them.

    Parameters
    ----------
    graph : Graph
    params : NicheParams, optional
    pagerank : numpy.ndarray, optional
        Influence of every node; computed when not given.
    tags, terms, times, links : pyarrow.Table, optional
        Per-actor tag counts, term counts, message times and links (see
        :func:`~whuffie.niches.profile.niche_profiles`).

    Returns
    -------
    NicheAnalysis

    Examples
    --------
    >>> edges = [("a", "b", 1), ("b", "c", 1), ("c", "a", 1),
    ...          ("x", "y", 1), ("y", "z", 1), ("z", "x", 1), ("c", "x", 1)]
    >>> result = analyse_niches(Graph.from_edges(edges))
    >>> result.niches.column("size").to_pylist(), round(result.summary["modularity"], 4)
    ([3, 3], 0.3571)
    >>> result.links.to_pylist()[0]["weight"]
    1.0
    """
    from whuffie.influence.measures import rank_within
    from whuffie.influence.rank import pagerank as _pagerank

    params = params or NicheParams()
    resolution = (params.resolution if params.resolution is not None
                  else default_resolution(graph, params.method, seed=params.seed, threads=params.threads))
    membership = detect_niches(graph, params.method, resolution, seed=params.seed,
                               threads=params.threads)
    if pagerank is None:
        pagerank = _pagerank(graph) if graph.n else np.zeros(0)
    if params.samples == 0:
        between, exact = None, None
    else:
        phase("betweenness")
        between, exact = betweenness(graph, samples=params.samples or BETWEENNESS_SAMPLES,
                                     seed=params.seed)
    phase("profiles")
    profiles = niche_profiles(graph, membership, pagerank, tags=tags, terms=terms, times=times,
                              top=params.top, links=links)
    per_actor = bridges(graph, membership, between)
    per_actor = per_actor.add_column(2, "niche_rank", pa.array(rank_within(pagerank, membership)))
    per_actor = per_actor.add_column(3, "pagerank", pa.array(np.asarray(pagerank, dtype=np.float64)))
    per_actor = per_actor.sort_by([("niche", "ascending"), ("niche_rank", "ascending")])
    activity = (niche_activity(graph, membership, times) if times is not None
                else pa.table({"niche": pa.array([], pa.int64()), "week": pa.array([], pa.timestamp("us")),
                               "messages": pa.array([], pa.int64())}))
    sizes = size_distribution(membership)
    sizes.pop("sizes")
    summary = {"method": params.method, "resolution": float(resolution) if resolution is not None else None,
               "modularity": modularity(graph, membership), "betweenness_exact": exact, **sizes}
    return NicheAnalysis(membership, profiles, per_actor, niche_links(graph, membership), activity, summary)
