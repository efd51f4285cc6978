"""``whuffie export`` (the graph for Gephi and friends) and ``whuffie why`` (the evidence behind an edge)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from whuffie.cli.common import (
    CsvOption,
    DbOption,
    JsonOption,
    console,
    emit,
    noted,
    open_store,
    reported_errors,
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


def export(
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="File to write (.gexf, .graphml), or folder for csv and parquet "
                            "(nodes.* and edges.*). Existing files are replaced.",
        show_default=False)],
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="gexf (Gephi, with a timeline), graphml, csv (Gephi's spreadsheet "
                               "import), parquet, or parquet-store (every table of the store, one "
                               "Parquet file each, for R and pandas). Default: from the suffix of --out.",
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
    """Write the attention graph for Gephi, GraphML tools or dataframes (or every table as Parquet)."""
    with reported_errors():
        store_wide = (fmt or "").lower() == "parquet-store"
        spec = None if store_wide else graph_spec(kinds, weights, since, until, platform, min_weight)
        # Reading is enough unless influence has to be measured and recorded.
        with open_store(db, analysis=True) as store:
            done = noted(store.export(out, fmt, spec, with_influence=with_influence))
        where = ", ".join(str(p) for p in done.paths)
        s = done.summary
        if store_wide:
            console.print(f"Wrote {s['tables']:,} tables as Parquet files to {out} in {s['seconds']:.1f} s.",
                          markup=False)
            return
        console.print(f"Wrote {s['nodes']:,} nodes and {s['edges']:,} edges to {where} "
                      f"({done.params['format']}{', with times' if s['dynamic'] else ''}) in "
                      f"{s['seconds']:.1f} s.", markup=False)
        if s["influence_run"] is not None:
            how = "measured now" if s["influence_computed"] else "latest"
            console.print(f"Influence columns from run {s['influence_run']} ({how}).", markup=False)


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
    from whuffie.graph.evidence import EVIDENCE_COLUMNS

    with reported_errors():
        if since and until and since >= until:
            raise typer.BadParameter(f"--since {since} is not before --until {until}")
        with open_store(db, read_only=True) as store:
            result = store.why(source, target, both=both, limit=limit, kinds=split_list(kinds), since=since,
                               until=until)
        rows, total = result.to_arrow().to_pylist(), result.summary["total"]
        if as_json or as_csv:
            emit(rows, EVIDENCE_COLUMNS, as_json=as_json, as_csv=as_csv)
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
