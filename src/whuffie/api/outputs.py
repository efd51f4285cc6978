"""What Whuffie shows: the evidence behind an edge, the map, the graph exports and the report.

Each function is also a method of an open store (``store.map(...)``); see :mod:`whuffie.api`.
These write files or read evidence; they save no run of their own, but the map and the exports
use (and, when missing, make) the influence run of their graph.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whuffie.api.result import OutputResult, Result
from whuffie.api.runner import as_time, graph_spec, latest
from whuffie.errors import WhuffieError
from whuffie.graph.build import GraphSpec
from whuffie.privacy.disclosure import PUBLIC_REACH
from whuffie.progress import phase

if TYPE_CHECKING:
    from collections.abc import Sequence

    from whuffie.privacy.disclosure import Disclosure
    from whuffie.store.store import Store


def why(store: Store, source: str, target: str, *, both: bool = False, kinds: Sequence[str] | None = None,
        since: datetime | str | None = None, until: datetime | str | None = None,
        limit: int | None = 50) -> Result:
    """The evidence behind ``source -> target``: every reply, mention, vote... with its message.

    Parameters
    ----------
    store : Store
        An open store.
    source, target : str
        Actor ids (or handles): ``source`` paid attention to ``target``.
    both : bool
        Also list ``target -> source``.
    kinds : sequence of str, optional
        Keep these interaction kinds.
    since, until : datetime or str, optional
        Keep interactions in ``[since, until)``.
    limit : int, optional
        Rows to return (oldest first); ``None`` for all.

    Returns
    -------
    Result
        Table ``evidence`` (actor, target, kind, time, message, record, weight, value, platform,
        excerpt); ``summary["total"]`` counts the interactions before the limit. Not a saved run.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0)]))
    ...     r = store.why("x:a", "x:b")
    >>> r.summary["total"], r.to_arrow().column("kind").to_pylist()
    (1, ['mention'])
    """
    from whuffie.graph.evidence import evidence

    since_t, until_t = as_time(since, "since"), as_time(until, "until")
    if since_t and until_t and since_t >= until_t:
        raise WhuffieError(f"since {since_t} is not before until {until_t}")
    source, target = _actor(store, source), _actor(store, target)
    found = evidence(store.engine, source, target, both=both, limit=limit,
                     kinds=[k for k in kinds] if kinds else None, since=since_t, until=until_t)
    return Result("why", {"source": source, "target": target, "both": both,
                          "kinds": list(kinds) if kinds else None, "since": since_t, "until": until_t,
                          "limit": limit},
                  {"evidence": found.to_arrow()}, {"total": found.total, "shown": len(found.rows)},
                  store=store)


def _actor(store: Store, name: str) -> str:
    """An actor id from an id or a handle; unknown names are left for the evidence to explain."""
    found = store.engine.actor_ids(name)
    return found[0] if len(found) == 1 else name


def map(store: Store, out: str | Path = "whuffie-map.html", spec: GraphSpec | None = None, *, seed: int = 0,
        max_nodes: int = 50_000, max_edges: int = 200_000, title: str | None = None,
        disclosure: Disclosure | None = None, **filters: Any) -> OutputResult:
    """Draw the offline map of who matters (size = influence, colour = niche) into one HTML file.

    The page is meant to be shared: by default private individuals (actors below a reach of
    5,000, see :mod:`whuffie.privacy.disclosure`) appear under ``anon-…`` pseudonyms, as labels
    and as ids; ``disclosure=Disclosure(show_private=True)`` shows their handles and ids.

    Parameters
    ----------
    store : Store
        An open store.
    out : str or Path
        The HTML file to write.
    spec : GraphSpec, optional
        The graph; or the filter keywords (see :meth:`whuffie.Store.influence`).
    seed : int
        Seed of the niches and the layout.
    max_nodes, max_edges : int
        Draw the most influential actors only, and the heaviest links.
    title : str, optional
        Title of the page (default: "Whuffie map: <store name>").
    disclosure : Disclosure, optional
        What the page shows of private individuals (default: ``Disclosure()``, pseudonymised).

    Returns
    -------
    OutputResult
        ``path``; table ``map_nodes`` (every drawn actor with its position, size and niche; ``id``
        is the actor's id in the store, ``label`` what the page shows); ``summary``: ``actors``,
        ``shown``, ``niches``, ``disclosure`` (its settings and ``pseudonymised``, the private
        individuals drawn under a pseudonym).

    Examples
    --------
    >>> import tempfile, whuffie
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0)]))
    ...     r = store.map(Path(tempfile.mkdtemp()) / "map.html")
    >>> r.path.name, r.summary["actors"], r.to_arrow().column("id").to_pylist()
    ('map.html', 2, ['x:a', 'x:b'])
    >>> r.summary["disclosure"]["pseudonymised"], '"x:a"' in r.path.read_text()  # drawn as anon-…
    (2, False)
    """
    from whuffie.api.who import attention_graph, influence
    from whuffie.privacy.disclosure import Disclosure
    from whuffie.report.export import file_target, replacing
    from whuffie.report.map import map_data, render_map

    spec = graph_spec(spec, **filters)
    # Before the work: a mistyped folder is never made, a device or a pipe never written.
    path = file_target(out)
    phase("influence and niches")
    infl = influence(store, spec, seed=seed)
    graph = attention_graph(store, spec)
    table = infl.to_arrow()
    # The niche of every node, in node order, from the influence run (-1 for none).
    order = pc.index_in(pa.array(graph.nodes.tolist(), pa.string()), value_set=table["actor_id"])
    niches = np.asarray(table["niche"].take(order).fill_null(-1).to_numpy(zero_copy_only=False),
                        dtype=np.int64)
    name = Path(str(store.path)).stem
    phase("layout")
    data = map_data(graph, table, niches=niches, seed=seed, max_nodes=max_nodes, max_edges=max_edges,
                    title=title or f"Whuffie map: {name}")
    # Labels and ids of the drawn actors only, as the disclosure shows them.
    shown = (disclosure or Disclosure()).bind(store)
    ids = data["id"]
    labels = shown.labels(ids)
    data["label"] = [labels.get(a) for a in ids]
    data["id"] = shown.ids(ids)
    phase("writing the page")
    try:
        with replacing(path) as f:
            f.write(render_map(data, note=shown.note()))
    except OSError as exc:
        raise WhuffieError(f"cannot write {path}: {exc.strerror or exc}") from exc
    nodes = pa.table({"id": ids, **{k: data[k] for k in ("label", "x", "y", "size", "nicheId", "rank")}})
    return OutputResult("map", {"graph": spec.as_dict(), "seed": seed, "max_nodes": max_nodes,
                                "max_edges": max_edges, "title": title,
                                "disclosure": shown.disclosure.as_dict()},
                        {"map_nodes": nodes},
                        {"actors": graph.n, "shown": min(graph.n, max_nodes),
                         "niches": len(np.unique(niches)), "kind": "niche",
                         "disclosure": shown.summary()},
                        inputs={"influence": infl.run_id}, store=store, paths=[path])


def export(store: Store, out: str | Path | BinaryIO, format: str | None = None,
           spec: GraphSpec | None = None, *, with_influence: bool = False, timeline: bool = False,
           layout: bool | None = None, seed: int = 0, redact: bool = False, public_reach: int = PUBLIC_REACH,
           **filters: Any) -> OutputResult:
    """Write the attention graph for Gephi, networkx, igraph or dataframes, or the whole store as Parquet.

    Edges carry their weight, the number of interactions behind them, one count per interaction
    kind present (``reply``, ``mention``...) and their first and last interaction; nodes carry the
    actor's profile, first and last interaction and the newest influence run's columns. A GEXF is
    static (every reader takes it) and laid out and coloured like the map; see
    :mod:`whuffie.report.export`.

    An export is the analyst's own working file: it holds the store's ids, handles and names as
    they are. ``redact=True`` makes one to share: the ids, labels, handles and names of private
    individuals (actors with a reach under ``public_reach``, see :mod:`whuffie.privacy.disclosure`)
    become their ``anon-…`` pseudonyms, in the nodes and in the edges' ends.

    Parameters
    ----------
    store : Store
        An open store.
    out : str, Path or binary file object
        The file (``gexf``, ``graphml``) or folder (``csv``, ``parquet``: ``nodes.*`` and
        ``edges.*``; ``parquet-store``: one Parquet file per table of the store) to write; or a
        binary stream such as ``sys.stdout.buffer`` for ``gexf``, ``graphml`` and ``csv`` (the
        edges table only).
    format : str, optional
        ``gexf``, ``graphml``, ``csv``, ``parquet`` or ``parquet-store``; by default from the suffix
        of ``out``.
    spec : GraphSpec, optional
        The graph; or the filter keywords (see :meth:`whuffie.Store.influence`).
    with_influence : bool
        Add influence to the nodes, measuring it on this graph when the store has no influence run
        yet (the newest influence run is always added when there is one).
    timeline : bool
        Write a dynamic GEXF for Gephi's timeline (networkx cannot read it); GEXF only.
    layout : bool, optional
        Give the GEXF's nodes positions from the map's layout: by default when the graph is small
        enough to lay out in seconds (see :func:`whuffie.report.export.graph_viz`); ``True`` always,
        ``False`` never.
    seed : int
        Seed of the layout.
    redact : bool
        Replace private individuals by their pseudonyms (not for ``parquet-store``, which copies
        the store as it is).
    public_reach : int
        With ``redact``: the reach from which an actor is public and kept.

    Returns
    -------
    OutputResult
        ``paths`` (none for a stream); tables ``nodes`` and ``edges`` as written; ``summary``:
        ``nodes``, ``edges``, ``kinds`` (the per-kind count columns), ``timed`` (interactions have
        times), ``timeline``, ``positions`` (the nodes were laid out), ``layout_note`` (why not),
        ``influence_run``, ``influence_computed``, ``seconds``, ``redacted`` (with ``redact``: the
        disclosure's settings and ``pseudonymised``, the actors replaced; else ``None``).

    Examples
    --------
    >>> import tempfile, whuffie
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0)]))
    ...     r = store.export(tempfile.mkdtemp(), "csv")
    >>> [p.name for p in r.paths], r.summary["edges"], r.summary["kinds"]
    (['nodes.csv', 'edges.csv'], 1, {'mention': 'mention'})
    """
    from whuffie.api.who import attention_graph, influence
    from whuffie.privacy.disclosure import Disclosure
    from whuffie.report.export import export_target, format_of, graph_export, redacted, write_export

    started = time.perf_counter()
    # Checked before any work (a bad threshold is said at once).
    disclosure = Disclosure(public_reach=public_reach, texts="hide") if redact else None
    if (format or "").lower() == "parquet-store":
        if redact:
            raise WhuffieError("parquet-store copies every table of the store as it is and cannot be "
                               "redacted; redact a graph export (gexf, graphml, csv, parquet), or share "
                               "a store ingested with --pseudonymise")
        if spec is not None or filters or with_influence or timeline:
            raise WhuffieError("parquet-store writes every table of the store: graph filters, influence "
                               "and timeline do not apply")
        if hasattr(out, "write"):
            raise WhuffieError("parquet-store writes a folder of files, not a stream; give a folder")
        paths = export_store(store, out)
        return OutputResult("export", {"format": "parquet-store"}, {},
                            {"tables": len(paths), "seconds": time.perf_counter() - started},
                            store=store, paths=paths)
    fmt = format_of(out, format)
    if timeline and fmt != "gexf":
        raise WhuffieError(f"a timeline is written in GEXF only; {fmt} carries the times in the first and "
                           "last columns")
    if not hasattr(out, "write"):
        export_target(out, fmt)  # before the work; checked again when written
    spec = graph_spec(spec, **filters)
    graph = attention_graph(store, spec)
    table, run_id = latest(store, "influence", "influence")
    computed = False
    if table is None and with_influence:
        infl = influence(store, spec)
        table, run_id, computed = infl.to_arrow(), infl.run_id, True
    # Only the GEXF carries the picture: the other formats need no layout.
    done = graph_export(store.engine, graph, table, run_id, layout=layout if fmt == "gexf" else False,
                        seed=seed)
    shown = disclosure.bind(store) if disclosure is not None else None
    if shown is not None:
        done = redacted(done, shown)
    paths = write_export(done, out, fmt, timeline=timeline)
    return OutputResult("export", {"format": fmt, "graph": spec.as_dict(), "with_influence": with_influence,
                                   "timeline": timeline, "layout": layout, "seed": seed,
                                   "redact": redact, "public_reach": public_reach if redact else None},
                        {"nodes": done.nodes, "edges": done.edges},
                        {"nodes": graph.n, "edges": graph.m, "kinds": done.kinds, "timed": done.timed,
                         "timeline": timeline and done.timed, "positions": done.positioned,
                         "layout_note": done.layout_note if fmt == "gexf" else None,
                         "influence_run": run_id, "influence_computed": computed,
                         "redacted": shown.summary() if shown is not None else None,
                         "seconds": time.perf_counter() - started},
                        store=store, paths=paths)


def export_store(store: Store, out: str | Path) -> list[Path]:
    """Every table and view of the store as one Parquet file each, in the folder ``out``.

    For R (``arrow::read_parquet``), pandas and any Parquet reader: ``actors.parquet``,
    ``messages.parquet``..., ``interactions.parquet``, ``runs.parquet``, ``result_*.parquet`` and
    ``latest_*.parquet``. JSON columns are written as text.
    """
    from whuffie.report.export import file_target, folder_target

    folder = folder_target(out, "parquet-store writes one file per table into a folder")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise WhuffieError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    names = [r[0] for r in store.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal UNION ALL "
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary ORDER BY 1").fetchall()]
    paths = []
    for name in names:
        path = file_target(folder / f"{name}.parquet")
        try:
            store.con.execute(f"COPY (SELECT * FROM {name}) TO ? (FORMAT parquet)", [str(path)])
        except Exception as exc:  # DuckDB's IOException and friends: say which file
            raise WhuffieError(f"cannot write {path}: {exc}") from exc
        paths.append(path)
    return paths


def report_folder(out: str | Path) -> Path:
    """The report's folder, made if missing; an error names what is wrong before any work.

    The folder's parent must exist (a mistyped path is not turned into new folders), and ``out``
    must not be a file: the report is a folder (``index.html``, ``map.html``, the scripts).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> report_folder(base / "report").is_dir()
    True
    >>> (base / "notes.txt").write_text("mine")
    4
    >>> report_folder(base / "notes.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: cannot write the report to .../notes.txt: it is a file; ...
    """
    from whuffie.report.export import folder_target

    path = folder_target(out, "the report is a folder (give a folder's name)", doing="write the report to")
    try:
        path.mkdir(exist_ok=True)
    except OSError as exc:
        raise WhuffieError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc
    return path


def report(store: Store, out: str | Path = "whuffie-report", *, title: str = "Whuffie report",
           disclosure: Disclosure | None = None) -> OutputResult:
    """Write the HTML report of the store's newest runs (``index.html`` and its offline assets).

    The report is meant to be shared: by default private individuals (actors below a reach of
    5,000, see :mod:`whuffie.privacy.disclosure`) appear under ``anon-…`` pseudonyms, in the
    tables, on hover and in ``@``-mentions in the texts quoted, and a sentence at the top says so;
    ``disclosure=Disclosure(show_private=True)`` shows their handles and ids.

    Parameters
    ----------
    store : Store
        An open store.
    out : str or Path
        The folder.
    title : str
        The report's title.
    disclosure : Disclosure, optional
        What the report shows of private individuals (default: ``Disclosure()``, pseudonymised).

    Returns
    -------
    OutputResult
        ``path`` (``index.html``); ``summary["sections"]`` lists the sections shown,
        ``summary["disclosure"]`` the disclosure's settings and ``pseudonymised``, the private
        individuals the report names under a pseudonym.

    Examples
    --------
    >>> import tempfile, whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     r = store.report(tempfile.mkdtemp())
    >>> r.path.name, r.summary["sections"][0], r.summary["disclosure"]["pseudonymised"]
    ('index.html', 'overview', 0)
    """
    from whuffie.privacy.disclosure import Disclosure
    from whuffie.report.html import write_report

    shown = (disclosure or Disclosure()).bind(store)
    index, sections = write_report(store, report_folder(out), title=title, shown=shown)
    return OutputResult("report", {"title": title, "disclosure": shown.disclosure.as_dict()}, {},
                        {"sections": sections, "disclosure": shown.summary()}, store=store, paths=[index])
