"""``whuffie export`` (the graph for Gephi and friends) and ``whuffie why`` (the evidence behind an edge)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from whuffie.cli.common import CsvOption, DbOption, JsonOption, console, emit, open_store, reported_errors
from whuffie.cli.graphopts import (
    KindsOption,
    MinWeightOption,
    PlatformOption,
    SinceOption,
    UntilOption,
    WeightsOption,
    graph_spec,
)


def export(
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="File to write (.gexf, .graphml), or folder for csv and parquet "
                            "(nodes.* and edges.*). Existing files are replaced.",
        show_default=False)],
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="gexf (Gephi, with a timeline), graphml, csv (Gephi's spreadsheet "
                               "import) or parquet. Default: from the suffix of --out.",
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
) -> None:
    """Write the attention graph with node and edge attributes for Gephi, GraphML tools or dataframes."""
    from whuffie.report.export import export_graph

    with reported_errors():
        spec = graph_spec(kinds, weights, since, until, platform, min_weight)
        # A read-only store is enough unless influence may have to be measured and recorded.
        with open_store(db, read_only=not with_influence) as store:
            done = export_graph(store, out, fmt, spec, with_influence=with_influence)
        where = ", ".join(str(p) for p in done.paths)
        console.print(f"Wrote {done.nodes:,} nodes and {done.edges:,} edges to {where} "
                      f"({done.format}{', with times' if done.dynamic else ''}) in {done.seconds:.1f} s.",
                      markup=False)
        if done.influence_run is not None:
            how = "measured now" if done.influence_computed else "latest"
            console.print(f"Influence columns from run {done.influence_run} ({how}).", markup=False)


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
    as_csv: CsvOption = False,
) -> None:
    """List the evidence behind A -> B: every reply, mention, vote... from A to B, with the messages."""
    from whuffie.report.export import EVIDENCE_COLUMNS, evidence

    with reported_errors():
        if since and until and since >= until:
            raise typer.BadParameter(f"--since {since} is not before --until {until}")
        with open_store(db, read_only=True) as store:
            wanted = [k.strip() for k in kinds.split(",") if k.strip()] if kinds else None
            found = evidence(store, source, target, both=both, limit=limit, kinds=wanted or None,
                             since=since, until=until)
        if as_json or as_csv:
            emit(found.rows, EVIDENCE_COLUMNS, as_json=as_json, as_csv=as_csv)
            return
        columns = ["time", "kind", *(["actor", "target"] if both else []), "message", "weight", "value",
                   "excerpt"]
        if all(r["value"] is None for r in found.rows):
            columns.remove("value")
        arrow = "<->" if both else "->"
        emit(found.rows, columns, as_json=False, as_csv=False,
             title=f"Why {source} {arrow} {target}: {found.total:,} interaction(s)")
        if found.total > len(found.rows):
            console.print(f"Showing the first {len(found.rows):,} of {found.total:,}; "
                          "raise --limit to see more.", markup=False)
