"""``whuffie efluentials`` and ``whuffie pyramid``: who matters most, and who is climbing.

``efluentials`` computes PageRank afresh on the graph the filters describe
rather than reusing the latest ``influence`` run: a run made with other filters,
seeds or data would silently explain the wrong graph, and PageRank alone takes
a fraction of a second on polblogs' 19,017 edges (the other influence measures,
which the e-fluentials do not need, are left out).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

import pyarrow as pa
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
from whuffie.errors import WhuffieError
from whuffie.graph.build import GraphSpec, _arrow, interactions_filter

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
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List the e-fluentials (the top share by PageRank) and who recognises each of them."""
    with reported_errors():
        spec = graph_spec(kinds, weights, since, until, platform, min_weight)
        with open_store(db) as store:
            run, graph, result, handles = run_efluentials(store, spec, damping, share, recognisers)
        everything = as_json or as_csv or show_all
        if evidence:
            rows = result.recognisers.to_pylist()
            rows = [r for r in rows if r["position"] <= recognisers]
            for r in rows:
                r["actor"] = r.pop("actor_id")
                r["handle"] = handles.get(r["actor"])
                r["recogniser_handle"] = handles.get(r["recogniser"])
                if not (as_json or as_csv):
                    r["recogniser_efluential"] = "yes" if r["recogniser_efluential"] else "no"
            if not everything:
                rows = rows[: top * recognisers]
            emit(rows, ["actor", "handle", "position", "recogniser", "recogniser_handle", "weight",
                        "interactions", "recogniser_rank", "recogniser_efluential"],
                 as_json=as_json, as_csv=as_csv,
                 title=f"Recognisers of the e-fluentials (run {run})")
            return
        rows = result.table.to_pylist()
        if not everything:
            rows = rows[:top]
        for r in rows:
            r["actor"] = r.pop("actor_id")
            r["handle"] = handles.get(r["actor"])
        columns = ["actor", "handle", *[c for c in result.table.column_names if c != "actor_id"]]
        if not (as_json or as_csv):
            columns = ["rank", "handle", "actor", "recognisers", "efluential_recognisers",
                       "recognised_share", "pagerank_share"]
        emit(rows, columns, as_json=as_json, as_csv=as_csv,
             title=f"E-fluentials (run {run}): the top {share:.0%} of {graph.n:,} actors by PageRank, "
                   f"{result.table.num_rows:,} actors")
        if not (as_json or as_csv):
            console.print("recognised_share = share of the attention received that comes from "
                          "e-fluentials; pagerank_share = share of the PageRank that flows from them\n",
                          markup=False)
            for r in rows:
                console.print(f"{r['rank']}. {r['handle'] or r['actor']}: {r['explanation']}", markup=False)


def run_efluentials(store, spec: GraphSpec, damping: float = 0.85, share: float = 0.10,
                    recognisers: int = 5):
    """Find, explain and save the e-fluentials of a store's graph.

    Returns (run id, graph, result, handles by actor id).
    """
    from whuffie.graph.build import build_graph
    from whuffie.influence.efluentials import efluentials as find_efluentials
    from whuffie.influence.measures import rank_of
    from whuffie.influence.rank import pagerank
    from whuffie.store.results import save_run

    started = time.perf_counter()
    graph = build_graph(store, spec)
    if graph.m == 0:
        raise WhuffieError(f"no interaction in {store.path} matches these filters; "
                           "see 'whuffie status' for what the store holds")
    # PageRank and its rank are all the e-fluentials need (audience and coreness are not).
    pr = pagerank(graph, damping=damping)
    influence = pa.table({"actor_id": pa.array(graph.nodes.tolist(), pa.string()),
                          "rank": rank_of(pr), "pagerank": pr})
    handles = _handles(store, graph.nodes.tolist())
    result = find_efluentials(graph, influence, share=share, top_recognisers=recognisers,
                              labels=handles, damping=damping)
    run = save_run(store, "efluentials",
                   {"efluentials": result.table, "efluential_recognisers": result.recognisers},
                   {"graph": spec.as_dict(), "damping": damping, "share": share,
                    "recognisers": recognisers}, started=started)
    return run, graph, result, handles


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
    as_json: JsonOption = False,
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
        with open_store(db) as store:
            run, result = run_pyramid(store, spec, window, params)
            handles = _handles(store, result.moves.column("actor_id").to_pylist()) if moves else {}

        if moves:
            rows = [{"window": _day(r["window_start"]), "previous": _day(r["previous_start"]),
                     "actor": r["actor_id"], "handle": handles.get(r["actor_id"]),
                     "from": r["from_level"], "to": r["to_level"], "move": r["move"]}
                    for r in result.moves.to_pylist()]
            emit(rows, ["window", "previous", "actor", "handle", "from", "to", "move"],
                 as_json=as_json, as_csv=as_csv, title=f"Moves on the pyramid (run {run})",
                 empty="No one moved.")
            return
        if matrix:
            rows = [{"window": _day(r["window_start"]), "previous": _day(r["previous_start"]),
                     "from": r["from_level"], "to": r["to_level"], "actors": r["actors"]}
                    for r in result.migration.to_pylist()]
            if as_json or as_csv:
                emit(rows, ["window", "previous", "from", "to", "actors"], as_json=as_json,
                     as_csv=as_csv)
            else:
                for pair in sorted({(r["previous"], r["window"]) for r in rows}):
                    _print_matrix([r for r in rows if (r["previous"], r["window"]) == pair], *pair)
            return
        counts = result.counts.to_pylist()
        rows = [{"window": _day(r["window_start"]), "window_end": _day(window_end(r["window_start"], window)),
                 "previous": _day(r["previous_start"]),
                 **{k: v for k, v in r.items() if k not in ("window_start", "previous_start")}}
                for r in counts]
        columns = ["window", "window_end", "previous", "participants", "amateur", "enthusiast",
                   "wannabe", "expert", "new", "left", "up", "down", "wannabe_cut", "expert_cut"]
        if not (as_json or as_csv):
            columns = ["window", "participants", "amateur", "enthusiast", "wannabe", "expert",
                       "new", "left", "up", "down"]
            if window == "month":
                for r in rows:
                    r["window"] = r["window"][:7]
        emit(rows, columns, as_json=as_json, as_csv=as_csv,
             title=f"Influence pyramid by {window} (run {run})")
        if not (as_json or as_csv) and len(rows) > 1:
            last = _day(result.counts.column("window_start")[-1].as_py())
            matrix_rows = [{"window": _day(r["window_start"]), "previous": _day(r["previous_start"]),
                            "from": r["from_level"], "to": r["to_level"], "actors": r["actors"]}
                           for r in result.migration.to_pylist()]
            pair = [r for r in matrix_rows if r["window"] == last]
            _print_matrix(pair, pair[0]["previous"], last)


def run_pyramid(store, spec: GraphSpec, window: str, params):
    """Place actors on the pyramid window by window and save the run; return (run id, result)."""
    from whuffie.influence.pyramid import pyramid as migrations
    from whuffie.influence.pyramid import pyramid_levels, window_starts
    from whuffie.store.results import save_run

    started = time.perf_counter()
    table = window_table(store, spec, window)
    if table.num_rows == 0:
        raise WhuffieError(f"no dated message or interaction in {store.path} matches these "
                           "filters; the pyramid needs times (edge lists have none)")
    levels = pyramid_levels(table, params)
    starts = table.column("window_start").to_pylist()
    result = migrations(levels, window_starts(min(starts), max(starts), window))
    run = save_run(store, "pyramid", {
        "pyramid_levels": levels, "pyramid_counts": result.counts,
        "pyramid_migration": result.migration, "pyramid_moves": result.moves,
    }, {"graph": spec.as_dict(), "window": window, **params.as_dict()}, started=started)
    return run, result


def window_table(store, spec: GraphSpec, unit: str) -> pa.Table:
    """Activity and recognition of every actor in every window: the input of the pyramid.

    Activity counts the messages each actor wrote in the window (stubs left
    out); recognition sums the weighted interactions each actor received in it,
    with the kind weights, negative-rating and self-loop rules of
    :func:`~whuffie.graph.build.build_graph`. Undated rows have no window and
    are left out.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     window_table(store, GraphSpec(), "week").column_names
    ['window_start', 'actor_id', 'activity', 'recognition']
    """
    where, params = interactions_filter(spec)
    weights = spec.as_dict()["weights"]
    case = " ".join(f"WHEN '{k}' THEN {float(w)!r}" for k, w in sorted(weights.items()))
    msg_where = ["NOT is_stub", "actor_id IS NOT NULL", "created_at IS NOT NULL"]
    msg_params: list[Any] = []
    if spec.platforms is not None:
        msg_where.append("platform IN (SELECT unnest(?))")
        msg_params.append(list(spec.platforms))
    if spec.since is not None:
        msg_where.append("created_at >= ?")
        msg_params.append(spec.since)
    if spec.until is not None:
        msg_where.append("created_at < ?")
        msg_params.append(spec.until)
    return _arrow(store.con.sql(
        f"""WITH a AS (
                SELECT date_trunc('{unit}', created_at) AS window_start, actor_id, count(*) AS activity
                  FROM messages WHERE {' AND '.join(msg_where)} GROUP BY ALL),
            r AS (
                SELECT date_trunc('{unit}', created_at) AS window_start, target AS actor_id,
                       sum(weight * CASE kind {case} ELSE 1.0 END) AS recognition
                  FROM interactions WHERE {where} AND created_at IS NOT NULL GROUP BY ALL)
            SELECT CAST(window_start AS TIMESTAMP) AS window_start, actor_id,
                   CAST(coalesce(activity, 0) AS BIGINT) AS activity,
                   CAST(coalesce(recognition, 0) AS DOUBLE) AS recognition
              FROM a FULL JOIN r USING (window_start, actor_id)
             ORDER BY window_start, actor_id""",
        params=[*msg_params, *params],
    ))


def _handles(store, actors: list[str]) -> dict[str, str]:
    if not actors:
        return {}
    return dict(store.con.execute(
        "SELECT actor_id, handle FROM actors WHERE handle IS NOT NULL "
        "AND actor_id IN (SELECT unnest(?))", [actors]).fetchall())


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
