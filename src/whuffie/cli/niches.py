"""``whuffie niches``: the long tail of communities, what each talks about, and who bridges them."""

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
)
from whuffie.errors import WhuffieError


def niches(
    db: DbOption = None,
    kinds: KindsOption = None,
    weights: WeightsOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    platform: PlatformOption = None,
    min_weight: MinWeightOption = 0.0,
    method: Annotated[str, typer.Option(
        "--method", help="auto (Leiden at the resolution that agrees best with Infomap's flow of "
                         "attention, chosen from the data), modularity (Leiden at --resolution, default "
                         "1), cpm (Constant Potts Model: no resolution limit, keeps small dense niches "
                         "apart) or infomap (the map equation's modules).")] = "auto",
    resolution: Annotated[float | None, typer.Option(
        "--resolution", min=0, help="Higher gives more, smaller niches. Default: chosen from the data "
                                    "for auto, 1 for modularity, the graph's weighted density for cpm; "
                                    "infomap has none.", show_default=False)] = None,
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
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Find the niches (communities) of the attention graph: who they are, what they say, who bridges them."""
    from whuffie.niches.analysis import NicheParams

    with reported_errors():
        if method not in ("auto", "modularity", "cpm", "infomap"):
            raise typer.BadParameter(f"{method!r} is not a method; choose auto, modularity, cpm or infomap",
                                     param_hint="--method")
        spec = graph_spec(kinds, weights, since, until, platform, min_weight)
        params = NicheParams(method=method, resolution=resolution, seed=seed, samples=samples,
                             threads=threads)
        with open_store(db, analysis=True) as store:
            with working("Finding the niches"):
                result = noted(store.niches(spec, params=params, fresh=fresh))
            table = result["niches"]
            if members is not None and members >= table.num_rows:
                raise WhuffieError(f"there is no niche {members}: niches go from 0 (the largest) to "
                                   f"{table.num_rows - 1}")
            limit = None if (as_json or as_csv or as_nl) else top
            if members is None:
                rows = table.slice(0, limit).to_pylist()
                handles = store.handles(sorted({a for r in rows for a in r["top_voices"]}))
            else:
                rows = result.evidence(members).slice(0, limit).to_pylist()
                handles = store.handles([r["actor_id"] for r in rows])
        if members is None:
            _print_niches(rows, handles, result, as_json, as_csv, as_nl)
        else:
            _print_members(rows, handles, members, result.run_id, result.summary["betweenness_exact"],
                           as_json, as_csv, as_nl)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _print_niches(rows, handles, result, as_json: bool, as_csv: bool, as_nl: bool) -> None:
    # A terminal table shows three of each list; --json, --nl and --csv give them all (as arrays in JSON).
    shown = None if (as_json or as_csv or as_nl) else 3
    for r in rows:
        r["voices"] = [handles.get(a) or a for a in r["top_voices"]][:shown]
        r["voice_actors"] = r["top_voices"]
        for key in ("tags", "terms", "domains", "urls"):
            values = r.get(f"top_{key}")
            r[key] = None if values is None else values[:shown]
        r["share"] = r["actor_share"]
        r["attention"] = r["attention_share"]
        for key in ("first_week", "peak_week", "last_week"):
            r[key] = r[key].date().isoformat() if r[key] is not None else None
    s = result.summary
    if as_json or as_csv or as_nl:
        emit(rows, ["niche", "size", "share", "attention_share", "internal_weight", "external_weight",
                    "cohesion", "voices", "voice_actors", "tags", "terms", "domains", "urls", "messages",
                    "first_week", "peak_week", "last_week"], as_json=as_json, as_csv=as_csv, as_nl=as_nl)
        return
    emit(rows, ["niche", "size", "share", "attention", "voices", "tags", "terms"],
         as_json=False, as_csv=False,
         title=f"Niches (run {result.run_id}: {s['actors']:,} actors, {s['edges']:,} edges, {s['method']}"
               + (f" resolution {s['resolution']:.3g}" if s["resolution"] is not None else "")
               + f", modularity {s['modularity']:.3f})")
    console.print(
        f"{_plural(s['niches'], 'niche')}. The largest holds {s['largest_share']:.1%} of the actors; the "
        f"largest 10% ({_plural(s['top10_niches'], 'niche')}) hold {s['top10_actor_share']:.1%}. "
        f"{s['small_share']:.1%} of niches have fewer than 5 members ({s['small_actor_share']:.1%} of "
        f"actors), {s['singletons']:,} are a single actor; median size {s['median_size']:g}, Gini of "
        f"sizes {s['gini']:.2f}.", markup=False)
    console.print("share = of actors, attention = of all attention received; voices by PageRank, "
                  "tags most used, terms most distinctive (see --json for all columns).", markup=False)
    links = result["niche_links"].slice(0, 3).to_pylist()
    if links:
        console.print("Most attention between niches: " + "; ".join(
            f"{x['niche_a']}-{x['niche_b']} {x['share']:.1%}" for x in links)
            + " of the attention crossing niches. Members and bridges of a niche: "
              "whuffie niches --members N", markup=False)


def _print_members(rows, handles, niche: int, run: int, exact: bool | None, as_json: bool,
                   as_csv: bool, as_nl: bool) -> None:
    for r in rows:
        r["actor"] = r.pop("actor_id")
        r["handle"] = handles.get(r["actor"])
        r["rank"] = r["niche_rank"]
    columns = ["rank", "handle", "actor", "pagerank", "participation", "betweenness", "bridges_to"]
    if as_json or as_csv or as_nl:
        columns = [*columns, "niche", "strength", "outside_weight"]
    emit(rows, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl,
         title=f"Members of niche {niche} (run {run}), by PageRank")
    if not (as_json or as_csv or as_nl):
        console.print("participation: 0 = all attention inside the niche, towards 1 = spread over many "
                      "niches; betweenness: share of shortest paths through the actor"
                      + ("" if exact else " (estimated from sampled sources)" if exact is False
                         else " (skipped)")
                      + "; bridges_to: the other niches it shares the most attention with", markup=False)
