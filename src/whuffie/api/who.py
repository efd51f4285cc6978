"""Who matters: influence, the e-fluentials, the influence pyramid and the niches, as library calls.

Each function is also a method of an open store (``store.influence(...)``); see :mod:`whuffie.api`.
Graph analyses take the graph filters as keywords (``kinds``, ``weights``, ``since``, ``until``,
``platforms``, ``min_weight``) or a ready :class:`~whuffie.graph.build.GraphSpec` as ``spec``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from whuffie import arrowsql
from whuffie.api.result import EfluentialsResult, InfluenceResult, NichesResult, PyramidResult
from whuffie.api.runner import graph_spec, run
from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph, GraphSpec, build_graph

if TYPE_CHECKING:
    from whuffie.influence.pyramid import PyramidParams
    from whuffie.niches.analysis import NicheParams
    from whuffie.store.store import Store

#: Messages tokenised at once when counting the words of each actor.
TEXT_BATCH = 200_000


def attention_graph(store: Store, spec: GraphSpec) -> Graph:
    """The attention graph of ``spec``, refusing an empty one with a sentence."""
    graph = build_graph(store.engine, spec)
    if graph.m == 0:
        if spec.min_weight > 0 and build_graph(store.engine, replace(spec, min_weight=0.0)).m:
            raise WhuffieError(f"no edge of the graph weighs at least --min-weight {spec.min_weight:g} "
                               "(or has a weight above 0)")
        raise WhuffieError(f"no interaction in {store.path} matches these filters; "
                           "see 'whuffie status' for what the store holds")
    return graph


def handles(store: Store, actors: Sequence[str] | np.ndarray) -> dict[str, str]:
    """The handle of each actor that has one."""
    table = store.engine.actors(["actor_id", "handle"], ids=pa.array(list(actors), pa.string()))
    return {a: h for a, h in zip(table["actor_id"].to_pylist(), table["handle"].to_pylist(), strict=True)
            if h is not None}


def influence(store: Store, spec: GraphSpec | None = None, *, damping: float = 0.85,
              seeds: Sequence[str] | None = None, seed: int = 0, fresh: bool = False,
              **filters: Any) -> InfluenceResult:
    """Every actor's influence: PageRank, recognition, audience, coreness, hubs and the niche rank.

    Parameters
    ----------
    store : Store
        An open store.
    spec : GraphSpec, optional
        The graph; or give the filters as keywords (``kinds=["reply"]``, ``since="2024-01-01"``,
        ``weights={"vote": 0.2}``, ``platforms=...``, ``until=...``, ``min_weight=...``).
    damping : float
        PageRank's chance of following attention rather than jumping.
    seeds : sequence of str, optional
        Personalise PageRank on these actor ids: influence as seen from them.
    seed : int
        Seed of the niche detection (Leiden), for the rank inside each niche.
    fresh : bool
        Compute again even when a saved run of the same request on the same data exists.

    Returns
    -------
    InfluenceResult
        Table ``influence`` (one row per actor, by rank); ``summary`` has ``actors`` and ``edges``.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention"),
    ...                                 Tie("x:2", "x", "x:c", "x:b", "reply")]))
    ...     r = store.influence()
    ...     again = store.influence()
    >>> r.to_arrow().column("actor_id").to_pylist()[0], r.summary["edges"], again.reused
    ('x:b', 2, True)
    """
    from whuffie.graph.activity import actor_activity
    from whuffie.influence.measures import InfluenceParams, measure_influence
    from whuffie.niches.leiden import detect_niches

    spec = graph_spec(spec, **filters)
    chosen = sorted(set(seeds)) if seeds else None
    params = InfluenceParams(damping=damping)

    def compute():
        graph = attention_graph(store, spec)
        personalization = None
        if chosen:
            personalization = np.zeros(graph.n)
            for actor in chosen:
                personalization[graph.node(actor)] = 1.0
        niches = detect_niches(graph, seed=seed)
        counts = store.engine.message_counts(["actor_id"], require=["actor"], platforms=spec.platforms,
                                             since=spec.since, until=spec.until)
        table = measure_influence(graph, actor_activity(counts, graph), params, personalization,
                                  niches=niches)
        exact = bool(table["audience_exact"][0].as_py()) if table.num_rows else True
        return {"influence": table}, {"actors": graph.n, "edges": graph.m, "audience_exact": exact}

    return run(store, "influence", {"graph": spec.as_dict(), **params.as_dict(), "seeds": chosen,
                                    "niches": {"method": "auto", "seed": seed}},
               compute, cls=InfluenceResult, fresh=fresh, seed=seed)


def efluentials(store: Store, spec: GraphSpec | None = None, *, damping: float = 0.85, share: float = 0.10,
                recognisers: int = 5, fresh: bool = False, **filters: Any) -> EfluentialsResult:
    """The e-fluentials: the top ``share`` of actors by PageRank, and who recognises each of them.

    PageRank comes from :func:`influence` on the same graph (its saved run when there is one).

    Parameters
    ----------
    store : Store
        An open store.
    spec : GraphSpec, optional
        The graph; or the filter keywords (see :func:`influence`).
    damping : float
        PageRank damping.
    share : float
        The share of actors that are e-fluentials, in (0, 1].
    recognisers : int
        Recognisers named in each explanation (the ``efluential_recognisers`` table keeps all).
    fresh : bool
        Compute again even when a saved run matches.

    Returns
    -------
    EfluentialsResult
        Tables ``efluentials`` (by rank, each with an ``explanation``) and
        ``efluential_recognisers`` (the evidence); ``summary`` has ``actors`` and ``efluentials``.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie(f"x:{i}", "x", f"x:f{i}", "x:star", "mention")
    ...                                 for i in range(9)]))
    ...     r = store.efluentials()
    >>> r.to_arrow().column("actor_id").to_pylist(), r.evidence("x:star").num_rows
    (['x:star'], 9)
    """
    from whuffie.influence.efluentials import efluentials as find_efluentials

    spec = graph_spec(spec, **filters)
    infl = influence(store, spec, damping=damping)

    def compute():
        graph = attention_graph(store, spec)
        # PageRank and its rank are all the e-fluentials need from the influence table.
        table = infl.to_arrow().select(["actor_id", "rank", "pagerank"])
        labels = handles(store, graph.nodes)
        result = find_efluentials(graph, table, share=share, top_recognisers=recognisers, labels=labels,
                                  damping=damping)
        return ({"efluentials": result.table, "efluential_recognisers": result.recognisers},
                {"actors": graph.n, "edges": graph.m, "efluentials": result.table.num_rows})

    return run(store, "efluentials", {"graph": spec.as_dict(), "damping": damping, "share": share,
                                      "recognisers": recognisers},
               compute, cls=EfluentialsResult, inputs={"influence": infl.run_id}, fresh=fresh)


def pyramid(store: Store, spec: GraphSpec | None = None, *, window: str = "month",
            params: PyramidParams | None = None, fresh: bool = False, **filters: Any) -> PyramidResult:
    """The influence pyramid (amateur, enthusiast, wannabe, expert) window by window, and migrations.

    Each window is judged on its own: messages written and weighted attention received in it.

    Parameters
    ----------
    store : Store
        An open store.
    spec : GraphSpec, optional
        The graph; or the filter keywords (see :func:`influence`).
    window : {"week", "month"}
        Window length (weeks start on Monday, UTC).
    params : PyramidParams, optional
        The level cuts (see :class:`~whuffie.influence.pyramid.PyramidParams`).
    fresh : bool
        Compute again even when a saved run matches.

    Returns
    -------
    PyramidResult
        Tables ``pyramid_counts`` (main), ``pyramid_levels``, ``pyramid_migration``,
        ``pyramid_moves``.

    Examples
    --------
    >>> import whuffie, datetime as dt
    >>> from whuffie.model import Message, Records
    >>> t = dt.datetime(2024, 5, 1)
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[Message("x:1", "x", "x:a", t, text="hi"),
    ...                                     Message("x:2", "x", "x:b", t, kind="reply", reply_to="x:1")]))
    ...     r = store.pyramid()
    >>> r.to_arrow().select(["participants", "amateur", "enthusiast"]).to_pylist()
    [{'participants': 2, 'amateur': 1, 'enthusiast': 1}]
    """
    from whuffie.influence.pyramid import UNITS, PyramidParams, pyramid_levels, window_starts
    from whuffie.influence.pyramid import pyramid as migrations

    if window not in UNITS:
        raise WhuffieError(f"window {window!r} is not one of {', '.join(UNITS)}")
    spec = graph_spec(spec, **filters)
    params = params or PyramidParams()

    def compute():
        table = store.engine.activity_windows(spec, window)
        if table.num_rows == 0:
            raise WhuffieError(f"no dated message or interaction in {store.path} matches these "
                               "filters; the pyramid needs times (edge lists have none)")
        levels = pyramid_levels(table, params)
        starts = table.column("window_start").to_pylist()
        result = migrations(levels, window_starts(min(starts), max(starts), window))
        return ({"pyramid_counts": result.counts, "pyramid_levels": levels,
                 "pyramid_migration": result.migration, "pyramid_moves": result.moves},
                {"windows": result.counts.num_rows, "actors": len(set(levels["actor_id"].to_pylist()))})

    return run(store, "pyramid", {"graph": spec.as_dict(), "window": window, **params.as_dict()}, compute,
               cls=PyramidResult, fresh=fresh, main="pyramid_counts")


def niche_inputs(store: Store, spec: GraphSpec) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """Tags, terms, messages per week and links (normalised) per actor, in the graph's scope."""
    from whuffie.niches.profile import term_counts

    scope = {"platforms": spec.platforms, "since": spec.since, "until": spec.until}
    tags = arrowsql.query("SELECT actor_id, lower(tag) AS tag, count(*) AS n FROM t "
                          "WHERE actor_id IS NOT NULL GROUP BY ALL", t=store.engine.tags(**scope))
    times = store.engine.message_counts(["actor_id"], unit="week", require=["actor"], **scope)
    _, batches = store.engine.message_batches(["actor_id", "title", "text"], batch=TEXT_BATCH,
                                              require=["actor", "text_or_title"], **scope)
    # Batches keep the memory of tokenising a large store bounded; the profile sums repeats.
    parts = [term_counts(arrowsql.query(
        "SELECT actor_id, coalesce(title || ' ', '') || coalesce(text, '') AS text FROM b",
        b=pa.Table.from_batches([rb]))) for rb in batches if rb.num_rows]
    terms = (pa.concat_tables(parts) if parts else
             pa.table({"actor_id": pa.array([], pa.string()), "term": pa.array([], pa.string()),
                       "n": pa.array([], pa.int64())}))
    links = arrowsql.query("SELECT actor_id, domain, normalized_url AS url, count(*) AS n FROM l "
                           "WHERE actor_id IS NOT NULL GROUP BY ALL", l=store.engine.links(**scope))
    return tags, terms, times, links


def niches(store: Store, spec: GraphSpec | None = None, *, params: NicheParams | None = None,
           fresh: bool = False, **filters: Any) -> NichesResult:
    """The niches (communities) of the attention graph: who they are, what they say, who bridges them.

    Parameters
    ----------
    store : Store
        An open store.
    spec : GraphSpec, optional
        The graph; or the filter keywords (see :func:`influence`).
    params : NicheParams, optional
        Method (``modularity`` or ``cpm``), resolution, seed, betweenness samples, threads.
    fresh : bool
        Compute again even when a saved run matches.

    Returns
    -------
    NichesResult
        Tables ``niches`` (main, 0 the largest), ``memberships``, ``niche_links``,
        ``niche_activity``, ``niche_summary``; ``summary`` has the long-tail figures.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> pairs = [("a", "b"), ("b", "c"), ("c", "a"), ("x", "y"), ("y", "z"), ("z", "x"), ("c", "x")]
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie(f"t:{i}", "t", f"t:{a}", f"t:{b}", "mention")
    ...                                 for i, (a, b) in enumerate(pairs)]))
    ...     r = store.niches()
    >>> r.to_arrow().column("size").to_pylist(), r.evidence(0).num_rows
    ([3, 3], 3)
    """
    from whuffie.niches.analysis import NicheParams, analyse_niches

    spec = graph_spec(spec, **filters)
    params = params or NicheParams()

    def compute():
        graph = attention_graph(store, spec)
        tags, terms, times, links = niche_inputs(store, spec)
        result = analyse_niches(graph, params, tags=tags, terms=terms, times=times, links=links)
        return ({"niches": result.niches, "memberships": result.members, "niche_links": result.links,
                 "niche_activity": result.activity, "niche_summary": result.summary_table()},
                {**result.summary, "edges": graph.m})

    return run(store, "niches", {"graph": spec.as_dict(), **params.as_dict()}, compute, cls=NichesResult,
               fresh=fresh, seed=params.seed)
