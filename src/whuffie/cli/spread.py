"""``whuffie cascades``: the cascades that really happened, one row each."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from whuffie.cli.common import CsvOption, DbOption, JsonOption, emit, open_store, reported_errors
from whuffie.cli.graphopts import PlatformOption, SinceOption, UntilOption, split_list

if TYPE_CHECKING:
    from whuffie.store.store import Store

TopOption = Annotated[int, typer.Option("--top", help="Rows to show (all with --json/--csv).", min=1)]


def run_cascades(store: Store, platforms: tuple[str, ...] | None = None, since=None,
                 until=None) -> tuple[int, Any]:
    """Rebuild the cascades of a store, fit the branching model on them and save both (``cascades``).

    Saved: ``cascades`` (one row per cascade), ``branching_model`` (the fitted groups), and
    ``cascade_simulated`` (2,000 cascades simulated from each root group of the fit, for
    observed-versus-fitted plots); with an ``advocates`` result, ``advocate_forecasts`` (the
    expected reach of the top advocates and detractors under the fitted model).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from whuffie.spread.branching import fit_branching, simulate
    from whuffie.spread.cascades import cascades as rebuild
    from whuffie.store.results import save_run

    started = time.perf_counter()
    result = rebuild(store, platforms=platforms, since=since, until=until)
    tables = {"cascades": result.summary}
    summary = result.summary
    grown = summary.filter(pc.greater_equal(summary["size"], 2)) if summary.num_rows else summary
    by = None
    if grown.num_rows >= 10:
        labelled = any(v is not None for v in grown.column("label").to_pylist())
        valenced = any(v is not None for v in grown.column("valence").to_pylist())
        by = "label" if labelled and not valenced else "valence"
        model = fit_branching(result, by=by)
        tables["branching_model"] = model.describe()
        sims = []
        for valence in model.valences:
            sim = simulate(model, [(valence, "ordinary")], runs=2_000, seed=0)
            sims.append(pa.table({"valence": [valence] * len(sim.sizes), "size": sim.sizes.astype("int64"),
                                  "depth": sim.depths.astype("int64")}))
        tables["cascade_simulated"] = pa.concat_tables(sims)
        forecasts = _advocate_forecasts(store, model)
        if forecasts is not None:
            tables["advocate_forecasts"] = forecasts
    run = save_run(store, "cascades", tables,
                   {"platforms": platforms, "since": since, "until": until, "fitted_by": by}, started=started)
    return run, result


def _advocate_forecasts(store: Store, model) -> Any:
    """Expected reach of the five strongest detractors and advocates under a fitted branching model."""
    import pyarrow as pa

    from whuffie.spread.branching import simulate
    from whuffie.store import results

    if model.by != "valence":
        return None
    table = results.find(store, "advocates")
    if table is None:
        return None
    efl = _efluential_ids(store)
    rows = []
    for stance, valence in (("detractor", "negative"), ("advocate", "positive")):
        if valence not in model.valences:
            continue
        for r in [r for r in table.to_pylist() if r["stance"] == stance][:5]:
            role = "efluential" if r["actor_id"] in efl else "ordinary"
            sim = simulate(model, [(valence, role)], runs=2_000, seed=0)
            lo, hi = sim.interval(5, 95)
            rows.append({"actor_id": r["actor_id"], "handle": r.get("handle"), "stance": stance,
                         "valence": valence, "role": role, "expected_reach": sim.mean, "p5": lo, "p95": hi})
    return pa.Table.from_pylist(rows) if rows else None


def cascades(
    db: DbOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    min_size: Annotated[int, typer.Option(help="Only cascades with at least this many participants.",
                                          min=1)] = 2,
    top: TopOption = 20,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The cascades that really happened (reply, reshare, quote trees; e-mail threads), largest first."""
    with reported_errors():
        with open_store(db) as store:
            run, result = run_cascades(store, split_list(platform), since, until)
        table = result.summary
        rows = [r for r in table.to_pylist() if r["size"] >= min_size]
        rows.sort(key=lambda r: (-r["size"], -r["depth"], r["cascade"]))
        shown = rows if (as_json or as_csv) else rows[:top]
        columns = ["cascade", "root", "size", "depth", "breadth", "virality", "valence"]
        if any(r.get("label") for r in rows):
            columns.append("label")
        if not (as_json or as_csv):
            columns += ["messages", "time_to_half_seconds"]
        emit(shown, columns, as_json=as_json, as_csv=as_csv,
             title=f"Cascades (run {run}): {len(rows):,} with at least {min_size} participants",
             empty="No cascade of that size: the store holds no replies, reshares or quotes that form trees.")


GRAPH_MODELS = ("ic", "lt")
ModelOption = Annotated[str, typer.Option(
    "--model", help="ic or lt (on the interaction graph), fitted (a branching process fitted on the "
                    "store's cascades), or a preset: traditional, web, efluential (rules of thumb).")]
ProbOption = Annotated[str, typer.Option(
    "--prob", help="Graph models: auto (fitted per interaction kind from the store's cascades when they "
                   "hold any, else weighted cascade), wc (1 / what the listener follows), or a number.")]
RunsOption = Annotated[int, typer.Option(help="Monte-Carlo runs.", min=10)]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed (results are a function of it).")]


def diffusion_graph(store: Store, prob: str = "auto", valence: str | None = None) -> tuple[Any, str]:
    """The diffusion graph of a store and how its probabilities were set.

    With ``prob="auto"`` the probabilities are fitted per interaction kind on the store's cascades;
    with a ``valence`` only on the cascades whose first message has that sentiment (from the newest
    voice run), since good and bad news need not travel alike.
    """
    from whuffie.errors import WhuffieError
    from whuffie.graph.build import build_graph
    from whuffie.spread.cascades import cascades as rebuild
    from whuffie.spread.diffusion import DiffusionGraph, fit_ic

    if prob not in ("auto", "wc"):
        try:
            value = float(prob)
        except ValueError:
            raise typer.BadParameter(f"{prob!r} is not auto, wc or a probability",
                                     param_hint="--prob") from None
        if not 0 < value <= 1:
            raise typer.BadParameter(f"probability {value} is not in (0, 1]", param_hint="--prob")
        return DiffusionGraph.from_graph(build_graph(store), value), f"p = {value} on every edge"
    if valence and prob != "auto":
        raise typer.BadParameter("--valence needs probabilities fitted on the cascades (--prob auto)",
                                 param_hint="--valence")
    if prob == "auto":
        cs = rebuild(store, min_size=2)
        if valence:
            chosen = [r["cascade"] for r in cs.summary.select(["cascade", "valence"]).to_pylist()
                      if r["valence"] == valence]
            if not chosen:
                raise WhuffieError(f"no cascade in {store.path} starts with a {valence} message (run "
                                   "'whuffie voice' first, or leave out --valence)")
            cs = cs.select(chosen)
        nodes = cs.nodes
        if nodes.num_rows:
            fit = fit_ic(store, nodes)
            if any(fit.successes.values()):
                kinds = ", ".join(f"{k} {max(p, 0.0):.3g}" for k, p in sorted(fit.prob.items()))
                return (DiffusionGraph.from_store(store, prob_by_kind=fit.prob, default=0.0),
                        f"fitted per kind on {fit.cascades:,} {valence + ' ' if valence else ''}cascades "
                        f"({kinds})")
        if valence:
            raise WhuffieError(f"the {valence} cascades of {store.path} hold no reply, reshare or quote "
                               "along an interaction: nothing to fit; leave out --valence")
    return DiffusionGraph.from_graph(build_graph(store)), "weighted cascade (1 / what the listener follows)"


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
    as_json: JsonOption = False,
) -> None:
    """Forecast how far word of mouth travels from given people: expected reach, 5-95%, who is reached."""
    from whuffie.cli.common import console
    from whuffie.errors import WhuffieError

    with reported_errors():
        with open_store(db) as store:
            actors = _actors(store, split_list(origin) or ())
            if model in GRAPH_MODELS:
                from whuffie.spread.diffusion import simulate_ic, simulate_lt

                g, how = diffusion_graph(store, prob, valence)
                result = (simulate_ic if model == "ic" else simulate_lt)(g, g.node_index(actors), runs=runs,
                                                                         seed=seed)
                lo, hi = result.interval(5, 95)
                reached = result.top_reached(top).to_pylist()
                handles = store.handles([r["actor_id"] for r in reached], names=True)
                out = {"model": model, "probabilities": how, "from": actors, "runs": runs,
                       "expected_reach": result.mean, "p5": lo, "p95": hi,
                       "hops_mean": float(result.hops.mean()), "hops_max": int(result.hops.max()),
                       "most_likely_reached": [{"actor": r["actor_id"], "handle": handles.get(r["actor_id"]),
                                                "share": r["share"]} for r in reached]}
            else:
                out = _branching_forecast(store, model, actors, valence, runs, seed)
        if as_json:
            from whuffie.report.tables import to_json

            typer.echo(to_json(out))
            return
        console.print(f"Model: {out['model']} ({out.get('probabilities') or out.get('note')})", markup=False)
        console.print(f"From {', '.join(actors)}: expected reach {out['expected_reach']:,.1f} people "
                      f"(5-95%: {out['p5']:,.0f} to {out['p95']:,.0f}; {runs:,} runs), "
                      f"hops: mean {out['hops_mean']:.1f}, max {out['hops_max']}", markup=False)
        if out.get("capped_runs"):
            console.print(f"{out['capped_runs'] / runs:.0%} of the runs reached the cap of "
                          f"{out['cap']:,} people: with these figures every teller tells more than one "
                          "person on average, so word of mouth never dies out. Read it as a what-if, "
                          "not a forecast.", markup=False)
        if out.get("most_likely_reached"):
            emit(out["most_likely_reached"], ["actor", "handle", "share"], as_json=False, as_csv=False,
                 title="Most likely reached (share of runs)")
        if not out.get("most_likely_reached") and model in GRAPH_MODELS:
            raise WhuffieError("nobody is reached from these actors: nobody pays attention to them here")


def _branching_forecast(store: Store, model: str, actors: list[str], valence: str | None, runs: int,
                        seed: int) -> dict[str, Any]:
    from whuffie.errors import WhuffieError
    from whuffie.spread.branching import PRESETS, BranchingModel, fit_branching, simulate
    from whuffie.spread.cascades import cascades as rebuild

    if model == "fitted":
        cs = rebuild(store, min_size=1)
        labelled = any(v is not None for v in cs.summary.column("label").to_pylist())
        valenced = any(v is not None for v in cs.summary.column("valence").to_pylist())
        by = "valence" if valenced or not labelled else "label"
        bm = fit_branching(cs, by=by)
    elif model in PRESETS:
        bm = BranchingModel.preset(model)
    else:
        raise typer.BadParameter(f"{model!r} is not one of ic, lt, fitted, {', '.join(PRESETS)}",
                                 param_hint="--model")
    valence = valence or ("positive" if "positive" in bm.valences else bm.valences[0])
    if valence not in bm.valences:
        raise WhuffieError(f"the {bm.name} model knows the valences {', '.join(bm.valences)}, "
                           f"not {valence!r}")
    efl = _efluential_ids(store)
    roots = [(valence, "efluential" if a in efl else "ordinary") for a in actors]
    sim = simulate(bm, roots, runs=runs, seed=seed)
    lo, hi = sim.interval(5, 95)
    return {"model": bm.name, "note": bm.note or f"fitted by {bm.by}", "valence": valence,
            "from": actors, "roles": [r for _, r in roots], "runs": runs, "expected_reach": sim.mean,
            "p5": lo, "p95": hi, "hops_mean": float(sim.depths.mean()), "hops_max": int(sim.depths.max()),
            "capped_runs": int(sim.capped.sum()), "cap": bm.max_size, "most_likely_reached": []}


def _efluential_ids(store: Store) -> set[str]:
    from whuffie.store import results

    table = results.find(store, "efluentials")
    return set(table.column("actor_id").to_pylist()) if table is not None else set()




def _actors(store: Store, names: tuple[str, ...]) -> list[str]:
    """Actor ids from ids or handles (``@`` optional, case-insensitive)."""
    from whuffie.errors import WhuffieError

    if not names:
        raise typer.BadParameter("give at least one actor", param_hint="--from")
    out = []
    for name in names:
        if ":" in name and store.con.execute("SELECT 1 FROM actors WHERE actor_id = ?", [name]).fetchall():
            out.append(name)
            continue
        rows = store.con.execute(
            "SELECT actor_id FROM actors WHERE lower(handle) = lower(?) ORDER BY actor_id",
            [name.lstrip("@")]).fetchall()
        if not rows:
            raise WhuffieError(f"no actor {name!r} in {store.path}; give an actor id (platform:id) or "
                               "a handle (see 'whuffie influence')")
        out.append(rows[0][0])
    return out


def run_seeds(store: Store, k: int = 20, epsilon: float = 0.5, model: str = "ic", prob: str = "auto",
              only_positive: bool = False, compare: bool = True, runs: int = 10_000,
              seed: int = 0) -> tuple[int, Any, Any, str]:
    """IMM seeds and, with ``compare``, the heuristics side by side; saved (the ``seeds`` run).

    Returns (run id, IMM's :class:`~whuffie.spread.seeds.SeedResult`, the comparison table or
    ``None``, how the probabilities were set).
    """
    from whuffie.errors import WhuffieError
    from whuffie.spread.seeds import celf, compare_seeds, heuristic_seeds, imm
    from whuffie.store.results import save_run

    started = time.perf_counter()
    g, how = diffusion_graph(store, prob)
    candidates = _positive(store, g) if only_positive else None
    chosen = imm(g, k, epsilon=epsilon, seed=seed, candidates=candidates, model=model)
    comparison = None
    if compare:
        from whuffie.graph.build import build_graph

        graph = build_graph(store)
        sets = {"imm": chosen.seeds.tolist()}
        for name in ("degree", "pagerank", "coreness", "efluentials"):
            try:
                picked = heuristic_seeds(g, k, name, graph=graph, store=store, candidates=candidates)
            except WhuffieError:
                if name != "efluentials":
                    raise
                continue  # no e-fluentials run in this store: nothing to compare
            if len(picked):
                sets[name] = list(picked)
        if g.n <= CELF_LIMIT:
            sets["celf"] = celf(g, k, runs=min(runs, 1000), seed=seed, candidates=candidates,
                                model=model).seeds.tolist()
        comparison = compare_seeds(g, k, sets, runs=runs, seed=seed, model=model)
    tables = {"seeds": chosen.to_table()}
    if comparison is not None:
        tables["seed_comparison"] = comparison.drop_columns(["seeds"])
    run = save_run(store, "seeds", tables, {"k": k, "epsilon": epsilon, "model": model, "probabilities": how,
                                            "only_positive": only_positive, "runs": runs},
                   seed=seed, started=started)
    return run, chosen, comparison, how


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
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Whom to approach so that word of mouth spreads furthest: IMM against the usual heuristics."""
    if model not in GRAPH_MODELS:
        raise typer.BadParameter(f"{model!r} is not ic or lt", param_hint="--model")
    with reported_errors():
        with open_store(db) as store:
            run, chosen, comparison, how = run_seeds(store, k, epsilon, model, prob, only_positive, compare,
                                                     runs, seed)
            table = chosen.to_table()
            handles = store.handles(chosen.actors, names=True)
        rows = [{"position": r["position"], "actor": r["actor_id"], "handle": handles.get(r["actor_id"]),
                 "spread": r["spread"]} for r in table.to_pylist()]
        emit(rows, ["position", "actor", "handle", "spread"], as_json=as_json, as_csv=as_csv,
             title=f"Whom to approach (IMM, run {run}; {model}, {how}): spread = expected people reached by "
                   "the seeds so far")
        if comparison is not None and not (as_json or as_csv):
            emit([{k: v for k, v in r.items() if k != "seeds"} for r in comparison.to_pylist()],
                 ["method", "k", "mean", "p5", "p95", "vs_best"], as_json=False, as_csv=False,
                 title=f"The same number of seeds chosen other ways ({runs:,} Monte-Carlo runs, same model)")


#: Graphs with at most this many nodes also get CELF (Monte-Carlo greedy) in the comparison.
CELF_LIMIT = 300


def _positive(store: Store, g) -> list[int]:
    from whuffie.cli.voice import voice_table

    voice = voice_table(store)
    store.con.register("_v", voice.select(["message_id", "score"]))
    try:
        actors = {a for (a,) in store.con.execute(
            "SELECT m.actor_id FROM _v JOIN messages m USING (message_id) GROUP BY m.actor_id "
            "HAVING avg(_v.score) > 0").fetchall()}
    finally:
        store.con.unregister("_v")
    return [i for i, a in enumerate(g.nodes.tolist()) if a in actors]
