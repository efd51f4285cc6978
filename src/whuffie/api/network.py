"""The attention graph as a whole: the overall figures a network analyst reads first.

Each function is also a method of an open store (``store.graph_metrics(...)``); see :mod:`whuffie.api`.
They read the graph and save no run: the figures take seconds and depend on nothing but the filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from whuffie.api.result import Result
from whuffie.api.runner import graph_spec
from whuffie.graph.build import GraphSpec
from whuffie.graph.metrics import PATH_SOURCES

if TYPE_CHECKING:
    from whuffie.store.store import Store


def graph_metrics(store: Store, spec: GraphSpec | None = None, *, path_sources: int = PATH_SOURCES,
                  seed: int = 0, **filters: Any) -> Result:
    """The overall figures of the attention graph: size, density, reciprocity, components, clustering, paths.

    What a NodeXL user reads in "Overall metrics": nodes, edges, total weight, self-loops, isolated
    actors, density, reciprocity (of edges, of pairs and of weight), average degree, weakly and
    strongly connected components (count, largest size and share), global transitivity and average
    local clustering (undirected), and the diameter and average path length of the largest weakly
    connected component (hops, direction ignored). See :func:`whuffie.graph.metrics.graph_metrics`
    for how each is measured, and when path lengths are sampled rather than exact.

    Parameters
    ----------
    store : Store
        An open store.
    spec : GraphSpec, optional
        The graph; or the filter keywords (see :meth:`whuffie.Store.influence`).
    path_sources : int
        Breadth-first searches that estimate the average path length of a large component.
    seed : int
        Seed of those sources.

    Returns
    -------
    Result
        Table ``graph_metrics`` (one row, one column per figure, for comparing graphs side by side);
        ``summary`` holds the same figures as a dict. Not a saved run.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "reply"),
    ...                                 Tie("x:2", "x", "x:b", "x:a", "reply"),
    ...                                 Tie("x:3", "x", "x:c", "x:a", "mention")]))
    ...     r = store.graph_metrics()
    >>> r.summary["nodes"], r.summary["edges"], r.summary["reciprocity"], r.summary["diameter"]
    (3, 3, 0.6666666666666666, 2)
    >>> r.to_arrow().column("weak_components").to_pylist()
    [1]
    """
    from whuffie.api.who import attention_graph
    from whuffie.graph.metrics import graph_metrics as measure

    spec = graph_spec(spec, **filters)
    figures = measure(attention_graph(store, spec), path_sources=path_sources, seed=seed)
    return Result("graph_metrics", {"graph": spec.as_dict(), "path_sources": path_sources, "seed": seed},
                  {"graph_metrics": pa.table({k: [v] for k, v in figures.items()})}, figures, store=store)
