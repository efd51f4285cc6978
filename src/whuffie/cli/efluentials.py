"""``whuffie efluentials`` and ``whuffie pyramid``: who matters most, and who is climbing.

``efluentials`` reads PageRank from the influence run of the same graph (``store.influence``, which
reuses a saved run of the same filters on the same data, or makes one), never from a run made with
other filters.
"""

from __future__ import annotations

from datetime import datetime
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
)

TopOption = Annotated[int, typer.Option("--top", help="Rows to show (all with --json/--csv and --all).",
                                        min=1)]


def efluentials(
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
    share: Annotated[float, typer.Option(
        "--share", help="Share of actors that are e-fluentials, by PageRank (0.10 = the top 10%).",
        min=0.0001, max=1.0)] = 0.10,
    recognisers: Annotated[int, typer.Option(
        "--recognisers", help="Strongest recognisers named per e-fluential.", min=1)] = 5,
    evidence: Annotated[bool, typer.Option(
        "--evidence", help="List the recognisers of each e-fluential (actor, recogniser, weight, "
                           "rank) instead of the e-fluentials.")] = False,
    top: TopOption = 20,
    show_all: Annotated[bool, typer.Option("--all", help="Show every e-fluential.")] = False,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List the e-fluentials (the top share by PageRank) and who recognises each of them."""
    with reported_errors():
        spec = graph_spec(kinds, weights, since, until, platform, min_weight)
        with open_store(db, analysis=True) as store:
            with working("Finding the e-fluentials"):
                result = noted(store.efluentials(spec, damping=damping, share=share, recognisers=recognisers,
                                                 fresh=fresh))
            table, evidence_table = result["efluentials"], result["efluential_recognisers"]
            shown = table.column("actor_id").to_pylist() + (
                evidence_table.column("recogniser").to_pylist() if evidence else [])
            handles = store.handles(sorted(set(shown)))
        run = result.run_id
        everything = as_json or as_csv or as_nl or show_all
        if evidence:
            rows = evidence_table.to_pylist()
            rows = [r for r in rows if r["position"] <= recognisers]
            for r in rows:
                r["actor"] = r.pop("actor_id")
                r["handle"] = handles.get(r["actor"])
                r["recogniser_handle"] = handles.get(r["recogniser"])
                if not (as_json or as_csv or as_nl):
                    r["recogniser_efluential"] = "yes" if r["recogniser_efluential"] else "no"
            if not everything:
                rows = rows[: top * recognisers]
            emit(rows, ["actor", "handle", "position", "recogniser", "recogniser_handle", "weight",
                        "interactions", "recogniser_rank", "recogniser_efluential"],
                 as_json=as_json, as_csv=as_csv, as_nl=as_nl,
                 title=f"Recognisers of the e-fluentials (run {run})")
            return
        rows = table.to_pylist()
        if not everything:
            rows = rows[:top]
        for r in rows:
            r["actor"] = r.pop("actor_id")
            r["handle"] = handles.get(r["actor"])
        columns = ["actor", "handle", *[c for c in table.column_names if c != "actor_id"]]
        if not (as_json or as_csv or as_nl):
            columns = ["rank", "handle", "actor", "recognisers", "efluential_recognisers",
                       "recognised_share", "pagerank_share"]
        emit(rows, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl,
             title=f"E-fluentials (run {run}): the top {share:.0%} of {result.summary['actors']:,} actors "
                   f"by PageRank, {table.num_rows:,} actors")
        if not (as_json or as_csv or as_nl):
            console.print("recognised_share = share of the attention received that comes from "
                          "e-fluentials; pagerank_share = share of the PageRank that flows from them\n",
                          markup=False)
            for r in rows:
                console.print(f"{r['rank']}. {r['handle'] or r['actor']}: {r['explanation']}", markup=False)


def pyramid(
    db: DbOption = None,
    window: Annotated[str, typer.Option(
        "--window", help="Window length: week (Monday to Sunday, UTC) or month.")] = "month",
    kinds: KindsOption = None,
    weights: WeightsOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    platform: PlatformOption = None,
    expert_share: Annotated[float, typer.Option(
        "--expert-share", help="Share of each window's recognised actors that are experts.",
        min=0.0001, max=1.0)] = 0.10,
    active_share: Annotated[float, typer.Option(
        "--active-share", help="Share of each window's regulars (by messages) that are wannabes.",
        min=0.0001, max=1.0)] = 0.25,
    min_activity: Annotated[int, typer.Option(
        "--min-activity", help="Messages in a window that make a regular (an enthusiast at least).",
        min=1)] = 2,
    min_recognition: Annotated[float, typer.Option(
        "--min-recognition", help="Recognition in a window that makes an enthusiast at least.",
        min=0)] = 1.0,
    min_expert_recognition: Annotated[float, typer.Option(
        "--min-expert-recognition", help="Recognition in a window below which no one is an expert.",
        min=0)] = 2.0,
    matrix: Annotated[bool, typer.Option(
        "--matrix", help="List the migration matrix of every pair of consecutive windows.")] = False,
    moves: Annotated[bool, typer.Option(
        "--moves", help="List who moved up, down, arrived or left between consecutive windows.")] = False,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Place members on the influence pyramid (amateur, enthusiast, wannabe, expert) window by window.

    Each window is judged on its own: messages written and weighted attention received in it.
    With --since/--until the first and last windows may be partial.
    """
    from whuffie.influence.pyramid import UNITS, PyramidParams, window_end

    with reported_errors():
        if window not in UNITS:
            raise typer.BadParameter(f"{window!r} is not one of {', '.join(UNITS)}", param_hint="--window")
        if matrix and moves:
            raise typer.BadParameter("choose one of --matrix and --moves")
        spec = graph_spec(kinds, weights, since, until, platform, 0.0)
        params = PyramidParams(expert_share=expert_share, active_share=active_share,
                               min_activity=min_activity, min_recognition=min_recognition,
                               min_expert_recognition=min_expert_recognition)
        with open_store(db, analysis=True) as store:
            with working("Placing members on the pyramid"):
                found = noted(store.pyramid(spec, window=window, params=params, fresh=fresh))
            handles = store.handles(found["pyramid_moves"].column("actor_id").to_pylist()) if moves else {}
        run = found.run_id
        counts_table, migration, moves_table = (found["pyramid_counts"], found["pyramid_migration"],
                                                found["pyramid_moves"])

        if moves:
            rows = [{"window": _day(r["window_start"]), "previous": _day(r["previous_start"]),
                     "actor": r["actor_id"], "handle": handles.get(r["actor_id"]),
                     "from": r["from_level"], "to": r["to_level"], "move": r["move"]}
                    for r in moves_table.to_pylist()]
            emit(rows, ["window", "previous", "actor", "handle", "from", "to", "move"],
                 as_json=as_json, as_csv=as_csv, as_nl=as_nl, title=f"Moves on the pyramid (run {run})",
                 empty="No one moved.")
            return
        if matrix:
            rows = [{"window": _day(r["window_start"]), "previous": _day(r["previous_start"]),
                     "from": r["from_level"], "to": r["to_level"], "actors": r["actors"]}
                    for r in migration.to_pylist()]
            if as_json or as_csv or as_nl:
                emit(rows, ["window", "previous", "from", "to", "actors"], as_json=as_json,
                     as_csv=as_csv)
            else:
                for pair in sorted({(r["previous"], r["window"]) for r in rows}):
                    _print_matrix([r for r in rows if (r["previous"], r["window"]) == pair], *pair)
            return
        counts = counts_table.to_pylist()
        rows = [{"window": _day(r["window_start"]), "window_end": _day(window_end(r["window_start"], window)),
                 "previous": _day(r["previous_start"]),
                 **{k: v for k, v in r.items() if k not in ("window_start", "previous_start")}}
                for r in counts]
        columns = ["window", "window_end", "previous", "participants", "amateur", "enthusiast",
                   "wannabe", "expert", "new", "left", "up", "down", "wannabe_cut", "expert_cut"]
        if not (as_json or as_csv or as_nl):
            columns = ["window", "participants", "amateur", "enthusiast", "wannabe", "expert",
                       "new", "left", "up", "down"]
            if window == "month":
                for r in rows:
                    r["window"] = r["window"][:7]
        emit(rows, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl,
             title=f"Influence pyramid by {window} (run {run})")
        if not (as_json or as_csv or as_nl) and len(rows) > 1:
            last = _day(counts_table.column("window_start")[-1].as_py())
            matrix_rows = [{"window": _day(r["window_start"]), "previous": _day(r["previous_start"]),
                            "from": r["from_level"], "to": r["to_level"], "actors": r["actors"]}
                           for r in migration.to_pylist()]
            pair = [r for r in matrix_rows if r["window"] == last]
            _print_matrix(pair, pair[0]["previous"], last)


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment is not None else None


def _print_matrix(cells: list[dict], previous: str, current: str) -> None:
    from rich.table import Table

    from whuffie.influence.pyramid import FROM_LEVELS, TO_LEVELS

    value = {(c["from"], c["to"]): c["actors"] for c in cells}
    table = Table(title=f"Migration {previous} -> {current} (rows: from, columns: to)")
    table.add_column("from \\ to")
    for to in TO_LEVELS:
        table.add_column(to, justify="right")
    table.add_column("total", justify="right")
    for f in FROM_LEVELS:
        row = [value.get((f, t)) for t in TO_LEVELS]
        table.add_row(f, *["" if v is None else f"{v:,}" for v in row], f"{sum(v or 0 for v in row):,}")
    console.print(table)
