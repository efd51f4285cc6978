"""``whuffie influence``: recursive influence, recognition, audience and coreness of every actor."""

from __future__ import annotations

from typing import Annotated

import typer

from whuffie.cli.common import (
    CsvOption,
    DbOption,
    FreshOption,
    JsonOption,
    NlOption,
    console,
    emit,
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

TopOption = Annotated[int, typer.Option("--top", help="Rows to show (all with --json/--csv and --all).",
                                        min=1)]


def influence(
    db: DbOption = None,
    kinds: KindsOption = None,
    weights: WeightsOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    platform: PlatformOption = None,
    min_weight: MinWeightOption = 0.0,
    damping: Annotated[float, typer.Option(help="PageRank damping: the chance of following "
                                                "attention rather than jumping.", min=0.01,
                                           max=0.99)] = 0.85,
    seeds: Annotated[str | None, typer.Option(
        "--seeds", help="Personalise PageRank on these actors (comma-separated ids): influence "
                        "as seen from them.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the niche detection (Leiden), for the rank "
                                           "inside each niche.")] = 0,
    top: TopOption = 20,
    show_all: Annotated[bool, typer.Option("--all", help="Show every actor.")] = False,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Rank actors by recursive influence: who you impress, and who they impress."""
    with reported_errors():
        spec = graph_spec(kinds, weights, since, until, platform, min_weight)
        with open_store(db, analysis=True) as store:
            with working("Measuring influence"):
                result = noted(store.influence(spec, damping=damping, seeds=split_list(seeds), seed=seed,
                                               fresh=fresh))
            table = result.to_arrow()
            machine = as_json or as_csv or as_nl
            shown = None if (machine or show_all) else top
            handles = store.handles(table.column("actor_id").to_pylist()[:shown])
        rows = table.to_pylist()
        if not (machine or show_all):
            rows = rows[:top]
        for r in rows:
            r["actor"] = r.pop("actor_id")
            r["handle"] = handles.get(r["actor"])
        columns = ["rank", "handle", "actor", "pagerank", "recognition", "audience", "coreness",
                   "niche", "niche_rank"]
        emit(rows, columns if not machine else ["actor", "handle", *[
            c for c in table.column_names if c != "actor_id"]],
             as_json=as_json, as_csv=as_csv, as_nl=as_nl,
             title=f"Influence (run {result.run_id}: {result.summary['actors']:,} actors, "
                   f"{result.summary['edges']:,} edges)")
        if not (as_json or as_csv or as_nl):
            exact = rows[0]["audience_exact"] if rows else True
            console.print("audience = distinct people within two attention hops"
                          + ("" if exact else " (HyperLogLog estimate, standard error 9.2%)"),
                          markup=False)
