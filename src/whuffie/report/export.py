"""The attention graph as files (GEXF 1.3, GraphML, CSV, Parquet) that Gephi, networkx and igraph read.

:func:`graph_export` gathers a graph's attributes and :func:`write_export` writes them (the
library call :meth:`whuffie.Store.export` does both). Nodes carry the actor id, label, handle,
name, platform, first and last interaction, and the latest ``influence`` result when there is
one; edges carry their weight, the number of interactions behind them, one count per interaction
kind (``reply``, ``mention``... : the kinds present) and their first and last interaction.

The GEXF is static by default, so that every reader takes it (networkx's reader knows no
``dateTime`` timeline), with the times as ISO 8601 text; ``timeline=True`` makes it dynamic for
Gephi's timeline. It carries the map's picture in GEXF's ``viz`` namespace: positions from
:func:`whuffie.graph.layout.layout` with the niches as groups, the map's colours per niche and
sizes from PageRank (:mod:`whuffie.report.map`), so Gephi opens it laid out.

Every writer streams: the nodes and edges are Arrow tables (columns, not Python
objects) and are written in batches, so a graph of millions of edges is never
held as millions of Python objects. The per-edge kinds and times come from one
aggregation over the ``interactions`` view with the graph's own filters.

GEXF and GraphML are formatted column by column with Arrow's string kernels and
written batch by batch. Text is escaped as :func:`xml_attr` does (the escaping of
:func:`xml.sax.saxutils.escape`, plus quotes, line breaks and tabs as character
references so attribute values read back unchanged); characters XML 1.0 forbids
become U+FFFD, so any handle or name gives a well-formed file. Neither lxml's
incremental writer nor a per-row saxutils loop was kept: ``lxml.etree.xmlfile``
needs an ``Element`` per edge and per attribute value (20 µs per edge measured,
a 5M-edge graph in 100 s), a Python loop formatting each edge took 10 s for
Slashdot's 870k edges, and the column-wise writer takes 2 s.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whuffie import arrowsql
from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph
from whuffie.version import __version__

if TYPE_CHECKING:
    from whuffie.engines.base import Engine
    from whuffie.privacy.disclosure import Shown

#: The formats :func:`write_export` writes.
EXPORT_FORMATS = ("gexf", "graphml", "csv", "parquet")
#: The formats that can be written to a stream (stdout): one file, or CSV's edges table alone.
STREAM_FORMATS = ("gexf", "graphml", "csv")

#: Columns taken from the ``influence`` result into the node attributes.
INFLUENCE_COLUMNS = ("pagerank", "rank", "recognition", "audience", "coreness", "niche")

#: Graphs laid out by default: at most this many nodes (the map's own limit) ...
LAYOUT_MAX_NODES = 50_000
#: ... and at most this many groups (niches, or components when there are more): the layout packs
#: one disc per group, and packing thousands of discs takes minutes.
LAYOUT_MAX_GROUPS = 500
#: Width and height of the laid-out graph in the GEXF, in Gephi's units (node sizes are the map's
#: pixels, so Gephi's first view looks like the map's).
VIZ_EXTENT = 1_000.0

#: Edge column names an interaction kind cannot take (the export's own columns, and the columns
#: Gephi's spreadsheet import treats specially, case-insensitively): such a kind's count column is
#: ``kind_<kind>``.
RESERVED_COLUMNS = frozenset({"source", "target", "weight", "count", "first", "last", "timeset", "type",
                              "id", "label", "kind", "kinds"})

_BATCH = 65_536
_NAT = np.iinfo(np.int64).min  # numpy's NaT as int64
_FAR = np.iinfo(np.int64).max
_ISO_Z = "%Y-%m-%dT%H:%M:%SZ"


# -- the tables every format writes ------------------------------------------------------


@dataclass
class GraphExport:
    """The attention graph with the attributes every export format writes.

    Attributes
    ----------
    graph : Graph
        The graph (node and edge order of the tables).
    nodes : pyarrow.Table
        One row per node: ``actor``, ``label``, ``handle``, ``name``,
        ``platform``, ``first``, ``last`` (UTC timestamps of the node's first
        and last interaction in the graph) and, with an influence result, the
        :data:`INFLUENCE_COLUMNS`.
    edges : pyarrow.Table
        One row per edge: ``source``, ``target`` (actor ids), ``weight``,
        ``count``, one int64 count per interaction kind present (see ``kinds``),
        ``first``, ``last``.
    influence_run : int, optional
        The run whose influence result the nodes carry.
    kinds : dict
        Interaction kind -> its count column in ``edges``, most frequent kind first.
    viz : pyarrow.Table, optional
        One row per node: ``x``, ``y`` (null when the graph was not laid out), ``size`` and
        ``color`` (``#rrggbb``; null without an influence result), for GEXF's ``viz`` namespace.
    layout_note : str, optional
        Why the nodes have no position, when they have none.
    """

    graph: Graph
    nodes: pa.Table
    edges: pa.Table
    influence_run: int | None = None
    kinds: dict[str, str] = field(default_factory=dict)
    viz: pa.Table | None = None
    layout_note: str | None = None

    @property
    def timed(self) -> bool:
        """Whether any interaction has a time (then a GEXF can carry a timeline)."""
        return self.nodes.column("first").null_count < self.nodes.num_rows

    @property
    def positioned(self) -> bool:
        """Whether the nodes have positions from the layout."""
        return self.viz is not None and self.viz.column("x").null_count < self.viz.num_rows


def graph_export(engine: Engine, graph: Graph, influence: pa.Table | None = None,
                 influence_run: int | None = None, *, layout: bool | None = None,
                 seed: int = 0) -> GraphExport:
    """Gather the node and edge attributes of ``graph``, and its picture for Gephi.

    Parameters
    ----------
    engine : Engine
        Where the graph was built from (``store.engine``).
    graph : Graph
        The graph to export (its ``spec`` selects the interactions behind each edge).
    influence : pyarrow.Table, optional
        An ``influence`` result (``actor_id`` and :data:`INFLUENCE_COLUMNS`);
        actors it lacks get nulls. Its PageRank sizes the nodes and its niches colour them.
    influence_run : int, optional
        The run ``influence`` came from, recorded in the export.
    layout : bool, optional
        Lay the graph out (positions for Gephi): ``None`` does when the graph is small enough
        (:data:`LAYOUT_MAX_NODES`, :data:`LAYOUT_MAX_GROUPS`), ``True`` always, ``False`` never.
    seed : int
        Seed of the layout.

    Returns
    -------
    GraphExport

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.graph.build import build_graph
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0),
    ...                                 Tie("x:2", "x", "x:a", "x:b", "reply")]))
    ...     ex = graph_export(store.engine, build_graph(store))
    >>> ex.edges.select(["source", "target", "weight", "count", "mention", "reply"]).to_pylist()
    [{'source': 'x:a', 'target': 'x:b', 'weight': 3.0, 'count': 2, 'mention': 1, 'reply': 1}]
    >>> ex.kinds, ex.positioned
    ({'mention': 'mention', 'reply': 'reply'}, True)
    """
    node_ids = pa.array(graph.nodes.tolist(), pa.string())
    per_kind, edge_first, edge_last = _edge_details(engine, graph, node_ids)
    node_first = np.full(graph.n, _FAR, dtype=np.int64)
    node_last = np.full(graph.n, _NAT, dtype=np.int64)
    for ends in (graph.src, graph.dst):
        np.minimum.at(node_first, ends, np.where(edge_first == _NAT, _FAR, edge_first))
        np.maximum.at(node_last, ends, edge_last)
    node_first[node_first == _FAR] = _NAT

    columns: dict[str, Any] = {"actor": node_ids, **_actor_columns(engine, node_ids),
                               "first": _timestamps(node_first), "last": _timestamps(node_last)}
    if influence is not None:
        row = pc.index_in(node_ids, value_set=influence.column("actor_id"))
        for name in INFLUENCE_COLUMNS:
            if name in influence.column_names:
                columns[name] = influence.column(name).take(row).combine_chunks()
    nodes = pa.table(columns)
    kinds = kind_columns(per_kind)
    edges = pa.table({
        "source": node_ids.take(pa.array(graph.src)),
        "target": node_ids.take(pa.array(graph.dst)),
        "weight": pa.array(graph.weight, pa.float64()),
        "count": pa.array(graph.count, pa.int64()),
        **{kinds[kind]: pa.array(counts, pa.int64()) for kind, counts in per_kind.items()},
        "first": _timestamps(edge_first),
        "last": _timestamps(edge_last),
    })
    viz, note = graph_viz(graph, _numbers(nodes, "pagerank"), _numbers(nodes, "niche"), layout=layout,
                          seed=seed)
    return GraphExport(graph, nodes, edges, influence_run, kinds, viz, note)


def redacted(export: GraphExport, shown: Shown) -> GraphExport:
    """The export with private individuals replaced by their display pseudonyms, for a file to share.

    A private actor's id (nodes' ``actor``, edges' ``source`` and ``target``, the graph's node ids
    that GEXF and GraphML write), ``label``, ``handle`` and ``name`` all become its
    ``anon-…`` pseudonym (:meth:`whuffie.privacy.disclosure.Shown.ids`); public actors are kept.
    The graph exports carry no texts, descriptions or addresses; e-mail actors are private.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.graph.build import build_graph
    >>> from whuffie.model import Actor, Records, Tie
    >>> from whuffie.privacy.disclosure import Disclosure
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(actors=[Actor("x:b", "x", handle="bee", followers=9_000)],
    ...                           ties=[Tie("x:1", "x", "x:a", "x:b", "mention")]))
    ...     ex = redacted(graph_export(store.engine, build_graph(store)), Disclosure().bind(store))
    >>> ex.nodes.column("label").to_pylist()[1], ex.edges.column("target").to_pylist()
    ('bee', ['x:b'])
    >>> source = ex.edges.column("source")[0].as_py()
    >>> source.startswith("anon-"), list(ex.graph.nodes) == [source, "x:b"]
    (True, True)
    """
    ids = export.nodes.column("actor").to_pylist()
    public = shown.public(ids)
    shown_ids = pa.array(shown.ids(ids), pa.string())
    private = pa.array([a not in public for a in ids], pa.bool_())
    nodes = export.nodes.set_column(export.nodes.column_names.index("actor"), "actor", shown_ids)
    for name in ("label", "handle", "name"):
        if name in nodes.column_names:
            i = nodes.column_names.index(name)
            nodes = nodes.set_column(i, name, pc.if_else(private, shown_ids, nodes.column(i)))
    graph = replace(export.graph, nodes=np.array(shown_ids.to_pylist(), dtype=object))
    edges = export.edges
    for name, ends in (("source", graph.src), ("target", graph.dst)):
        edges = edges.set_column(edges.column_names.index(name), name, shown_ids.take(pa.array(ends)))
    return replace(export, graph=graph, nodes=nodes, edges=edges)


def kind_columns(kinds: Sequence[str]) -> dict[str, str]:
    """The edge column of each interaction kind: its own name, unless that name is taken.

    A kind named like one of :data:`RESERVED_COLUMNS`, or like another kind but for its case
    (Gephi compares column names case-insensitively), gets ``kind_<kind>``.

    Examples
    --------
    >>> kind_columns(["reply", "weight", "Reply"])
    {'reply': 'reply', 'weight': 'kind_weight', 'Reply': 'kind_Reply'}
    """
    taken = set(RESERVED_COLUMNS)
    out = {}
    for kind in kinds:
        name = kind if kind.lower() not in taken else f"kind_{kind}"
        while name.lower() in taken:
            name = f"kind_{name}"
        taken.add(name.lower())
        out[kind] = name
    return out


def _numbers(nodes: pa.Table, name: str) -> np.ndarray | None:
    """A numeric node column as float64 (NaN for null), ``None`` when the nodes lack it."""
    if name not in nodes.column_names:
        return None
    return nodes.column(name).cast(pa.float64()).fill_null(np.nan).to_numpy()


def _timestamps(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.int64(), mask=values == _NAT).cast(pa.timestamp("us"))


def _actor_columns(engine: Engine, node_ids: pa.Array) -> dict[str, pa.Array]:
    """Label, handle, name and platform of every node, in node order."""
    # Grouped in case a store holds a profile twice: one row per node, whatever happens.
    table = arrowsql.query("""
        SELECT n.idx, first(a.handle) AS handle, first(a.name) AS name,
               coalesce(first(a.platform), split_part(first(n.actor_id), ':', 1)) AS platform,
               -- One line (a GEXF label is an xsd:token).
               regexp_replace(coalesce(nullif(trim(first(a.handle)), ''), nullif(trim(first(a.name)), ''),
                                       first(n.actor_id)), '\\s+', ' ', 'g') AS label
          FROM n LEFT JOIN a ON a.actor_id = n.actor_id
         GROUP BY n.idx ORDER BY n.idx""",
        n=pa.table({"actor_id": node_ids, "idx": pa.array(np.arange(len(node_ids), dtype=np.int64))}),
        a=engine.actors(["actor_id", "handle", "name", "platform"], ids=node_ids))
    return {c: table.column(c).combine_chunks() for c in ("label", "handle", "name", "platform")}


def _edge_details(engine: Engine, graph: Graph,
                  node_ids: pa.Array) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Interactions of every edge per kind (most frequent kind first, kinds weighted 0 left out, as
    in the graph's ``count``), and its first and last time (int64 µs, NaT)."""
    per_kind = engine.edge_kinds(graph.spec).rename_columns(
        ["source", "target", "kind", "n", "weight", "first", "last"])
    ignored = pa.array([k for k, w in graph.spec.as_dict()["weights"].items() if w == 0], pa.string())
    m, n = graph.m, graph.n
    src = pc.index_in(per_kind.column("source"), value_set=node_ids)
    dst = pc.index_in(per_kind.column("target"), value_set=node_ids)
    valid = pc.and_(src.is_valid(), dst.is_valid()).to_numpy(zero_copy_only=False)
    key = (src.fill_null(0).to_numpy().astype(np.int64) * n + dst.fill_null(0).to_numpy())
    edge_key = graph.src.astype(np.int64) * n + graph.dst
    pos = np.minimum(np.searchsorted(edge_key, key), max(m - 1, 0))
    # Pairs below --min-weight, or whose endpoint left the graph, are not edges.
    hit = np.flatnonzero(valid & (edge_key[pos] == key)) if m else np.zeros(0, dtype=np.int64)
    pos = pos[hit]
    rows = per_kind.take(pa.array(hit))
    # A kind weighted 0 adds nothing to the edge; counting it would misstate the evidence.
    kept = pc.invert(pc.is_in(rows.column("kind"), value_set=ignored)).to_numpy(zero_copy_only=False)
    count = rows.column("n").to_numpy()
    pos, rows, count = pos[kept], rows.filter(pa.array(kept)), count[kept]
    kind = pc.dictionary_encode(rows.column("kind")).combine_chunks()
    names = np.array(kind.dictionary.to_pylist(), dtype=object)
    which = kind.indices.to_numpy()
    totals = np.bincount(which, weights=count, minlength=len(names))
    counts = {}
    for j in np.lexsort((names, -totals)) if len(names) else []:
        column = np.zeros(m, dtype=np.int64)
        # One row per (edge, kind): the edge's count of that kind, no sum needed.
        column[pos[which == j]] = count[which == j]
        counts[str(names[j])] = column

    first = _micros(rows.column("first"))
    edge_first = np.full(m, _FAR, dtype=np.int64)
    np.minimum.at(edge_first, pos, np.where(first == _NAT, _FAR, first))
    edge_first[edge_first == _FAR] = _NAT
    edge_last = np.full(m, _NAT, dtype=np.int64)
    np.maximum.at(edge_last, pos, _micros(rows.column("last")))
    return counts, edge_first, edge_last


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    """Timestamps as int64 microseconds, nulls as NaT's integer."""
    values = column.cast(pa.timestamp("us")).cast(pa.int64())
    return values.fill_null(_NAT).to_numpy()


# -- the picture: positions, sizes and colours of the map ---------------------------------


def graph_viz(graph: Graph, pagerank: np.ndarray | None = None, niche: np.ndarray | None = None, *,
              layout: bool | None = None, seed: int = 0) -> tuple[pa.Table, str | None]:
    """Positions, sizes and colours of the nodes as the map draws them, for GEXF's ``viz`` namespace.

    Positions come from :func:`whuffie.graph.layout.layout` with the niches as groups, scaled to
    :data:`VIZ_EXTENT` around the origin; sizes from PageRank as the map's (square root,
    :data:`~whuffie.report.map.MIN_SIZE` to :data:`~whuffie.report.map.MAX_SIZE`); colours are the
    map's: the largest niches get :data:`~whuffie.report.map.PALETTE`, the others grey.

    Parameters
    ----------
    graph : Graph
    pagerank : numpy.ndarray, optional
        PageRank of every node (NaN when unknown); sizes are null without it.
    niche : numpy.ndarray, optional
        Niche of every node (NaN or negative for none); colours are null without it.
    layout : bool, optional
        ``None`` lays the graph out when it has at most :data:`LAYOUT_MAX_NODES` nodes and
        :data:`LAYOUT_MAX_GROUPS` groups (niches, or weakly connected components when there are
        more), ``True`` always, ``False`` never.
    seed : int
        Seed of the layout.

    Returns
    -------
    tuple
        The table (``x``, ``y``, ``size``, ``color``; one row per node) and, when the nodes have
        no position, why.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 1), ("b", "c", 1), ("c", "a", 1), ("d", "e", 1)])
    >>> viz, note = graph_viz(g, np.array([0.4, 0.4, 0.1, 0.05, 0.05]), np.array([0, 0, 0, 1, 1]))
    >>> viz.column("color").to_pylist(), viz.column("size").to_pylist()[:3], note
    (['#4e79a7', '#4e79a7', '#4e79a7', '#f28e2b', '#f28e2b'], [18.0, 18.0, 10.0], None)
    >>> float(pc.max(viz.column("x")).as_py() - pc.min(viz.column("x")).as_py()) <= VIZ_EXTENT
    True
    """
    from whuffie.graph.layout import layout as lay_out
    from whuffie.report.map import MAX_SIZE, MIN_SIZE, _legend

    n = graph.n
    groups = None
    if niche is not None:
        groups = np.where(np.isnan(niche), -1, niche).astype(np.int64)
    if layout is None:
        note = _too_big_to_lay_out(graph, groups)
    elif layout:
        note = None
    else:
        note = "no layout asked for"
    if note is None:
        xy = lay_out(n, graph.src, graph.dst, graph.weight, groups=groups, seed=seed)
        if n:
            xy = xy - (xy.max(axis=0) + xy.min(axis=0)) / 2
            extent = float(np.abs(xy).max()) * 2
            xy = np.round(xy * (VIZ_EXTENT / extent if extent > 0 else 1.0), 2)
        x, y = pa.array(xy[:, 0], pa.float64()), pa.array(xy[:, 1], pa.float64())
    else:
        x = y = pa.nulls(n, pa.float64())
    size = pa.nulls(n, pa.float64())
    if pagerank is not None:
        known = np.nan_to_num(np.clip(pagerank, 0, None))
        top = float(known.max()) if n and known.max() > 0 else 1.0
        size = pa.array(np.round(MIN_SIZE + (MAX_SIZE - MIN_SIZE) * np.sqrt(known / top), 2))
    color = pa.nulls(n, pa.string())
    if groups is not None:
        # The map's own colour assignment, so a niche has the same colour in the map and in Gephi.
        legend, entry = _legend(groups, "niche")
        color = pa.array([legend[i]["color"] for i in entry.tolist()], pa.string())
    return pa.table({"x": x, "y": y, "size": size, "color": color}), note


def _too_big_to_lay_out(graph: Graph, groups: np.ndarray | None) -> str | None:
    """Why the default leaves the nodes without positions, or ``None`` when it lays them out."""
    from scipy.sparse.csgraph import connected_components

    if graph.n > LAYOUT_MAX_NODES:
        return f"{graph.n:,} nodes, more than {LAYOUT_MAX_NODES:,}"
    components = connected_components(graph.csr(), connection="weak")[0] if graph.n else 0
    niches = len(np.unique(groups)) if groups is not None else 0
    if max(components, niches) > LAYOUT_MAX_GROUPS:
        what = f"{components:,} components" if components >= niches else f"{niches:,} niches"
        return f"{what}, more than {LAYOUT_MAX_GROUPS:,}"
    return None


# -- the whole export --------------------------------------------------------------------


def format_of(out: str | os.PathLike | BinaryIO, fmt: str | None = None) -> str:
    """The export format: ``fmt`` when given, else from the suffix of ``out``.

    Examples
    --------
    >>> format_of("map.gexf"), format_of("graph.GraphML"), format_of("folder", "csv")
    ('gexf', 'graphml', 'csv')
    """
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in EXPORT_FORMATS:
            raise WhuffieError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
        return fmt
    if _is_stream(out):
        raise WhuffieError(f"cannot tell the export format of a stream; give --format "
                           f"({', '.join(STREAM_FORMATS)})")
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix in ("gexf", "graphml"):
        return suffix
    raise WhuffieError(
        f"cannot tell the export format from {str(out)!r}; give --format "
        f"({', '.join(EXPORT_FORMATS)}; csv and parquet write a folder)")


def _is_stream(out: Any) -> bool:
    return hasattr(out, "write")


def write_export(export: GraphExport, out: str | os.PathLike | BinaryIO, fmt: str | None = None, *,
                 timeline: bool = False) -> list[Path]:
    """Write a :class:`GraphExport` to a file (GEXF, GraphML), a folder (CSV, Parquet) or a stream.

    Parameters
    ----------
    export : GraphExport
        What :func:`graph_export` gathered.
    out : path or binary file object
        The file (``gexf``, ``graphml``) or folder (``csv``, ``parquet``: it
        gets ``nodes.*`` and ``edges.*``) to write; existing files are replaced. A binary file
        object (``sys.stdout.buffer``) takes one of :data:`STREAM_FORMATS`, CSV's edges table only.
    fmt : str, optional
        One of :data:`EXPORT_FORMATS`; by default from the suffix of ``out``.
    timeline : bool
        Write a dynamic GEXF (Gephi's timeline; see :func:`write_gexf`).

    Returns
    -------
    list of Path
        The files written (none for a stream).

    Raises
    ------
    WhuffieError
        When the format is unknown, does not fit ``out``, or ``out`` cannot be written.

    Examples
    --------
    >>> import io, tempfile, whuffie
    >>> from whuffie.graph.build import build_graph
    >>> from whuffie.model import Records, Tie
    >>> folder = tempfile.mkdtemp()
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0)]))
    ...     export = graph_export(store.engine, build_graph(store))
    >>> [p.name for p in write_export(export, folder, "csv")]
    ['nodes.csv', 'edges.csv']
    >>> out = io.BytesIO()
    >>> write_export(export, out, "csv")
    []
    >>> out.getvalue().decode().splitlines()
    ['Source,Target,Type,Weight,count,mention,first,last,timeset', 'x:a,x:b,Directed,2.0,1,1,,,']
    """
    fmt = format_of(out, fmt)
    if timeline and fmt != "gexf":
        raise WhuffieError(f"a timeline is written in GEXF only; {fmt} carries the times in the first and "
                           "last columns")
    if _is_stream(out):
        if fmt not in STREAM_FORMATS:
            raise WhuffieError(f"{fmt} writes a folder of files, not a stream; give a folder with --out")
        writer = {"gexf": lambda f: write_gexf(export, f, timeline=timeline),
                  "graphml": lambda f: write_graphml(export, f),
                  "csv": lambda f: write_csv_edges(export, f)}[fmt]
        try:
            writer(out)
            out.flush()
        except BrokenPipeError:  # the reader (head, a closed pager) stopped reading: not an error
            pass
        return []
    out = export_target(out, fmt)
    try:
        if fmt in ("csv", "parquet"):
            out.mkdir(parents=True, exist_ok=True)
            return write_csv_tables(export, out) if fmt == "csv" else write_parquet_tables(export, out)
        return [write_gexf(export, out, timeline=timeline) if fmt == "gexf" else write_graphml(export, out)]
    except OSError as exc:
        raise WhuffieError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc


def export_target(out: str | os.PathLike, fmt: str) -> Path:
    """Check where an export of format ``fmt`` goes, before any work; return it as a path.

    GEXF and GraphML replace one file, CSV and Parquet write ``nodes.*`` and ``edges.*`` into a
    folder: see :func:`file_target` and :func:`folder_target`.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> export_target(folder / "graph.gexf", "gexf").name
    'graph.gexf'
    >>> export_target(folder, "gexf")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: ... is a folder; a gexf export is one file, e.g. .../graph.gexf
    """
    out = Path(out)
    if fmt in ("csv", "parquet"):
        folder_target(out, f"{fmt} exports write nodes.{fmt} and edges.{fmt} into a folder", parents=True)
        for name in ("nodes", "edges"):
            if out.is_dir():
                file_target(out / f"{name}.{fmt}")
        return out
    if out.is_dir():
        raise WhuffieError(f"{out} is a folder; a {fmt} export is one file, e.g. {out / ('graph.' + fmt)}")
    return file_target(out)


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, for an error message."""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _mode(path: Path, doing: str = "write") -> int | None:
    """The mode of what ``path`` names (a link followed), ``None`` when nothing is there."""
    try:
        return path.stat().st_mode
    except FileNotFoundError:  # a new path, or a link to nothing (replaced like a new path)
        return None
    except OSError as exc:  # a loop of links, a folder that cannot be searched...
        raise WhuffieError(f"cannot {doing} {path}: {exc.strerror or exc}") from exc


def file_target(path: str | os.PathLike) -> Path:
    """Check that an output may replace ``path``: a regular file or a new path in an existing folder.

    A device, a named pipe, a socket or a folder (or a link to one) is refused before anything
    is written: an output replaces its file, and must not swallow ``/dev/null`` or block on a pipe.

    Examples
    --------
    >>> import tempfile
    >>> file_target(Path(tempfile.mkdtemp()) / "map.html").name
    'map.html'
    >>> file_target("/dev/null")
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: cannot write /dev/null: it is a character device, not a regular file; \
give the path of a file
    """
    path = Path(path)
    mode = _mode(path)
    if mode is not None and not stat.S_ISREG(mode):
        raise WhuffieError(f"cannot write {path}: it is {_kind(mode)}, not a regular file; give the path "
                           "of a file")
    if not path.parent.is_dir():
        raise WhuffieError(f"cannot write {path}: folder {path.parent} does not exist")
    return path


def folder_target(path: str | os.PathLike, why: str = "the output is a folder", *,
                  parents: bool = False, doing: str = "write into") -> Path:
    """Check that an output folder may be ``path``: a folder or a new path in an existing folder.

    With ``parents``, the new path's missing parents are left for the caller to make. An error
    says ``cannot <doing> <path>: <what is wrong>; <why>``.

    Examples
    --------
    >>> import tempfile
    >>> base = Path(tempfile.mkdtemp())
    >>> folder_target(base / "tables").name
    'tables'
    >>> folder_target("/dev/null", "csv exports write nodes.csv and edges.csv into a folder")
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: cannot write into /dev/null: it is a character device; csv exports \
write nodes.csv and edges.csv into a folder
    """
    path = Path(path)
    mode = _mode(path, doing)
    if mode is not None and not stat.S_ISDIR(mode):
        what = "a file" if stat.S_ISREG(mode) else _kind(mode)
        raise WhuffieError(f"cannot {doing} {path}: it is {what}; {why}")
    if mode is None and not parents and not path.parent.is_dir():
        raise WhuffieError(f"cannot {doing} {path}: folder {path.parent} does not exist")
    return path


@contextmanager
def replacing(path: str | os.PathLike, binary: bool = False) -> Iterator[Any]:
    """Write ``path`` through a temporary file beside it, so an interrupted write leaves no half file.

    ``path`` is checked first (:func:`file_target`); the temporary ``<name>.part`` is made anew, never
    opened through a link or a pipe left in its place. A failed write (a full disk, a read-only
    file system) raises :class:`~whuffie.errors.WhuffieError` naming ``path``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with replacing(path) as f:
    ...     _ = f.write("kept")
    >>> path.read_text(), path.with_name("notes.txt.part").exists()
    ('kept', False)
    """
    path = file_target(path)
    tmp = path.with_name(path.name + ".part")
    if tmp.is_symlink() or tmp.exists():
        if not tmp.is_file() or tmp.is_symlink():
            raise WhuffieError(f"cannot write {path}: {tmp} is in the way and not a regular file; remove it")
        tmp.unlink()  # a half file left by an interrupted run
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with open(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8",
                                                                          "newline": "\n"})) as f:
                yield f
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:  # a full disk, a read-only file system: named by the file asked for
        raise WhuffieError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _target(out: str | os.PathLike | BinaryIO):
    """A binary file to write: the stream given, or ``out`` replaced through a temporary file."""
    return nullcontext(out) if _is_stream(out) else replacing(Path(out), binary=True)


# -- XML ---------------------------------------------------------------------------------

_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The same characters for Arrow's RE2 (Arrow strings are valid UTF-8: no lone surrogates).
_XML_FORBIDDEN_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]"
# In an attribute a raw newline or tab would be read back as a space; "&" goes first.
_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("\n", "&#10;"),
             ("\r", "&#13;"), ("\t", "&#9;"))


def xml_attr(value: str) -> str:
    """``value`` escaped for a double-quoted XML attribute (or character data).

    Examples
    --------
    >>> xml_attr('a "b" <c> & d\\n\\x01')
    'a &quot;b&quot; &lt;c&gt; &amp; d&#10;\\ufffd'
    """
    return escape(_XML_FORBIDDEN.sub("\ufffd", value), dict(_ENTITIES[3:]))


def _xml_escaped(column: pa.Array) -> pa.Array:
    """:func:`xml_attr` over a whole Arrow string column, in Arrow's kernels."""
    out = pc.replace_substring_regex(column, _XML_FORBIDDEN_RE2, "\ufffd")
    for raw, entity in _ENTITIES:
        out = pc.replace_substring(out, raw, entity)
    return out


def _iso(column: pa.Array, zone: bool = True) -> pa.Array:
    """UTC timestamps as ISO 8601 text to the second, ``Z``-suffixed unless ``zone`` is false."""
    return pc.strftime(column.cast(pa.timestamp("s"), safe=False), format=_ISO_Z if zone else _ISO_Z[:-1])


def _xml_values(column: pa.Array) -> pa.Array:
    """A column as XML-ready text (nulls stay null): escaped strings, shortest round-trip
    numbers, ``true``/``false``, and times as ISO 8601 UTC text (``2024-05-01T10:00:00Z``)."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        return _iso(column)
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false")
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return column.cast(pa.string())
    return _xml_escaped(column.cast(pa.string()))


def _xml_type(dtype: pa.DataType) -> str:
    """The GEXF and GraphML type of a column; times are text, as neither format has a time type."""
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "long"
    if pa.types.is_floating(dtype):
        return "double"
    return "string"


def _concat(*pieces: Any) -> pa.Array:
    """Row-wise concatenation of string arrays and constants; null when any piece is null."""
    return pc.binary_join_element_wise(*pieces, "")


def _optional(*pieces: Any) -> pa.Array:
    """Like :func:`_concat`, with "" where a piece is null (an attribute left out)."""
    return _concat(*pieces).fill_null("")


def _write_lines(f, lines: pa.Array) -> None:
    """Write the values of a string array back to back.

    The values of an Arrow string array sit contiguously in its data buffer,
    so the buffer is written as is, without one Python string per row.
    """
    if len(lines) == 0:
        return
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(lines.buffers()[1], dtype=width)[lines.offset:lines.offset + len(lines) + 1]
    if offsets[-1] > offsets[0]:
        f.write(memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]])


def _batches(table: pa.Table) -> Iterator[tuple[int, pa.RecordBatch]]:
    start = 0
    for batch in table.to_batches(max_chunksize=_BATCH):
        yield start, batch
        start += batch.num_rows


def _description(export: GraphExport) -> str:
    spec = {k: v for k, v in export.graph.spec.as_dict().items() if k != "weights"}
    text = "Attention graph: edges point from the one who pays attention to the one who receives it"
    filters = ", ".join(f"{k}={v}" for k, v in spec.items() if v not in (None, False, 0.0))
    text += f"; filters: {filters}" if filters else ""
    if export.influence_run is not None:
        text += f"; influence from run {export.influence_run}"
    return text


def write_gexf(export: GraphExport, out: str | os.PathLike | BinaryIO, *,
               timeline: bool = False) -> Path | None:
    """Write a GEXF 1.3 file that Gephi and networkx read, laid out and coloured like the map.

    Nodes are identified by actor id and labelled by handle (or name); their
    other columns are attributes declared in ``<attributes class="node">``, times as ISO 8601
    UTC text (``2024-05-01T10:00:00Z``). Edges carry their weight in the ``weight`` attribute,
    and ``count``, the per-kind counts, ``first`` and ``last`` as declared edge attributes.
    The ``viz`` of :attr:`GraphExport.viz` (position, size, colour) is written when known.
    Null attribute values are left out.

    The graph is static, unless ``timeline`` is set and interactions have times: then it is
    ``mode="dynamic"`` with ``timeformat="dateTime"`` (UTC) and a node lives from its first to
    its last interaction, an edge from the first to the last interaction behind it (one
    interval each: what Gephi's timeline filters on); untimed nodes and edges (edge lists) are
    always present. networkx cannot read such a timeline (its reader knows no ``dateTime``).

    Parameters
    ----------
    export : GraphExport
    out : path or binary file object
    timeline : bool
        Write a dynamic graph for Gephi's timeline.

    Returns
    -------
    pathlib.Path or None
        The file written; ``None`` for a stream.

    Examples
    --------
    >>> import tempfile, os
    >>> g = Graph.from_edges([("x:a", "x:b", 1.0)])
    >>> never = pa.nulls(2, pa.timestamp("us"))
    >>> nodes = pa.table({"actor": ["x:a", "x:b"], "label": ["a & co", "b"], "first": never,
    ...                   "last": never, "handle": ["a & co", None]})
    >>> edges = pa.table({"source": ["x:a"], "target": ["x:b"], "weight": [0.5], "count": [1],
    ...                   "vote": [1], "first": never[:1], "last": never[:1]})
    >>> viz = pa.table({"x": [-500.0, 500.0], "y": [0.0, 0.0], "size": [2.0, 18.0],
    ...                 "color": ["#4e79a7", None]})
    >>> p = write_gexf(GraphExport(g, nodes, edges, viz=viz), os.path.join(tempfile.mkdtemp(), "g.gexf"))
    >>> text = p.read_text()
    >>> '<node id="x:a" label="a &amp; co"><attvalues><attvalue for="handle" value="a &amp; co"/>' in text
    True
    >>> '<viz:size value="2"/><viz:position x="-500" y="0" z="0"/>' in text
    True
    >>> '<viz:color r="78" g="121" b="167"/></node>' in text
    True
    >>> '<edge id="0" source="x:a" target="x:b" weight="0.5"><attvalues><attvalue for="count"' in text
    True
    """
    nodes, edges, graph = export.nodes, export.edges, export.graph
    node_attrs = [c for c in nodes.column_names if c not in ("actor", "label")]
    edge_attrs = [c for c in edges.column_names if c not in ("source", "target", "weight")]
    ids = _xml_escaped(pa.array(graph.nodes.tolist(), pa.string()))
    dynamic = timeline and export.timed
    timing = ' mode="dynamic" timeformat="dateTime" timezone="UTC"' if dynamic else ' mode="static"'
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">',
        f'  <meta lastmodifieddate="{datetime.now(UTC).date().isoformat()}">',
        f"    <creator>Whuffie {xml_attr(__version__)}</creator>",
        f"    <description>{xml_attr(_description(export))}</description>",
        "  </meta>",
        f'  <graph defaultedgetype="directed"{timing}>',
    ]
    for cls, table, names in (("node", nodes, node_attrs), ("edge", edges, edge_attrs)):
        head.append(f'    <attributes class="{cls}">')
        head += [f'      <attribute id="{xml_attr(c)}" title="{xml_attr(c)}" '
                 f'type="{_xml_type(table.schema.field(c).type)}"/>' for c in names]
        head.append("    </attributes>")
    head.append(f'    <nodes count="{graph.n}">\n')
    viz = _viz_elements(export.viz, graph.n)
    with _target(out) as f:
        f.write("\n".join(head).encode())
        for start, batch in _batches(nodes):
            _write_lines(f, _gexf_lines("node", batch, node_attrs, dynamic, [
                '      <node id="', ids.slice(start, batch.num_rows),
                '" label="', _xml_values(batch.column("label")), '"'], viz.slice(start, batch.num_rows)))
        f.write(f'    </nodes>\n    <edges count="{graph.m}">\n'.encode())
        for start, batch in _batches(edges):
            stop = start + batch.num_rows
            _write_lines(f, _gexf_lines("edge", batch, edge_attrs, dynamic, [
                '      <edge id="', pa.array(np.arange(start, stop)).cast(pa.string()),
                '" source="', ids.take(pa.array(graph.src[start:stop])),
                '" target="', ids.take(pa.array(graph.dst[start:stop])),
                '" weight="', _xml_values(batch.column("weight")), '"']))
        f.write(b"    </edges>\n  </graph>\n</gexf>\n")
    return None if _is_stream(out) else Path(out)


def _viz_elements(viz: pa.Table | None, n: int) -> pa.Array:
    """The ``viz:size``, ``viz:position`` and ``viz:color`` elements of every node ("" when unknown)."""
    if viz is None:
        return pa.array([""] * n, pa.string())
    col = {c: viz.column(c).combine_chunks() for c in viz.column_names}
    # A handful of distinct colours (the palette): each is spelt out once, then taken per node.
    colors = pc.dictionary_encode(col["color"])
    spelt = pa.array([f'<viz:color r="{int(c[1:3], 16)}" g="{int(c[3:5], 16)}" b="{int(c[5:7], 16)}"/>'
                      for c in colors.dictionary.to_pylist()], pa.string())
    return _concat(
        _optional('<viz:size value="', col["size"].cast(pa.string()), '"/>'),
        _optional('<viz:position x="', col["x"].cast(pa.string()), '" y="', col["y"].cast(pa.string()),
                  '" z="0"/>'),
        spelt.take(colors.indices).fill_null(""))


def _gexf_lines(tag: str, batch: pa.RecordBatch, attrs: Sequence[str], dynamic: bool, head: list[Any],
                viz: pa.Array | str = "") -> pa.Array:
    span = ""
    if dynamic:
        span = _optional(' start="', _iso(batch.column("first"), zone=False),
                         '" end="', _iso(batch.column("last"), zone=False), '"')
    cells = [_optional(f'<attvalue for="{xml_attr(c)}" value="', _xml_values(batch.column(c)), '"/>')
             for c in attrs]
    return _concat(*head, span, "><attvalues>", *cells, "</attvalues>", viz, f"</{tag}>\n")


def write_graphml(export: GraphExport, out: str | os.PathLike | BinaryIO) -> Path | None:
    """Write a GraphML file (directed; Gephi, Cytoscape, igraph and NetworkX read it).

    Node ids are actor ids; every other node and edge column is a ``<key>``
    (``label``, ``handle``, ... for nodes, ``weight``, ``count``, the per-kind counts,
    ``first``, ``last`` for edges), times as ISO 8601 UTC text; a null value is left out.

    Parameters
    ----------
    export : GraphExport
    out : path or binary file object

    Returns
    -------
    pathlib.Path or None
        The file written; ``None`` for a stream.
    """
    nodes, edges, graph = export.nodes, export.edges, export.graph
    node_keys = [c for c in nodes.column_names if c != "actor"]
    edge_keys = [c for c in edges.column_names if c not in ("source", "target")]
    ids = _xml_escaped(pa.array(graph.nodes.tolist(), pa.string()))
    head = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">']
    for cls, table, names in (("node", nodes, node_keys), ("edge", edges, edge_keys)):
        head += [f'  <key id="{cls[0]}_{xml_attr(c)}" for="{cls}" attr.name="{xml_attr(c)}" '
                 f'attr.type="{_xml_type(table.schema.field(c).type)}"/>' for c in names]
    head.append('  <graph id="G" edgedefault="directed">\n')
    with _target(out) as f:
        f.write("\n".join(head).encode())
        for start, batch in _batches(nodes):
            _write_lines(f, _concat('    <node id="', ids.slice(start, batch.num_rows), '">',
                                    *_graphml_cells("n", batch, node_keys), "</node>\n"))
        for start, batch in _batches(edges):
            stop = start + batch.num_rows
            _write_lines(f, _concat(
                '    <edge id="e', pa.array(np.arange(start, stop)).cast(pa.string()),
                '" source="', ids.take(pa.array(graph.src[start:stop])),
                '" target="', ids.take(pa.array(graph.dst[start:stop])), '">',
                *_graphml_cells("e", batch, edge_keys), "</edge>\n"))
        f.write(b"  </graph>\n</graphml>\n")
    return None if _is_stream(out) else Path(out)


def _graphml_cells(prefix: str, batch: pa.RecordBatch, keys: Sequence[str]) -> list[pa.Array]:
    return [_optional(f'<data key="{prefix}_{xml_attr(c)}">', _xml_values(batch.column(c)), "</data>")
            for c in keys]


# -- CSV and Parquet ---------------------------------------------------------------------


def csv_tables(export: GraphExport) -> tuple[pa.Table, pa.Table]:
    """The nodes and edges tables in Gephi's spreadsheet-import layout, times as ISO 8601 text.

    Nodes start with ``Id,Label`` (Id = actor id), edges with ``Source,Target,Type,Weight``; the
    other columns follow under their own names, times as ``2024-05-01T10:00:00Z``, and both
    tables end with ``timeset``, the node's or edge's interval in Gephi's notation
    (``<[2024-05-01T10:00:00Z, 2024-05-03T12:00:00Z]>``; empty when undated), which Gephi's import
    takes as the timeline.

    Examples
    --------
    >>> g = Graph.from_edges([("x:a", "x:b", 1.0)])
    >>> when = pa.array([datetime(2024, 5, 1, 10), datetime(2024, 5, 3, 12)], pa.timestamp("us"))
    >>> nodes = pa.table({"actor": ["x:a", "x:b"], "label": ["a", "b"], "first": when, "last": when})
    >>> edges = pa.table({"source": ["x:a"], "target": ["x:b"], "weight": [1.0], "count": [1],
    ...                   "first": when[:1], "last": when[1:]})
    >>> _, e = csv_tables(GraphExport(g, nodes, edges))
    >>> e.column_names
    ['Source', 'Target', 'Type', 'Weight', 'count', 'first', 'last', 'timeset']
    >>> e.column("first")[0].as_py(), e.column("timeset")[0].as_py()
    ('2024-05-01T10:00:00Z', '<[2024-05-01T10:00:00Z, 2024-05-03T12:00:00Z]>')
    """
    tables = []
    for table, renames, lead in (
            (export.nodes, {"actor": "Id", "label": "Label"}, ["Id", "Label"]),
            (export.edges, {"source": "Source", "target": "Target", "weight": "Weight"},
             ["Source", "Target", "Type", "Weight"])):
        table = table.rename_columns([renames.get(c, c) for c in table.column_names])
        if "Source" in table.column_names:
            table = table.append_column("Type", pa.array(["Directed"] * table.num_rows, pa.string()))
        timeset = _optional("<[", _iso(table.column("first")), ", ", _iso(table.column("last")), "]>")
        table = table.append_column("timeset", pc.if_else(pc.equal(timeset, ""), None, timeset))
        for name in ("first", "last"):
            table = table.set_column(table.column_names.index(name), name, _iso(table.column(name)))
        tables.append(table.select([*lead, *[c for c in table.column_names if c not in lead]]))
    return tables[0], tables[1]


def write_csv_tables(export: GraphExport, folder: str | os.PathLike) -> list[Path]:
    """Write ``nodes.csv`` and ``edges.csv`` in Gephi's spreadsheet-import layout (see :func:`csv_tables`).

    Text cells are made formula-safe (:func:`whuffie.report.tables.write_csv`).

    Parameters
    ----------
    export : GraphExport
    folder : path
        An existing folder.

    Returns
    -------
    list of pathlib.Path
    """
    folder = Path(folder)
    paths = []
    for name, table in zip(("nodes.csv", "edges.csv"), csv_tables(export), strict=True):
        path = folder / name
        with replacing(path) as f:
            _write_csv_table(table, f)
        paths.append(path)
    return paths


def write_csv_edges(export: GraphExport, out: BinaryIO) -> None:
    """Write the edges table of :func:`csv_tables` (UTF-8) to a binary stream, e.g. ``sys.stdout.buffer``."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=True)
    try:
        _write_csv_table(csv_tables(export)[1], text)
        text.flush()
    finally:
        text.detach()  # the stream stays open: it is the caller's


def _write_csv_table(table: pa.Table, out: TextIO) -> None:
    from whuffie.report.tables import write_csv

    columns = table.column_names

    def rows() -> Iterator[dict[str, Any]]:
        for batch in table.to_batches(max_chunksize=_BATCH):
            yield from batch.to_pylist()

    write_csv(rows(), columns, out)


def write_parquet_tables(export: GraphExport, folder: str | os.PathLike) -> list[Path]:
    """Write ``nodes.parquet`` and ``edges.parquet`` (times as UTC timestamps).

    Parameters
    ----------
    export : GraphExport
    folder : path
        An existing folder.

    Returns
    -------
    list of pathlib.Path
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    paths = []
    for name, table in (("nodes.parquet", export.nodes), ("edges.parquet", export.edges)):
        utc = pa.schema([pa.field(f.name, pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type)
                         else f for f in table.schema])
        path = folder / name
        with replacing(path, binary=True) as f:
            pq.write_table(table.cast(utc), f, compression="zstd")
        paths.append(path)
    return paths
