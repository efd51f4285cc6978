"""``whuffie niches``: the long tail of communities, what each talks about, and who bridges them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    import pyarrow as pa

    from whuffie.graph.build import Graph, GraphSpec
    from whuffie.store.store import Store

#: Messages tokenised at once when counting the words of each actor.
_TEXT_BATCH = 200_000


def _messages_filter(spec: GraphSpec, alias: str = "") -> tuple[str, list[Any]]:
    """The messages written in the graph's window and platforms (stubs excluded)."""
    p = f"{alias}." if alias else ""
    where = [f"NOT {p}is_stub", f"{p}actor_id IS NOT NULL"]
    params: list[Any] = []
    if spec.platforms is not None:
        where.append(f"{p}platform IN (SELECT unnest(?))")
        params.append(list(spec.platforms))
    if spec.since is not None:
        where.append(f"{p}created_at >= ?")
        params.append(spec.since)
    if spec.until is not None:
        where.append(f"{p}created_at < ?")
        params.append(spec.until)
    return " AND ".join(where), params


def _inputs(store: Store, spec: GraphSpec) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Tags per actor, words per actor and messages per actor and week, from the store."""
    import pyarrow as pa

    from whuffie.niches.profile import term_counts

    where, params = _messages_filter(spec, "m")
    tags = store.con.sql(
        f"SELECT m.actor_id, lower(t.tag) AS tag, count(*) AS n FROM tags t "
        f"JOIN messages m ON m.message_id = t.message_id WHERE {where} GROUP BY ALL",
        params=params).to_arrow_table()
    times = store.con.sql(
        f"SELECT m.actor_id, date_trunc('week', m.created_at) AS created_at, count(*) AS n "
        f"FROM messages m WHERE {where} AND m.created_at IS NOT NULL GROUP BY ALL",
        params=params).to_arrow_table()
    reader = store.con.sql(
        f"SELECT m.actor_id, coalesce(m.title || ' ', '') || coalesce(m.text, '') AS text "
        f"FROM messages m WHERE {where} AND (m.text IS NOT NULL OR m.title IS NOT NULL)",
        params=params).to_arrow_reader(_TEXT_BATCH)
    # Batches keep the memory of tokenising a large store bounded; the profile sums repeats.
    parts = [term_counts(pa.Table.from_batches([batch])) for batch in reader if batch.num_rows]
    terms = (pa.concat_tables(parts) if parts else
             pa.table({"actor_id": pa.array([], pa.string()), "term": pa.array([], pa.string()),
                       "n": pa.array([], pa.int64())}))
    return tags, terms, times




def _joined(values: list[Any] | None) -> str | None:
    return None if values is None else ", ".join(str(v) for v in values)


def niches(
    db: DbOption = None,
    kinds: KindsOption = None,
    weights: WeightsOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    platform: PlatformOption = None,
    min_weight: MinWeightOption = 0.0,
    method: Annotated[str, typer.Option(
        "--method", help="modularity (NetworKit Leiden) or cpm (Constant Potts Model, igraph Leiden: "
                         "no resolution limit, keeps small dense niches apart).")] = "modularity",
    resolution: Annotated[float | None, typer.Option(
        "--resolution", min=0, help="Higher gives more, smaller niches. Default: 1 for modularity, "
                                    "the graph's weighted density for cpm.", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same "
                                                     "niches.")] = 0,
    samples: Annotated[int | None, typer.Option(
        "--samples", min=0, help="Sources sampled for betweenness on large graphs (default 64; exact "
                                 "on small graphs); 0 skips betweenness.", show_default=False)] = None,
    threads: Annotated[int, typer.Option(
        "--threads", min=1, help="Leiden threads: 1 gives the same niches for the same seed; more is "
                                 "faster on large graphs but not reproducible.")] = 1,
    top: Annotated[int, typer.Option("--top", min=1, help="Niches (or members) to show; all with "
                                                          "--json/--csv.")] = 10,
    members: Annotated[int | None, typer.Option(
        "--members", min=0, help="List the members of this niche, with their bridging, instead of "
                                 "the niches.", show_default=False)] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Find the niches (communities) of the attention graph: who they are, what they say, who bridges them."""
    from whuffie.niches.analysis import NicheParams

    with reported_errors():
        if method not in ("modularity", "cpm"):
            raise typer.BadParameter(f"{method!r} is not a method; choose modularity or cpm",
                                     param_hint="--method")
        spec = graph_spec(kinds, weights, since, until, platform, min_weight)
        params = NicheParams(method=method, resolution=resolution, seed=seed, samples=samples,
                             threads=threads)
        with open_store(db) as store:
            run, graph, result = run_niches(store, spec, params)
            if members is not None and members >= result.niches.num_rows:
                raise WhuffieError(f"there is no niche {members}: niches go from 0 (the largest) to "
                                   f"{result.niches.num_rows - 1}")
            limit = None if (as_json or as_csv) else top
            if members is None:
                rows = result.niches.slice(0, limit).to_pylist()
                handles = store.handles(sorted({a for r in rows for a in r["top_voices"]}))
            else:
                rows = result.members.filter(
                    result.members.column("niche").to_numpy() == members).slice(0, limit).to_pylist()
                handles = store.handles([r["actor_id"] for r in rows])
        if members is None:
            _print_niches(rows, handles, result, graph, run, as_json, as_csv)
        else:
            _print_members(rows, handles, members, run, result.summary["betweenness_exact"],
                           as_json, as_csv)


def run_niches(store, spec: GraphSpec, params) -> tuple[int, Graph, object]:
    """Find, profile and save the niches of a store's graph; return (run id, graph, analysis)."""
    from whuffie.graph.build import build_graph
    from whuffie.niches.analysis import analyse_niches
    from whuffie.store.results import save_run

    started = time.perf_counter()
    graph = build_graph(store, spec)
    if graph.m == 0:
        raise WhuffieError(f"no interaction in {store.path} matches these filters; "
                           "see 'whuffie status' for what the store holds")
    tags, terms, times = _inputs(store, spec)
    result = analyse_niches(graph, params, tags=tags, terms=terms, times=times)
    run = save_run(store, "niches", {
        "niches": result.niches, "memberships": result.members,
        "niche_links": result.links, "niche_activity": result.activity,
        "niche_summary": result.summary_table(),
    }, {"graph": spec.as_dict(), **params.as_dict(), "resolution_used": result.summary["resolution"]},
        seed=params.seed, started=started)
    return run, graph, result


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _print_niches(rows, handles, result, graph: Graph, run: int, as_json: bool, as_csv: bool) -> None:
    # A terminal table shows three of each list; --json and --csv give them all.
    shown = None if (as_json or as_csv) else 3
    for r in rows:
        r["voices"] = _joined([handles.get(a) or a for a in r["top_voices"]][:shown])
        r["voice_actors"] = _joined(r["top_voices"])
        r["tags"] = _joined(r["top_tags"][:shown] if r["top_tags"] is not None else None)
        r["terms"] = _joined(r["top_terms"][:shown] if r["top_terms"] is not None else None)
        r["share"] = r["actor_share"]
        r["attention"] = r["attention_share"]
        for key in ("first_week", "peak_week", "last_week"):
            r[key] = r[key].date().isoformat() if r[key] is not None else None
    s = result.summary
    if as_json or as_csv:
        emit(rows, ["niche", "size", "share", "attention_share", "internal_weight", "external_weight",
                    "cohesion", "voices", "voice_actors", "tags", "terms", "messages", "first_week",
                    "peak_week", "last_week"], as_json=as_json, as_csv=as_csv)
        return
    emit(rows, ["niche", "size", "share", "attention", "voices", "tags", "terms"],
         as_json=False, as_csv=False,
         title=f"Niches (run {run}: {graph.n:,} actors, {graph.m:,} edges, {s['method']} "
               f"resolution {s['resolution']:.3g}, modularity {s['modularity']:.3f})")
    console.print(
        f"{_plural(s['niches'], 'niche')}. The largest holds {s['largest_share']:.1%} of the actors; the "
        f"largest 10% ({_plural(s['top10_niches'], 'niche')}) hold {s['top10_actor_share']:.1%}. "
        f"{s['small_share']:.1%} of niches have fewer than 5 members ({s['small_actor_share']:.1%} of "
        f"actors), {s['singletons']:,} are a single actor; median size {s['median_size']:g}, Gini of "
        f"sizes {s['gini']:.2f}.", markup=False)
    console.print("share = of actors, attention = of all attention received; voices by PageRank, "
                  "tags most used, terms most distinctive (see --json for all columns).", markup=False)
    links = result.links.slice(0, 3).to_pylist()
    if links:
        console.print("Most attention between niches: " + "; ".join(
            f"{x['niche_a']}-{x['niche_b']} {x['share']:.1%}" for x in links)
            + " of the attention crossing niches. Members and bridges of a niche: "
              "whuffie niches --members N", markup=False)


def _print_members(rows, handles, niche: int, run: int, exact: bool | None, as_json: bool,
                   as_csv: bool) -> None:
    for r in rows:
        r["actor"] = r.pop("actor_id")
        r["handle"] = handles.get(r["actor"])
        r["bridges_to"] = _joined(r["bridges_to"])
        r["rank"] = r["niche_rank"]
    columns = ["rank", "handle", "actor", "pagerank", "participation", "betweenness", "bridges_to"]
    if as_json or as_csv:
        columns = [*columns, "niche", "strength", "outside_weight"]
    emit(rows, columns, as_json=as_json, as_csv=as_csv,
         title=f"Members of niche {niche} (run {run}), by PageRank")
    if not (as_json or as_csv):
        console.print("participation: 0 = all attention inside the niche, towards 1 = spread over many "
                      "niches; betweenness: share of shortest paths through the actor"
                      + ("" if exact else " (estimated from sampled sources)" if exact is False
                         else " (skipped)")
                      + "; bridges_to: the other niches it shares the most attention with", markup=False)
