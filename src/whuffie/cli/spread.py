"""``whuffie cascades``, ``whuffie spread`` and ``whuffie seeds``: how word of mouth travels."""

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
from whuffie.cli.graphopts import PlatformOption, SinceOption, UntilOption, split_list
from whuffie.errors import WhuffieError

TopOption = Annotated[int, typer.Option("--top", help="Rows to show (all with --json/--csv).", min=1)]
GRAPH_MODELS = ("ic", "lt")
ModelOption = Annotated[str, typer.Option(
    "--model", help="ic or lt (on the interaction graph), fitted (a branching process fitted on the "
                    "store's cascades), or a preset: traditional, web, efluential (rules of thumb).")]
ProbOption = Annotated[str, typer.Option(
    "--prob", help="Graph models: auto (fitted per interaction kind from the store's cascades when they "
                   "hold any, else weighted cascade), wc (1 / what the listener follows), or a number.")]
RunsOption = Annotated[int, typer.Option(help="Monte-Carlo runs.", min=10)]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed (results are a function of it).")]


def _prob(prob: str) -> str:
    if prob in ("auto", "wc"):
        return prob
    try:
        value = float(prob)
    except ValueError:
        raise typer.BadParameter(f"{prob!r} is not auto, wc or a probability", param_hint="--prob") from None
    if not 0 < value <= 1:
        raise typer.BadParameter(f"probability {value} is not in (0, 1]", param_hint="--prob")
    return prob


def seeds_note(s: dict, epsilon: float) -> str:
    """What to make of IMM beside the measured sets, in one or two sentences."""
    bound = (f"IMM guarantees at least 1 - 1/e - epsilon = {s['guarantee']:.0%} of the best possible spread "
             f"(epsilon {epsilon:g})")
    if s["recommended"] == "imm":
        text = f"IMM's set is the best measured. {bound}."
    else:
        text = (f"IMM's set reaches {s['imm_mean']:,.1f} people in the same simulation. {bound}, "
                "a bound, not a measurement: the set recommended is the best measured.")
    if s["small_graph"]:
        text += (f" On a graph this small ({s['nodes']:,} actors) that bound says little; Monte-Carlo greedy "
                 "(CELF) was run and compared instead.")
    return text


def cascades(
    db: DbOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    min_size: Annotated[int, typer.Option(help="Only cascades with at least this many participants.",
                                          min=1)] = 2,
    top: TopOption = 20,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The cascades that really happened (reply, reshare, quote trees; e-mail threads), largest first."""
    with reported_errors():
        with open_store(db, analysis=True) as store, working("Rebuilding the cascades"):
            result = noted(store.cascades(platforms=split_list(platform), since=since, until=until,
                                          fresh=fresh))
        rows = [r for r in result.to_arrow().to_pylist() if r["size"] >= min_size]
        rows.sort(key=lambda r: (-r["size"], -r["depth"], r["cascade"]))
        shown = rows if (as_json or as_csv or as_nl) else rows[:top]
        columns = ["cascade", "root", "size", "depth", "breadth", "virality", "valence"]
        if any(r.get("label") for r in rows):
            columns.append("label")
        if not (as_json or as_csv or as_nl):
            columns += ["messages", "time_to_half_seconds"]
        emit(shown, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl,
             title=f"Cascades (run {result.run_id}): {len(rows):,} with at least {min_size} participants",
             empty="No cascade of that size: the store holds no replies, reshares or quotes that form trees.")


def spread(
    origin: Annotated[str, typer.Option(
        "--from", help="Who tells first: actor ids or handles, comma-separated.")],
    db: DbOption = None,
    model: ModelOption = "ic",
    valence: Annotated[str | None, typer.Option(
        help="The experience told: positive, negative or neutral (for Twitter15-like data the rumour "
             "label). Graph models fit their probabilities on the cascades of that valence only.")] = None,
    prob: ProbOption = "auto",
    runs: RunsOption = 10_000,
    seed: SeedOption = 0,
    top: TopOption = 10,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
) -> None:
    """Forecast how far word of mouth travels from given people: expected reach, 5-95%, who is reached."""
    from whuffie.spread.branching import PRESETS

    models = (*GRAPH_MODELS, "fitted", *PRESETS)
    if model not in models:
        raise typer.BadParameter(f"{model!r} is not one of {', '.join(models)}", param_hint="--model")
    with reported_errors():
        prob = _prob(prob)
        if valence and prob != "auto" and model in GRAPH_MODELS:
            raise typer.BadParameter("--valence needs probabilities fitted on the cascades (--prob auto)",
                                     param_hint="--valence")
        names = split_list(origin)
        if not names:
            raise typer.BadParameter("give at least one actor", param_hint="--from")
        with open_store(db, analysis=True) as store:
            with working("Forecasting the spread"):
                result = noted(store.spread(names, model=model, valence=valence, prob=prob, runs=runs,
                                            seed=seed, top=top, fresh=fresh))
            reached = result.to_arrow().to_pylist()
            handles = store.handles([r["actor_id"] for r in reached], names=True)
        out = dict(result.summary)
        out["most_likely_reached"] = [{"actor": r["actor_id"], "handle": handles.get(r["actor_id"]),
                                       "share": r["share"]} for r in reached]
        if as_json:
            from whuffie.report.tables import to_json

            typer.echo(to_json(out))
            return
        actors = out["from"]
        console.print(f"Model: {out['model']} ({out.get('probabilities') or out.get('note')})", markup=False)
        if out.get("supercritical"):
            dies = out.get("reach_if_it_dies_out")
            console.print(
                f"From {', '.join(actors)}: each teller tells {out['reproduction']:,.1f} people on average, "
                f"so word of mouth never dies out with probability {out['survival']:.2%}: a process above "
                "one person told per teller grows without bound and has no finite expected reach"
                + (f"; when it dies out, it reaches {dies:,.1f} people on average." if dies else ".")
                + " Read it as a what-if, not a forecast.", markup=False)
            return
        console.print(f"From {', '.join(actors)}: expected reach {out['expected_reach']:,.1f} people "
                      f"(5-95%: {out['p5']:,.0f} to {out['p95']:,.0f}; {runs:,} runs), "
                      f"hops: mean {out['hops_mean']:.1f}, max {out['hops_max']}", markup=False)
        if out.get("capped_runs"):
            console.print(f"{out['capped_runs'] / runs:.0%} of the runs reached the cap of "
                          f"{out['cap']:,} people: with these figures every teller tells more than one "
                          "person on average, so word of mouth never dies out. Read it as a what-if, "
                          "not a forecast.", markup=False)
        if out["most_likely_reached"]:
            emit(out["most_likely_reached"], ["actor", "handle", "share"], as_json=False, as_csv=False,
                 title="Most likely reached (share of runs)")
        elif model in GRAPH_MODELS:
            raise WhuffieError("nobody is reached from these actors: nobody pays attention to them here")


def seeds(
    db: DbOption = None,
    k: Annotated[int, typer.Option("--k", help="How many people to approach.", min=1)] = 20,
    epsilon: Annotated[float, typer.Option(help="IMM's epsilon: within 1 - 1/e - epsilon of the best.",
                                           min=0.01, max=0.99)] = 0.5,
    model: Annotated[str, typer.Option("--model", help="ic or lt.")] = "ic",
    prob: ProbOption = "auto",
    only_positive: Annotated[bool, typer.Option(
        "--only-positive", help="Only actors who already spoke positively (mean sentiment above 0 in the "
                                "newest voice run).")] = False,
    compare: Annotated[bool, typer.Option(
        "--compare/--no-compare", help="Compare with top degree, PageRank, coreness, the e-fluentials (and "
                                       "CELF on small graphs) by Monte-Carlo spread.")] = True,
    runs: RunsOption = 10_000,
    seed: SeedOption = 0,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Whom to approach so that word of mouth spreads furthest: IMM against the usual heuristics."""
    if model not in GRAPH_MODELS:
        raise typer.BadParameter(f"{model!r} is not ic or lt", param_hint="--model")
    with reported_errors():
        prob = _prob(prob)
        with open_store(db, analysis=True) as store:
            if only_positive:
                from whuffie.cli.voice import voice_table

                voice_table(store)
            with working("Choosing whom to approach"):
                result = noted(store.seeds(k, epsilon=epsilon, model=model, prob=prob,
                                           only_positive=only_positive, compare=compare, runs=runs, seed=seed,
                                           fresh=fresh))
            table = result.to_arrow()
            handles = store.handles(table.column("actor_id").to_pylist(), names=True)
        s = result.summary
        rows = [{"position": r["position"], "actor": r["actor_id"], "handle": handles.get(r["actor_id"]),
                 "method": r["method"]} for r in table.to_pylist()]
        emit(rows, ["position", "actor", "handle", "method"], as_json=as_json, as_csv=as_csv, as_nl=as_nl,
             title=f"Whom to approach (run {result.run_id}): the {s['recommended']} set, "
                   f"{s['recommended_mean']:,.1f} people reached on average")
        if as_json or as_csv or as_nl:
            return
        comparison = result["seed_comparison"].to_pylist()
        emit([{k: v for k, v in r.items() if k != "seeds"} for r in comparison],
             ["method", "k", "mean", "p5", "p95", "vs_best"], as_json=False, as_csv=False,
             title=f"Every set of {k} seeds, by the same {comparison[0]['runs']:,} Monte-Carlo runs "
                   f"({model}, {s['probabilities']}; enough for every mean within 0.5% of the best)"
             if comparison[0]["runs"] < runs else
                   f"Every set of {k} seeds, by the same {runs:,} Monte-Carlo runs ({model}, "
                   f"{s['probabilities']})")
        console.print(seeds_note(s, epsilon), markup=False, soft_wrap=True)
