"""The attention graph as files (GEXF 1.3, GraphML, CSV, Parquet).

:func:`graph_export` gathers a graph's attributes and :func:`write_export` writes them (the
library call :meth:`whuffie.Store.export` does both) with node attributes (actor id, label,
handle, name, platform, first and last
interaction, and the latest ``influence`` result when there is one) and edge
attributes (weight, count, the interaction kinds behind the edge with their
counts such as ``"reply:3 mention:1"``, first and last interaction).

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

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
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

#: The formats :func:`export_graph` writes.
EXPORT_FORMATS = ("gexf", "graphml", "csv", "parquet")

#: Columns taken from the ``influence`` result into the node attributes.
INFLUENCE_COLUMNS = ("pagerank", "rank", "recognition", "audience", "coreness", "niche")

_BATCH = 65_536
_NAT = np.iinfo(np.int64).min  # numpy's NaT as int64
_FAR = np.iinfo(np.int64).max


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
        ``count``, ``kinds`` (``"reply:3 mention:1"``, most frequent first),
        ``first``, ``last``.
    influence_run : int, optional
        The run whose influence result the nodes carry.
    """

    graph: Graph
    nodes: pa.Table
    edges: pa.Table
    influence_run: int | None = None

    @property
    def dynamic(self) -> bool:
        """Whether any interaction has a time (then GEXF gets a timeline)."""
        return self.nodes.column("first").null_count < self.nodes.num_rows


def graph_export(engine: Engine, graph: Graph, influence: pa.Table | None = None,
                 influence_run: int | None = None) -> GraphExport:
    """Gather the node and edge attributes of ``graph``.

    Parameters
    ----------
    engine : Engine
        Where the graph was built from (``store.engine``).
    graph : Graph
        The graph to export (its ``spec`` selects the interactions behind each edge).
    influence : pyarrow.Table, optional
        An ``influence`` result (``actor_id`` and :data:`INFLUENCE_COLUMNS`);
        actors it lacks get nulls.
    influence_run : int, optional
        The run ``influence`` came from, recorded in the export.

    Returns
    -------
    GraphExport

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.graph.build import build_graph
    >>> from whuffie.model import Records, Tie
    >>> from whuffie.store.writer import Batch
    >>> with whuffie.open(":memory:") as store:
    ...     b = Batch(); b.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0)]))
    ...     _ = store.con.execute("BEGIN"); _ = b.flush(store.con, None); _ = store.con.execute("COMMIT")
    ...     ex = graph_export(store.engine, build_graph(store))
    >>> ex.edges.select(["source", "target", "weight", "kinds"]).to_pylist()
    [{'source': 'x:a', 'target': 'x:b', 'weight': 2.0, 'kinds': 'mention:1'}]
    """
    node_ids = pa.array(graph.nodes.tolist(), pa.string())
    kinds, edge_first, edge_last = _edge_details(engine, graph, node_ids)
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
    edges = pa.table({
        "source": node_ids.take(pa.array(graph.src)),
        "target": node_ids.take(pa.array(graph.dst)),
        "weight": pa.array(graph.weight, pa.float64()),
        "count": pa.array(graph.count, pa.int64()),
        "kinds": kinds,
        "first": _timestamps(edge_first),
        "last": _timestamps(edge_last),
    })
    return GraphExport(graph, nodes, edges, influence_run)


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


def _edge_details(engine: Engine, graph: Graph, node_ids: pa.Array) -> tuple[pa.Array, np.ndarray,
                                                                              np.ndarray]:
    """Kinds (``"reply:3 mention:1"``), first and last time (int64 µs, NaT) of every edge."""
    per_kind = engine.edge_kinds(graph.spec).rename_columns(
        ["source", "target", "kind", "n", "weight", "first", "last"])
    ignored = [k for k, w in graph.spec.as_dict()["weights"].items() if w == 0]
    if ignored:
        # A kind weighted 0 adds nothing to the edge; listing it would misstate the evidence.
        per_kind = per_kind.filter(pc.invert(pc.is_in(per_kind["kind"], value_set=pa.array(ignored))))
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
    count = rows.column("n").to_numpy()
    kind = pc.dictionary_encode(rows.column("kind")).combine_chunks()
    kind_rank = np.argsort(np.argsort(np.array(kind.dictionary.to_pylist(), dtype=object)))
    # The kinds of an edge, most frequent first, joined per edge here rather than with DuckDB's
    # ordered string_agg, which sorts inside every group: on Slashdot (870k edges) that query
    # alone took 4-6 s, this whole function 1.5-2.5 s.
    order = np.lexsort((kind_rank[kind.indices.to_numpy()], -count, pos))
    pos = pos[order]
    pieces = pc.binary_join_element_wise(rows.column("kind"), rows.column("n").cast(pa.string()),
                                         ":").take(pa.array(order))
    starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]]) if len(pos) else np.zeros(0, np.int64)
    offsets = pa.array(np.r_[starts, len(pos)].astype(np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, pieces.combine_chunks()), " ")
    group = np.full(m, -1, dtype=np.int64)
    group[pos[starts]] = np.arange(len(starts))
    kinds = joined.take(pa.array(group, mask=group < 0))

    first = _micros(rows.column("first"))[order]
    last = _micros(rows.column("last"))[order]
    edge_first = np.full(m, _NAT, dtype=np.int64)
    edge_last = np.full(m, _NAT, dtype=np.int64)
    if len(starts):
        low = np.minimum.reduceat(np.where(first == _NAT, _FAR, first), starts)
        edge_first[pos[starts]] = np.where(low == _FAR, _NAT, low)
        edge_last[pos[starts]] = np.maximum.reduceat(last, starts)
    return kinds, edge_first, edge_last


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    """Timestamps as int64 microseconds, nulls as NaT's integer."""
    values = column.cast(pa.timestamp("us")).cast(pa.int64())
    return values.fill_null(_NAT).to_numpy()


# -- the whole export --------------------------------------------------------------------


def format_of(out: str | os.PathLike, fmt: str | None = None) -> str:
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
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix in ("gexf", "graphml"):
        return suffix
    raise WhuffieError(
        f"cannot tell the export format from {str(out)!r}; give --format "
        f"({', '.join(EXPORT_FORMATS)}; csv and parquet write a folder)")


def write_export(export: GraphExport, out: str | os.PathLike, fmt: str | None = None) -> list[Path]:
    """Write a :class:`GraphExport` to a file (GEXF, GraphML) or a folder (CSV, Parquet).

    Parameters
    ----------
    export : GraphExport
        What :func:`graph_export` gathered.
    out : path
        The file (``gexf``, ``graphml``) or folder (``csv``, ``parquet``: it
        gets ``nodes.*`` and ``edges.*``) to write; existing files are replaced.
    fmt : str, optional
        One of :data:`EXPORT_FORMATS`; by default from the suffix of ``out``.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    WhuffieError
        When the format is unknown or ``out`` cannot be written.

    Examples
    --------
    >>> import tempfile, whuffie
    >>> from whuffie.graph.build import build_graph
    >>> from whuffie.model import Records, Tie
    >>> from whuffie.store.writer import Batch
    >>> folder = tempfile.mkdtemp()
    >>> with whuffie.open(":memory:") as store:
    ...     b = Batch(); b.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0)]))
    ...     _ = store.con.execute("BEGIN"); _ = b.flush(store.con, None); _ = store.con.execute("COMMIT")
    ...     paths = write_export(graph_export(store.engine, build_graph(store)), folder, "csv")
    >>> [p.name for p in paths]
    ['nodes.csv', 'edges.csv']
    """
    fmt = format_of(out, fmt)
    out = Path(out)
    if fmt in ("csv", "parquet") and out.exists() and not out.is_dir():
        raise WhuffieError(f"{out} is a file; {fmt} exports write nodes.{fmt} and edges.{fmt} into a folder")
    if fmt in ("gexf", "graphml"):
        if out.is_dir():
            raise WhuffieError(f"{out} is a folder; a {fmt} export is one file, "
                               f"e.g. {out / ('graph.' + fmt)}")
        if not out.parent.is_dir():
            raise WhuffieError(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        if fmt in ("csv", "parquet"):
            out.mkdir(parents=True, exist_ok=True)
            return write_csv_tables(export, out) if fmt == "csv" else write_parquet_tables(export, out)
        return [write_gexf(export, out) if fmt == "gexf" else write_graphml(export, out)]
    except OSError as exc:
        raise WhuffieError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc


@contextmanager
def _replacing(path: Path, binary: bool = False) -> Iterator[Any]:
    """Write to ``path`` through a temporary file, so an interrupted export leaves no half file."""
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8",
                                                                       "newline": "\n"})) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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


def _xml_values(column: pa.Array) -> pa.Array:
    """A column as XML-ready text (nulls stay null): escaped strings, shortest round-trip
    numbers, ``true``/``false``, and times as xsd:dateTime to the second (UTC)."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        return pc.strftime(column.cast(pa.timestamp("s"), safe=False), format="%Y-%m-%dT%H:%M:%S")
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false")
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return column.cast(pa.string())
    return _xml_escaped(column.cast(pa.string()))


def _xml_type(dtype: pa.DataType) -> str:
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


_NODE_PLAIN = ("actor", "label", "first", "last")
_EDGE_PLAIN = ("source", "target", "weight", "first", "last")


def write_gexf(export: GraphExport, path: str | os.PathLike) -> Path:
    """Write a GEXF 1.3 file for Gephi.

    Nodes are identified by actor id and labelled by handle (or name); their
    other columns are attributes declared in ``<attributes class="node">``.
    Edges carry their weight in the ``weight`` attribute, and ``count`` and
    ``kinds`` as declared edge attributes. When interactions have times the
    graph is ``mode="dynamic"`` with ``timeformat="dateTime"`` (UTC): a node
    lives from its first to its last interaction and an edge from the first
    to the last interaction behind it (one interval each: what Gephi's
    timeline filters on); untimed nodes and edges (edge lists) are always
    present. Null attribute values are left out.

    Parameters
    ----------
    export : GraphExport
    path : path

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, os
    >>> g = Graph.from_edges([("x:a", "x:b", 1.0)])
    >>> never = pa.nulls(2, pa.timestamp("us"))
    >>> nodes = pa.table({"actor": ["x:a", "x:b"], "label": ["a & co", "b"], "first": never,
    ...                   "last": never, "handle": ["a & co", None]})
    >>> edges = pa.table({"source": ["x:a"], "target": ["x:b"], "weight": [0.5], "count": [1],
    ...                   "kinds": ["vote:1"], "first": never[:1], "last": never[:1]})
    >>> p = write_gexf(GraphExport(g, nodes, edges), os.path.join(tempfile.mkdtemp(), "g.gexf"))
    >>> text = p.read_text()
    >>> '<node id="x:a" label="a &amp; co"><attvalues><attvalue for="handle" value="a &amp; co"/>' in text
    True
    >>> '<edge id="0" source="x:a" target="x:b" weight="0.5"><attvalues><attvalue for="count"' in text
    True
    """
    path = Path(path)
    nodes, edges, graph = export.nodes, export.edges, export.graph
    node_attrs = [c for c in nodes.column_names if c not in _NODE_PLAIN]
    edge_attrs = [c for c in edges.column_names if c not in _EDGE_PLAIN]
    ids = _xml_escaped(pa.array(graph.nodes.tolist(), pa.string()))
    timing = ' mode="dynamic" timeformat="dateTime" timezone="UTC"' if export.dynamic else ' mode="static"'
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
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
    with _replacing(path, binary=True) as f:
        f.write("\n".join(head).encode())
        for start, batch in _batches(nodes):
            _write_lines(f, _gexf_lines("node", batch, node_attrs, [
                '      <node id="', ids.slice(start, batch.num_rows),
                '" label="', _xml_values(batch.column("label")), '"']))
        f.write(f'    </nodes>\n    <edges count="{graph.m}">\n'.encode())
        for start, batch in _batches(edges):
            stop = start + batch.num_rows
            _write_lines(f, _gexf_lines("edge", batch, edge_attrs, [
                '      <edge id="', pa.array(np.arange(start, stop)).cast(pa.string()),
                '" source="', ids.take(pa.array(graph.src[start:stop])),
                '" target="', ids.take(pa.array(graph.dst[start:stop])),
                '" weight="', _xml_values(batch.column("weight")), '"']))
        f.write(b"    </edges>\n  </graph>\n</gexf>\n")
    return path


def _gexf_lines(tag: str, batch: pa.RecordBatch, attrs: Sequence[str], head: list[Any]) -> pa.Array:
    span = _optional(' start="', _xml_values(batch.column("first")),
                     '" end="', _xml_values(batch.column("last")), '"')
    cells = [_optional(f'<attvalue for="{xml_attr(c)}" value="', _xml_values(batch.column(c)), '"/>')
             for c in attrs]
    return _concat(*head, span, "><attvalues>", *cells, f"</attvalues></{tag}>\n")


def write_graphml(export: GraphExport, path: str | os.PathLike) -> Path:
    """Write a GraphML file (directed; Gephi, Cytoscape, igraph and NetworkX read it).

    Node ids are actor ids; every other node and edge column is a ``<key>``
    (``label``, ``handle``, ... for nodes, ``weight``, ``count``, ``kinds``,
    ``first``, ``last`` for edges), times as ISO 8601 UTC strings; a null
    value is left out.

    Parameters
    ----------
    export : GraphExport
    path : path

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
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
        # Timestamps are written as text: GraphML has no time type.
        head += [f'  <key id="{cls[0]}_{xml_attr(c)}" for="{cls}" attr.name="{xml_attr(c)}" '
                 f'attr.type="{_xml_type(table.schema.field(c).type)}"/>' for c in names]
    head.append('  <graph id="G" edgedefault="directed">\n')
    with _replacing(path, binary=True) as f:
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
    return path


def _graphml_cells(prefix: str, batch: pa.RecordBatch, keys: Sequence[str]) -> list[pa.Array]:
    return [_optional(f'<data key="{prefix}_{xml_attr(c)}">', _xml_values(batch.column(c)), "</data>")
            for c in keys]


# -- CSV and Parquet ---------------------------------------------------------------------


def write_csv_tables(export: GraphExport, folder: str | os.PathLike) -> list[Path]:
    """Write ``nodes.csv`` and ``edges.csv`` in Gephi's spreadsheet-import layout.

    Nodes start with ``Id,Label`` (Id = actor id), edges with
    ``Source,Target,Type,Weight``; the other columns follow under their own
    names, times as ISO 8601 UTC. Text cells are made formula-safe
    (:func:`whuffie.report.tables.write_csv`).

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
    nodes = export.nodes.rename_columns(["Id" if c == "actor" else "Label" if c == "label" else c
                                         for c in export.nodes.column_names])
    edges = export.edges.rename_columns([{"source": "Source", "target": "Target", "weight": "Weight"}
                                         .get(c, c) for c in export.edges.column_names])
    edges = edges.add_column(2, "Type", pa.array(["Directed"] * edges.num_rows, pa.string()))
    first = ["Source", "Target", "Type", "Weight"]
    edges = edges.select([*first, *[c for c in edges.column_names if c not in first]])
    paths = []
    for name, table in (("nodes.csv", nodes), ("edges.csv", edges)):
        path = folder / name
        with _replacing(path) as f:
            _write_csv_table(table, f)
        paths.append(path)
    return paths


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
        with _replacing(path, binary=True) as f:
            pq.write_table(table.cast(utc), f, compression="zstd")
        paths.append(path)
    return paths
