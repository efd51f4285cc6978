"""``whuffie export`` (the graph for Gephi and friends) and ``whuffie why`` (the evidence behind an edge)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from whuffie.cli.common import (
    CsvOption,
    DbOption,
    JsonOption,
    NlOption,
    PublicReachOption,
    console,
    emit,
    err_console,
    noted,
    open_store,
    reported_errors,
    working,
)
from whuffie.cli.graphopts import (
    KindsOption,
    MinWeightOption,
    PlatformOption,
    SinceOption,
    UntilOption,
    WeightsOption,
    graph_spec,
    split_list,
)
from whuffie.privacy.disclosure import PUBLIC_REACH


def export(
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="File to write (.gexf, .graphml), or folder for csv and parquet "
                            "(nodes.* and edges.*). Existing regular files are replaced; a device or a "
                            "pipe is refused. '-' writes to stdout "
                            "(gexf, graphml, or csv's edges table; give --format).",
        show_default=False)],
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="gexf (Gephi, networkx; laid out like the map), graphml (igraph, "
                               "networkx, Cytoscape), csv (Gephi's spreadsheet import), parquet, or "
                               "parquet-store (every table of the store, one Parquet file each, for R "
                               "and pandas). Default: from the suffix of --out.",
        show_default=False)] = None,
    db: DbOption = None,
    kinds: KindsOption = None,
    weights: WeightsOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    platform: PlatformOption = None,
    min_weight: MinWeightOption = 0.0,
    with_influence: Annotated[bool, typer.Option(
        "--with-influence", help="Add influence to the nodes, measuring it on this graph when the "
                                 "store has no influence run yet (the latest run is always added "
                                 "when there is one).")] = False,
    timeline: Annotated[bool, typer.Option(
        "--timeline", help="GEXF only: a dynamic graph for Gephi's timeline (networkx cannot read "
                           "it). Default: a static graph with the times as attributes.")] = False,
    layout: Annotated[bool | None, typer.Option(
        "--layout/--no-layout", help="GEXF only: positions from the map's layout. Default: when the "
                                     "graph has at most 50,000 actors and 500 niches or components.",
        show_default=False)] = None,
    redact: Annotated[bool, typer.Option(
        "--redact", help="For a file to share: the ids, labels, handles and names of private "
                         "individuals (actors below --public-reach) become anon-… pseudonyms. Graph "
                         "formats only.")] = False,
    public_reach: PublicReachOption = PUBLIC_REACH,
) -> None:
    """Write the attention graph for Gephi, networkx, igraph or dataframes (or every table as Parquet).

    The export holds the store's ids, handles and names as they are; --redact makes a copy to share.
    """
    with reported_errors():
        to_stdout = str(out) == "-"
        if to_stdout and fmt is None:
            raise typer.BadParameter("give --format (gexf, graphml or csv) to write to stdout",
                                     param_hint="--format")
        if redact and (fmt or "").lower() == "parquet-store":
            raise typer.BadParameter("parquet-store copies the store as it is and cannot be redacted; "
                                     "redact a graph format (gexf, graphml, csv, parquet)",
                                     param_hint="--redact")
        if timeline and fmt is not None and fmt.lower() != "gexf":
            raise typer.BadParameter("--timeline applies to gexf only; the other formats carry the times "
                                     "in their first and last columns", param_hint="--timeline")
        store_wide = (fmt or "").lower() == "parquet-store"
        spec = None if store_wide else graph_spec(kinds, weights, since, until, platform, min_weight)
        # What is said goes to stderr when the graph itself goes to stdout.
        say = err_console if to_stdout else console
        # Reading is enough unless influence has to be measured and recorded.
        with open_store(db, analysis=True) as store, working("Exporting the graph"):
            done = noted(store.export(sys.stdout.buffer if to_stdout else out, fmt, spec,
                                      with_influence=with_influence, timeline=timeline, layout=layout,
                                      redact=redact, public_reach=public_reach))
        s = done.summary
        if store_wide:
            say.print(f"Wrote {s['tables']:,} tables as Parquet files to {out} in {s['seconds']:.1f} s.",
                      markup=False)
            return
        fmt = done.params["format"]
        extras = [fmt, *(["timeline"] if s["timeline"] else []), *(["laid out"] if s["positions"] else [])]
        if to_stdout and fmt == "csv":
            what = f"the {s['edges']:,} edges to stdout (csv edges table; the nodes table needs a folder)"
        else:
            where = "stdout" if to_stdout else ", ".join(str(p) for p in done.paths)
            what = f"{s['nodes']:,} nodes and {s['edges']:,} edges to {where} ({', '.join(extras)})"
        say.print(f"Wrote {what} in {s['seconds']:.1f} s.", markup=False, soft_wrap=True)
        if s["redacted"] is not None:
            say.print(f"Redacted: {s['redacted']['pseudonymised']:,} private individuals (reach under "
                      f"{public_reach:,}) written as anon-… pseudonyms.", markup=False, soft_wrap=True)
        if s["kinds"]:
            say.print(f"Interaction counts per kind: {', '.join(s['kinds'].values())}.", markup=False,
                      soft_wrap=True)
        if s["timed"] and fmt == "gexf" and not s["timeline"]:
            say.print("The times are attributes (first, last); --timeline makes a dynamic graph for "
                      "Gephi's timeline.", markup=False, soft_wrap=True)
        if s["layout_note"] and layout is None:
            say.print(f"Not laid out ({s['layout_note']}); --layout lays it out anyway (slow), or run "
                      "ForceAtlas 2 in Gephi.", markup=False, soft_wrap=True)
        if s["influence_run"] is not None:
            how = "measured now" if s["influence_computed"] else "latest"
            say.print(f"Influence columns from run {s['influence_run']} ({how}).", markup=False)
        elif fmt == "gexf":
            say.print("No influence run yet: --with-influence sizes the nodes by PageRank and colours "
                      "them by niche, as the map does.", markup=False, soft_wrap=True)


def why(
    source: Annotated[str, typer.Argument(
        metavar="A", help="The actor who paid attention (an id such as mastodon:alice@example.social).",
        show_default=False)],
    target: Annotated[str, typer.Argument(metavar="B", help="The actor who received it.",
                                          show_default=False)],
    db: DbOption = None,
    both: Annotated[bool, typer.Option("--both", help="Also list B's interactions with A.")] = False,
    kinds: KindsOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option("--limit", help="Interactions to list, oldest first.", min=1)] = 50,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List the evidence behind A -> B: every reply, mention, vote... from A to B, with the messages."""
    from whuffie.graph.evidence import EVIDENCE_COLUMNS

    with reported_errors():
        if since and until and since >= until:
            raise typer.BadParameter(f"--since {since} is not before --until {until}")
        with open_store(db, read_only=True) as store, working("Gathering the evidence"):
            result = store.why(source, target, both=both, limit=limit, kinds=split_list(kinds), since=since,
                               until=until)
        rows, total = result.to_arrow().to_pylist(), result.summary["total"]
        if as_json or as_csv or as_nl:
            emit(rows, EVIDENCE_COLUMNS, as_json=as_json, as_csv=as_csv, as_nl=as_nl)
            return
        columns = ["time", "kind", *(["actor", "target"] if both else []), "message", "weight", "value",
                   "excerpt"]
        if all(r["value"] is None for r in rows):
            columns.remove("value")
        arrow = "<->" if both else "->"
        emit(rows, columns, as_json=False, as_csv=False,
             title=f"Why {source} {arrow} {target}: {total:,} interaction(s)")
        if total > len(rows):
            console.print(f"Showing the first {len(rows):,} of {total:,}; "
                          "raise --limit to see more.", markup=False)
